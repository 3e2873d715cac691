"""The result file as a typed record: what `bench run` writes and every reader reads.

A :class:`RunResult` holds one :class:`TaskResult` per task, the speed block and, with a
teacher, the retention block. The runner writes through these models and `bench compare`,
retention, `bench submit` and the leaderboard read through them; nothing reads a result by
string keys. ``schema_version`` says which shape a file has: older files are upgraded on
reading (:func:`upgrade`), and a fixture of every version lives in ``tests/fixtures/results``.

Version history
* 1: the first result files, before this model existed (``format_version: 1``).
* 2: ``schema_version``; each task names its evaluated ``split`` and, where predictions were
  saved, their file's ``predictions_sha256``; the model block may hold its encoder's
  ``parameters`` and ``max_positions`` and the run's ``dtype``; a task whose spec declares
  length buckets holds its scores per bucket (``buckets``, optional, so no version change).
  A task run over several seeds holds each seed's result (``seed_runs``), the seeds and the
  main score's standard deviation; its scores are the means (optional fields, no change of
  version: a reader that ignores them reads the means as the scores).
  A model's folder (``model.path``, ``provenance.model.path``, the teacher's) is written
  only when the run set ``record_paths``, relative where it can be (benchmark.provenance);
  it was always optional, so no change of version. Older files that hold absolute paths
  read as before; a speed block's settings no longer name the folder (older ones read
  without it, so a block measured before is still recognised).
  A task's main score may carry its 95 % bootstrap interval (``main_score_ci95``) and how
  it was drawn (``bootstrap``), and a task's retention its paired interval
  (``retained_percent_ci95``), ``agreement``, ``flips`` or the reason they are missing
  (``unpaired_reason``): optional fields, no change of version; older files read without
  them (benchmark.bootstrap, benchmark.paired).
  A length bucket may carry its main score's interval (``ci95``, drawn over its units alone,
  which each prediction row names in ``bucket``), and a task run with
  ``--long-context-gain`` its ``long_context`` record (benchmark.run_records): optional, no
  change of version; older files read without them.
  A task's retention may name what its agreement and flips count (``agreement_unit``: the
  unit drawn, or ``entity`` in a GONERD document, where they count entities): optional, no
  change of version. An older file's agreement and flips on GONERD count whole documents.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from benchmark.errors import BenchError
from benchmark.provenance import BUNDLED_MODEL, recorded_path, shown_location, shown_model
from benchmark.run_records import LongContextGain

FORMAT = "gonerd-bench-result"
SCHEMA_VERSION = 2


class _Record(BaseModel):
    # Fields this suite adds later are kept, not refused, by readers of an older version.
    model_config = ConfigDict(extra="allow")


class Latency(_Record):
    median: float
    p90: float
    min: float
    max: float


class Measurement(_Record):
    """One cost measurement (benchmark.profiler): ``status`` ok, unsupported or failed."""

    seq_len: int
    batch_size: int
    status: str
    reason: str | None = None
    device: str | None = None
    device_name: str | None = None
    dtype: str | None = None
    latency_ms: Latency | None = None
    throughput_tokens_per_s: float | None = None
    peak_memory_mb: float | None = None


class SpeedBlock(_Record):
    settings: dict[str, Any]
    measurements: list[Measurement]

    @field_validator("settings")
    @classmethod
    def _weights_not_folder(cls, settings: dict[str, Any]) -> dict[str, Any]:
        """Older blocks named the model's folder among their settings; what was measured
        is the weights (benchmark.cost.speed_settings), so the folder is left out."""
        model = settings.get("model")
        if isinstance(model, dict) and "path" in model:
            return settings | {"model": {k: v for k, v in model.items() if k != "path"}}
        return settings

    def ok(self) -> list[Measurement]:
        return [m for m in self.measurements if m.status == "ok" and m.latency_ms is not None]


class Counts(_Record):
    original: int
    evaluated: int


class BootstrapInfo(_Record):
    """How an interval was drawn (benchmark.bootstrap): resamples, the fixed seed of the
    draws, the unit drawn (document, sentence, question, pair), over ``examples`` or
    ``seeds x examples``, and, where there is no interval, why."""

    resamples: int
    seed: int
    unit: str
    over: str = "examples"
    reason: str | None = None


class TaskResult(_Record):
    """One task's scores and everything needed to tell what they are scores of."""

    task_version: int
    spec_hash: str
    task_key: str
    family: str
    protocol: str
    split: str
    main_score_name: str
    main_score: float
    metrics: dict[str, Any]
    n_examples: Counts
    n_train_examples: dict[str, int] | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)
    training_inputs: dict[str, Any] | None = None
    recipe: dict[str, Any] | None = None
    label_mapping: dict[str, Any] = Field(default_factory=dict)
    # each gold label's count among the evaluated examples: what always guessing the
    # commonest label would score, the bar a classifier's accuracy has to clear
    label_counts: dict[str, int] | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    timings_s: dict[str, float] = Field(default_factory=dict)
    predictions_file: str | None = None
    predictions_sha256: str | None = None
    buckets: dict[str, dict[str, Any]] | None = None  # scores by input length
    # run over several seeds (benchmark.seeds): the scores above are means over the seeds
    seeds: list[int] | None = None
    main_score_std: float | None = None
    seed_runs: dict[str, TaskResult] | None = None
    # the main score's 95 % percentile bootstrap interval over evaluation units
    main_score_ci95: list[float] | None = None
    bootstrap: BootstrapInfo | None = None
    # the same model read at the run's length and at 512 tokens (--long-context-gain)
    long_context: LongContextGain | None = None

    @property
    def is_subset(self) -> bool:
        """Scored on a sample of the split (``--limit``), not all of it."""
        return self.n_examples.evaluated != self.n_examples.original

    def data_key(self) -> str:
        return data_key(self.data)


