"""Token classification (CoNLL-2003, GONERD): one IOB2 tag per word.

A document longer than the model's input is read in overlapping windows of whole words
(:func:`gonerd.window_words`) and the per-window tags are merged back into exactly one tag
per word (:func:`gonerd.merge_window_predictions`: the window where the word is most
central). Each word is predicted from its first subword; the others are ignored.

Every document is tokenised once, in one batched call; a window's input is a slice of that
encoding between the tokenizer's own special tokens. Words are tokenised one by one when
the input is split into words, so the slice is exactly what tokenising the window's words
alone would give (a test holds the two equal).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate

import numpy as np
from transformers import AutoModelForTokenClassification, DataCollatorForTokenClassification

from benchmark.bootstrap import UnitScores, additive, item_sets, unit_ids
from benchmark.buckets import bucket_column, bucket_scores
from benchmark.errors import BenchError
from benchmark.families import register
from benchmark.families.base import SPAN_F1_FLOOR, EvalOutput, TaskContext, column
from benchmark.families.labels import LabelledHead
from benchmark.inference import predict
from benchmark.metrics import entity_scores, iob2_entities
from gonerd import Window, merge_window_predictions, window_words

IGNORE = -100


@dataclass(frozen=True)
class WindowInput:
    """One window of one document as model input; ``first_positions[k]`` is the position
    of the first subword of the window's word ``k`` (-1 when truncation dropped it)."""

    doc_index: int
    window: Window
    inputs: dict
    first_positions: list[int]


def _special_template(tokenizer) -> tuple[list[int], list[int], int]:
    """The special tokens a single sequence gets before and after its content, and the
    token type of content, read off the tokenizer itself."""
    encoded = tokenizer(["x"], is_split_into_words=True)
    word_ids = encoded.word_ids()
    content = [i for i, w in enumerate(word_ids) if w is not None]
    if not content:
        raise BenchError("the tokenizer turns the word 'x' into no token; cannot place words")
    ids = encoded["input_ids"]
    types = encoded.get("token_type_ids") or [0] * len(ids)
    return ids[: content[0]], ids[content[-1] + 1 :], types[content[0]]


