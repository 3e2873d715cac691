"""The parts of an entry that say how sure its numbers are: a score's 95 % interval and how
it was drawn, the long-context gain a result reports, and a student's paired numbers against
its teacher's entry.

They are kept apart from :mod:`leaderboard.entry` because they are read by the board and its
renderings alone. Every number is finite and every interval ordered (low <= high), so a
renderer never meets a NaN or an interval upside down.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

Finite = Annotated[float, Field(allow_inf_nan=False)]
Text = Annotated[str, StringConstraints(max_length=200)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
# what agreement and flips count (sentence, pair, question, entity): a lower-case word, so it
# is safe as written in every rendering, the CSV download included
UnitWord = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,32}$")]
Count = Annotated[int, Field(ge=0, le=10**9)]
Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]


def _ordered(bounds: list[float]) -> list[float]:
    if bounds[0] > bounds[1]:
        raise ValueError(f"an interval's low end {bounds[0]} is above its high end {bounds[1]}")
    return bounds


Interval = Annotated[list[Finite], Field(min_length=2, max_length=2), AfterValidator(_ordered)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Draws(_Strict):
    """How an interval was drawn (benchmark.bootstrap): resamples, the seed of the draws,
    the unit drawn, over examples or seeds x examples, and why there is none, if so."""

    resamples: Annotated[int, Field(ge=0, le=10**6)]
    seed: int
    unit: Name | None = None
    over: Name = "examples"
    reason: Text | None = None


class ScoreDraws(Draws):
    """A score's draws, and who drew them: ``board``, from the predictions committed beside
    the board (`bench leaderboard check` draws them again), or ``result``, as the submitted
    result file reports them (its predictions were not where the board reads them)."""

    drawn_by: Literal["board", "result"]


class LongContextBucket(_Strict):
    """The long-context gain over one length bucket's units, as the result reports it."""

    n_examples: Count
    full: Finite
    truncated_512: Finite
    gain: Finite
    gain_ci95: Interval | None = None


class LongContext(_Strict):
    """The same model scored reading up to ``max_length_full`` tokens (``full``) and at most
    512 per window (``truncated_512``); ``gain`` is the first less the second, in main score
    points, with its paired interval. As the result reports it: the truncated pass's
    predictions are not saved, so the board cannot draw it again."""

    max_length_full: Annotated[int, Field(ge=1, le=10**7)]
    max_length_truncated: Annotated[int, Field(ge=1, le=10**7)] = 512
    full: Finite
    truncated_512: Finite | None = None
    gain: Finite | None = None
    gain_ci95: Interval | None = None
    gain_std: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    unit: Name | None = None
    resamples: Annotated[int, Field(ge=0, le=10**6)] | None = None
    reason: Text | None = None
    buckets: dict[Name, LongContextBucket] | None = Field(None, max_length=32)


class FlipCounts(_Strict):
    correct_to_wrong: Count
    wrong_to_correct: Count


class PairedTask(_Strict):
    """A student's task paired with its teacher's on the same units (benchmark.paired):
    the retained percent's paired interval, agreement in percent of units, flips, and what
    those two count (the drawn unit, or ``entity`` in a document); or, where the two cannot
    be paired, why."""

    retained_percent_ci95: Interval | None = None
    agreement: Percent | None = None
    agreement_unit: UnitWord | None = None
    flips: FlipCounts | None = None
    draws: Draws | None = None
    reason: Text | None = None


class PairedBlock(_Strict):
    """Computed by the board (never read from a result) against one teacher entry, named
    by its id: a block naming another entry than the row's linked teacher is not shown."""

    teacher_entry_id: Sha256
    tasks: dict[Name, PairedTask] = Field(default_factory=dict, max_length=64)
