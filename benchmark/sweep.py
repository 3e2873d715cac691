"""`bench sweep MANIFEST.yaml`: many models (students with their teachers), tasks and seeds,
as independent units that any number of workers share out.

A unit is one (model, task, seed) run of `bench run`, written to its own result file under
``<output>/units/<model>/``, or one model's speed measurement. Units are listed in one fixed
order, seed by seed (every model at the first seed, teachers first, then every model at the
next), and ``--shard I/N`` takes every N-th, so a SLURM job array or any scheduler spreads
them over nodes with no coordinator (and ``--workers N`` over one machine's cores,
benchmark.sweep_workers): each worker skips the units already
written (a killed worker loses only the unit it was in) and, when it is done, merges every
model whose units are all written into ``<output>/<model>.json``: its tasks as `bench run
--seeds` writes them (benchmark.seeds), its speed block, and, for a student, retention
against its teacher. A merged file follows from its unit files alone, so whichever worker
writes it last writes the same file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from rich.console import Console
from rich.table import Table

from benchmark.config import RunConfig, build_config, load_yaml_model, parse_seeds
from benchmark.errors import BenchError
from benchmark.results import write_atomic
from benchmark.run_result import RunResult, SpeedBlock, read_result
from benchmark.tasks import TASKS, resolve_tasks

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


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text.strip("/")).strip("-")[-80:] or "model"


def load_manifest(path: Path) -> Manifest:
    return load_yaml_model(path, Manifest, "manifest")


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

    def unit_path(self, unit: Unit) -> Path:
        folder = self.output / "units" / unit.model
        if unit.task is None:
            return folder / "speed.json"
        return folder / (unit.task + ("" if unit.seed is None else f".seed{unit.seed}") + ".json")

    def merged_path(self, key: str) -> Path:
        return self.output / f"{key}.json"

    def is_done(self, unit: Unit) -> bool:
        """The unit's file holds its task scored with exactly these settings on these
        weights and on the data files as they are now (or its speed block, measured so).
        With ``device: auto`` the device is the one the unit ran on, so a node without that
        device still sees the unit done."""
        from types import SimpleNamespace

        from benchmark.cost import speed_settings
        from benchmark.provenance import model_identity
        from benchmark.runner import reusable_tasks

        path = self.unit_path(unit)
        if not path.exists():
            return False
        config = self.run_config(unit.model, unit)
        if unit.task is None:
            block = read_speed(path)
            if block is None:
                return False
            device = config.device if config.device != "auto" else block.settings.get("device")
            expected = speed_settings(config, config.model, SimpleNamespace(type=device))
            return block.settings == expected
        result = read_result(path)
        if result is None or unit.task not in result.tasks:
            return False
        device = config.device
        if device == "auto":
            device = result.provenance.hardware.get("device", "cpu")
        # what `bench run` itself would keep: the same weights, settings, spec and data files
        identity, resolved = model_identity(config.model), SimpleNamespace(type=device)
        kept = reusable_tasks(result, config, identity, resolved, config.tasks_data_dir)
        return unit.task in kept

    def run_unit(self, unit: Unit, console: Console) -> None:
        from benchmark.cost import speed_block
        from benchmark.model_setup import pick_device
        from benchmark.runner import run

        config = self.run_config(unit.model, unit)
        if unit.task is not None:
            run(config, console)
            return
        path = self.unit_path(unit)
        previous = read_speed(path)
        block = speed_block(
            config,
            config.model,
            pick_device(config.device),
            previous and previous.model_dump(),
            console,
        )
        write_atomic(path, SpeedBlock.model_validate(block).model_dump(mode="json"))

    def merge(self, key: str, made: dict | None = None) -> RunResult | None:
        """The model's result from its unit files; None while any unit is missing.
        ``made`` holds the results merged so far in one pass, so a teacher shared by
        several students is read and merged once."""
        made = {} if made is None else made
        if key not in made:
            made[key] = self._merge(key, made)
        return made[key]

    def _merge(self, key: str, made: dict) -> RunResult | None:
        from benchmark.retention import retention
        from benchmark.seeds import aggregate_seeds

        units = [u for u in self.units() if u.model == key]
        if not all(self.is_done(u) for u in units):
            return None
        config = self.run_config(key)
        results = {(u.task, u.seed): read_result(self.unit_path(u)) for u in units if u.task}
        first = next(iter(results.values()))
        for (task, seed), unit_result in results.items():
            if unit_result.model.model_dump(exclude={"parameters", "max_positions"}) != (
                first.model.model_dump(exclude={"parameters", "max_positions"})
            ):
                raise BenchError(
                    f"{key}: the unit {task} seed {seed} was run on other weights than the "
                    f"others; delete {self.output / 'units' / key} and run the sweep again"
                )
        tasks = {}
        for task in self.tasks:
            spec = TASKS[task]
            if self.manifest.seeds is None:
                tasks[task] = results[(task, None)].tasks[task]
                continue
            runs = {seed: results[(task, seed)].tasks[task] for seed in self.manifest.seeds}
            own = config  # with the task's own settings, as `bench run --seeds` would have them
            if task in self.manifest.task_settings:
                own = build_config(config.model_dump() | self.manifest.task_settings[task])
            device = own.device
            if device == "auto":  # the device the units ran on
                device = results[(task, self.manifest.seeds[0])].provenance.hardware.get(
                    "device", "cpu"
                )
            tasks[task] = aggregate_seeds(runs, own.task_key(spec.content_hash(), device))
        provenance = first.provenance.model_copy(
            update={
                "started_at": min(r.provenance.started_at for r in results.values()),
                "finished_at": max(r.provenance.finished_at or "" for r in results.values()),
                "seed": config.seed,
            }
        )
        merged = RunResult(
            config=config.model_dump(),
            model=first.model,
            provenance=provenance,
            tasks=tasks,
        )
        speed_unit = next((u for u in units if u.task is None), None)
        if speed_unit is not None:
            merged.speed = read_speed(self.unit_path(speed_unit))
        teacher = self.models[key].teacher
        if teacher:
            teacher_result = self.merge(self.slug_of(teacher), made)
            if teacher_result is not None:
                merged.retention = retention(
                    merged, teacher_result, str(self.merged_path(key)), teacher
                )
        return merged

    def merge_all(self, console: Console) -> list[Path]:
        """Write the merged file of every model whose units are all done."""
        written, made = [], {}
        for key in self.models:
            merged = self.merge(key, made)
            if merged is None:
                continue
            pending = merged.retention is None and self.models[key].teacher
            if pending and self._has_retention_for(key, merged):
                # another worker merged it after the teacher's last unit: keep that file
                continue
            write_atomic(self.merged_path(key), merged.to_json())
            written.append(self.merged_path(key))
            console.print(
                f"merged {self.merged_path(key)}"
                + (" (its teacher's units are not all done yet)" if pending else "")
            )
        return written

    def _has_retention_for(self, key: str, merged: RunResult) -> bool:
        """Whether the model's merged file already holds these very tasks with retention."""
        on_disk = read_result(self.merged_path(key))
        return bool(
            on_disk is not None
            and on_disk.retention is not None
            and on_disk.model_dump(include={"tasks"}) == merged.model_dump(include={"tasks"})
        )