def windows_for(
    context: TaskContext, documents: list[list[str]], readings: list | None = None
) -> tuple[list[WindowInput], dict]:
    """Every window of every document as model input, and counts: documents read whole (one
    window, every word), windowed documents, windows, documents that lost words to
    truncation and the words lost (a single word longer than a whole window).

    ``readings``, when given, receives per document (its length in tokens with special
    tokens, read in windows, lost words), in document order."""
    tokenizer, max_length = context.words_tokenizer, context.max_length
    prefix, suffix, content_type = _special_template(tokenizer)
    budget = max_length - len(prefix) - len(suffix)
    stride = min(context.spec.doc_stride, max(0, (max_length - 2) // 2), budget - 1)
    with_types = "token_type_ids" in tokenizer.model_input_names
    nonempty = [i for i, words in enumerate(documents) if words]
    items: list[WindowInput] = []
    counts = {"whole": len(documents) - len(nonempty), "windowed": 0, "windows": 0}
    counts |= {"truncated_documents": 0, "truncated_words": 0}
    found = {i: (len(prefix) + len(suffix), False, False) for i in range(len(documents))}
    if not nonempty:
        if readings is not None:
            readings.extend(found[i] for i in range(len(documents)))
        return items, counts
    encoded = tokenizer(
        [documents[i] for i in nonempty],
        is_split_into_words=True,
        add_special_tokens=False,
        verbose=False,
    )
    n_special = len(prefix) + len(suffix)
    for row, doc_index in enumerate(nonempty):
        n_words, ids = len(documents[doc_index]), encoded["input_ids"][row]
        # starts[k]: the first token of word k; per_word[k]: its token count
        per_word = [0] * n_words
        for word in encoded.word_ids(row):
            if word is not None:
                per_word[word] += 1
        starts = list(accumulate(per_word, initial=0))
        if len(ids) <= budget:  # the common case: the whole document is one window
            windows = [Window(0, n_words, len(ids) + n_special)]
        else:
            windows = window_words(per_word, budget, stride, n_special)
        counts["windowed"] += len(windows) > 1
        counts["windows"] += len(windows)
        lost = 0
        for window in windows:
            first = starts[window.word_start]
            piece = ids[first : min(starts[window.word_end], first + budget)]
            inputs = {"input_ids": prefix + piece + suffix}
            if with_types:
                inputs["token_type_ids"] = [content_type] * len(inputs["input_ids"])
            positions = [
                starts[k] - first + len(prefix)
                if per_word[k] and starts[k] - first < len(piece)
                else -1
                for k in range(window.word_start, window.word_end)
            ]
            lost += positions.count(-1)
            items.append(WindowInput(doc_index, window, inputs, positions))
        counts["truncated_words"] += lost
        counts["truncated_documents"] += lost > 0
        counts["whole"] += len(windows) == 1 and not lost
        found[doc_index] = (len(ids) + n_special, len(windows) > 1, lost > 0)
    if readings is not None:
        readings.extend(found[i] for i in range(len(documents)))
    return items, counts


class TokenClassification(LabelledHead):
    name = "token_classification"
    head = AutoModelForTokenClassification
    head_suffix = "ForTokenClassification"

    def label_names(self, spec, dataset) -> list[str]:
        if spec.label_names:
            return list(spec.label_names)
        return list(dataset.features[spec.label_column].feature.names)

    def collator(self, tokenizer, pad_to_multiple_of: int | None = None):
        return DataCollatorForTokenClassification(tokenizer, pad_to_multiple_of=pad_to_multiple_of)

    def training_features(self, context, dataset):
        documents = column(dataset, context.spec.text_columns[0])
        items, counts = windows_for(context, documents)
        tags = column(dataset, context.spec.label_column)
        rows = []
        for item in items:
            labels = [IGNORE] * len(item.inputs["input_ids"])
            doc_tags = tags[item.doc_index]
            for offset, position in enumerate(item.first_positions):
                if position >= 0:
                    labels[position] = doc_tags[item.window.word_start + offset]
            rows.append({**item.inputs, "labels": labels})
        return rows, counts

    def evaluate(self, context, dataset, model, label_map, batch_size, on_batch=None):
        spec, label_names = context.spec, context.label_names
        documents = column(dataset, spec.text_columns[0])
        readings: list[tuple[int, bool, bool]] = []
        items, counts = windows_for(context, documents, readings)
        outputs = predict(
            model,
            [item.inputs for item in items],
            pad_id=context.tokenizer.pad_token_id or 0,
            batch_size=batch_size,
            per_token=True,
            argmax=True,
            on_batch=on_batch,
        )
        # Model label ids to task label ids, in one lookup table; a word cut by
        # truncation is read as O.
        to_task = [label_map[i] for i in range(len(label_map))]
        outside = label_names.index("O")
        per_doc: dict[int, tuple[list, list]] = {}
        for item, (choice,) in zip(items, outputs):
            chosen = choice.tolist()
            tags = [to_task[chosen[p]] if p >= 0 else outside for p in item.first_positions]
            windows, predictions = per_doc.setdefault(item.doc_index, ([], []))
            windows.append(item.window)
            predictions.append(tags)
        references, predicted = [], []
        for doc_index, gold in enumerate(column(dataset, spec.label_column)):
            windows, window_tags = per_doc.get(doc_index, ([], []))
            if len(windows) == 1:
                merged = window_tags[0]
            else:
                merged = merge_window_predictions(len(gold), windows, window_tags) if gold else []
            references.append([label_names[t] for t in gold])
            predicted.append([label_names[t] for t in merged])
        metrics = entity_scores(predicted, references)
        buckets = None
        if spec.length_buckets:
            lengths, windowed, truncated = (
                (list(x) for x in zip(*readings)) if readings else ([], [], [])
            )
            buckets = bucket_scores(
                spec.length_buckets,
                lengths,
                windowed,
                truncated,
                predicted,
                references,
                entity_scores,
                spec.main_score,
            )
        ids = column(dataset, "id") if "id" in dataset.column_names else range(len(dataset))
        records = [
            {"id": i, "prediction": p, "reference": r}
            for i, p, r in zip(ids, predicted, references)
        ]
        if spec.length_buckets:  # each row names its bucket: its interval needs no re-run
            for record, label in zip(records, bucket_column(spec.length_buckets, lengths)):
                record["bucket"] = label
        return EvalOutput(metrics, records, counts, buckets)

    def rescore(self, spec, rows):
        scores = entity_scores([r["prediction"] for r in rows], [r["reference"] for r in rows])
        return {k: v for k, v in scores.items() if k != "per_type"}

    def unit_scores(self, spec, rows) -> UnitScores:
        """One row per unit: a document for a long-context task (GONERD), a sentence
        otherwise (CoNLL-2003), with its correct, predicted and gold entity counts, whose
        sums give seqeval's micro scores exactly. In a sentence two predictions agree when
        they hold the same entities, and a prediction is right when its entities are the
        gold ones; a document holds too many entities for that to happen, so there
        agreement and flips count entities (benchmark.paired)."""
        predicted = [frozenset(iob2_entities(r["prediction"])) for r in rows]
        gold = [frozenset(iob2_entities(r["reference"])) for r in rows]
        stats = np.array(
            [[len(p & g), len(p), len(g)] for p, g in zip(predicted, gold)], dtype=float
        ).reshape(-1, 3)
        name = spec.main_score

        def metric(sums: np.ndarray) -> np.ndarray:
            correct, guessed, expected = sums.T
            bottom = {"precision": guessed, "recall": expected}.get(name, guessed + expected)
            top = correct if name in ("precision", "recall") else 2 * correct
            return 100 * np.divide(top, bottom, out=np.zeros_like(top), where=bottom > 0)

        ids, score = unit_ids(rows), additive(stats, metric)
        if spec.long_context:
            found = item_sets([p & g for p, g in zip(predicted, gold)])
            return UnitScores("document", ids, score, predicted, found, items="entity")
        right = np.array([p == g for p, g in zip(predicted, gold)], dtype=bool)
        return UnitScores("sentence", ids, score, predicted, right)

    def near_chance(self, result) -> bool:
        """An entity F1 below ``SPAN_F1_FLOOR``: near the 0 that tagging nothing scores."""
        return result.main_score < SPAN_F1_FLOOR


FAMILY = register(TokenClassification())
