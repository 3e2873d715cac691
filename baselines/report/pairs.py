"""Two models against their common teacher, by the paired bootstrap of their predictions.

A floor or an order verdict asks whether two models keep different shares of the same
teacher. Scored on the same evaluation units and seeds, the three share most of their noise
(a hard example is hard for all of them), which the seed spread of each share, combined in
quadrature, cannot see; so the interval here resamples the same units and seeds for the
three at once (:func:`benchmark.bootstrap.resampled`) and takes, per resample, the
difference of the two retained %: per task ``100 x (student - other) / teacher``, and over
the tasks ``100 x (mean student - mean other) / mean teacher``, the same ratio of macro
scores the page's retained % is. It is on each task's main score (the score a predictions
file gives back: SQuAD's and MRPC's F1, not the headline average of two metrics the page's
retained % uses), which the page says.

Each task draws its units and seeds from its own generator (:func:`task_seed`): the tasks
are separate data and separate fine-tuning runs, so one draw per task, taken at the same
resample index, is a joint draw of the macro. Where any of the three lacks its predictions
(or they are not of the same units), no interval is made: the reason is kept instead, and
the verdict falls back to the seed spread.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Literal

import numpy as np

from baselines.report.load import ModelFiles
from benchmark.bootstrap import RESAMPLES, SEED, UnitScores, distinct, percentile_interval
from benchmark.bootstrap import resampled as resample
from benchmark.paired import task_units
from benchmark.run_result import RunResult

Side = Literal["above", "below", "within"]


@dataclass(frozen=True)
class PairedDifference:
    """A retained-% difference (student less other, in points of the teacher's score) on
    the evaluated sets, the mean over the seeds, with its paired 95 % interval."""

    value: float
    interval: tuple[float, float]

    @property
    def side(self) -> Side:
        """Above or below where the interval excludes zero, else within."""
        low, high = self.interval
        return "above" if low > 0 else "below" if high < 0 else "within"


@dataclass(frozen=True)
class PairedComparison:
    """``student`` against ``other``, both against ``teacher``: the difference over the
    tasks (``macro``) and on each task (``tasks``), from ``resamples`` draws of the units
    and the ``seeds`` they share."""

    student: str
    other: str
    teacher: str
    macro: PairedDifference
    tasks: dict[str, PairedDifference]
    seeds: tuple[int, ...]
    resamples: int

    @property
    def outcome(self) -> Side:
        return self.macro.side

    @property
    def driving(self) -> tuple[str, ...]:
        """The tasks whose own interval excludes zero on the verdict's side: what the
        verdict rests on (none for "within")."""
        if self.outcome == "within":
            return ()
        return tuple(t for t, d in self.tasks.items() if d.side == self.outcome)

    @property
    def apart(self) -> tuple[str, ...]:
        """Every task whose own interval excludes zero, on either side."""
        return tuple(t for t, d in self.tasks.items() if d.side != "within")


@dataclass(frozen=True)
class Unpaired:
    """Why a comparison has no paired interval: ``unsaved``, the models among the three
    whose results do not hold their predictions (scored without saving them); ``reason``,
    any other cause in words (a predictions file missing or not the one scored, units that
    differ, a teacher score reaching 0)."""

    unsaved: tuple[str, ...] = ()
    reason: str | None = None


def task_seed(task: str) -> int:
    """The generator seed of a task's draws: :data:`SEED` moved by the task's name, so two
    tasks with as many units do not draw the same counts, and the same files always give
    the same interval."""
    return SEED + zlib.crc32(task.encode("utf-8"))


def saved(result: RunResult, tasks: list[str]) -> bool:
    """Whether every seed of every task in ``tasks`` records a predictions file."""
    for task in tasks:
        entry = result.tasks[task]
        runs = list(entry.seed_runs.values()) if entry.seed_runs else [entry]
        if any(run.predictions_file is None for run in runs):
            return False
    return True


class StudyPairs:
    """The paired comparisons of one study's models, each model's predictions read once.

    ``loaded`` is the page's files (:func:`baselines.report.load.load`); a result read
    from a file looks for its predictions beside that file first, then where it records
    them (:func:`benchmark.paired.task_units`)."""

    def __init__(self, loaded: dict[str, ModelFiles], resamples: int = RESAMPLES):
        self.loaded = loaded
        self.resamples = resamples
        self._units: dict[tuple[str, str], list[UnitScores] | str] = {}
        self._done: dict[tuple[str, str], PairedComparison | Unpaired] = {}

    def scored(self) -> tuple[str, ...]:
        """The models with a result."""
        return tuple(k for k, e in self.loaded.items() if e.result is not None)

    def unsaved(self) -> tuple[str, ...]:
        """The models whose result does not record every task's predictions."""
        return tuple(
            k
            for k, e in self.loaded.items()
            if e.result is not None and not saved(e.result, list(e.result.tasks))
        )

    def compare(self, student: str, other: str) -> PairedComparison | Unpaired:
        """``student`` against ``other`` by their common teacher's predictions too."""
        if (student, other) not in self._done:
            self._done[(student, other)] = self._compare(student, other)
        return self._done[(student, other)]

    def _compare(self, student: str, other: str) -> PairedComparison | Unpaired:
        teacher = self.loaded[student].model.teacher
        if teacher is None or self.loaded[other].model.teacher != teacher:
            return Unpaired(reason=f"{student} and {other} do not share a teacher")
        keys = (student, other, teacher)
        results = [self.loaded[k].result for k in keys]
        if any(r is None for r in results):
            return Unpaired(reason="not every model of the comparison is scored")
        tasks = [t for t in results[0].tasks if all(t in r.tasks for r in results[1:])]
        if not tasks:
            return Unpaired(reason=f"{student}, {other} and {teacher} share no task")
        unsaved = tuple(k for k, r in zip(keys, results) if not saved(r, tasks))
        if unsaved:
            return Unpaired(unsaved=unsaved)
        seeds = [r.tasks[t].seeds for t in tasks for r in results]
        if any(s != seeds[0] for s in seeds):
            return Unpaired(reason=f"{student}, {other} and {teacher} differ in their seeds")
        drawn: dict[str, np.ndarray] = {}
        full: dict[str, np.ndarray] = {}
        for task in tasks:
            found = [self._task(k, task) for k in keys]
            reason = next((f for f in found if isinstance(f, str)), None)
            if reason is not None:
                return Unpaired(reason=reason)
            columns = _aligned(found)
            if columns is None:
                return Unpaired(reason=f"the three did not score the same examples of {task}")
            drawn[task] = resample(columns, self.resamples, task_seed(task))
            full[task] = np.array([np.mean([c[j].full() for c in columns]) for j in range(3)])
        macro = _difference(
            np.mean(list(full.values()), axis=0), np.mean(list(drawn.values()), axis=0)
        )
        if macro is None:
            return Unpaired(reason=f"{teacher}'s macro score reaches 0 on some resample")
        per_task = {t: _difference(full[t], drawn[t]) for t in tasks}
        return PairedComparison(
            student=student,
            other=other,
            teacher=teacher,
            macro=macro,
            tasks={t: d for t, d in per_task.items() if d is not None},
            seeds=tuple(seeds[0] or ()),
            resamples=self.resamples,
        )

    def _task(self, key: str, task: str) -> list[UnitScores] | str:
        """One model's reduced predictions of one task, seed by seed, or why there are none."""
        if (key, task) not in self._units:
            entry = self.loaded[key]
            result = entry.result
            assert result is not None  # checked by the caller
            self._units[(key, task)] = task_units(result.tasks[task], task, entry.path, key)
        return self._units[(key, task)]


def _aligned(found: list[list[UnitScores]]) -> list[list[UnitScores]] | None:
    """Seed by seed, the three sides on the student's units in its order; None where they
    were not scored on the same units."""
    columns = []
    for sides in zip(*found):
        first = sides[0]
        if not first.ids or not distinct(first.ids):
            return None
        if any(len(s.ids) != len(first.ids) or set(s.ids) != set(first.ids) for s in sides):
            return None
        columns.append([s.aligned(first.ids) for s in sides])
    return columns


def _difference(full: np.ndarray, drawn: np.ndarray) -> PairedDifference | None:
    """``100 x (student - other) / teacher`` on the evaluated sets (``full``: the three
    scores) and its interval over the resamples (``drawn``: ``(3, resamples)``); None where
    the teacher's score reaches 0 on some resample, where a share means nothing."""
    student, other, teacher = drawn
    if not (teacher > 0).all() or full[2] <= 0:
        return None
    interval = percentile_interval(100 * (student - other) / teacher)
    if interval is None:
        return None
    value = float(100 * (full[0] - full[1]) / full[2])
    return PairedDifference(value, (interval[0], interval[1]))
