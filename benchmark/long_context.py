"""The long-context gain (`bench run --long-context-gain`): whether a model that reads long
inputs scores better for reading them.

A long-context model can score well on a long-document task without using its long
context: reading each document in 512-token windows might score the same. So the same
fine-tuned model, with the same head, is scored a second time on the same evaluation rows
with the task's input length cut to 512 tokens: the family's own windowing then covers each
document with windows of at most 512 tokens (a question with its context in 512-token
windows), so every word is still predicted, from less context around it. The gain is the
full-length score minus the 512-token one, in main score points; its 95 % interval is the
paired bootstrap (benchmark.paired) over the same units for both readings, aligned by
prediction row id, which is narrower than two separate intervals suggest since both
readings share the evaluation set's noise. Per length bucket (the rows name their bucket),
the same over that bucket's units: the gain should grow with the length, and be near zero
under 512 tokens, where both readings see the same input.

Over several seeds each seed is measured on its own, and the mean gain's interval draws
the seeds and the units, as a mean score's does (benchmark.bootstrap).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import replace

from benchmark.bootstrap import UnitScores
from benchmark.families import TaskContext
from benchmark.paired import pair
from benchmark.run_records import SHORT_CONTEXT, LongContextBucket, LongContextGain
from benchmark.run_result import TaskResult


def short_context(context: TaskContext) -> TaskContext | None:
    """The task read at most :data:`SHORT_CONTEXT` tokens at a time; None where the run
    reads no more than that already (there is no longer context to gain from)."""
    if context.max_length <= SHORT_CONTEXT:
        return None
    return replace(context, max_length=SHORT_CONTEXT)


def undefined(full: float, max_length: int) -> LongContextGain:
    """The record of a run that reads at most 512 tokens: no gain, and why."""
    return LongContextGain(
        max_length_full=max_length,
        full=full,
        reason=(
            f"the run reads at most {max_length} tokens, not more than {SHORT_CONTEXT}: "
            "there is no longer context to gain from (run with a longer --max-length)"
        ),
    )


def _means(full: Sequence[UnitScores], truncated: Sequence[UnitScores]) -> tuple[float, float]:
    return (
        statistics.fmean(s.full() for s in full),
        statistics.fmean(s.full() for s in truncated),
    )


def _paired(
    full: Sequence[UnitScores], truncated: Sequence[UnitScores], resamples: int
) -> tuple[float, float, list[float] | None, str | None]:
    """Both readings' (mean) scores, the paired interval of their difference, and why
    there is none where there is none."""
    found = pair(list(full), list(truncated), resamples)
    if isinstance(found, str):
        return *_means(full, truncated), None, f"no interval: {found}"
    return found.student, found.teacher, found.difference_ci95, None


def gain_record(
    full: Sequence[UnitScores],
    truncated: Sequence[UnitScores],
    max_length: int,
    resamples: int,
    labels: Sequence[str] = (),
) -> LongContextGain:
    """The gain from each seed's two readings (one pair for a run without seeds), overall
    and over each bucket of ``labels`` that holds units."""
    whole, short, interval, reason = _paired(full, truncated, resamples)
    buckets = {}
    for label in labels:
        own = [s.in_bucket(label) for s in full]
        if not own[0].ids:
            continue
        theirs = [s.in_bucket(label) for s in truncated]
        b_whole, b_short, b_interval, _ = _paired(own, theirs, resamples)
        buckets[label] = LongContextBucket(
            n_examples=len(own[0].ids),
            full=b_whole,
            truncated_512=b_short,
            gain=b_whole - b_short,
            gain_ci95=b_interval,
        )
    return LongContextGain(
        max_length_full=max_length,
        full=whole,
        truncated_512=short,
        gain=whole - short,
        gain_ci95=interval,
        unit=full[0].unit,
        over="seeds x examples" if len(full) > 1 else "examples",
        resamples=resamples,
        buckets=buckets or None,
        reason=reason if resamples else None,
    )


def aggregate_gain(
    runs: Sequence[TaskResult],
    seeds: Sequence[int],
    full: Mapping[int, UnitScores] | None,
    truncated: Mapping[int, UnitScores] | None,
    resamples: int,
) -> LongContextGain | None:
    """The gain over several seeds (each run: one seed's result): the means, the gains'
    deviation and, where every seed's two readings are at hand, the interval over seeds x
    examples, over the length buckets the first seed measured too; None unless every seed
    measured it."""
    records = [r.long_context for r in runs]
    if any(r is None for r in records):
        return None
    first = records[0]
    mean_full = statistics.fmean(r.full for r in records)
    if any(r.gain is None or r.truncated_512 is None for r in records):
        return first.model_copy(update={"full": mean_full, "seeds": list(seeds)})
    gains = [r.gain for r in records]
    spread = {"seeds": list(seeds), "gain_std": statistics.stdev(gains) if len(gains) > 1 else None}
    if full and truncated and all(s in full and s in truncated for s in seeds):
        found = gain_record(
            [full[s] for s in seeds],
            [truncated[s] for s in seeds],
            first.max_length_full,
            resamples,
            list(first.buckets or {}),
        )
        return found.model_copy(update=spread)
    shared = [k for k in first.buckets or {} if all(k in (r.buckets or {}) for r in records)]
    buckets = {
        label: LongContextBucket(
            n_examples=first.buckets[label].n_examples,
            **{
                what: statistics.fmean(getattr(r.buckets[label], what) for r in records)
                for what in ("full", "truncated_512", "gain")
            },
        )
        for label in shared
    }
    return first.model_copy(
        update={
            "full": mean_full,
            "truncated_512": statistics.fmean(r.truncated_512 for r in records),
            "gain": statistics.fmean(gains),
            "gain_ci95": None,
            "over": "seeds x examples",
            "buckets": buckets or None,
            "reason": "not every seed's predictions were at hand: each seed's own interval "
            "is in seed_runs",
            **spread,
        }
    )
