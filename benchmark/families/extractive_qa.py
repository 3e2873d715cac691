"""Extractive QA (SQuAD, HotpotQA, TriviaQA): the answer is a span of the context.

A context longer than the model's input is read in overlapping windows (``doc_stride``
tokens shared, transformers' overflowing tokenization). Merge rule: the answer is the
highest-scoring span (start logit + end logit) over all windows of the example, among the
20 best starts and ends of each window, with the end not before the start, both inside the
context, and at most 30 tokens long.

Training reads every window that holds the gold span, and only the first
``NEGATIVE_WINDOWS_PER_EXAMPLE`` windows that do not (their target is the first token). A
4,096-word TriviaQA context makes dozens of windows for a 512-token model, nearly all
without the answer; keeping them all would multiply the cost of fine-tuning many times
over for little signal. When the context fits one window nothing is dropped; the counts
of kept and dropped windows go into the result.
"""

from __future__ import annotations

import numpy as np
from transformers import AutoModelForQuestionAnswering, DataCollatorWithPadding

from benchmark.families import EvalOutput
from benchmark.families.qa_examples import qa_examples
from benchmark.inference import predict
from benchmark.metrics import squad_scores

HEAD = AutoModelForQuestionAnswering
N_BEST = 20
MAX_ANSWER_TOKENS = 30
NEGATIVE_WINDOWS_PER_EXAMPLE = 1


def collator(tokenizer):
    return DataCollatorWithPadding(tokenizer)


def _windows(spec, examples, tokenizer, max_length: int):
    """Overflowing encodings of (question, context) with offsets and example indices."""
    question_budget = 64
    stride = min(spec.doc_stride, max(0, (max_length - question_budget) // 2))
    pad_right = tokenizer.padding_side == "right"
    encoded = tokenizer(
        [e.question.lstrip() for e in examples],
        [e.context for e in examples],
        truncation="only_second" if pad_right else "only_first",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in encoded]
    windows = []
    for i in range(len(encoded["input_ids"])):
        sequence_ids = encoded.sequence_ids(i)
        offsets = [
            o if s == 1 else None for o, s in zip(encoded["offset_mapping"][i], sequence_ids)
        ]
        windows.append(
            ({k: encoded[k][i] for k in keys}, encoded["overflow_to_sample_mapping"][i], offsets)
        )
    per_example = np.bincount([w[1] for w in windows], minlength=len(examples))
    counts = {
        "windowed": int((per_example > 1).sum()),
        "windows": len(windows),
        "truncated": sum(e.truncated for e in examples),
    }
    return windows, counts


def training_features(spec, dataset, tokenizer, max_length, label_names):
    examples = qa_examples(spec.qa_layout, dataset)
    windows, counts = _windows(spec, examples, tokenizer, max_length)
    rows, negatives = [], {}
    counts |= {"windows_without_gold_answer": 0, "negative_windows_dropped": 0}
    for inputs, example_index, offsets in windows:
        example = examples[example_index]
        if example.answer_start is None:
            counts["windows_without_gold_answer"] += 1
            continue
        span = _token_span(offsets, example.answer_start, len(example.answer_text))
        if span is None:
            negatives[example_index] = negatives.get(example_index, 0) + 1
            if negatives[example_index] > NEGATIVE_WINDOWS_PER_EXAMPLE:
                counts["negative_windows_dropped"] += 1
                continue
            span = (0, 0)  # the answer is not in this window: point at the first token
        rows.append({**inputs, "start_positions": span[0], "end_positions": span[1]})
    return rows, counts


def _token_span(offsets, start_char: int, length: int) -> tuple[int, int] | None:
    """First and last token of the characters ``[start_char, start_char + length)``, or
    None when this window's context does not hold all of them."""
    end_char = start_char + length
    positions = [p for p, o in enumerate(offsets) if o is not None]
    if (
        not positions
        or offsets[positions[0]][0] > start_char
        or offsets[positions[-1]][1] < end_char
    ):
        return None
    start = next(p for p in positions if offsets[p][1] > start_char)
    end = next(p for p in reversed(positions) if offsets[p][0] < end_char)
    return start, end


def _best_span(window_outputs, windows, context: str) -> str:
    best_score, best = -np.inf, ""
    for (start_logits, end_logits), (_, _, offsets) in zip(window_outputs, windows):
        starts = np.argsort(start_logits)[::-1][:N_BEST]
        ends = np.argsort(end_logits)[::-1][:N_BEST]
        for s in starts:
            if s >= len(offsets) or offsets[s] is None:
                continue
            for e in ends:
                if (
                    e < s
                    or e >= len(offsets)
                    or offsets[e] is None
                    or e - s + 1 > MAX_ANSWER_TOKENS
                ):
                    continue
                score = start_logits[s] + end_logits[e]
                if score > best_score:
                    best_score, best = score, context[offsets[s][0] : offsets[e][1]]
    return best


def evaluate(
    spec, dataset, model, tokenizer, max_length, batch_size, label_names, label_map, on_batch=None
):
    examples = qa_examples(spec.qa_layout, dataset)
    windows, counts = _windows(spec, examples, tokenizer, max_length)
    outputs = predict(
        model,
        [w[0] for w in windows],
        pad_id=tokenizer.pad_token_id or 0,
        batch_size=batch_size,
        output_names=("start_logits", "end_logits"),
        per_token=True,
        on_batch=on_batch,
    )
    by_example: dict[int, list[int]] = {}
    for window_index, window in enumerate(windows):
        by_example.setdefault(window[1], []).append(window_index)
    predictions = []
    for index, example in enumerate(examples):
        chosen = by_example.get(index, [])
        predictions.append(
            _best_span([outputs[i] for i in chosen], [windows[i] for i in chosen], example.context)
        )
    metrics = squad_scores(predictions, [e.answers for e in examples])
    records = [
        {"id": e.id, "prediction": p, "reference": list(e.answers)}
        for e, p in zip(examples, predictions)
    ]
    return EvalOutput(metrics, records, counts)
