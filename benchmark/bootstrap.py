"""How sure a score is: percentile bootstrap intervals over the units a metric is defined on.

A small evaluation set moves a score by a point or more per example, so every main score
carries a 95 % interval. A resample draws as many units as the set holds, with replacement
(a GONERD document, a CoNLL-2003 sentence, a QA question, a GLUE sentence or pair), and the
task's metric is computed again on it: never an average of per-example scores where the
metric is not one (entity F1, MCC, Pearson, F1 of the positive class).

A family reduces its readable predictions to :class:`UnitScores`: per unit additive
statistics (entity counts, a confusion cell, Pearson's sums, a question's EM and F1) and the
metric of their sum, so a resample, a vector of multinomial counts over the units, is one
matrix product and ``B`` resamples are one ``(B x n) @ (n x k)``. A metric with no additive
form (Spearman), or a family without statistics, is computed again by the task's own metric
function on each resample's rows (:func:`recomputed`).

Over several seeds (``--seeds``) each resample draws the seeds with replacement and one
vector of unit counts that every drawn seed shares when the seeds scored the same units
(otherwise each seed draws its own); the statistic is the mean over the drawn seeds of each
seed's metric on the resample, so the interval holds both the seeds' and the examples' noise
around the mean the result reports. A paired resample (:mod:`benchmark.paired`) draws the
same units and seeds for both models.

The draws come from :data:`SEED`, recorded in the result, so the same predictions always give
the same interval.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np

from benchmark.run_result import BootstrapInfo

SEED = 20_230_901
RESAMPLES = 1000
LEVEL = 95.0
# At most this many unit counts are drawn at once, so a large set resamples in bounded memory.
_CHUNK = 1 << 22

Score = Callable[[np.ndarray], np.ndarray]  # unit counts (B, n) -> main score per resample (B,)


@dataclass(frozen=True)
class UnitScores:
    """One model's predictions on one task, reduced to what resampling and pairing need.

    ``score`` maps unit counts (a ``(B, n)`` array, one row per resample, the counts in the
    order of ``ids``) to the main score of each resample; all ones is the evaluated set.
    ``answers`` (what a prediction says, comparable between two models: a label, a
    normalised answer, an entity set) and ``correct`` (whether it is right) serve agreement
    and flips; None where the family defines no such thing (a regression). Where ``items``
    names a part of a unit (``entity``: a long document is almost never tagged whole the
    same by two models), ``answers`` and ``correct`` hold per unit a set of those parts
    (predicted; gold ones found) and agreement and flips count parts, not units.
    ``buckets``: each unit's length bucket (benchmark.buckets) where its prediction row
    names one, so an interval can be drawn over one bucket's units (:meth:`in_bucket`)."""

    unit: str
    ids: list[str]
    score: Score
    answers: list | None = None
    correct: np.ndarray | None = None
    buckets: list[str | None] | None = None
    items: str | None = None

    def full(self) -> float:
        """The main score on the evaluated set itself."""
        return float(self.score(np.ones((1, len(self.ids))))[0])

    def aligned(self, ids: Sequence[str]) -> UnitScores:
        """The same scores with units taken in the order of ``ids`` (the same set)."""
        if list(ids) == self.ids:
            return self
        where = {unit: i for i, unit in enumerate(ids)}
        own = np.array([where[unit] for unit in self.ids], dtype=np.int64)
        order = np.argsort(own)
        score = self.score
        return replace(
            self,
            ids=list(ids),
            score=lambda counts: score(counts[:, own]),
            answers=None if self.answers is None else [self.answers[i] for i in order],
            correct=None if self.correct is None else self.correct[order],
            buckets=None if self.buckets is None else [self.buckets[i] for i in order],
        )

    def subset(self, keep: Sequence[int]) -> UnitScores:
        """The units at positions ``keep`` alone: a resample draws as many of them as there
        are and none of the others, so its score is the metric on those units only."""
        keep = np.asarray(keep, dtype=np.int64)
        n, score = len(self.ids), self.score

        def restricted(counts: np.ndarray) -> np.ndarray:
            whole = np.zeros((counts.shape[0], n))
            whole[:, keep] = counts
            return score(whole)

        return replace(
            self,
            ids=[self.ids[i] for i in keep],
            score=restricted,
            answers=None if self.answers is None else [self.answers[i] for i in keep],
            correct=None if self.correct is None else self.correct[keep],
            buckets=None if self.buckets is None else [self.buckets[i] for i in keep],
        )

    def in_bucket(self, label: str) -> UnitScores:
        """The units of one length bucket (none where the rows named no bucket)."""
        return self.subset([i for i, b in enumerate(self.buckets or []) if b == label])


