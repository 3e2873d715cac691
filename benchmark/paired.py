"""Two models' predictions on the same units: the paired bootstrap of the retained percent
(and of the difference), how often the two agree, and which units flip.

A retained percent divides two noisy scores; scored on the same units, the two share most
of their noise, so the interval resamples the same units for both (aligned by prediction
row id) and takes 100 x student / teacher per resample, which is narrower than two separate
intervals suggest. Per unit, each family says what a prediction is (a label, a normalised
answer, an entity set) and whether it is right (the gold label; an exact match; the gold
entity set): ``agreement`` is the percent of units where the two predictions are the same,
``flips`` counts the units the teacher got right and the student wrong
(``correct_to_wrong``) and the other way round (``wrong_to_correct``). Where a unit is too
long for two predictions ever to be the same whole (a GONERD document), the two count its
parts instead (``agreement_unit``, ``entity``): agreement is the percent of the entities
either model predicts that both predict, and a flip is a gold entity one of the two finds
and the other misses.

Over several seeds, seed ``s`` of the student is paired with seed ``s`` of the teacher; a
resample draws the seeds and the units once for both sides, and the ratio is that of the
two means over the drawn seeds (the ratio of means the result reports). Agreement and flips
pool every seed's pairs: the percent over all (seed, unit) pairs, the flips summed.

The predictions come from memory (:func:`remember`, as `bench run` scores each task) or
from saved predictions files (``--save-predictions``), checked against the result they
belong to; where either side has none, the reason is recorded instead.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmark.bootstrap import (
    RESAMPLES,
    SEED,
    UnitScores,
    distinct,
    percentile_interval,
    resampled,
    unit_scores_for,
)
from benchmark.errors import BenchError
from benchmark.families import family_for
from benchmark.results import find_predictions, read_jsonl, sha256_file
from benchmark.run_result import BootstrapInfo, Flips, TaskResult
from benchmark.tasks import TASKS, TaskSpec

# Each finished task's predictions, reduced, by (result file, task, seed): a teacher run by
# `bench run --teacher` in the same process is paired without a predictions file.
_KEPT: OrderedDict[tuple, UnitScores] = OrderedDict()
_KEEP_AT_MOST = 64


def remember(result_path: Path, spec: TaskSpec, seed: int | None, rows: list[dict]) -> UnitScores:
    """Keep a finished task's predictions (``seed``: None for a run without ``--seeds``)
    for pairing; returns them reduced."""
    scores = unit_scores_for(family_for(spec.family), spec, rows)
    _keep(("run", str(Path(result_path).resolve()), spec.name, seed), scores)
    return scores


def _keep(key: tuple, scores: UnitScores) -> None:
    _KEPT[key] = scores
    _KEPT.move_to_end(key)
    while len(_KEPT) > _KEEP_AT_MOST:
        _KEPT.popitem(last=False)


def _matches(scores: UnitScores, run: TaskResult) -> bool:
    """Whether the predictions give the result's own main score (they are its predictions)."""
    return bool(np.isclose(scores.full(), run.main_score, rtol=1e-9, atol=1e-6, equal_nan=True))


def task_units(
    entry: TaskResult, task: str, result_path: Path | None, side: str
) -> list[UnitScores] | str:
    """Each seed's reduced predictions (one for a run without seeds), or why they cannot be
    had; ``side`` names the model in that reason."""
    spec = TASKS.get(task)
    if spec is None:
        return f"task {task} is not one this suite knows"
    runs = [(None, entry)]
    if entry.seed_runs:
        runs = [(seed, entry.seed_runs.get(str(seed))) for seed in entry.seeds or []]
    found = []
    for seed, run in runs:
        if run is None:
            return f"{side}'s result lacks seed {seed} of {task}"
        kept = None
        if result_path is not None:
            kept = _KEPT.get(("run", str(Path(result_path).resolve()), task, seed))
        if kept is None or not _matches(kept, run):
            kept = _from_file(run, spec, result_path, side)
        if isinstance(kept, str):
            return kept
        found.append(kept)
    return found


def _from_file(
    run: TaskResult, spec: TaskSpec, result_path: Path | None, side: str
) -> UnitScores | str:
    """A task run's saved predictions, reduced: looked for beside the result file, then
    where the result says; refused when they are not what it was scored from."""
    if run.predictions_file is None:
        return f"{side}'s predictions of {spec.name} were not saved (run with --save-predictions)"
    path = find_predictions(run.predictions_file, result_path, run.predictions_sha256)
    if path is None:
        return f"{side}'s predictions file {run.predictions_file} is missing"
    key = ("file", str(path.resolve()), path.stat().st_mtime_ns, path.stat().st_size)
    scores = _KEPT.get(key)
    if scores is None:
        if run.predictions_sha256 and sha256_file(path) != run.predictions_sha256:
            return f"{side}'s predictions file {path} is not the one its result was scored from"
        scores = unit_scores_for(family_for(spec.family), spec, read_jsonl(path))
        _keep(key, scores)
    if not _matches(scores, run):
        return f"{side}'s predictions file {path} does not give its result's {spec.name} score"
    return scores


