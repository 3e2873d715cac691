"""The study's numbers: macro scores, retained %, their spreads, and one point per student.

Separate from the verdicts (which compare these numbers against the goal and each other)
and from the page (which writes them), so each rule can be checked on hand-made results.
No English here: a number is a float, a missing one None.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from baselines.report.load import ModelFiles
from benchmark.families import family_for
from benchmark.retention import HEADLINE_METRICS, combined_score
from benchmark.run_result import RunResult, TaskResult
from benchmark.seeds import mean_std, ratio_spread


def near_chance(entry: TaskResult) -> bool:
    """Whether a score is too close to chance to say the model learned the task, by its
    family's rule (``Family.near_chance``: a classifier's accuracy near always guessing
    the commonest label, a span F1 below ``SPAN_F1_FLOOR``). A student's retained % of
    such a teacher score measures noise, not what distillation kept."""
    return family_for(entry.family).near_chance(entry)


def macro_score(result: RunResult, tasks: list[str]) -> tuple[float, float | None]:
    """The mean over ``tasks`` of each task's headline score (the GLUE-style number
    retention uses), with its spread over the seeds: the "teacher's macro score"."""
    means = statistics.fmean(combined_score(result.tasks[t]) for t in tasks)
    runs = [result.tasks[t].seed_runs or {} for t in tasks]
    seeds = set(runs[0])
    if len(seeds) < 2 or any(set(r) != seeds for r in runs):
        return means, None  # one seed, or tasks scored at different seeds: no spread
    per_seed = [statistics.fmean(combined_score(r[seed]) for r in runs) for seed in seeds]
    return means, mean_std(per_seed)[1]


def averaged_headlines(result: RunResult) -> dict[str, str]:
    """The tasks whose headline score (:func:`combined_score`) is the mean of several
    metrics, each with its main score, the one its predictions give back: a paired
    interval is on that score, not on the headline the tables' shares are made of."""
    return {
        task: entry.main_score_name
        for task, entry in result.tasks.items()
        if any(
            len(names) > 1 and entry.main_score_name in names and set(names) <= set(entry.metrics)
            for names in HEADLINE_METRICS.values()
        )
    }


def learned_tasks(teacher: RunResult) -> list[str]:
    """The tasks whose teacher score is not near chance (:func:`near_chance`): the only ones
    on which a student's share says what it kept of something the teacher knew."""
    return [task for task, entry in teacher.tasks.items() if not near_chance(entry)]


def retained_of_macro(
    student: RunResult, teacher: RunResult, only: list[str] | None = None
) -> tuple[float | None, float | None]:
    """The student's macro score as a % of its teacher's, with the propagated spread, over
    the tasks both were scored on (and in ``only``, where given). Unlike the mean of
    per-task retained %, a task the teacher barely learned (a few F1 points) weighs by its
    score here, not by a ratio of two small numbers."""
    tasks = [
        t
        for t in (student.retention.tasks if student.retention else {})
        if t in teacher.tasks and (only is None or t in only)
    ]
    if not tasks:
        return None, None
    s, t = macro_score(student, tasks), macro_score(teacher, tasks)
    if t[0] <= 0:
        return None, None
    return 100 * s[0] / t[0], ratio_spread(s, t)


def seeds_of(result: RunResult) -> list[int]:
    """The seeds every task of ``result`` was scored at (none for a result without tasks)."""
    per_task = [set(task.seeds or []) for task in result.tasks.values()]
    return sorted(set.intersection(*per_task)) if per_task else []


@dataclass(frozen=True)
class Point:
    """One student on the plot and before the goal: its retained % of its teacher's macro
    score (over every task, and over only the tasks the teacher learned) with their
    spreads over the seeds (None with one seed), and its time ratio at the longest length
    it was timed at."""

    key: str
    architecture: str
    role: str
    retained: float | None
    retained_std: float | None
    seq_len: int
    ratio: float
    learned: tuple[str, ...]  # the tasks its teacher learned (not near chance)
    all_learned: bool  # whether its teacher learned every task it was scored on
    retained_learned: float | None  # over only the learned tasks
    retained_learned_std: float | None

    @property
    def speedup(self) -> float:
        return 1 / self.ratio


def summary_points(loaded: dict[str, ModelFiles]) -> list[Point]:
    """One point per student scored against a teacher and timed against it at some length,
    in the study's order."""
    points = []
    for key, entry in loaded.items():
        model, result = entry.model, entry.result
        if model.teacher is None or result is None or result.retention is None:
            continue
        measured = [r for r in (entry.ratios or {}).get("ratios", []) if r["status"] == "ok"]
        own_teacher = loaded.get(model.teacher)
        teacher = own_teacher.result if own_teacher else None
        if not measured or teacher is None:
            continue
        longest = max(measured, key=lambda r: r["seq_len"])
        learned = learned_tasks(teacher)
        scored = [t for t in result.retention.tasks if t in teacher.tasks]
        retained, retained_std = retained_of_macro(result, teacher)
        retained_learned, retained_learned_std = retained_of_macro(result, teacher, learned)
        points.append(
            Point(
                key=key,
                architecture=model.architecture,
                role=model.role,
                retained=retained,
                retained_std=retained_std,
                seq_len=longest["seq_len"],
                ratio=longest["ratio"],
                learned=tuple(learned),
                all_learned=set(scored) <= set(learned),
                retained_learned=retained_learned,
                retained_learned_std=retained_learned_std,
            )
        )
    return points


def spread_of_difference(a: Point, b: Point) -> float | None:
    """The spread of two points' retained % difference (both spreads combined in
    quadrature): the bar a gap must clear to tell them apart. None without a spread on both
    sides (one seed), where no gap can be told from seed noise."""
    if a.retained_std is None or b.retained_std is None:
        return None
    return math.hypot(a.retained_std, b.retained_std)