def data_key(data: dict) -> str:
    """What identifies evaluated data: a content hash, else the Hub source and revision."""
    if data.get("sha256"):
        return data["sha256"]
    return f"{data.get('source')}/{data.get('config')}@{data.get('revision')}"


class ModelInfo(_Record):
    """The evaluated model: a Hub id with its commit, or the hash of a local folder's
    weights (the folder itself, ``path``, only where the run recorded it); its encoder's
    size and position limit where the run measured them."""

    name: str
    path: str | None = None
    weights_sha256: str | None = None
    hub_id: str | None = None
    revision: str | None = None
    parameters: int | None = None
    max_positions: int | None = None
    dtype: str | None = None

    def same_weights(self, identity: dict) -> bool:
        """Whether ``identity`` (benchmark.provenance.model_identity, or another model
        block) names these weights: a moved folder still matches."""
        keys = ("weights_sha256", "hub_id", "revision")
        return all(getattr(self, k) == identity.get(k) for k in keys)


class Provenance(_Record):
    suite: dict[str, Any]
    python: str
    libraries: dict[str, str | None]
    model: dict[str, Any] = Field(default_factory=dict)
    hardware: dict[str, Any]
    seed: int
    started_at: str
    finished_at: str | None = None
    # under a launcher: world size, backend and every process's device
    distributed: dict[str, Any] | None = None


class Flips(_Record):
    """Units the teacher got right and the student wrong, and the other way round."""

    correct_to_wrong: int
    wrong_to_correct: int


# The parts a family's agreement and flips can count instead of whole units, as shown.
_PARTS = {"entity": "entities"}


def counted_note(agreement_unit: str | None) -> str:
    """What follows agreement and flips where they count parts of units (" (entities)"),
    so a reader does not take them for whole documents; nothing where they count units."""
    return f" ({_PARTS[agreement_unit]})" if agreement_unit in _PARTS else ""