def _norm(model: str | None) -> str | None:
    """One spelling of a model's path (``a/b/`` and ``a/b`` are one model)."""
    return os.path.normpath(model) if model else model


def read_speed(path: Path) -> SpeedBlock | None:
    """A model's speed unit, None where it is not written yet."""
    import json

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


def run_sweep(
    manifest_path: Path | Manifest,
    shard: str | None = None,
    dry_run: bool = False,
    output: Path | None = None,
    console: Console | None = None,
    workers: int = 1,
) -> list[Path]:
    """Run this worker's units (skipping those done), then merge what is complete. With
    ``workers`` > 1 the task units run in that many local processes first, and the speed
    units after them, alone."""
    console = console or Console()
    if isinstance(manifest_path, Manifest):  # built in code (a study), not read from a file
        manifest, stem = manifest_path, "sweep"
    else:
        manifest, stem = load_manifest(manifest_path), Path(manifest_path).stem
    folder = output or Path(manifest.output or f"results/{stem}")
    sweep = Sweep(manifest, folder)
    index, count = parse_shard(shard)
    if dry_run:
        console.print(status_table(sweep, index, count))
        return []
    if workers < 1:
        raise BenchError(f"--workers {workers}: give 1 or more processes")
    mine = sweep.shard(index, count)
    if workers > 1 and not dry_run:
        from benchmark.sweep_workers import run_in_workers

        pending = [u for u in mine if u.task is not None and not sweep.is_done(u)]
        run_in_workers(sweep, pending, workers, console)
    for n, unit in enumerate(mine, 1):
        if sweep.is_done(unit):
            console.print(f"[dim][{n}/{len(mine)}] {unit.label}: done[/]")
            continue
        console.rule(f"[{n}/{len(mine)}] {unit.label}")
        sweep.run_unit(unit, console)
    return sweep.merge_all(console)
