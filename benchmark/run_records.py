"""Records a task's result may hold beside its scores, kept apart from benchmark.run_result
so that module stays about the file's shape: what `bench run --long-context-gain` measures
(benchmark.long_context).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

# the input length the long-context gain compares a long model with
SHORT_CONTEXT = 512


class _Record(BaseModel):
    # Fields this suite adds later are kept, not refused, by readers of an older version.
    model_config = ConfigDict(extra="allow")


class LongContextBucket(_Record):
    """The long-context gain over one length bucket's units (benchmark.buckets)."""

    n_examples: int
    full: float
    truncated_512: float
    gain: float
    gain_ci95: list[float] | None = None


class LongContextGain(_Record):
    """The same fine-tuned model scored twice on the same evaluation rows: reading inputs up
    to the run's length (``full``, at ``max_length_full`` tokens) and in windows of at most
    512 tokens (``truncated_512``). ``gain`` = full - truncated_512 in main score points,
    with the paired 95 % bootstrap interval of that difference over the same units. Where
    the run reads at most 512 tokens already, the gain is undefined and ``reason`` says so
    (as it says why an interval is missing).
    Over several seeds (``seeds``) the figures are means, ``gain_std`` the gains' sample
    deviation, and the interval is drawn over seeds x examples."""

    max_length_full: int
    max_length_truncated: int = SHORT_CONTEXT
    full: float
    truncated_512: float | None = None
    gain: float | None = None
    gain_ci95: list[float] | None = None
    unit: str | None = None
    over: str | None = None
    resamples: int | None = None
    buckets: dict[str, LongContextBucket] | None = None
    seeds: list[int] | None = None
    gain_std: float | None = None
    reason: str | None = None
