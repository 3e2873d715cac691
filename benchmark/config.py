"""One run configuration, built from CLI flags or a YAML/JSON file (flags win), and
written whole into the result file.

Every setting is declared once, here: its type, default, help text and whether it changes
a task's score. The ``bench run`` flags are generated from these fields
(:mod:`benchmark.cli.run`), and :data:`SCORE_SETTINGS`, which decides whether a finished task
can be reused, is read off the same declarations, so the three cannot drift apart.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from benchmark.errors import BenchError

BUNDLED = "bundled"  # --data-dir value for the samples shipped with the suite
# The embedded default (no --model) is a demonstration that must finish in minutes on two
# CPU cores: these settings apply to it unless given, and are written into its result.
EMBEDDED_DEFAULTS = {
    "limit": 16,
    "epochs": 1.0,
    "max_length": 256,
    "speed_seq_len": [128],
    "speed_batch_size": 8,
}


# Older names of two settings, still read in config and result files that use them.
OLD_NAMES = {"measure_speed": "speed", "speed_seq_lens": "speed_seq_len"}


def setting(default: Any, help: str, *, score: bool) -> Any:
    """A run setting: ``score`` says whether changing it changes a task's score (and so
    whether a finished task may be reused)."""
    return Field(default, description=help, json_schema_extra={"affects_score": score})


class RunConfig(BaseModel):
    """What `bench run` does. ``model=None`` is the embedded default (bundled model and
    samples, offline); ``data_dir="bundled"`` reads the bundled samples with any model."""

    model_config = ConfigDict(extra="forbid")
    model: str | None = setting(
        None,
        "Hub id or local folder; default: the bundled all-MiniLM-L6-v2 on the bundled samples.",
        score=True,
    )
    name: str | None = setting(
        None, "Display name of the model in the result; default: the --model value.", score=False
    )
    teacher: str | None = setting(
        None, "Teacher model (run with the same settings) or its result .json file.", score=False
    )
    teacher_output: str | None = setting(
        None,
        "With --teacher given as a model: the teacher's result file; default: "
        "results/<teacher>/<revision>/<teacher>.json.",
        score=False,
    )
    tasks: str | None = setting(
        None, "t1,t2 | glue | all; default: all (offline demo: the bundled ones).", score=False
    )
    protocol: Literal["auto", "finetune", "evaluate"] = setting(
        "auto", "finetune a base checkpoint, evaluate one with the task head, or auto.", score=True
    )
    data_dir: str | None = setting(
        None, "DIR with DIR/<task>/<split>.jsonl in the Hub's columns, or 'bundled'.", score=True
    )
    limit: int | None = setting(
        None, "Evaluate (and train on) a seeded sample of N examples per split.", score=True
    )
    epochs: float | None = setting(None, "Fine-tuning epochs; default: per task.", score=True)
    batch_size: int | Literal["auto"] | None = setting(
        None,
        "Fine-tuning batch size; default: per task. auto: the task's batch, in the largest "
        "passes a GPU holds at the task's longest input, accumulated into one optimiser step "
        "(on a CPU, the task's batch as it is).",
        score=True,
    )
    learning_rate: float | None = setting(
        None, "Fine-tuning learning rate; default: per task.", score=True
    )
    max_length: int | None = setting(
        None,
        "Input length cap; default: the task's, within the model's position table and its "
        "tokenizer's limit. A value up to the position table lifts the tokenizer's limit.",
        score=True,
    )
    eval_batch_size: int = setting(32, "Inputs per forward pass in evaluation.", score=False)
    device: Literal["auto", "cpu", "cuda"] = setting("auto", "Where to run.", score=True)
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = setting(
        "float32",
        "Weights' dtype in evaluation (and bf16 autocast in training on CUDA); auto: bfloat16 "
        "on a GPU of compute capability 8.0 or newer, else float32 (benchmark.precision).",
        score=True,
    )
    length_grouping: bool = setting(
        False,
        "Fine-tune in batches of inputs of similar length, each padded to its longest "
        "(benchmark.batching); without it, the Trainer's random batches. Off by default: "
        "on the CoNLL-2003 sample it lowered F1 beyond the seed noise.",
        score=True,
    )
    compile: bool = setting(
        False,
        "Compile the model for fine-tuning (torch.compile); the compile time is recorded "
        "apart from the training steps.",
        score=False,
    )
    seed: int = setting(42, "Seed for sampling, initialisation and training.", score=True)
    seeds: list[int] | None = setting(
        None,
        "Run every task once per seed, e.g. 1,2,3; each task then reports the mean and "
        "standard deviation of its scores over the seeds (in place of --seed).",
        score=True,
    )
    bootstrap: int = setting(
        1000,
        "Resamples for each main score's 95% bootstrap interval over evaluation units (and, "
        "with --teacher, the retained percent's paired interval); 0: no intervals.",
        score=False,
    )
    long_context_gain: bool = setting(
        False,
        "For tasks with length buckets: score the fine-tuned model again reading at most "
        "512 tokens per window, and record the gain of the full length over it, with its "
        "paired 95% interval, overall and per length bucket.",
        score=False,
    )
    output: str | None = setting(
        None,
        "Result file; default: results/<model>/<revision or weights hash>/<name>.json "
        "(a file at the earlier default, results/<name>.json, is resumed from).",
        score=False,
    )
    save_predictions: bool = setting(
        False, "Write one JSON-lines file of readable predictions per task.", score=False
    )
    record_paths: bool = setting(
        False,
        "Write the model's local folder into the result file (relative to the working "
        "directory, else to ~); without it the result names a model by its weights' sha256 "
        "or Hub id and commit only.",
        score=False,
    )
    report_to: Literal["none", "tensorboard", "wandb", "mlflow", "trackio"] = setting(
        "none",
        "Report fine-tuning (loss, learning rate) and the run's final scores, retention and "
        "cost to this tracker; TensorBoard writes beside the result file, in <result>.runs/.",
        score=False,
    )
    trust_remote_code: bool = setting(
        False, "Run code shipped with the model (off unless asked for).", score=True
    )
    speed: bool = setting(True, "Measure inference time and peak memory.", score=False)
    speed_seq_len: list[int] = setting(
        [4096],
        "Lengths for inference cost, e.g. 512,4096 (the paper's setting: 4096).",
        score=False,
    )
    speed_batch_size: int = setting(16, "Batch size for inference cost.", score=False)
    speed_min_repeats: int = setting(
        5, "Timed passes, at least, per measurement (and per interleaved round).", score=False
    )
    speed_min_seconds: float = setting(
        2.0,
        "Timed seconds, at least, per measurement (and per interleaved round): precision, "
        "not what is measured, so a block timed with another value is still reused.",
        score=False,
    )
    time_ratio: bool = setting(
        True,
        "With --teacher given as a model: time student and teacher in one process, in turns, "
        "over rounds until two halves of them agree within ±0.03; the speed-up is taken from "
        "that ratio.",
        score=False,
    )

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, values):
        if isinstance(values, dict):
            values = {OLD_NAMES.get(k, k): v for k, v in values.items()}
        return values

    @field_validator("limit", "batch_size", "max_length", "eval_batch_size", "speed_batch_size")
    @classmethod
    def _positive(cls, value):
        if isinstance(value, int) and value < 1:
            raise ValueError("must be at least 1")
        return value

    @field_validator("bootstrap")
    @classmethod
    def _resamples(cls, value):
        if value < 0:
            raise ValueError("must be 0 (no intervals) or more")
        return value

    @field_validator("speed_seq_len", mode="before")
    @classmethod
    def _lengths(cls, value):
        if isinstance(value, str):
            try:
                value = [int(v) for v in value.split(",") if v.strip()]
            except ValueError:
                raise ValueError("sequence lengths must look like 512,4096") from None
        if isinstance(value, int):
            value = [value]
        if not value or any(int(v) < 8 for v in value):
            raise ValueError("sequence lengths must be a list of integers of at least 8")
        return value

    @field_validator("seeds", mode="before")
    @classmethod
    def _seed_list(cls, value):
        return parse_seeds(value)

    @model_validator(mode="after")
    def _first_seed(self):
        # With --seeds, --seed is the first of them: what provenance and sampling report.
        if self.seeds:
            self.seed = self.seeds[0]
        return self

    @model_validator(mode="after")
    def _teacher_file(self):
        if self.teacher_output is None:
            return self
        if not self.teacher or self.teacher.endswith(".json"):
            raise ValueError(
                "teacher_output is where a teacher model's result goes: give --teacher as a "
                "model, or leave --teacher-output out"
            )
        if self.output and Path(self.output).resolve() == Path(self.teacher_output).resolve():
            raise ValueError(
                "teacher_output must differ from output (one would overwrite the other)"
            )
        return self

    @property
    def uses_bundled_data(self) -> bool:
        return self.data_dir == BUNDLED or (self.model is None and self.data_dir is None)

    @property
    def tasks_data_dir(self) -> str | None:
        """Where the tasks are read from: the bundled samples, a folder, or None (the Hub)."""
        return BUNDLED if self.uses_bundled_data else self.data_dir

    def task_key(self, spec_hash: str, device_type: str | None = None) -> str:
        """What makes a finished task reusable: the settings that change its score, and the
        task's spec. Teacher, speed, output and predictions settings are not part of it.
        ``device_type`` is the device ``auto`` resolved to, which is what was scored on, and
        ``--dtype auto`` is the dtype it resolves to there (float32 on a CPU), so a run asking
        for ``auto`` keeps what the same dtype asked for by name scored. ``--batch-size auto``
        keeps the task's batch (split into passes that fit), so it is keyed as that batch.
        Length grouping enters the key only where it is used: a task fine-tuned in the
        Trainer's random batches has the key of a result file that does not know it."""
        relevant = self.model_dump(include=set(SCORE_SETTINGS))
        if not relevant["length_grouping"]:
            del relevant["length_grouping"]
        if relevant["batch_size"] == "auto":
            relevant["batch_size"] = None
        if device_type is not None:
            relevant["device"] = device_type
            if relevant["dtype"] == "auto":
                from benchmark.precision import resolve_dtype

                relevant["dtype"] = resolve_dtype("auto", device_type)
        blob = json.dumps({"config": relevant, "spec": spec_hash}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def parse_seeds(value):
    """``1,2,3``, one integer or a list as a list of distinct seeds (None stays None)."""
    if isinstance(value, str):
        try:
            value = [int(v) for v in value.split(",") if v.strip()]
        except ValueError:
            raise ValueError("seeds must look like 1,2,3") from None
    if isinstance(value, int):
        value = [value]
    if value is not None and (not value or len(set(value)) != len(value)):
        raise ValueError("seeds must be a non-empty list of distinct integers")
    return sorted(value) if value is not None else None  # 3,1,2 is the run of 1,2,3


# Read off the declarations above: the settings that change a task's score.
SCORE_SETTINGS: frozenset[str] = frozenset(
    name
    for name, field in RunConfig.model_fields.items()
    if (field.json_schema_extra or {}).get("affects_score")
)


def load_config(path: str | Path | None, overrides: dict) -> RunConfig:
    """The file's settings (if any) updated with the flags that were given."""
    values: dict = {}
    if path is not None:
        path = Path(path)
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            raise BenchError(f"cannot read config file {path}: {exc.strerror}") from None
        try:
            values = (json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)) or {}
        except (json.JSONDecodeError, yaml.YAMLError) as exc:
            raise BenchError(f"config file {path} does not parse: {exc}") from None
        if not isinstance(values, dict):
            raise BenchError(f"config file {path} must hold a mapping of settings")
    values.update({k: v for k, v in overrides.items() if v is not None})
    if values.get("model") is None:
        values = EMBEDDED_DEFAULTS | values
    return build_config(values)


def load_yaml_model(path: str | Path, model: type[BaseModel], what: str):
    """A YAML file read into a pydantic ``model``; an unreadable, unparsable or invalid file
    is one error naming ``what`` and the path, with every problem found."""
    try:
        values = yaml.safe_load(Path(path).read_text("utf-8"))
    except OSError as exc:
        raise BenchError(f"cannot read {what} {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise BenchError(f"{what} {path} does not parse as YAML: {exc}") from None
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or what}: {e['msg']}" for e in exc.errors()
        )
        raise BenchError(f"{what} {path}: {problems}") from None


def build_config(values: dict, what: str = "bad run configuration") -> RunConfig:
    """A RunConfig from plain values, with every problem in one clear error."""
    try:
        return RunConfig(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise BenchError(f"{what}: {problems}") from None
