"""A leaderboard entry: derived from a result file, never typed by hand.

The entry keeps what a reader needs to trust and compare a row (model identity with its
revision or weights hash, the teacher's identity, suite version, per-task scores with the
data they were computed on and how long inputs were handled, cost with its device, library
versions and hardware) and nothing a submitter could set freely. Every string is bounded,
every number finite, every list short; ``entry_id`` is the hash of the canonical entry, so
the same result always gives the same id. :meth:`Entry.from_result` is the only way one is made
from a submission: it validates the result (:mod:`leaderboard.validation`) and takes its fields
(:mod:`leaderboard.entry_build`).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from benchmark.run_result import RunResult, data_key
from leaderboard.entry_build import entry_content
from leaderboard.entry_trust import Interval, LongContext, PairedBlock, ScoreDraws
from leaderboard.sources import Source, source_of
from leaderboard.validation import SubmissionError, check_result, recompute_scores

ENTRY_SCHEMA_VERSION = 1
Text = Annotated[str, StringConstraints(max_length=200)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Commit = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{40}$")]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0, le=10**9)]
DATA_LABEL = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")  # the whole label (fullmatch)
DataLabel = Annotated[str, StringConstraints(pattern=rf"^{DATA_LABEL.pattern}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelIdentity(_Strict):
    """A Hub id with its commit, or the sha256 of a local folder's weights."""

    name: Text
    hub_id: Text | None = None
    revision: Commit | None = None
    weights_sha256: Sha256 | None = None
    parameters: Annotated[int, Field(ge=1, le=10**13)] | None = None
    max_positions: Annotated[int, Field(ge=1, le=10**7)] | None = None
    dtype: Literal["float32", "float16", "bfloat16"] = "float32"

    @model_validator(mode="after")
    def _identified(self):
        if not self.weights_sha256 and not (self.hub_id and self.revision):
            raise ValueError(
                "the model is not identified: a Hub id with its commit, or a weights sha256"
            )
        return self

    def key(self) -> tuple:
        """Which weights: the same for every run of them."""
        return (self.hub_id, self.revision, self.weights_sha256)


class DataIdentity(_Strict):
    source: Text
    file: Text | None = None
    sha256: Sha256 | None = None
    config: Text | None = None
    revision: Text | None = None

    def key(self) -> str:
        return data_key(self.model_dump())


class InputHandling(_Strict):
    """How the evaluated inputs were read: whole, in windows, or truncated."""

    max_length: Annotated[int, Field(ge=1, le=10**7)]
    whole: Count
    windowed: Count
    truncated: Count


class Counts(_Strict):
    original: Count
    evaluated: Count


class TaskEntry(_Strict):
    task_version: Annotated[int, Field(ge=1, le=10**4)]
    split: Name
    main_score_name: Name
    main_score: Finite
    metrics: dict[Name, Finite] = Field(max_length=32)
    n_examples: Counts
    data: DataIdentity
    inputs: InputHandling
    predictions_sha256: Sha256 | None = None
    # over several seeds: the scores above are means; the main score's spread and each seed's
    seeds: list[int] | None = Field(None, max_length=100)
    main_score_std: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    seed_scores: list[Finite] | None = Field(None, max_length=100)
    # each gold label's count among the evaluated examples: the bar a classifier clears
    # (benchmark.families' near-chance rule); absent from entries made before it was kept
    label_counts: dict[Name, Count] | None = Field(None, max_length=256)
    # the main score's 95 % interval, and who drew it how (leaderboard.entry_trust)
    main_score_ci95: Interval | None = None
    bootstrap: ScoreDraws | None = None
    # the gain of reading long inputs whole over 512 tokens, as the result reports it
    long_context: LongContext | None = None


class SpeedEntry(_Strict):
    seq_len: Annotated[int, Field(ge=1, le=10**7)]
    batch_size: Annotated[int, Field(ge=1, le=10**5)]
    device: Name
    device_name: Text
    dtype: Name
    latency_ms_median: Positive
    latency_ms_p90: Positive
    peak_memory_mb: Positive | None = None

    def device_class(self) -> str:
        """Speed is compared only within one kind of hardware."""
        return f"{self.device}: {self.device_name}"


class TimeRatio(_Strict):
    """A student's inference time over its teacher's, timed in turns in one process
    (:mod:`benchmark.time_ratio`) so that a slow spell of the machine falls on both: the
    board's speed-up where there is one (:mod:`leaderboard.speedups`)."""

    seq_len: Annotated[int, Field(ge=1, le=10**7)]
    batch_size: Annotated[int, Field(ge=1, le=10**5)]
    device: Name
    device_name: Text
    dtype: Name
    ratio: Positive  # student time / teacher time
    range: tuple[Positive, Positive] | None = None  # lowest and highest round
    rounds: Annotated[int, Field(ge=1, le=10**4)] | None = None
    agreed: bool | None = None  # whether the two halves of the rounds agreed
    # the teacher weights it was timed against; None where not known (a ratios file's)
    teacher_sha256: Sha256 | None = None
    weights: Literal["trained", "random"] = "trained"

    def device_class(self) -> str:
        return f"{self.device}: {self.device_name}"


class Suite(_Strict):
    version: Name
    revision: Commit | None = None
    dirty: bool | None = None


class Provenance(_Strict):
    python: Name
    libraries: dict[Name, Name | None] = Field(max_length=32)
    hardware: dict[Name, Text | int | None] = Field(max_length=32)
    seed: int


class ClaimedRetention(_Strict):
    """The result file's own retention block, kept to be checked, never shown as ours."""

    teacher: Text
    tasks: dict[Name, Finite | None] = Field(max_length=64)


