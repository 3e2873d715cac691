"""Scores by input length: where a long-context model, or its student, loses.

A task spec may declare length boundaries in subword tokens of the model's own tokenizer
(special tokens included), e.g. ``(512, 2048, 4096)``: buckets ``< 512``, ``512-2047``,
``2048-4095`` and ``>= 4096``. Each example falls in exactly one bucket; each non-empty
bucket gets the task's metrics over its examples alone, its example count, and how its
inputs were read (whole, in windows, truncated; an input may be both windowed and
truncated). Empty buckets are left out.

Each prediction row names its bucket (``bucket``), so a bucket's score can be resampled from
the predictions alone: its 95 % interval (``ci95``) is the bootstrap over that bucket's units
only (benchmark.bootstrap), over seeds x examples for a mean over seeds.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence

from benchmark.bootstrap import UnitScores, score_interval


def bucket_labels(bounds: Sequence[int]) -> list[str]:
    """``< b0``, ``b0-(b1-1)``, ..., ``>= bn`` for boundaries ``b0 < b1 < ... < bn``."""
    labels = [f"< {bounds[0]}"]
    labels += [f"{low}-{high - 1}" for low, high in zip(bounds, bounds[1:])]
    return labels + [f">= {bounds[-1]}"]


def bucket_of(length: int, bounds: Sequence[int]) -> str:
    """The label of the bucket a length falls in (a boundary starts its own bucket)."""
    return bucket_labels(bounds)[bisect.bisect_right(bounds, length)]


def bucket_scores(
    bounds: Sequence[int],
    lengths: Sequence[int],
    windowed: Sequence[bool],
    truncated: Sequence[bool],
    predictions: Sequence,
    references: Sequence,
    score: Callable[[list, list], dict],
    main_score: str,
) -> dict[str, dict]:
    """Per non-empty bucket, in length order: example count, main score, metrics, and how
    the inputs were read."""
    members: dict[str, list[int]] = {}
    for index, length in enumerate(lengths):
        members.setdefault(bucket_of(length, bounds), []).append(index)
    out = {}
    for label in bucket_labels(bounds):
        chosen = members.get(label)
        if not chosen:
            continue
        metrics = score([predictions[i] for i in chosen], [references[i] for i in chosen])
        out[label] = {
            "n_examples": len(chosen),
            "main_score": metrics[main_score],
            "metrics": metrics,
            "inputs": {
                "whole": sum(not windowed[i] and not truncated[i] for i in chosen),
                "windowed": sum(bool(windowed[i]) for i in chosen),
                "truncated": sum(bool(truncated[i]) for i in chosen),
            },
        }
    return out


def bucket_column(bounds: Sequence[int], lengths: Sequence[int]) -> list[str]:
    """Each example's bucket label, for its prediction row."""
    return [bucket_of(length, bounds) for length in lengths]


def with_intervals(
    buckets: dict[str, dict] | None, seeds: Sequence[UnitScores], resamples: int
) -> dict[str, dict] | None:
    """``buckets`` with each bucket's ``ci95``: the main score's interval over that bucket's
    units (one :class:`UnitScores` per seed); None where the predictions name no bucket or
    the score is undefined on every resample. Unchanged without resamples."""
    if not buckets or resamples < 1 or not seeds:
        return buckets
    return {
        label: bucket | {"ci95": score_interval([s.in_bucket(label) for s in seeds], resamples)}
        for label, bucket in buckets.items()
    }