def item_sets(sets: Sequence[frozenset]) -> np.ndarray:
    """Per-unit sets as an array (of objects), indexed like a unit's ``correct`` flags."""
    held = np.empty(len(sets), dtype=object)
    held[:] = list(sets)
    return held


def unit_ids(rows: Sequence[dict]) -> list[str]:
    """Each prediction row's id as text (GLUE numbers them, QA and NER name them); the row's
    position where it has none. An id that repeats (TriviaQA's data holds some questions
    twice, each with its own evidence) is numbered from its second time on (``id#2``): two
    models' rows come in the data's order, so the k-th of one pairs with the k-th of the
    other."""
    seen: dict[str, int] = {}
    ids = []
    for i, row in enumerate(rows):
        base = str(row.get("id", i))
        seen[base] = seen.get(base, 0) + 1
        ids.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    return ids


def additive(stats: np.ndarray, metric: Callable[[np.ndarray], np.ndarray]) -> Score:
    """A score from per unit statistics ``(n, k)`` and the metric of their weighted sums
    ``(B, k) -> (B,)``."""
    stats = np.asarray(stats, dtype=np.float64)
    return lambda counts: metric(counts @ stats)


def recomputed(rows: Sequence[dict], metric: Callable[[list[dict]], float]) -> Score:
    """A score computed again by ``metric`` on each resample's rows, each row repeated as
    often as it was drawn: for a metric with no additive form."""
    rows = list(rows)

    def score(counts: np.ndarray) -> np.ndarray:
        taken = [np.repeat(np.arange(len(rows)), c.astype(np.int64)) for c in counts]
        return np.array([metric([rows[i] for i in chosen]) for chosen in taken], dtype=float)

    return score


_LAST: dict = {}  # the last rows reduced, with their family, spec and reduction


def unit_scores_for(family, spec, rows: list[dict]) -> UnitScores:
    """The family's own statistics (:class:`benchmark.families.base.UnitScoring`), else the
    task's metric computed again through the family's ``rescore`` on each resample.

    The last reduction is kept: the runner asks again for the very rows (the same list)
    that the task's run reduced for its interval, to keep them for pairing."""
    from benchmark.families.base import UnitScoring

    held = _LAST.get("rows")
    if held is rows and _LAST["family"] is family and _LAST["spec"] == spec:
        return _LAST["scores"]
    if isinstance(family, UnitScoring):
        scores = family.unit_scores(spec, rows)
    else:
        scores = UnitScores(
            unit="example",
            ids=unit_ids(rows),
            score=recomputed(rows, lambda chosen: family.rescore(spec, chosen)[spec.main_score]),
        )
    if scores.buckets is None and any("bucket" in row for row in rows):
        scores = replace(scores, buckets=[row.get("bucket") for row in rows])
    _LAST.update(rows=rows, family=family, spec=spec, scores=scores)
    return scores


