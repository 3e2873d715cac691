"""The reference that tests/perf/bench_finetune.py times `bench run` against: fine-tuning
and evaluation the way transformers' example scripts (run_glue, run_ner) set them up,
written here in our own words.

* Every input is padded to the run's length when it is tokenised (``padding="max_length"``)
  and batched as it is (transformers' ``default_data_collator``): one shape for the run.
* The Trainer draws batches in a random order (its default sampler), with the same
  learning rate, epochs, batch, weight decay, warm-up steps and seed as the recipe.
* Evaluation is ``Trainer.predict`` over inputs padded the same way, then arg-max.

Sentence tasks are tokenised with ``datasets.map`` (cached by ``datasets``, as the scripts
leave it); NER labels its first subword per word (run_ner's default). A long-document task
reads the same windows `bench run` reads (benchmark.families.token_classification), each
padded to the window length, and its per-window tags are merged back the same way: the
reference differs in batching and padding, not in what it learns from.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass

import numpy as np
import torch
from transformers import (
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
    AutoTokenizer,
    PrinterCallback,
    Trainer,
    TrainingArguments,
    default_data_collator,
    set_seed,
)

from benchmark.families import TaskContext
from benchmark.families.token_classification import IGNORE, windows_for
from benchmark.metrics import classification_scores, entity_scores
from benchmark.training import optimizer_steps, warmup_steps
from gonerd import merge_window_predictions


@dataclass(frozen=True)
class Setting:
    """One task's run: the model, the input length, the recipe's numbers and where to run."""

    model: str
    max_length: int
    learning_rate: float
    epochs: float
    batch_size: int
    weight_decay: float
    warmup_ratio: float
    device: str
    bf16: bool


def _arguments(setting: Setting, n_rows: int, seed: int, scratch: str) -> TrainingArguments:
    steps = optimizer_steps(n_rows, setting.batch_size, setting.epochs)
    return TrainingArguments(
        output_dir=scratch,
        learning_rate=setting.learning_rate,
        num_train_epochs=setting.epochs,
        per_device_train_batch_size=setting.batch_size,
        per_device_eval_batch_size=setting.batch_size,
        weight_decay=setting.weight_decay,
        warmup_steps=warmup_steps(steps, setting.warmup_ratio),
        seed=seed,
        data_seed=seed,
        use_cpu=setting.device == "cpu",
        bf16=setting.bf16,
        report_to="none",
        save_strategy="no",
        eval_strategy="no",
        logging_strategy="no",
        disable_tqdm=True,
        dataloader_num_workers=0,
    )


def _fit_and_predict(model, setting: Setting, train_set, eval_set, seed: int, collate):
    """Train on ``train_set`` and return the logits on ``eval_set``."""
    with tempfile.TemporaryDirectory(prefix="bench-reference-") as scratch:
        trainer = Trainer(
            model=model,
            args=_arguments(setting, len(train_set), seed, scratch),
            train_dataset=train_set,
            data_collator=collate,
        )
        trainer.remove_callback(PrinterCallback)  # as ours: no metrics printed
        trainer.train()
        return trainer.predict(eval_set).predictions


def _fresh(head, setting: Setting, seed: int, labels: list[str] | None, **options):
    """The base checkpoint with a fresh head, seeded as `bench run` seeds it."""
    set_seed(seed)
    if labels is not None:
        options |= {
            "num_labels": len(labels),
            "id2label": dict(enumerate(labels)),
            "label2id": {name: i for i, name in enumerate(labels)},
        }
    return head.from_pretrained(setting.model, ignore_mismatched_sizes=True, **options)


def glue(spec, setting: Setting, train, evaluation, seed: int) -> float:
    """run_glue's way: a sentence (or pair) classifier; returns the task's main score."""
    tokenizer = AutoTokenizer.from_pretrained(setting.model)
    columns = list(spec.text_columns)

    def encode(batch):
        texts = [batch[c] for c in columns]
        encoded = tokenizer(
            *texts, padding="max_length", max_length=setting.max_length, truncation=True
        )
        encoded["labels"] = batch[spec.label_column]
        return encoded

    train_set = train.map(encode, batched=True, remove_columns=train.column_names)
    eval_set = evaluation.map(encode, batched=True, remove_columns=evaluation.column_names)
    model = _fresh(AutoModelForSequenceClassification, setting, seed, list(spec.label_names))
    logits = _fit_and_predict(model, setting, train_set, eval_set, seed, default_data_collator)
    predicted = np.argmax(logits, axis=-1).tolist()
    scores = classification_scores(spec.metric, predicted, list(evaluation[spec.label_column]))
    return scores[spec.main_score]


def ner(spec, setting: Setting, train, evaluation, seed: int) -> float:
    """run_ner's way: a tag for each word's first subword, the rest ignored."""
    tokenizer = AutoTokenizer.from_pretrained(setting.model)
    names = list(spec.label_names)
    words, tags = spec.text_columns[0], spec.label_column

    def encode(batch):
        encoded = tokenizer(
            batch[words],
            is_split_into_words=True,
            padding="max_length",
            max_length=setting.max_length,
            truncation=True,
        )
        labels = []
        for row, sentence_tags in enumerate(batch[tags]):
            seen, row_labels = set(), []
            for word in encoded.word_ids(row):
                first = word is not None and word not in seen
                row_labels.append(sentence_tags[word] if first else IGNORE)
                seen.add(word)
            labels.append(row_labels)
        encoded["labels"] = labels
        return encoded

    train_set = train.map(encode, batched=True, remove_columns=train.column_names)
    eval_set = evaluation.map(encode, batched=True, remove_columns=evaluation.column_names)
    model = _fresh(AutoModelForTokenClassification, setting, seed, names)
    logits = _fit_and_predict(model, setting, train_set, eval_set, seed, default_data_collator)
    chosen = np.argmax(logits, axis=-1)
    predicted, gold = [], []
    for row, labels in zip(chosen, eval_set["labels"]):
        kept = [i for i, label in enumerate(labels) if label != IGNORE]
        predicted.append([names[row[i]] for i in kept])
        gold.append([names[labels[i]] for i in kept])
    return entity_scores(predicted, gold)[spec.main_score]


class FixedLength:
    """Pads every row to one length: input ids with the pad id, labels with the ignored
    label, masks and token types with 0 (an attention mask is made where rows have none)."""

    def __init__(self, length: int, pad_id: int):
        self.length, self.pad_id = length, pad_id

    def __call__(self, rows: list[dict]) -> dict:
        batch = {}
        for key in rows[0]:
            fill = {"input_ids": self.pad_id, "labels": IGNORE}.get(key, 0)
            batch[key] = torch.tensor([r[key] + [fill] * (self.length - len(r[key])) for r in rows])
        if "attention_mask" not in batch:
            batch["attention_mask"] = torch.tensor(
                [
                    [1] * len(r["input_ids"]) + [0] * (self.length - len(r["input_ids"]))
                    for r in rows
                ]
            )
        return batch


def windows(spec, setting: Setting, family, train, evaluation, seed: int) -> float:
    """A long-document NER task in `bench run`'s windows, each padded to the window length."""
    tokenizer = AutoTokenizer.from_pretrained(setting.model)
    names = family.label_names(spec, evaluation)
    model = _fresh(AutoModelForTokenClassification, setting, seed, names)
    context = TaskContext(spec, tokenizer, setting.max_length, names, frozenset())
    rows, _ = family.training_features(context, train)
    documents = list(evaluation[spec.text_columns[0]])
    items, _ = windows_for(context, documents)
    eval_rows = [
        {**item.inputs, "labels": [IGNORE] * len(item.inputs["input_ids"])} for item in items
    ]
    collate = FixedLength(setting.max_length, tokenizer.pad_token_id or 0)
    logits = _fit_and_predict(model, setting, rows, eval_rows, seed, collate)
    chosen = np.argmax(logits, axis=-1)
    per_document: dict[int, tuple[list, list]] = {}
    for item, row in zip(items, chosen):
        tags = [names[row[p]] if p >= 0 else "O" for p in item.first_positions]
        found = per_document.setdefault(item.doc_index, ([], []))
        found[0].append(item.window)
        found[1].append(tags)
    predicted, gold = [], []
    for index, document_tags in enumerate(evaluation[spec.label_column]):
        spans, tags = per_document.get(index, ([], []))
        merged = merge_window_predictions(len(document_tags), spans, tags) if spans else []
        predicted.append(merged)
        gold.append([names[t] for t in document_tags])
    return entity_scores(predicted, gold)[spec.main_score]
