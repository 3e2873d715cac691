"""Token classification (CoNLL-2003, GONERD): one IOB2 tag per word.

A document longer than the model's input is read in overlapping windows of whole words
(:func:`gonerd.window_document`) and the per-window tags are merged back into exactly one
tag per word (:func:`gonerd.merge_window_predictions`: the window where the word is most
central). Each word is predicted from its first subword; the others are ignored.
"""

from __future__ import annotations

from transformers import AutoModelForTokenClassification, DataCollatorForTokenClassification

from benchmark.families import EvalOutput
from benchmark.inference import predict
from benchmark.metrics import entity_scores
from gonerd import merge_window_predictions, window_document

HEAD = AutoModelForTokenClassification
IGNORE = -100


def collator(tokenizer):
    return DataCollatorForTokenClassification(tokenizer)


def _windows(spec, dataset, tokenizer, max_length: int):
    """(document index, window, encoding with word ids) for every window of every document."""
    stride = min(spec.doc_stride, max(0, (max_length - 2) // 2))
    items, counts = [], {"windowed": 0, "windows": 0, "truncated_words": 0}
    for doc_index, words in enumerate(dataset[spec.text_columns[0]]):
        windows = window_document(words, tokenizer, max_length, stride)
        counts["windowed"] += len(windows) > 1
        counts["windows"] += len(windows)
        for window in windows:
            encoding = tokenizer(
                words[window.word_start : window.word_end],
                is_split_into_words=True,
                truncation=True,
                max_length=max_length,
            )
            word_ids = encoding.word_ids()
            seen = {w for w in word_ids if w is not None}
            counts["truncated_words"] += window.n_words - len(seen)
            items.append((doc_index, window, encoding, word_ids))
    return items, counts


def _inputs(encoding) -> dict:
    return {
        k: encoding[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in encoding
    }


def training_features(spec, dataset, tokenizer, max_length, label_names):
    items, counts = _windows(spec, dataset, tokenizer, max_length)
    tags = dataset[spec.label_column]
    rows = []
    for doc_index, window, encoding, word_ids in items:
        labels, previous = [], None
        for word in word_ids:
            first_subword = word is not None and word != previous
            labels.append(tags[doc_index][window.word_start + word] if first_subword else IGNORE)
            previous = word
        rows.append({**_inputs(encoding), "labels": labels})
    return rows, counts


def evaluate(
    spec, dataset, model, tokenizer, max_length, batch_size, label_names, label_map, on_batch=None
):
    items, counts = _windows(spec, dataset, tokenizer, max_length)
    outputs = predict(
        model,
        [_inputs(e) for _, _, e, _ in items],
        pad_id=tokenizer.pad_token_id or 0,
        batch_size=batch_size,
        per_token=True,
        on_batch=on_batch,
    )
    outside = label_names.index("O")
    per_doc: dict[int, tuple[list, list]] = {}
    for (doc_index, window, _, word_ids), (logits,) in zip(items, outputs):
        choice = logits.argmax(axis=-1)
        window_tags = [outside] * window.n_words  # a word cut by truncation is read as O
        seen = set()
        for position, word in enumerate(word_ids):
            if word is not None and word not in seen:
                window_tags[word] = label_map[int(choice[position])]
                seen.add(word)
        windows, predictions = per_doc.setdefault(doc_index, ([], []))
        windows.append(window)
        predictions.append(window_tags)
    references, predicted = [], []
    for doc_index, gold in enumerate(dataset[spec.label_column]):
        windows, window_predictions = per_doc.get(doc_index, ([], []))
        merged = merge_window_predictions(len(gold), windows, window_predictions) if gold else []
        references.append([label_names[t] for t in gold])
        predicted.append([label_names[t] for t in merged])
    metrics = entity_scores(predicted, references)
    ids = dataset["id"] if "id" in dataset.column_names else list(range(len(dataset)))
    records = [
        {"id": i, "prediction": p, "reference": r} for i, p, r in zip(ids, predicted, references)
    ]
    return EvalOutput(metrics, records, counts)