class Entry(_Strict):
    schema_version: Literal[1] = ENTRY_SCHEMA_VERSION
    entry_id: Sha256
    model: ModelIdentity
    teacher: ModelIdentity | None = None
    suite: Suite
    tasks: dict[Name, TaskEntry] = Field(min_length=1, max_length=64)
    speed: list[SpeedEntry] = Field(default_factory=list, max_length=32)
    provenance: Provenance
    sample_data: bool
    # the submitter's name for the data it ran on ("sample", "study", their own), shown and
    # filtered on; without one, "sample" or "full" by sample_data
    data_label: DataLabel | None = None
    budget: Text | None = None  # the training budget behind the model, in words
    time_ratios: list[TimeRatio] = Field(default_factory=list, max_length=32)
    claimed_retention: ClaimedRetention | None = None
    submitted_at: Text
    verified: Literal["self-reported", "recomputed"] = "self-reported"
    supersedes: Sha256 | None = None
    # the result file, relative to the board's folder, where the board reads its
    # predictions again; None when it was submitted from elsewhere
    source: Source | None = None
    # the board's pairing of a student with its teacher's entry (leaderboard.pairing)
    paired: PairedBlock | None = None

    @classmethod
    def from_result(
        cls,
        result: RunResult,
        result_path: Path,
        submitted_at: str,
        recompute: bool = False,
        board_dir: Path | None = None,
        extra: dict | None = None,
    ) -> Entry:
        """The entry for a result that passes every check of :mod:`leaderboard.validation`;
        with ``recompute``, its scores are also recomputed from its predictions and the entry
        is marked ``recomputed``. A result under ``board_dir`` (the board file's folder) is
        its ``source``: the board draws its scores' intervals from its predictions, so that
        `bench leaderboard check` can draw them again; from elsewhere, the entry keeps the
        intervals the result reports. ``extra`` holds what the submitter adds: a
        ``data_label``, a ``budget`` and ``time_ratios`` timed elsewhere
        (:func:`leaderboard.speedups.from_file`)."""
        check_result(result, result_path)
        extra = dict(extra or {})
        if recompute:
            recompute_scores(result, result_path)
        source = None if board_dir is None else source_of(result_path, board_dir)
        content = entry_content(result, result_path if source else None)
        content["entry_id"] = "0" * 64  # set below, from the validated entry
        content["submitted_at"] = submitted_at
        content["verified"] = "recomputed" if recompute else "self-reported"
        content["source"] = source
        unknown = set(extra) - _SUBMITTER_FIELDS - {"time_ratios"}
        if unknown:
            raise TypeError(f"not an entry field a submitter adds: {sorted(unknown)}")
        content |= {k: v for k, v in extra.items() if k in _SUBMITTER_FIELDS}
        content["time_ratios"] = _one_per_shape(
            [*content.get("time_ratios", []), *extra.get("time_ratios", [])]
        )
        try:
            draft = cls.model_validate(content)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(map(str, error["loc"])) or "entry"
            raise SubmissionError(
                field, error["msg"], "fix the result file, or run `bench run` again"
            ) from None
        return draft.model_copy(update={"entry_id": canonical_id(draft.model_dump(mode="json"))})

    def data_name(self) -> str:
        """The data column and filter: the submitter's label, else sample or full."""
        return self.data_label or ("sample" if self.sample_data else "full")

    def duplicate_key(self) -> tuple:
        """Two entries of the same weights, revision, dtype and suite version are one."""
        return (*self.model.key(), self.model.dtype, self.suite.version)


# Fields that say when and how an entry was submitted, or what the board computed against
# other entries (a student's pairing with its teacher), not what it holds.
_NOT_HASHED = {"entry_id", "submitted_at", "verified", "supersedes", "source", "paired"}
# added after the first entries: over several seeds, the evaluated labels' counts, the
# score's interval and the long-context gain
_ADDED_TASK_FIELDS = {
    "seeds",
    "main_score_std",
    "seed_scores",
    "label_counts",
    "main_score_ci95",
    "bootstrap",
    "long_context",
}


def _one_per_shape(ratios: list[dict]) -> list[dict]:
    """One ratio per (length, batch, dtype, device class): a later one (a file given at
    submit time) in place of an earlier one (the result's own) at the same shape."""
    kept: dict[tuple, dict] = {}
    for ratio in ratios:
        shape = (ratio.get("seq_len"), ratio.get("batch_size"), ratio.get("dtype"))
        kept[(*shape, ratio.get("device"), ratio.get("device_name"))] = ratio
    return list(kept.values())


# what the submitter adds at submit time, beside what the result holds
_SUBMITTER_FIELDS = {"data_label", "budget"}
# entry fields added after the first entries, counted (like the task fields) only when set
_ADDED_ENTRY_FIELDS = {"data_label", "budget", "time_ratios"}


def canonical_id(content: dict) -> str:
    """The sha256 of the entry's canonical JSON (sorted keys, no spaces), less the
    submission fields."""
    kept = {
        k: v
        for k, v in content.items()
        if k not in _NOT_HASHED and not (k in _ADDED_ENTRY_FIELDS and v in (None, []))
    }
    # Task fields added after the first entries count only when set, so those ids stay true.
    tasks = kept.get("tasks")
    if isinstance(tasks, dict):
        kept["tasks"] = {
            name: {k: v for k, v in task.items() if not (k in _ADDED_TASK_FIELDS and v is None)}
            if isinstance(task, dict)
            else task
            for name, task in tasks.items()
        }
    blob = json.dumps(kept, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def entry_schema() -> dict:
    """The JSON Schema of an entry (`bench leaderboard schema`)."""
    return Entry.model_json_schema()