class TaskRetention(_Record):
    main_score_name: str
    student: float
    teacher: float
    retained_percent: float | None
    student_combined: float
    teacher_combined: float
    retained_percent_combined: float | None
    # per length bucket both hold with the same examples: retained % of the main score
    buckets: dict[str, float | None] | None = None
    # over several seeds: the seeds, each side's deviation and the ratio's (benchmark.seeds)
    seeds: list[int] | None = None
    student_std: float | None = None
    teacher_std: float | None = None
    retained_percent_std: float | None = None
    retained_percent_combined_std: float | None = None
    # from both sides' predictions (benchmark.paired): the same resampled units for both;
    # agreement in percent of units; flips of "right" (each family's rule) from the teacher;
    # what they count: the bootstrap's unit, or a part of it (``entity`` in a document)
    retained_percent_ci95: list[float] | None = None
    agreement: float | None = None
    agreement_unit: str | None = None
    flips: Flips | None = None
    bootstrap: BootstrapInfo | None = None
    unpaired_reason: str | None = None


class CostChange(_Record):
    seq_len: int
    batch_size: int
    device: str | None = None
    latency_change_percent: float | None = None
    speedup: float | None = None
    peak_memory_change_percent: float | None = None
    # "separate runs" (each model's own speed block) or "interleaved" (benchmark.time_ratio:
    # both in one process, in turns, over rounds; speed-up and time change follow from it)
    time_method: str | None = None
    time_ratio: float | None = None
    time_ratio_range: list[float] | None = None
    time_ratio_rounds: int | None = None
    time_ratio_agreed: bool | None = None


class RetentionBlock(_Record):
    teacher: dict[str, Any]
    tasks: dict[str, TaskRetention]
    retained_percent_macro: float | None
    retained_percent_macro_std: float | None = None
    tasks_without_ratio: list[str] = Field(default_factory=list)
    cost: list[CostChange] = Field(default_factory=list)

    def macro_scope(self) -> str:
        """Which tasks the macro retained percent is taken over, said wherever it is shown:
        a task whose teacher scored 0 or less has no ratio and is left out, so the figure
        alone would read as covering every task."""
        left = [t for t in self.tasks if t in self.tasks_without_ratio]
        kept = len(self.tasks) - len(left)
        if not left:
            return f"macro over {kept} task{'' if kept == 1 else 's'}"
        return (
            f"macro over {kept} of {len(self.tasks)} tasks; left out, the teacher at 0 or "
            f"below: {', '.join(left)}"
        )


class RunResult(_Record):
    """One `bench run`: configuration, model, provenance, tasks, cost, retention."""

    format: Literal["gonerd-bench-result"] = FORMAT
    schema_version: int = SCHEMA_VERSION
    config: dict[str, Any]
    model: ModelInfo
    provenance: Provenance
    tasks: dict[str, TaskResult] = Field(default_factory=dict)
    speed: SpeedBlock | None = None
    retention: RetentionBlock | None = None

    def to_json(self) -> dict:
        """The file's JSON, its local paths written as :func:`written_paths` says."""
        return written_paths(self.model_dump(mode="json"))


# the settings that name the user's own files and folders
LOCATION_SETTINGS = ("output", "teacher_output", "data_dir")


def written_paths(data: dict) -> dict:
    """A result's JSON as it is written: a model's folder (its identity blocks' ``path``)
    only with the run's ``record_paths``, and then relative where it can be
    (:func:`benchmark.provenance.recorded_path`); the settings naming a model (and a name
    that defaults to one) by :func:`benchmark.provenance.shown_model`; outputs, data folders
    and predictions files relative to the working directory when under it. So a file
    read from an older version, with absolute paths, is written without them."""
    config = data.get("config") or {}
    record = bool(config.get("record_paths"))
    folder = _model_folder(data, config, record)
    if isinstance(config.get("model"), str):  # None is the bundled model, as typed or not
        config["model"] = shown_model(config["model"], record)
    teacher = config.get("teacher")
    if isinstance(teacher, str):  # a result file, or a model
        config["teacher"] = (
            shown_location(teacher) if teacher.endswith(".json") else _name(teacher, record)
        )
    for key in LOCATION_SETTINGS:
        if isinstance(config.get(key), str):
            config[key] = shown_location(config[key])
    data["model"]["path"] = folder
    data["model"]["name"] = _name(data["model"]["name"], record)
    own = {k: v for k, v in data["provenance"].get("model", {}).items() if k != "path"}
    data["provenance"]["model"] = ({"path": folder} if folder else {}) | own
    measured = ((data.get("speed") or {}).get("settings") or {}).get("model")
    if isinstance(measured, dict):  # what was measured is the weights (SpeedBlock)
        measured.pop("path", None)
    for task in data.get("tasks", {}).values():
        _task_paths(task)
    teacher = (data.get("retention") or {}).get("teacher")
    if teacher:
        if isinstance(teacher.get("name"), str):
            teacher["name"] = _name(teacher["name"], record)
        model = teacher.get("model")
        if isinstance(model, dict):
            path = model.get("path")
            model["path"] = recorded_path(path) if record and isinstance(path, str) else None
            if isinstance(model.get("name"), str):
                model["name"] = _name(model["name"], record)
    return data


