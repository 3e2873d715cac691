"""Sequence classification and regression (GLUE): one label or one score per input.

Inputs longer than the model's limit are truncated (GLUE sentences rarely are); the result
counts how many were.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import numpy as np
from transformers import AutoModelForSequenceClassification, DataCollatorWithPadding

from benchmark.bootstrap import UnitScores, additive, recomputed, unit_ids
from benchmark.families import register
from benchmark.families.base import EvalOutput, TaskContext, column
from benchmark.families.labels import LabelledHead
from benchmark.inference import predict
from benchmark.metrics import classification_scores


class SequenceClassification(LabelledHead):
    name = "sequence_classification"
    head = AutoModelForSequenceClassification
    head_suffix = "ForSequenceClassification"

    def label_names(self, spec, dataset) -> list[str] | None:
        return list(spec.label_names) if spec.label_names else None

    def collator(self, tokenizer, pad_to_multiple_of: int | None = None):
        return DataCollatorWithPadding(tokenizer, pad_to_multiple_of=pad_to_multiple_of)

    def _encode(self, context: TaskContext, dataset) -> tuple[list[dict], int]:
        """Encodings cut to ``max_length``, and how many inputs were longer than that.

        One tokenisation without truncation gives both: cutting a single sequence is
        keeping its head and its closing special tokens; a pair is cut longest-first as
        the tokenizer would."""
        spec, tokenizer = context.spec, context.tokenizer
        columns = [column(dataset, c) for c in spec.text_columns]
        full = tokenizer(*columns, truncation=False, verbose=False)
        keys = [k for k in ("input_ids", "token_type_ids", "attention_mask") if k in full]
        too_long = [i for i, ids in enumerate(full["input_ids"]) if len(ids) > context.max_length]
        rows = [{k: full[k][i] for k in keys} for i in range(len(dataset))]
        if too_long:
            cut = tokenizer(
                *[[column[i] for i in too_long] for column in columns],
                truncation=True,
                max_length=context.max_length,
            )
            for j, i in enumerate(too_long):
                rows[i] = {k: cut[k][j] for k in keys}
        return rows, len(too_long)

    def training_features(self, context, dataset):
        rows, n_truncated = self._encode(context, dataset)
        regression = context.label_names is None
        for row, label in zip(rows, column(dataset, context.spec.label_column)):
            row["labels"] = float(label) if regression else int(label)
        return rows, {"truncated": n_truncated}

    def evaluate(self, context, dataset, model, label_map, batch_size, on_batch=None):
        spec, label_names = context.spec, context.label_names
        rows, n_truncated = self._encode(context, dataset)
        outputs = predict(
            model,
            rows,
            pad_id=context.tokenizer.pad_token_id or 0,
            batch_size=batch_size,
            on_batch=on_batch,
        )
        logits = np.stack([o[0] for o in outputs]) if outputs else np.zeros((0, 1))
        references = column(dataset, spec.label_column)
        ids = column(dataset, "idx") if "idx" in dataset.column_names else range(len(dataset))
        if label_names is None:
            predicted = logits[:, 0].tolist()
            readable = list(zip(predicted, references))
        else:
            predicted = [label_map[c] for c in logits.argmax(axis=-1).tolist()]
            readable = [(label_names[p], label_names[r]) for p, r in zip(predicted, references)]
        metrics = classification_scores(spec.metric, predicted, references)
        records = [{"id": i, "prediction": p, "reference": r} for i, (p, r) in zip(ids, readable)]
        counts = {"whole": len(rows) - n_truncated, "truncated": n_truncated}
        gold = None
        if label_names is not None:
            # a label below 0 marks an unlabelled example (GLUE's test splits): not counted
            gold = dict(sorted(Counter(label_names[r] for r in references if r >= 0).items()))
        return EvalOutput(metrics, records, counts, label_counts=gold)

    def rescore(self, spec, rows):
        predictions = [row["prediction"] for row in rows]
        references = [row["reference"] for row in rows]
        if spec.label_names:  # readable label names back to the task's ids
            index = {name: i for i, name in enumerate(spec.label_names)}
            predictions = [index[p] for p in predictions]
            references = [index[r] for r in references]
        return classification_scores(spec.metric, predictions, references)

    def unit_scores(self, spec, rows) -> UnitScores:
        """One sentence (or pair) per unit. A label is one cell of the confusion matrix,
        from whose sum accuracy, F1 of the positive class and MCC follow exactly; a
        regression's Pearson r follows from six sums; anything else is computed again per
        resample. A labelled prediction is right when it is the gold label; a regression's
        has no right or wrong (no agreement, no flips)."""
        ids = unit_ids(rows)
        unit = "pair" if len(spec.text_columns) > 1 else "sentence"
        if not spec.label_names:
            x = np.array([float(r["prediction"]) for r in rows])
            y = np.array([float(r["reference"]) for r in rows])
            if spec.main_score == "pearson":
                return UnitScores(unit, ids, additive(pearson_stats(x, y), pearson_from_sums))
            return UnitScores(unit, ids, self._recomputed(spec, rows))
        index = {name: i for i, name in enumerate(spec.label_names)}
        predicted = np.array([index[r["prediction"]] for r in rows], dtype=np.int64)
        gold = np.array([index[r["reference"]] for r in rows], dtype=np.int64)
        n_labels = len(spec.label_names)
        metric = confusion_metric(spec.main_score, n_labels)
        if metric is None:
            score = self._recomputed(spec, rows)
        else:
            cells = np.zeros((len(rows), n_labels * n_labels))
            cells[np.arange(len(rows)), gold * n_labels + predicted] = 1
            score = additive(cells, metric)
        return UnitScores(unit, ids, score, predicted.tolist(), predicted == gold)

    def _recomputed(self, spec, rows):
        return recomputed(rows, lambda chosen: self.rescore(spec, chosen)[spec.main_score])

    def near_chance(self, result) -> bool:
        """A classifier's accuracy within two binomial standard errors of always guessing
        the commonest label of the evaluated examples (of guessing among the labels, for
        results that do not count them). Accuracy decides even where F1 heads the task
        (MRPC): answering "paraphrase" everywhere scores an F1 of 80-81 on its pairs. A
        regression (no accuracy) is never called near chance."""
        accuracy = result.metrics.get("accuracy")
        if result.main_score_name == "accuracy":
            accuracy = result.main_score
        if accuracy is None:
            return False
        n = result.n_examples.evaluated
        if n <= 0:
            return True  # nothing scored: nothing learned that can be shown
        if result.label_counts:
            guess = commonest_share(result.label_counts)
        else:
            labels = len(set(result.label_mapping.get("model_to_task", {}).values())) or 2
            guess = 1 / labels
        return accuracy <= 100 * (guess + 2 * math.sqrt(guess * (1 - guess) / n))


def confusion_metric(name: str, n_labels: int) -> Callable[[np.ndarray], np.ndarray] | None:
    """GLUE's metric ``name`` from summed confusion cells ``(B, L * L)``, gold-major, as
    sklearn computes it (MCC in its multi-class form); None for a metric not read off a
    confusion matrix."""
    if name not in ("accuracy", "f1", "matthews_correlation"):
        return None

    def metric(sums: np.ndarray) -> np.ndarray:
        cells = sums.reshape(-1, n_labels, n_labels)
        total = cells.sum(axis=(1, 2))
        correct = np.trace(cells, axis1=1, axis2=2)
        if name == "accuracy":
            return 100 * _ratio(correct, total)
        if name == "f1":  # of label 1, the positive class
            tp, fp, fn = cells[:, 1, 1], cells[:, 0, 1], cells[:, 1, 0]
            return 100 * _ratio(2 * tp, 2 * tp + fp + fn)
        gold, predicted = cells.sum(axis=2), cells.sum(axis=1)
        covariance = correct * total - (gold * predicted).sum(axis=1)
        spread = (total**2 - (predicted**2).sum(axis=1)) * (total**2 - (gold**2).sum(axis=1))
        return 100 * _ratio(covariance, np.sqrt(spread))

    return metric


def pearson_stats(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per unit ``1, x, y, x^2, y^2, xy`` with x and y centred on the set's means first
    (r does not change; the sums keep their precision)."""
    x, y = x - x.mean() if x.size else x, y - y.mean() if y.size else y
    return np.stack([np.ones_like(x), x, y, x * x, y * y, x * y], axis=1)


def pearson_from_sums(sums: np.ndarray) -> np.ndarray:
    """100 x Pearson's r from the sums of :func:`pearson_stats`; NaN where either side is
    constant (as scipy)."""
    n, sx, sy, sxx, syy, sxy = sums.T
    spread = (n * sxx - sx**2) * (n * syy - sy**2)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (n * sxy - sx * sy) / np.sqrt(np.where(spread > 0, spread, np.nan))
    return 100 * np.clip(r, -1.0, 1.0)


def _ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """top / bottom, 0 where bottom is 0 (sklearn's zero_division=0)."""
    return np.divide(top, bottom, out=np.zeros_like(top, dtype=float), where=bottom != 0)


def commonest_share(counts: dict[str, int]) -> float:
    """The commonest label's share of the examples counted: always guessing it scores that."""
    return max(counts.values()) / sum(counts.values())


FAMILY = register(SequenceClassification())
