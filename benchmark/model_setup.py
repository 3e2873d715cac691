"""A checkpoint becomes a model ready for one task: device, the one rule for the longest
input a model takes, head detection, and a fresh or matched head.

The input-limit rule, stated once: a model reads at most as many tokens as its position
table holds (less the padding offset of RoBERTa-style embeddings, whose positions start
after the padding index). Its tokenizer's ``model_max_length`` is a second, softer limit:
it caps the task's length by default, with a warning when the position table allows more,
and ``--max-length`` may lift it up to the position table. ``bench run`` and ``bench
speed`` both ask :func:`position_limit`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from benchmark.errors import BenchError
from benchmark.models import load_model

# Model types whose position ids start after the padding index (RoBERTa style).
OFFSET_POSITIONS = frozenset(
    {
        "roberta",
        "xlm-roberta",
        "xlm-roberta-xl",
        "roberta-prelayernorm",
        "longformer",
        "camembert",
        "data2vec-text",
        "mpnet",
        "ibert",
        "lsg-roberta",
    }
)
_NO_LIMIT = 1_000_000  # tokenizers without a limit say int(1e30)


def pick_device(choice: str) -> torch.device:
    if choice == "cuda" and not torch.cuda.is_available():
        raise BenchError(
            "--device cuda was asked for but no CUDA device is visible; use --device cpu"
        )
    if choice == "auto":
        choice = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(choice)


def position_limit(config) -> int | None:
    """The longest input the model's position table takes; None when it has none (a
    model with only relative positions)."""
    positions = getattr(config, "max_position_embeddings", None)
    if not positions:
        return None
    if config.model_type == "deberta-v2" and not getattr(config, "position_biased_input", True):
        return None
    if config.model_type in OFFSET_POSITIONS:
        return positions - (config.pad_token_id or 0) - 1
    return positions


def tokenizer_limit(tokenizer) -> int | None:
    limit = getattr(tokenizer, "model_max_length", None)
    return limit if limit and 0 < limit < _NO_LIMIT else None


@dataclass(frozen=True)
class InputLimit:
    """The length inputs are cut or windowed to, and which limit decided it."""

    max_length: int
    applied: str  # "task", "--max-length", "position table", "tokenizer" or "default"
    position_limit: int | None
    tokenizer_limit: int | None

    @property
    def warning(self) -> str | None:
        """Said when the tokenizer holds inputs below what the model's positions take."""
        if self.applied != "tokenizer":
            return None
        if self.position_limit is None:
            return (
                f"inputs are cut or windowed at the tokenizer's limit ({self.tokenizer_limit}); "
                "the model has no position table to bound them (relative positions), so "
                "--max-length may lift it"
            )
        return (
            f"the tokenizer's limit ({self.tokenizer_limit}) is below the model's position "
            f"table ({self.position_limit}): inputs are cut or windowed at "
            f"{self.tokenizer_limit}; --max-length up to {self.position_limit} lifts it"
        )

    def record(self) -> dict:
        """The limit as a result file holds it (under ``inputs``)."""
        return {
            "max_length": self.max_length,
            "limit_applied": self.applied,
            "position_limit": self.position_limit,
            "tokenizer_limit": self.tokenizer_limit,
        }


def input_limit(config, tokenizer, task_max_length: int, requested: int | None) -> InputLimit:
    """The one rule (module docstring): the smallest of the task's length (or the
    requested one), the position table, and, unless a length was requested, the
    tokenizer's limit. A tie goes to the first of those."""
    positions, tokenizer_max = position_limit(config), tokenizer_limit(tokenizer)
    candidates = [
        (requested, "--max-length") if requested else (task_max_length, "task"),
        (positions, "position table"),
    ]
    if not requested:
        candidates.append((tokenizer_max, "tokenizer"))
    found = [(value, name) for value, name in candidates if value]
    value, name = min(found, key=lambda c: c[0]) if found else (512, "default")
    return InputLimit(value, name, positions, tokenizer_max)


def check_model_path(name_or_path: str) -> None:
    """A name that can only be a folder (absolute, relative with ./ or ../, or ~) must
    exist; the Hub's repo-id rules would say something unhelpful about it."""
    looks_like_path = (
        name_or_path.startswith(("/", "./", "../", "~")) or name_or_path.count("/") > 1
    )
    if looks_like_path and not Path(name_or_path).expanduser().exists():
        raise BenchError(f"model {name_or_path!r}: no such folder; check the path")


def has_head(config, family) -> bool:
    """Whether the checkpoint was saved with the family's head."""
    return any(a.endswith(family.head_suffix) for a in (config.architectures or []))


def model_for_task(family, protocol: str, model_path: str, task: str, label_names, run_config):
    """The model with the family's head, and how its label ids map to the task's.

    ``evaluate`` loads the checkpoint's own head and matches its labels to the task's;
    ``finetune`` puts a fresh head for the task's labels on the (seeded) base checkpoint.
    """
    trust = run_config.trust_remote_code
    if protocol == "evaluate":
        model = load_model(family.head, model_path, trust)
        label_map, kind = family.label_mapping(model.config.id2label, label_names, task)
        return model, label_map, kind
    from transformers import set_seed

    set_seed(run_config.seed)
    options = {"ignore_mismatched_sizes": True, **family.fresh_head(label_names)}
    model = load_model(family.head, model_path, trust, **options)
    if label_names is None:  # nothing to map: regression, or spans
        return model, *family.label_mapping({}, None, task)
    return model, {i: i for i in range(len(label_names))}, "identity (head trained here)"