@dataclass
class Paired:
    """A student against its reference on one task, from both sides' predictions."""

    student: float
    teacher: float
    difference_ci95: list[float] | None
    retained_percent_ci95: list[float] | None
    agreement: float | None
    flips: Flips | None
    bootstrap: BootstrapInfo | None
    agreement_unit: str | None = None

    def retention_fields(self) -> dict:
        """What a task's retention record holds of it."""
        return {
            "retained_percent_ci95": self.retained_percent_ci95,
            "agreement": self.agreement,
            "agreement_unit": self.agreement_unit,
            "flips": self.flips,
            "bootstrap": self.bootstrap,
        }


def pair(
    student: list[UnitScores], teacher: list[UnitScores], resamples: int, seed: int = SEED
) -> Paired | str:
    """Both sides seed by seed (module docstring), or why they cannot be paired."""
    if len(student) != len(teacher):
        return "the two were run over different seeds"
    columns = []
    for s, t in zip(student, teacher):
        if not distinct(s.ids) or not distinct(t.ids):
            return "a predictions file names one example twice (its ids repeat)"
        if len(s.ids) != len(t.ids) or set(s.ids) != set(t.ids):
            return "the two did not score the same examples (their prediction ids differ)"
        columns.append([s, t.aligned(s.ids)])
    means = [float(np.mean([side.full() for side in sides])) for sides in zip(*columns)]
    agreement, flips = _agreement_and_flips(columns)
    found_any = agreement is not None or flips is not None
    counted = (student[0].items or student[0].unit) if found_any else None
    difference = ratio = info = None
    if resamples > 0 and student[0].ids:
        values = resampled(columns, resamples, seed)
        difference = percentile_interval(values[0] - values[1])
        if (values[1] > 0).all():  # a ratio to a score at or below 0 means nothing
            ratio = percentile_interval(100 * values[0] / values[1])
        info = BootstrapInfo(
            resamples=resamples,
            seed=seed,
            unit=student[0].unit,
            over="seeds x examples" if len(columns) > 1 else "examples",
            reason=None if ratio else "the teacher's score reaches 0 on some resample",
        )
    return Paired(means[0], means[1], difference, ratio, agreement, flips, info, counted)


def _agreement_and_flips(columns: list[list[UnitScores]]) -> tuple[float | None, Flips | None]:
    """Agreement and flips pooled over the seeds' (student, teacher) columns: of whole
    units, or of their parts where the family counts parts (module docstring)."""
    if any(s.items for s, _ in columns):
        return _of_parts(columns)
    agreement = flips = None
    units = sum(len(s.ids) for s, _ in columns)
    if units and all(side.answers is not None for sides in columns for side in sides):
        same = sum(sum(a == b for a, b in zip(s.answers, t.answers)) for s, t in columns)
        agreement = 100 * same / units
    if all(side.correct is not None for sides in columns for side in sides):
        flips = Flips(
            correct_to_wrong=sum(int((t.correct & ~s.correct).sum()) for s, t in columns),
            wrong_to_correct=sum(int((~t.correct & s.correct).sum()) for s, t in columns),
        )
    return agreement, flips


def _of_parts(columns: list[list[UnitScores]]) -> tuple[float | None, Flips | None]:
    """Agreement as the percent of the parts either side predicts that both predict (100
    where neither predicts any: they agree on there being none), and flips as the gold
    parts one side finds and the other misses; neither where no unit was scored."""
    if not any(s.ids for s, _ in columns):
        return None, None
    both = either = lost = gained = 0
    for s, t in columns:
        for mine, theirs, my_found, their_found in zip(s.answers, t.answers, s.correct, t.correct):
            both += len(mine & theirs)
            either += len(mine | theirs)
            lost += len(their_found - my_found)
            gained += len(my_found - their_found)
    agreement = 100 * both / either if either else 100.0
    return agreement, Flips(correct_to_wrong=lost, wrong_to_correct=gained)


@dataclass
class Pairing:
    """Where each side's predictions are (their result files; None: only as recorded) and
    how to resample; ``strict`` makes missing predictions an error (`bench compare
    --paired`) instead of a recorded reason. Each task is paired once."""

    student: Path | None
    teacher: Path | None
    resamples: int = RESAMPLES
    student_name: str = "the student"
    teacher_name: str = "the teacher"
    strict: bool = False
    done: dict[str, Paired | str] = field(default_factory=dict)

    def task(self, task: str, student: TaskResult, teacher: TaskResult) -> Paired | str:
        """The task paired, or why it cannot be. Strict, predictions that are not there are
        an error (the fix is to save them); two sets that do not pair (other examples) are a
        reason, like any other task's, so one such task does not stop a comparison."""
        if task not in self.done:
            own = task_units(student, task, self.student, self.student_name)
            other = task_units(teacher, task, self.teacher, self.teacher_name)
            reason = own if isinstance(own, str) else other if isinstance(other, str) else None
            if reason and self.strict:
                raise BenchError(f"cannot pair {task}: {reason}")
            self.done[task] = reason or pair(own, other, self.resamples)
        return self.done[task]

    def retention_fields(self, task: str, student: TaskResult, teacher: TaskResult) -> dict:
        """The task's retention fields: the paired ones, or the reason they are missing."""
        found = self.task(task, student, teacher)
        if isinstance(found, str):
            return {"unpaired_reason": found}
        return found.retention_fields()
