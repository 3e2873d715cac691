"""One run configuration, built from CLI flags or a YAML/JSON file (flags win), and
written whole into the result file. Both doors fill the same pydantic model, so they
cannot drift apart."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from benchmark.errors import BenchError

BUNDLED = "bundled"  # --data-dir value for the samples shipped with the suite
# The embedded default (no --model) is a demonstration that must finish in minutes on two
# CPU cores: these settings apply to it unless given, and are written into its result.
EMBEDDED_DEFAULTS = {
    "limit": 16,
    "epochs": 1.0,
    "max_length": 256,
    "speed_seq_lens": [128],
    "speed_batch_size": 8,
}


# The settings that change a task's score; the others (output, teacher, speed) do not.
SCORE_SETTINGS = {
    "model",
    "protocol",
    "data_dir",
    "limit",
    "epochs",
    "batch_size",
    "learning_rate",
    "max_length",
    "device",
    "dtype",
    "seed",
    "trust_remote_code",
}


class RunConfig(BaseModel):
    """What `bench run` does. ``model=None`` is the embedded default (bundled model and
    samples, offline); ``data_dir="bundled"`` reads the bundled samples with any model."""

    model_config = ConfigDict(extra="forbid")
    model: str | None = None
    teacher: str | None = None  # a model (run with this config) or a result file
    tasks: str | None = None  # t1,t2 | glue | all; default: all (the bundled ones offline)
    protocol: Literal["auto", "finetune", "evaluate"] = "auto"
    data_dir: str | None = None
    limit: int | None = None
    epochs: float | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    max_length: int | None = None
    eval_batch_size: int = 32
    device: Literal["auto", "cpu", "cuda"] = "auto"
    dtype: Literal["float32", "float16", "bfloat16"] = "float32"
    seed: int = 42
    output: str | None = None
    save_predictions: bool = False
    trust_remote_code: bool = False
    measure_speed: bool = True
    speed_seq_lens: list[int] = [4096]  # the paper's setting: 4096 tokens, batch 16
    speed_batch_size: int = 16

    @field_validator("limit", "batch_size", "max_length", "eval_batch_size", "speed_batch_size")
    @classmethod
    def _positive(cls, value):
        if value is not None and value < 1:
            raise ValueError("must be at least 1")
        return value

    @field_validator("speed_seq_lens", mode="before")
    @classmethod
    def _lengths(cls, value):
        if isinstance(value, str):
            value = [int(v) for v in value.split(",") if v.strip()]
        if isinstance(value, int):
            value = [value]
        if not value or any(int(v) < 8 for v in value):
            raise ValueError("sequence lengths must be a list of integers of at least 8")
        return value

    @property
    def uses_bundled_data(self) -> bool:
        return self.data_dir == BUNDLED or (self.model is None and self.data_dir is None)

    def task_key(self, spec_hash: str) -> str:
        """What makes a finished task reusable: everything that changes its score."""
        relevant = self.model_dump(
            exclude={"tasks", "output", "save_predictions", "eval_batch_size"}
        )
        blob = json.dumps({"config": relevant, "spec": spec_hash}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


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
    try:
        return RunConfig(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors()
        )
        raise BenchError(f"bad run configuration: {problems}") from None
