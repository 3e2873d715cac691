"""Merging a model's unit files into one result, as `bench run --seeds` writes it: its
tasks (the mean and spread over seeds, with the interval over seeds x examples where the
units saved their predictions), its speed block and, for a student, retention against its
teacher (paired where both saved their predictions). A merged file follows from its unit
files alone (but for where its predictions paths say the sweep's folder is), so whichever
worker writes it last writes the same file. Its predictions lie beside it, one file per
task and seed as `bench run --seeds` names them, so the merged file and its folder are a
submission as they stand."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from benchmark.errors import BenchError
from benchmark.paired import Pairing, task_units
from benchmark.results import (
    intact_predictions,
    predictions_dir,
    replace_atomically,
    write_atomic,
)
from benchmark.retention import retention
from benchmark.run_result import RunResult, TaskResult, read_result
from benchmark.seeds import aggregate_seeds
from benchmark.sweep.plan import Sweep, Unit, read_speed
from benchmark.tasks import TASKS


def merge(sweep: Sweep, key: str, made: dict | None = None) -> RunResult | None:
    """The model's result from its unit files; None while any unit is missing.
    ``made`` holds the results merged so far in one pass, so a teacher shared by
    several students is read and merged once."""
    made = {} if made is None else made
    if key not in made:
        made[key] = _merge(sweep, key, made)
    return made[key]


def _merge(sweep: Sweep, key: str, made: dict) -> RunResult | None:
    """Merge one model (see :func:`merge`)."""
    units = [u for u in sweep.units() if u.model == key]
    if not all(sweep.is_done(u) for u in units):
        return None
    config = sweep.run_config(key)
    results = {(u.task, u.seed): read_result(sweep.unit_path(u)) for u in units if u.task}
    for (task, seed), unit_result in results.items():  # wherever the sweep folder now is
        _found_predictions(unit_result.tasks[task], sweep.unit_path(Unit(key, task, seed)))
    first = next(iter(results.values()))
    for (task, seed), unit_result in results.items():
        if unit_result.model.model_dump(exclude={"parameters", "max_positions"}) != (
            first.model.model_dump(exclude={"parameters", "max_positions"})
        ):
            raise BenchError(
                f"{key}: the unit {task} seed {seed} was run on other weights than the "
                f"others; delete {sweep.output / 'units' / key} and run the sweep again"
            )
    tasks = {}
    for task in sweep.tasks:
        spec = TASKS[task]
        if sweep.manifest.seeds is None:
            tasks[task] = results[(task, None)].tasks[task]
            continue
        runs = {seed: results[(task, seed)].tasks[task] for seed in sweep.manifest.seeds}
        own = sweep.task_config(key, task)
        device = own.device
        if device == "auto":  # the device the units ran on
            device = results[(task, sweep.manifest.seeds[0])].provenance.hardware.get(
                "device", "cpu"
            )
        scores = _seed_scores(sweep, key, task, runs)
        key_of_task = own.task_key(spec.content_hash(), device)
        tasks[task] = aggregate_seeds(runs, key_of_task, scores, own.bootstrap)
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
        merged.speed = read_speed(sweep.unit_path(speed_unit))
    teacher = sweep.models[key].teacher
    if teacher:
        teacher_result = merge(sweep, sweep.slug_of(teacher), made)
        if teacher_result is not None:
            pairing = Pairing(None, None, config.bootstrap)  # predictions as recorded
            merged.retention = retention(
                merged, teacher_result, str(sweep.merged_path(key)), teacher, pairing
            )
    return merged


def _seed_scores(sweep: Sweep, key: str, task: str, runs: dict) -> dict | None:
    """Every seed's saved predictions of ``task``, reduced, for the interval over seeds x
    examples; None when any seed's are missing (the aggregate then says so)."""
    scores = {}
    for seed, run in runs.items():
        found = task_units(run, task, sweep.unit_path(Unit(key, task, seed)), key)
        if isinstance(found, str):
            return None
        scores[seed] = found[0]
    return scores


