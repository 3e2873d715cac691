"""Sequence classification and regression (GLUE): one label or one score per input.

Inputs longer than the model's limit are truncated (GLUE sentences rarely are); the result
counts how many were.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
from transformers import AutoModelForSequenceClassification, DataCollatorWithPadding

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

    def collator(self, tokenizer):
        return DataCollatorWithPadding(tokenizer)

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


def commonest_share(counts: dict[str, int]) -> float:
    """The commonest label's share of the examples counted: always guessing it scores that."""
    return max(counts.values()) / sum(counts.values())


FAMILY = register(SequenceClassification())
