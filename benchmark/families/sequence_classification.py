"""Sequence classification and regression (GLUE): one label or one score per input."""

from __future__ import annotations

import numpy as np
from transformers import AutoModelForSequenceClassification, DataCollatorWithPadding

from benchmark.families import EvalOutput
from benchmark.inference import predict
from benchmark.metrics import classification_scores

HEAD = AutoModelForSequenceClassification


def collator(tokenizer):
    return DataCollatorWithPadding(tokenizer)


def _encode(spec, dataset, tokenizer, max_length: int) -> tuple[list[dict], int]:
    """Encodings truncated to ``max_length``, and how many inputs were cut."""
    columns = [list(dataset[c]) for c in spec.text_columns]
    full = tokenizer(*columns, truncation=False, verbose=False)
    n_truncated = sum(len(ids) > max_length for ids in full["input_ids"])
    encoded = tokenizer(*columns, truncation=True, max_length=max_length)
    keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in encoded]
    rows = [{k: encoded[k][i] for k in keys} for i in range(len(dataset))]
    return rows, n_truncated


def training_features(spec, dataset, tokenizer, max_length, label_names):
    rows, n_truncated = _encode(spec, dataset, tokenizer, max_length)
    regression = label_names is None
    for row, label in zip(rows, dataset[spec.label_column]):
        row["labels"] = float(label) if regression else int(label)
    return rows, {"truncated": n_truncated}


def evaluate(
    spec, dataset, model, tokenizer, max_length, batch_size, label_names, label_map, on_batch=None
):
    rows, n_truncated = _encode(spec, dataset, tokenizer, max_length)
    outputs = predict(
        model, rows, pad_id=tokenizer.pad_token_id or 0, batch_size=batch_size, on_batch=on_batch
    )
    logits = np.stack([o[0] for o in outputs]) if outputs else np.zeros((0, 1))
    references = list(dataset[spec.label_column])
    ids = dataset["idx"] if "idx" in dataset.column_names else list(range(len(dataset)))
    if label_names is None:
        predicted = logits[:, 0].tolist()
        readable = [(p, r) for p, r in zip(predicted, references)]
    else:
        model_choice = logits.argmax(axis=-1).tolist()
        predicted = [label_map[c] for c in model_choice]
        readable = [(label_names[p], label_names[r]) for p, r in zip(predicted, references)]
    metrics = classification_scores(spec.metric, predicted, references)
    records = [{"id": i, "prediction": p, "reference": r} for i, (p, r) in zip(ids, readable)]
    return EvalOutput(metrics, records, {"truncated": n_truncated})
