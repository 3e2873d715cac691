"""The three task families: the only task-specific code in the runner.

Each family module offers the same four things:

* ``HEAD``: the transformers Auto class with the family's head;
* ``training_features(spec, dataset, tokenizer, max_length, label_names)``: model inputs
  with targets, plus counts of truncated/windowed examples;
* ``evaluate(spec, dataset, model, tokenizer, max_length, batch_size, label_names,
  label_map, on_batch)``: an :class:`EvalOutput` with metrics and readable predictions;
* ``collator(tokenizer)``: how training batches are padded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType


@dataclass
class EvalOutput:
    """What a family's evaluation returns: scores, readable predictions, input counts."""

    metrics: dict
    predictions: list[dict]
    counts: dict = field(default_factory=dict)


def family_module(name: str) -> ModuleType:
    from benchmark.families import extractive_qa, sequence_classification, token_classification

    return {
        "sequence_classification": sequence_classification,
        "token_classification": token_classification,
        "extractive_qa": extractive_qa,
    }[name]
