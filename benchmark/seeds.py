"""Scores over several seeds: one task result from the runs of each seed, and the spread that
travels with a retained percentage.

A task run with ``--seeds 1,2,3`` (or a sweep's units of one task) keeps every seed's own
result under ``seed_runs``; its ``main_score`` and ``metrics`` are the means over the seeds,
``main_score_std`` the sample standard deviation, so a reader can tell a real gap between two
models from the noise of fine-tuning. Every other field (data, inputs, label mapping) is the
first seed's: seeds change training and sampling, never the task. The mean's bootstrap
interval is over seeds x examples (benchmark.bootstrap) where every seed's predictions are at
hand, and so are each length bucket's and the long-context gain's (benchmark.long_context).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping

from benchmark.bootstrap import UnitScores, interval_record
from benchmark.buckets import with_intervals
from benchmark.errors import BenchError
from benchmark.long_context import aggregate_gain
from benchmark.run_result import TaskResult


def mean_std(values: Iterable[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (n - 1); the deviation of one value is None."""
    values = list(values)
    mean = statistics.fmean(values)
    return mean, statistics.stdev(values) if len(values) > 1 else None


def _mean_of(values: list):
    """The mean of numbers, or of dicts of numbers key by key (nested breakdowns such as
    per-type F1); None where the seeds do not all hold a number."""
    first = values[0]
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return statistics.fmean(values)
    if all(isinstance(v, dict) for v in values):
        keys = [k for k in first if all(k in v for v in values)]
        means = {k: _mean_of([v[k] for v in values]) for k in keys}
        return {k: m for k, m in means.items() if m is not None}
    if all(v == first for v in values):
        return first
    return None


def aggregate_seeds(
    runs: Mapping[int, TaskResult],
    task_key: str,
    scores: Mapping[int, UnitScores] | None = None,
    resamples: int | None = None,
    truncated: Mapping[int, UnitScores | None] | None = None,
) -> TaskResult:
    """One task result from the result of each seed (seed -> result): means over the seeds,
    the main score's deviation, and every seed's result kept whole.

    With every seed's predictions reduced (``scores``, seed -> benchmark.bootstrap's
    UnitScores) the mean carries an interval over seeds x examples, with ``resamples``
    (default: the seeds' own count); without them, where the seeds carry intervals, the
    aggregate says why it has none (each seed's own is in ``seed_runs``). The length buckets
    and the long-context gain (with ``truncated``: each seed's predictions read at 512
    tokens) get theirs the same way."""
    if not runs:
        raise BenchError("no seed runs to aggregate")
    seeds = sorted(runs)
    ordered = [runs[s] for s in seeds]
    first = ordered[0]
    for seed, run in zip(seeds, ordered):
        for what in ("task_version", "spec_hash", "split", "main_score_name", "family"):
            if getattr(run, what) != getattr(first, what):
                raise BenchError(
                    f"seed {seed} of this task has a different {what.replace('_', ' ')} "
                    f"({getattr(run, what)} vs {getattr(first, what)}); run every seed with "
                    "the same suite version"
                )
    main, std = mean_std(r.main_score for r in ordered)
    metrics = _mean_of([r.metrics for r in ordered])
    metrics[first.main_score_name] = main  # the same number, so the two never disagree
    timings = {k: round(sum(r.timings_s.get(k, 0.0) for r in ordered), 3) for k in first.timings_s}
    recipe = None
    if first.recipe is not None:
        recipe = {k: v for k, v in first.recipe.items() if k != "seed"} | {"seeds": seeds}
    buckets = None
    if all(r.buckets for r in ordered):
        buckets = _mean_of([r.buckets for r in ordered])
    return first.model_copy(
        update={
            "task_key": task_key,
            "main_score": main,
            "metrics": metrics,
            "main_score_std": std,
            "seeds": seeds,
            "seed_runs": {str(s): r for s, r in zip(seeds, ordered)},
            "recipe": recipe,
            "timings_s": timings,
            **_pooled(seeds, ordered, buckets, scores, truncated, resamples),
            "label_counts": _label_counts(ordered),
            "predictions_file": None,
            "predictions_sha256": None,
            **_seeds_interval(seeds, ordered, scores, resamples),
        }
    )


