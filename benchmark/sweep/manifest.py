"""A sweep's manifest: models (students with their teachers), tasks, seeds and the run
settings they share, every problem named when the file is read, not when a unit starts."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from benchmark.config import build_config, load_yaml_model, parse_seeds
from benchmark.tasks import resolve_tasks

# What a manifest names for itself; every other run setting goes under ``settings``.
OWN_FIELDS = {"model", "name", "teacher", "tasks", "seed", "seeds", "output"}


class ModelEntry(BaseModel):
    """One model of the sweep: a Hub id or folder, its display name, and its teacher (a
    Hub id or folder, run as a model of the sweep too)."""

    model_config = ConfigDict(extra="forbid")
    model: str
    name: str | None = None
    teacher: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.model


class Manifest(BaseModel):
    """A sweep: models, tasks, seeds and the run settings they share."""

    model_config = ConfigDict(extra="forbid")
    models: list[ModelEntry] = Field(min_length=1)
    tasks: str | list[str] = "all"
    seeds: list[int] | None = None
    settings: dict = Field(default_factory=dict)
    # one task's own settings over the shared ones, e.g. {gonerd: {epochs: 30}}
    task_settings: dict[str, dict] = Field(default_factory=dict)
    output: str | None = None

    @field_validator("seeds", mode="before")
    @classmethod
    def _seeds(cls, value):
        return parse_seeds(value)

    @field_validator("settings")
    @classmethod
    def _settings(cls, value: dict) -> dict:
        _check_settings(value, "settings")
        return value

    @model_validator(mode="after")
    def _task_settings(self):
        if not self.task_settings:
            return self
        named = {spec.name for spec in resolve_tasks(self.tasks)}
        for task, values in self.task_settings.items():
            if task not in named:
                raise ValueError(
                    f"task_settings names {task!r}, which is not among the tasks "
                    f"({', '.join(sorted(named))})"
                )
            _check_settings(self.settings | values, f"task_settings.{task}")
        return self


def _check_settings(values: dict, where: str) -> None:
    """Run settings with every problem named now, not when a unit starts."""
    own = sorted(OWN_FIELDS & set(values))
    if own:
        raise ValueError(
            f"{', '.join(own)} belong at the manifest's top level or in a model entry, "
            f"not under {where}"
        )
    build_config({"model": "-", **values}, where)


def load_manifest(path: Path) -> Manifest:
    return load_yaml_model(path, Manifest, "manifest")
