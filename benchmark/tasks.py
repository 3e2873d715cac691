"""The task registry: every task is a validated, declarative record.

The families in :mod:`benchmark.families` are the only task code; a spec says which
family reads it, where its data lives (Hub id, config, pinned revision) and which reader
turns those files into rows, which columns hold what, its labels, its metric and main
score, and how long its inputs may be. Changing a spec's content requires bumping its
``version`` (a test holds the content hash of each version), so results from old and new
specs never mix.
"""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from benchmark.errors import BenchError

Metric = Literal["mcc", "accuracy", "f1_accuracy", "pearson_spearman", "squad", "seqeval"]
QALayout = Literal["squad", "hotpotqa", "triviaqa"]
# How a task's files become rows: ``datasets`` reads the Hub dataset (or local files in its
# columns) as they are; ``gonerd`` reads GONERD's raw files through the gonerd builder.
Reader = Literal["datasets", "gonerd"]
# Fields added after the first release enter a spec's content hash only when they differ
# from their default, so adding a field leaves the hashes of specs that do not use it alone.
_HASHED_WHEN_SET = {"reader": "datasets", "length_buckets": None}
# Where long-context tasks report their scores by input length (benchmark.buckets).
LENGTH_BUCKETS = (512, 2048, 4096)


class Recipe(BaseModel):
    """The fine-tuning recipe; per-task defaults, each overridable from the run config."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    learning_rate: float = 2e-5
    epochs: float = 3.0
    batch_size: int = 16
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1


class TaskSpec(BaseModel):
    """One task: data source, columns, labels, metric, lengths."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    version: int
    family: str  # a registered family's name (benchmark.families)
    group: str | None = None
    description: str
    hub_id: str
    hub_config: str | None = None
    revision: str = "main"
    reader: Reader = "datasets"
    train_split: str = "train"
    eval_split: str = "validation"
    text_columns: tuple[str, ...] = ()
    label_column: str = "label"
    label_names: tuple[str, ...] | None = None  # None: regression (STS-B) or QA
    qa_layout: QALayout | None = None
    metric: Metric
    main_score: str
    max_length: int = 128
    doc_stride: int = 128
    long_context: bool = False
    length_buckets: tuple[int, ...] | None = None  # boundaries in subword tokens
    recipe: Recipe = Field(default_factory=Recipe)

    def content_hash(self) -> str:
        """Hash of everything in the spec: it changes whenever the spec does."""
        content = self.model_dump(mode="json")
        for name, default in _HASHED_WHEN_SET.items():
            if content[name] == default:
                del content[name]
        blob = json.dumps(content, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _glue(name: str, columns: tuple[str, ...], labels, metric: Metric, main: str, **kw) -> TaskSpec:
    return TaskSpec(
        name=name,
        version=1,
        family="sequence_classification",
        group="glue",
        description=f"GLUE {name}",
        hub_id="nyu-mll/glue",
        hub_config=kw.pop("hub_config", name),
        text_columns=columns,
        label_names=labels,
        metric=metric,
        main_score=main,
        **kw,
    )


def _long_qa(name: str, hub_id: str, hub_config: str, description: str) -> TaskSpec:
    """A long-context extractive QA task: read up to 4,096 tokens, scored like SQuAD."""
    return TaskSpec(
        name=name,
        version=2,
        family="extractive_qa",
        description=description,
        hub_id=hub_id,
        hub_config=hub_config,
        qa_layout=name,
        metric="squad",
        main_score="f1",
        max_length=4096,
        long_context=True,
        length_buckets=LENGTH_BUCKETS,
        recipe=Recipe(learning_rate=3e-5, epochs=2.0, batch_size=8),
    )


NLI3 = ("entailment", "neutral", "contradiction")
_SPECS = [
    _glue("cola", ("sentence",), ("unacceptable", "acceptable"), "mcc", "matthews_correlation"),
    _glue("sst2", ("sentence",), ("negative", "positive"), "accuracy", "accuracy"),
    _glue(
        "mrpc", ("sentence1", "sentence2"), ("not_equivalent", "equivalent"), "f1_accuracy", "f1"
    ),
    _glue("stsb", ("sentence1", "sentence2"), None, "pearson_spearman", "pearson"),
    _glue("qqp", ("question1", "question2"), ("not_duplicate", "duplicate"), "f1_accuracy", "f1"),
    _glue(
        "mnli_matched",
        ("premise", "hypothesis"),
        NLI3,
        "accuracy",
        "accuracy",
        hub_config="mnli",
        eval_split="validation_matched",
    ),
    _glue(
        "mnli_mismatched",
        ("premise", "hypothesis"),
        NLI3,
        "accuracy",
        "accuracy",
        hub_config="mnli",
        eval_split="validation_mismatched",
    ),
    _glue(
        "qnli", ("question", "sentence"), ("entailment", "not_entailment"), "accuracy", "accuracy"
    ),
    _glue(
        "rte", ("sentence1", "sentence2"), ("entailment", "not_entailment"), "accuracy", "accuracy"
    ),
    _glue(
        "wnli", ("sentence1", "sentence2"), ("not_entailment", "entailment"), "accuracy", "accuracy"
    ),
    TaskSpec(
        name="squad",
        version=1,
        family="extractive_qa",
        description="SQuAD 1.1: exact match and F1, official normalisation, max over gold answers",
        hub_id="rajpurkar/squad",
        hub_config="plain_text",
        qa_layout="squad",
        metric="squad",
        main_score="f1",
        max_length=384,
        recipe=Recipe(learning_rate=3e-5, epochs=2.0, batch_size=16),
    ),
    _long_qa(
        "hotpotqa",
        "hotpotqa/hotpot_qa",
        "distractor",
        "HotpotQA distractor: ten paragraphs joined; yes/no answered by span",
    ),
    _long_qa(
        "triviaqa",
        "mandarjoshi/trivia_qa",
        "rc",
        "TriviaQA rc: evidence documents joined; EM/F1 over all answer aliases",
    ),
    TaskSpec(
        name="conll2003",
        version=2,
        family="token_classification",
        description="CoNLL-2003 English NER: entity-level F1 (seqeval, strict IOB2)",
        hub_id="eriktks/conll2003",
        eval_split="test",
        text_columns=("tokens",),
        label_column="ner_tags",
        label_names=("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"),
        metric="seqeval",
        main_score="f1",
        max_length=512,
        length_buckets=LENGTH_BUCKETS,
        recipe=Recipe(learning_rate=5e-5, epochs=3.0, batch_size=16),
    ),
    TaskSpec(
        name="gonerd",
        version=3,
        family="token_classification",
        description="GONERD long-document NER: entity-level F1 (seqeval, strict IOB2)",
        hub_id="giant-oak/GONERD",
        reader="gonerd",
        eval_split="test",
        text_columns=("tokens",),
        label_column="ner_tags",
        metric="seqeval",
        main_score="f1",
        max_length=4096,
        long_context=True,
        length_buckets=LENGTH_BUCKETS,
        recipe=Recipe(learning_rate=5e-5, epochs=3.0, batch_size=8),
    ),
]

TASKS: dict[str, TaskSpec] = {spec.name: spec for spec in _SPECS}
GROUPS: dict[str, list[str]] = {
    "glue": [s.name for s in _SPECS if s.group == "glue"],
    "mnli": ["mnli_matched", "mnli_mismatched"],
    "all": list(TASKS),
}


def resolve_tasks(selection: str | list[str]) -> list[TaskSpec]:
    """Specs for ``t1,t2``, a group name (``glue``, ``mnli``, ``all``), or a list of those."""
    names = selection.split(",") if isinstance(selection, str) else list(selection)
    chosen: list[str] = []
    for raw in names:
        name = raw.strip().lower()
        if not name:
            continue
        expanded = GROUPS.get(name, [name])
        for task in expanded:
            if task not in TASKS:
                known = ", ".join([*TASKS, *GROUPS])
                raise BenchError(f"unknown task {raw.strip()!r}: choose from {known}")
            if task not in chosen:
                chosen.append(task)
    if not chosen:
        raise BenchError("no task selected: pass --tasks with task or group names")
    return [TASKS[name] for name in chosen]
