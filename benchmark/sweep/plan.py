"""A sweep's plan: its models (teachers first), its units in the one order every worker
sees, the file each unit is written to, and whether a unit is done."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmark.config import RunConfig, build_config
from benchmark.errors import BenchError
from benchmark.results import slug
from benchmark.reuse import speed_is_current, task_is_current
from benchmark.run_result import RunResult, SpeedBlock, read_result
from benchmark.sweep.manifest import Manifest, ModelEntry
from benchmark.tasks import resolve_tasks


@dataclass(frozen=True)
class Unit:
    """One piece of work: a model's task at one seed, or (task None) its speed."""

    model: str  # the model's slug: its folder under units/ and its merged file's name
    task: str | None
    seed: int | None

    @property
    def label(self) -> str:
        if self.task is None:
            return f"{self.model} speed"
        return f"{self.model} {self.task}" + ("" if self.seed is None else f" seed {self.seed}")


def parse_shard(text: str | None) -> tuple[int, int]:
    """``I/N`` as (I, N) with 0 <= I < N; no shard is 0/1."""
    if text is None:
        return 0, 1
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or not 0 <= int(match[1]) < int(match[2]):
        raise BenchError(
            f"--shard {text!r}: give I/N with 0 <= I < N, e.g. "
            "--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT with --array=0-(N-1)"
        )
    return int(match[1]), int(match[2])


class Sweep:
    """A manifest resolved into models, units and the files they are written to."""

    def __init__(self, manifest: Manifest, output: Path) -> None:
        self.manifest = manifest
        self.output = Path(output)
        self.tasks = [spec.name for spec in resolve_tasks(manifest.tasks)]
        self.models = self._models()
        self.settings = manifest.settings

    def _models(self) -> dict[str, ModelEntry]:
        """Every model by slug, teachers first (each once, however many students it has)."""
        entries = [
            e.model_copy(update={"model": _norm(e.model), "teacher": _norm(e.teacher)})
            for e in self.manifest.models
        ]
        known = {e.model for e in entries}
        added = [e.teacher for e in entries if e.teacher and e.teacher not in known]
        entries += [ModelEntry(model=teacher) for teacher in dict.fromkeys(added)]
        teachers = {e.teacher for e in entries if e.teacher}
        entries.sort(key=lambda e: e.model not in teachers)  # stable: manifest order kept
        models: dict[str, ModelEntry] = {}
        seen: set[str] = set()
        for entry in entries:
            if entry.model in seen:
                continue
            seen.add(entry.model)
            key = slug(entry.label)
            if key in models:
                raise BenchError(
                    f"two models of the manifest would share the files of {key!r}: give each a "
                    "distinct name"
                )
            models[key] = entry
        return models

    def slug_of(self, model: str) -> str:
        return next(k for k, e in self.models.items() if e.model == _norm(model))

    def units(self) -> list[Unit]:
        """Every unit in the one order every worker sees: seed by seed, so a sweep cut
        short has every model scored at its first seeds rather than some models at all
        of them; then each model's speed."""
        seeds = self.manifest.seeds or [None]
        units = [
            Unit(key, task, seed) for seed in seeds for key in self.models for task in self.tasks
        ]
        return units + [Unit(key, None, None) for key in self.models if self.run_config(key).speed]

    def shard(self, index: int, count: int) -> list[Unit]:
        return [u for i, u in enumerate(self.units()) if i % count == index]

    def run_config(self, key: str, unit: Unit | None = None) -> RunConfig:
        """The `bench run` settings of a unit, or of a model's merged result."""
        entry = self.models[key]
        values = {"model": entry.model, "name": entry.label, **self.settings}
        if unit is None:
            values |= {
                "tasks": ",".join(self.tasks),
                "seeds": self.manifest.seeds,
                "output": str(self.merged_path(key)),
            }
        else:
            values |= self.manifest.task_settings.get(unit.task, {}) | {
                "tasks": unit.task,
                "speed": False,
                "output": str(self.unit_path(unit)),
            }
            if unit.seed is not None:
                values["seed"] = unit.seed
        return build_config(values, f"settings for {entry.label}")

    def task_config(self, key: str, task: str) -> RunConfig:
        """A merged result's settings with one task's own over them: what `bench run
        --seeds` would have scored that task with."""
        config = self.run_config(key)
        own = self.manifest.task_settings.get(task)
        return build_config(config.model_dump() | own) if own else config

    def unit_path(self, unit: Unit) -> Path:
        folder = self.output / "units" / unit.model
        if unit.task is None:
            return folder / "speed.json"
        return folder / (unit.task + ("" if unit.seed is None else f".seed{unit.seed}") + ".json")

    def merged_path(self, key: str) -> Path:
        return self.output / f"{key}.json"

    def is_done(self, unit: Unit) -> bool:
        """Whether the unit's file holds what `bench run` itself would keep: its task
        scored with exactly these settings on these weights and on the data files as they
        are now, or its speed block measured so (benchmark.reuse, the runner's own rule)."""
        path = self.unit_path(unit)
        if not path.exists():
            return False
        config = self.run_config(unit.model, unit)
        if unit.task is None:
            return speed_is_current(read_speed(path), config)
        return task_is_current(read_result(path), unit.task, config, path)

    def run_unit(self, unit: Unit, console: Console) -> None:
        """Run one unit and write its file (benchmark.sweep.run)."""
        from benchmark.sweep.run import run_unit

        run_unit(self, unit, console)

    def merge(self, key: str, made: dict | None = None) -> RunResult | None:
        """The model's result from its unit files; None while any unit is missing
        (benchmark.sweep.merge)."""
        from benchmark.sweep.merge import merge

        return merge(self, key, made)

    def merge_all(self, console: Console) -> list[Path]:
        """Write the merged file of every model whose units are all done."""
        from benchmark.sweep.merge import merge_all

        return merge_all(self, console)


def _norm(model: str | None) -> str | None:
    """One spelling of a model's path (``a/b/`` and ``a/b`` are one model)."""
    return os.path.normpath(model) if model else model


def read_speed(path: Path) -> SpeedBlock | None:
    """A model's speed unit, None where it is not written yet."""
    if not path.exists():
        return None
    try:
        return SpeedBlock.model_validate(json.loads(path.read_text("utf-8")))
    except (OSError, ValueError) as exc:
        raise BenchError(
            f"{path} is not a speed unit ({exc}); delete it and run the sweep again"
        ) from None


def status_table(sweep: Sweep, index: int, count: int) -> Table:
    """`--dry-run`: every unit, its shard, its file and whether it is done."""
    table = Table(title=f"{len(sweep.units())} units; shard {index}/{count} takes the marked")
    for column in ("#", "unit", "shard", "file", "state"):
        table.add_column(column)
    for i, unit in enumerate(sweep.units()):
        mine = i % count == index
        table.add_row(
            str(i),
            unit.label,
            f"{i % count}" + (" *" if mine else ""),
            str(sweep.unit_path(unit)),
            "done" if sweep.is_done(unit) else "to do",
        )
    return table
