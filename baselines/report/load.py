"""The study's files as the page reads them: each model's result and time ratios.

Kept apart from the statistics and the page because where a result comes from depends on
the state of the sweep (merged from its unit files while the study is still running, read
from the merged files of a finished study or of a report's ``data/`` folder), and because
the page copies exactly these inputs under ``<output>/data/`` so it can be made again.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from baselines.report.gpu import GPU_RATIOS
from baselines.study import Study, StudyModel, models, ratio_path, results_dir
from benchmark.errors import BenchError
from benchmark.results import find_predictions, predictions_dir, write_atomic
from benchmark.retention import with_time_ratios
from benchmark.run_result import RunResult, read_result


@dataclass
class ModelFiles:
    """One model of the study as its files give it: ``result`` is None while it is not
    scored, ``ratios`` None for a teacher and for a student not timed yet; ``path`` is the
    merged file the result was read from, beside which its predictions are looked for
    first (None for a result merged in memory from the sweep's units, whose predictions are
    where the units recorded them)."""

    model: StudyModel
    result: RunResult | None
    ratios: dict | None
    path: Path | None = None


def load(runs: Path, study: Study) -> dict[str, ModelFiles]:
    """Each model's result and time ratios by key; missing files give None. Where the
    sweep's unit files are there, every model is merged from them in memory, not read from
    its merged file, which a sweep still running after the study changed (a task added)
    has not rewritten yet; while any unit is pending, at the seeds all models have been
    scored at: an interim page, which says so. A report's data folder holds only the
    merged files, which are read as they are."""
    found = models(study, runs)
    results = _results_from_units(study, runs)
    paths: dict[str, Path] = {}
    if results is None:
        paths = {m.key: results_dir(runs) / f"{m.key}.json" for m in found}
        results = {key: read_result(path) for key, path in paths.items()}
    loaded = {}
    for model in found:
        result = results[model.key]
        ratios = None
        path = ratio_path(runs, model.key)
        if path.exists():
            try:
                ratios = json.loads(path.read_text("utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise BenchError(
                    f"{path} is not a time-ratio file ({exc}); delete it and run the study again"
                ) from None
        if ratios and ratios.get("teacher") == model.teacher and result and result.retention:
            # the student's cost against its teacher with time from the interleaved ratios,
            # as `bench run --teacher` records it, not from the two models' separate runs
            measured = ratios.get("ratios", [])
            result.retention.cost = with_time_ratios(result.retention.cost, measured)
        loaded[model.key] = ModelFiles(model, result, ratios, paths.get(model.key))
    if not any(entry.result for entry in loaded.values()):
        raise BenchError(
            f"no result of this study under {results_dir(runs)}: run `bench study run` (a "
            "running one has not yet scored any model at every task of a seed), or point "
            "--runs at a report's data folder"
        )
    return loaded


def _results_from_units(study: Study, runs: Path) -> dict[str, RunResult | None] | None:
    """Every model merged in memory from its unit files at the seeds that all models
    scored so far have finished (all of them once the sweep is done; it runs seed by seed,
    and a model with no finished seed is None, "not scored yet"), with each model's speed
    block where it is measured (cost and retention come from the merge only once every
    model's is); None where there are no unit files."""
    from baselines.study import manifest
    from benchmark.sweep import Sweep, read_speed

    if not (results_dir(runs) / "units").is_dir():
        return None
    planned = manifest(study, runs)
    sweep = Sweep(planned, results_dir(runs))
    units = sweep.units()
    pending = {(u.model, u.seed) for u in units if u.task is not None and not sweep.is_done(u)}
    finished = [
        {s for s in study.evaluation.seeds if (key, s) not in pending} for key in sweep.models
    ]
    seeds = sorted(set.intersection(*[f for f in finished if f] or [set()]))
    if not seeds:
        return dict.fromkeys(sweep.models)
    settings = planned.settings
    speed_units = [u for u in units if u.task is None]
    if not all(sweep.is_done(u) for u in speed_units):
        settings = settings | {"speed": False}  # speed is measured last
    part = Sweep(planned.model_copy(update={"seeds": seeds, "settings": settings}), sweep.output)
    made: dict = {}
    results = {key: part.merge(key, made) for key in part.models}
    for unit in speed_units if settings.get("speed") is False else []:
        # each model's own time and memory where they are measured (an architecture added
        # to a finished study leaves the others' measured)
        if results[unit.model] is not None and sweep.is_done(unit):
            results[unit.model].speed = read_speed(sweep.unit_path(unit))
    return results


def copy_inputs(runs: Path, output: Path, loaded: dict[str, ModelFiles]) -> None:
    """The page's inputs under ``<output>/data/``: the result each row was made from (an
    interim page's merged in memory) with its saved predictions (:func:`_with_predictions`),
    the time ratios and any GPU time ratios, so the page, its paired intervals included,
    can be re-made. Made from its own data folder, the page rewrites only the results (an
    older report's results carry their cost from separate runs, not the interleaved ratios)."""
    data = output / "data"
    again = data.resolve() == runs.resolve()
    for folder in () if again else ("results", "time-ratios"):  # only this page's inputs
        shutil.rmtree(data / folder, ignore_errors=True)
    for key, entry in loaded.items():
        if entry.result is not None:
            target = data / "results" / f"{key}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(target, _with_predictions(entry, target).to_json())
        if again:
            continue
        source, target = ratio_path(runs, key), data / "time-ratios" / f"{key}.json"
        if source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    if not again and (runs / GPU_RATIOS).exists():  # else the copy already there stays
        data.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(runs / GPU_RATIOS, data / GPU_RATIOS)


def _with_predictions(entry: ModelFiles, target: Path) -> RunResult:
    """The result as copied to ``target``: each saved predictions file it records, found
    beside its own file or where it says (as :func:`benchmark.paired.task_units` looks),
    copied beside the copy, one file per task and seed (each sweep unit names its file
    after the task alone), and the copy records that file instead."""
    assert entry.result is not None
    result = entry.result.model_copy(deep=True)
    folder = predictions_dir(target)
    for task, found in result.tasks.items():
        runs = found.seed_runs.items() if found.seed_runs else [(None, found)]
        for seed, run in runs:
            if run.predictions_file is None:
                continue
            source = find_predictions(run.predictions_file, entry.path, run.predictions_sha256)
            if source is None:
                continue  # the pairing says it is missing
            copy = folder / (task + ("" if seed is None else f".seed{seed}") + ".jsonl")
            if source.resolve() != copy.resolve():
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, copy)
            run.predictions_file = str(copy)
    return result