def _model_folder(data: dict, config: dict, record: bool) -> str | None:
    """The evaluated model's folder as recorded (None without ``record``, or for a Hub
    model): the one the file holds, else the one the run was given (None: the bundled)."""
    model = data["model"]
    if not record or model.get("hub_id"):
        return None
    folder = model.get("path") or config.get("model")
    if folder is None:
        from benchmark.defaults import default_model_path

        try:
            folder = str(default_model_path())
        except BenchError:
            return None
    return recorded_path(folder)


def _name(name: str, record: bool) -> str:
    """A model's name, which defaults to its folder as typed: shown as the folder is."""
    return shown_model(name, record) or BUNDLED_MODEL


def _task_paths(task: dict) -> None:
    if isinstance(task.get("predictions_file"), str):
        task["predictions_file"] = shown_location(task["predictions_file"])
    for run in (task.get("seed_runs") or {}).values():
        _task_paths(run)


def upgrade(data: dict) -> dict:
    """A result file's JSON in the current schema's shape, from any earlier version."""
    version = data.get("schema_version", data.get("format_version"))
    if version == 1:
        from benchmark.tasks import TASKS

        data = {k: v for k, v in data.items() if k != "format_version"}
        data["schema_version"] = SCHEMA_VERSION
        if not isinstance(data.get("tasks", {}), dict) or not all(
            isinstance(entry, dict) for entry in data.get("tasks", {}).values()
        ):
            raise ValueError("tasks: a mapping of task names to task results is needed")
        tasks = {}
        for name, entry in data.get("tasks", {}).items():
            # Version 1 evaluated every task on its spec's evaluation split, which no
            # version of a spec has changed since.
            split = TASKS[name].eval_split if name in TASKS else "unknown"
            tasks[name] = {"split": split, **entry}
        data["tasks"] = tasks
        return data
    if version == SCHEMA_VERSION:
        return data
    raise ValueError(
        f"schema_version: {version!r} is not one this suite reads (1 to {SCHEMA_VERSION}); "
        "a newer suite wrote it: upgrade gonerd-bench"
    )


def parse_result(data: Any, source: str = "result", strict: bool = False) -> RunResult:
    """A RunResult from parsed JSON of any schema version; one clear error otherwise.
    ``strict`` refuses values of the wrong type instead of converting them (a number
    written as a string), as the leaderboard does with submissions."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BenchError(f"{source} is not a GONERD Bench result file")
    try:
        return RunResult.model_validate(upgrade(data), strict=strict)
    except (ValueError, TypeError, AttributeError, ValidationError) as exc:
        raise BenchError(f"{source} does not validate: {_first_problem(exc)}") from None


def _first_problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        return f"{'.'.join(map(str, error['loc'])) or 'result'}: {error['msg']}"
    return str(exc)


# What to do about a file in the way of a run's own result (the default of read_result).
MOVE_IT = "move it away or choose another --output"
# What to do about a result file a command was given to read.
GIVE_ONE = "give a result file that `bench run` wrote"


def read_result(path: Path, fix: str = MOVE_IT) -> RunResult | None:
    """The result file at ``path``, None if there is none; an error if it is not ours,
    whose fix (``fix``) depends on whether the file was given to read or is in the way."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BenchError(
            f"{path} exists but is not a readable result file ({exc}); {fix}"
        ) from None
    return parse_result(data, str(path))


def result_schema() -> dict:
    """The JSON Schema of the result file (`bench schema result`)."""
    return RunResult.model_json_schema()