def interval_record(
    seeds: Sequence[UnitScores], resamples: int, seed: int = SEED
) -> tuple[list[float] | None, BootstrapInfo]:
    """A main score's interval and how it was drawn (``reason`` where it is undefined)."""
    interval = score_interval(seeds, resamples, seed)
    info = BootstrapInfo(
        resamples=resamples,
        seed=seed,
        unit=seeds[0].unit,
        over="seeds x examples" if len(seeds) > 1 else "examples",
        reason=None if interval is not None else _no_interval(seeds),
    )
    return interval, info


def unit_counts(n: int, resamples: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """``resamples`` vectors of multinomial counts over ``n`` units (each sums to ``n``: how
    often each unit was drawn), in chunks of rows; the same generator state gives the same
    vectors."""
    size = max(1, _CHUNK // max(n, 1))
    done = 0
    while done < resamples:
        rows = min(size, resamples - done)
        drawn = rng.integers(0, max(n, 1), size=(rows, n)) + n * np.arange(rows)[:, None]
        yield np.bincount(drawn.ravel(), minlength=rows * n).reshape(rows, n)
        done += rows


def _same_units(columns: Sequence[Sequence[UnitScores]]) -> bool:
    first = columns[0][0].ids
    return all(s.ids == first for column in columns for s in column)


def resampled(
    columns: Sequence[Sequence[UnitScores]], resamples: int, seed: int = SEED
) -> np.ndarray:
    """The statistic of every resample, ``(sides, resamples)``.

    ``columns[s][j]``: seed ``s``'s scores of side ``j`` (one side for an interval, student
    and teacher for a paired one), the sides of a seed aligned to the same units. Units are
    drawn once for all seeds when every seed holds the same units, else per seed; with
    several seeds, the seeds are drawn too and the statistic is the mean over those drawn
    (module docstring)."""
    rng = np.random.default_rng(seed)
    n_seeds, sides = len(columns), len(columns[0])
    values = np.empty((n_seeds, sides, resamples))
    if _same_units(columns):
        start = 0
        for counts in unit_counts(len(columns[0][0].ids), resamples, rng):
            end = start + len(counts)
            for s, column in enumerate(columns):
                for j, scores in enumerate(column):
                    values[s, j, start:end] = scores.score(counts)
            start = end
    else:
        for s, column in enumerate(columns):
            start = 0
            for counts in unit_counts(len(column[0].ids), resamples, rng):
                end = start + len(counts)
                for j, scores in enumerate(column):
                    values[s, j, start:end] = scores.score(counts)
                start = end
    if n_seeds == 1:
        return values[0]
    drawn = np.random.default_rng((seed, 1)).multinomial(
        n_seeds, np.full(n_seeds, 1 / n_seeds), size=resamples
    )
    return np.einsum("sjb,bs->jb", values, drawn) / n_seeds


def percentile_interval(values: np.ndarray, level: float = LEVEL) -> list[float] | None:
    """The central ``level`` % of the finite values; None when none is finite."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return None
    tail = (100 - level) / 2
    low, high = np.percentile(finite, [tail, 100 - tail])
    return [float(low), float(high)]


def score_interval(
    seeds: Sequence[UnitScores], resamples: int, seed: int = SEED
) -> list[float] | None:
    """The 95 % interval of a main score (one run: one :class:`UnitScores`; several seeds:
    one per seed, the score being their mean)."""
    if resamples < 1 or any(not s.ids for s in seeds):
        return None
    first = seeds[0].ids
    if len(seeds) > 1 and distinct(first) and all(set(s.ids) == set(first) for s in seeds):
        seeds = [s.aligned(first) for s in seeds]
    return percentile_interval(resampled([[s] for s in seeds], resamples, seed)[0])


def _no_interval(seeds: Sequence[UnitScores]) -> str:
    if any(not s.ids for s in seeds):
        return "no unit was evaluated"
    return "the score is undefined on every resample"


def distinct(ids: Sequence[str]) -> bool:
    """Whether every unit has its own id (what aligning two sets of predictions needs)."""
    return len(set(ids)) == len(ids)