def merge_all(sweep: Sweep, console: Console) -> list[Path]:
    """Write the merged file of every model whose units are all done."""
    written, made = [], {}
    for key in sweep.models:
        merged = merge(sweep, key, made)
        if merged is None:
            continue
        merged, copies = _predictions_beside(sweep, key, merged)
        pending = merged.retention is None and sweep.models[key].teacher
        if pending and _has_retention_for(sweep, key, merged):
            # another worker merged it after the teacher's last unit: keep that file
            continue
        for source, target in copies:
            _copy(source, target)
        write_atomic(sweep.merged_path(key), merged.to_json())
        _remove_other_copies(sweep, key, {target for _, target in copies})
        written.append(sweep.merged_path(key))
        console.print(
            f"merged {sweep.merged_path(key)}"
            + (" (its teacher's units are not all done yet)" if pending else "")
        )
    return written


def _found_predictions(run: TaskResult, unit_path: Path) -> None:
    """Record the unit's predictions where they are now (beside the unit file, or where it
    says), so pairing reads them from a moved sweep folder too; a file that is not there,
    or not as written, stays as recorded, and pairing says why it cannot be used."""
    found = intact_predictions(run.predictions_file, unit_path, run.predictions_sha256)
    if found is not None:
        run.predictions_file = str(found)


def _predictions_beside(
    sweep: Sweep, key: str, merged: RunResult
) -> tuple[RunResult, list[tuple[Path, Path]]]:
    """The merged result recording its units' predictions as copies beside it
    (``<model>.predictions/<task>.seed<S>.jsonl``, or ``<task>.jsonl`` without seeds; every
    unit names its file after the task alone), and the (unit's file, copy) pairs to write.
    Only files found as written are copied (:func:`_found_predictions`); any other stays as
    recorded."""
    merged = merged.model_copy(deep=True)
    folder = predictions_dir(sweep.merged_path(key))
    copies = []
    for task, entry in merged.tasks.items():
        runs = entry.seed_runs.items() if entry.seed_runs else [(None, entry)]
        for seed, run in runs:
            source = Path(run.predictions_file) if run.predictions_file else None
            if source is None or not source.is_file():
                continue
            target = folder / (task + ("" if seed is None else f".seed{seed}") + ".jsonl")
            copies.append((source, target))
            run.predictions_file = str(target)
    return merged, copies


def _copy(source: Path, target: Path) -> None:
    """One unit's predictions copied beside the merged file, byte for byte, all or nothing
    (a full disk leaves the copy as it was and says so)."""
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise BenchError(f"could not read {source} ({exc.strerror}): run the sweep again") from None
    replace_atomically(target, lambda handle: handle.buffer.write(data))


def _remove_other_copies(sweep: Sweep, key: str, kept: set[Path]) -> None:
    """Remove copies an earlier merge left beside the merged file that it no longer records
    (a seed or task since dropped from the manifest): the folder holds what the file names."""
    folder = predictions_dir(sweep.merged_path(key))
    for old in folder.glob("*.jsonl") if folder.is_dir() else []:
        if old not in kept:
            old.unlink(missing_ok=True)


def _has_retention_for(sweep: Sweep, key: str, merged: RunResult) -> bool:
    """Whether the model's merged file already holds these very tasks with retention."""
    on_disk = read_result(sweep.merged_path(key))
    return bool(
        on_disk is not None
        and on_disk.retention is not None
        and _scored(on_disk) == _scored(merged)
    )


def _scored(result: RunResult) -> dict:
    """A result's tasks less where their predictions files lie: the path depends on how the
    merging worker named the sweep's folder, the files' content is in their sha256."""
    return result.model_dump(
        include={"tasks"},
        exclude={
            "tasks": {
                "__all__": {
                    "predictions_file": True,
                    "seed_runs": {"__all__": {"predictions_file"}},
                }
            }
        },
    )
