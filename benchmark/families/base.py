"""The one interface every task family implements, and the records passed through it.

A family turns a task's rows into model inputs with targets (for fine-tuning) and turns a
model's outputs on a task's rows into metrics and readable predictions (for evaluation).
The runner only ever talks to a family through :class:`Family` (and, for intervals,
:class:`UnitScoring`); it never asks which family or which task it is dealing with.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from benchmark.bootstrap import UnitScores


@dataclass(frozen=True)
class TaskContext:
    """What a family needs to read a task: its spec, the tokenizer (and the one for text
    already split into words, see :func:`benchmark.models.word_tokenizer`), the input length
    that applies, the task's label names (None for regression and extractive QA), and the
    input names the model's forward takes (so a family offers, e.g., a global attention mask
    only to a model that reads one)."""

    spec: Any  # benchmark.tasks.TaskSpec
    tokenizer: Any
    max_length: int
    label_names: list[str] | None
    model_inputs: frozenset[str] = frozenset()
    word_tokenizer: Any = None  # for words given one by one; None: ``tokenizer`` does

    @property
    def words_tokenizer(self):
        return self.word_tokenizer or self.tokenizer


@dataclass
class EvalOutput:
    """What a family's evaluation returns: scores, readable predictions, input counts."""

    metrics: dict
    predictions: list[dict]
    counts: dict = field(default_factory=dict)
    buckets: dict | None = None  # scores by input length (benchmark.buckets), if declared
    # how often each gold label occurs among the evaluated examples (classification)
    label_counts: dict[str, int] | None = None


@runtime_checkable
class Family(Protocol):
    """A task family: the only task-shaped code in the suite. It may also implement
    :class:`UnitScoring` (``unit_scores``: its main score per evaluation unit, for the
    bootstrap interval, agreement and flips), an optional method so a family written
    before it keeps registering."""

    name: str  # the value of ``TaskSpec.family`` that selects this family
    head: Any  # the transformers Auto class with the family's head
    head_suffix: str  # how a checkpoint with that head names its architecture

    def label_names(self, spec, dataset) -> list[str] | None:
        """The task's labels, in id order (None when the task has no label set)."""

    def fresh_head(self, label_names: list[str] | None) -> dict:
        """``from_pretrained`` options that put a new head for these labels on a base model."""

    def label_mapping(
        self, model_labels: dict[int, str], label_names: list[str] | None, task: str
    ) -> tuple[dict[int, int], str]:
        """How a checkpoint's own head ids map to the task's label ids, and by what rule."""

    def training_features(self, context: TaskContext, dataset) -> tuple[list[dict], dict]:
        """Model inputs with targets, and counts of truncated or windowed inputs."""

    def collator(self, tokenizer) -> Callable:
        """How training rows are padded into a batch, without changing the rows (they make
        every epoch's batches). A collator that also takes ``pad_to_multiple_of`` is asked
        to round its padding up to that multiple where the device or the model wants it
        (:func:`benchmark.batching.padding_multiple`)."""

    def evaluate(
        self,
        context: TaskContext,
        dataset,
        model,
        label_map: dict[int, int],
        batch_size: int,
        on_batch: Callable[[int], None] | None = None,
    ) -> EvalOutput:
        """Scores and readable predictions of ``model`` on ``dataset``."""

    def rescore(self, spec, rows: list[dict]) -> dict[str, float]:
        """The task's flat metrics again from its readable predictions (rows of
        ``{"prediction", "reference"}`` as :meth:`evaluate` wrote them)."""

    def near_chance(self, result) -> bool:
        """Whether a task result (``benchmark.run_result.TaskResult``) is too close to
        chance to say the model learned the task: a share of such a score measures noise."""


@runtime_checkable
class UnitScoring(Protocol):
    """The part of a family's interface that makes its intervals exact and fast, which
    every built-in family implements; a family without it still gets an interval, its
    ``rescore`` run again on each resample (benchmark.bootstrap.unit_scores_for), but no
    agreement or flips between two models."""

    def unit_scores(self, spec, rows: list[dict]) -> UnitScores:
        """The main score of :meth:`Family.rescore` as per unit statistics and the metric
        of their sum, with each unit's comparable answer and whether it is right
        (:class:`benchmark.bootstrap.UnitScores`). A unit is what the metric is defined on:
        one row of ``rows``, as :meth:`Family.evaluate` wrote them."""


# A span F1 (entities, answers) below this is near the 0 that predicting nothing scores.
SPAN_F1_FLOOR = 10.0


def column(dataset, name: str) -> list:
    """One column as a Python list, read straight from Arrow: several times faster than
    ``dataset[name]``, which decodes row by row."""
    return dataset.with_format("arrow")[name].to_pylist()


def records(dataset) -> list[dict]:
    """Every row as a dict, read straight from Arrow (see :func:`column`)."""
    return dataset.with_format("arrow")[:].to_pylist()