def _seeds_interval(
    seeds: list[int],
    runs: list[TaskResult],
    scores: Mapping[int, UnitScores] | None,
    resamples: int | None,
) -> dict:
    """The aggregate's ``main_score_ci95`` and ``bootstrap`` (see :func:`aggregate_seeds`)."""
    drawn = next((r.bootstrap for r in runs if r.bootstrap is not None), None)
    resamples = _resamples(runs, resamples)
    if scores is not None and all(s in scores for s in seeds) and resamples:
        interval, info = interval_record([scores[s] for s in seeds], resamples)
        return {"main_score_ci95": interval, "bootstrap": info}
    if drawn is None:
        return {"main_score_ci95": None, "bootstrap": None}
    reason = "not every seed's predictions were at hand: each seed's own interval is in seed_runs"
    info = drawn.model_copy(update={"over": "seeds x examples", "reason": reason})
    return {"main_score_ci95": None, "bootstrap": info}


def _resamples(runs: list[TaskResult], resamples: int | None) -> int:
    """The resamples asked for; by default, the seeds' own count."""
    drawn = next((r.bootstrap for r in runs if r.bootstrap is not None), None)
    return drawn.resamples if resamples is None and drawn else resamples or 0


def _pooled(
    seeds: list[int],
    runs: list[TaskResult],
    buckets: dict | None,
    scores: Mapping[int, UnitScores] | None,
    truncated: Mapping[int, UnitScores | None] | None,
    resamples: int | None,
) -> dict:
    """The aggregate's ``buckets`` (the means, with each bucket's interval over seeds x
    examples where every seed's predictions are at hand; without one otherwise, as a seed's
    own is not the mean's) and its ``long_context``."""
    resamples = _resamples(runs, resamples)
    full = scores if scores is not None and all(s in scores for s in seeds) else None
    if buckets:
        buckets = {
            label: {k: v for k, v in b.items() if k != "ci95"} for label, b in buckets.items()
        }
        if full is not None:
            buckets = with_intervals(buckets, [full[s] for s in seeds], resamples)
    short = {s: u for s, u in (truncated or {}).items() if u is not None}
    gain = aggregate_gain(runs, seeds, full, short, resamples)
    return {"buckets": buckets, "long_context": gain}


def seed_values(entry: TaskResult, score) -> list[float]:
    """``score`` (a function of one task result) for every seed of ``entry``; for a task
    run once, its one value."""
    if entry.seed_runs:
        return [score(run) for run in entry.seed_runs.values()]
    return [score(entry)]


def ratio_spread(
    student: tuple[float, float | None], teacher: tuple[float, float | None]
) -> float | None:
    """The standard deviation of 100 x student / teacher given each side's mean and
    deviation, to first order with the two independent (each side is fine-tuned on its own):
    100 x sqrt(sd_s^2 / m_t^2 + m_s^2 sd_t^2 / m_t^4). None without a deviation on either
    side or with a teacher mean at or below zero."""
    (m_s, sd_s), (m_t, sd_t) = student, teacher
    if sd_s is None or sd_t is None or m_t <= 0:
        return None
    return 100 * math.sqrt(sd_s**2 / m_t**2 + m_s**2 * sd_t**2 / m_t**4)


def _label_counts(runs: list[TaskResult]) -> dict[str, int] | None:
    """The gold labels the seeds' mean accuracy was scored on: one seed's counts where every
    seed scored the same examples, else their sum (``--limit`` draws a subset per seed), so
    the commonest label's share is the one the mean is held against."""
    counts = [r.label_counts for r in runs]
    if any(c is None for c in counts):
        return None
    if all(c == counts[0] for c in counts):
        return counts[0]
    return dict(sorted(sum(map(Counter, counts), Counter()).items()))
