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

Tokenizers that pad on the left read the context first and the question second, as
transformers' ``run_qa`` example does, and truncate the context either way. Models whose
forward takes a ``global_attention_mask`` (Longformer) get global attention on the question
and the first token, set here from where the question is, instead of the model guessing it
from separator tokens a converted checkpoint need not share.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from transformers import AutoModelForQuestionAnswering, DataCollatorWithPadding

from benchmark.bootstrap import UnitScores, additive, unit_ids
from benchmark.buckets import bucket_column, bucket_scores
from benchmark.errors import BenchError
from benchmark.families import register
from benchmark.families.base import SPAN_F1_FLOOR, EvalOutput, TaskContext
from benchmark.families.qa_examples import qa_examples
from benchmark.inference import predict
from benchmark.metrics import exact_match, normalize_answer, squad_scores, token_f1

N_BEST = 20
MAX_ANSWER_TOKENS = 30
NEGATIVE_WINDOWS_PER_EXAMPLE = 1
QUESTION_BUDGET = 64  # tokens kept for the question when choosing the doc stride
GLOBAL = "global_attention_mask"

Offsets = list  # per token: (start, end) character offsets in the context, or None


@dataclass(frozen=True)
class QAWindow:
    """One window of one example: model inputs, and each token's context offsets."""

    inputs: dict
    example_index: int
    offsets: Offsets


def qa_windows(context: TaskContext, examples, global_attention: bool = False):
    """Overflowing encodings of (question, context), context first for left-padding
    tokenizers, with offsets into the context and the example each window belongs to."""
    tokenizer, max_length = context.tokenizer, context.max_length
    stride = min(context.spec.doc_stride, max(0, (max_length - QUESTION_BUDGET) // 2))
    pad_right = tokenizer.padding_side == "right"
    questions = [e.question.lstrip() for e in examples]
    contexts = [e.context for e in examples]
    encoded = tokenizer(
        questions if pad_right else contexts,
        contexts if pad_right else questions,
        truncation="only_second" if pad_right else "only_first",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    context_id = 1 if pad_right else 0
    keys = [k for k in ("input_ids", "token_type_ids", "attention_mask") if k in encoded]
    windows = []
    for i in range(len(encoded["input_ids"])):
        sequence_ids = encoded.sequence_ids(i)
        offsets = [
            o if s == context_id else None
            for o, s in zip(encoded["offset_mapping"][i], sequence_ids)
        ]
        inputs = {k: encoded[k][i] for k in keys}
        if global_attention:
            inputs[GLOBAL] = [
                int(p == 0 or (s is not None and s != context_id))
                for p, s in enumerate(sequence_ids)
            ]
        windows.append(QAWindow(inputs, encoded["overflow_to_sample_mapping"][i], offsets))
    per_example = np.bincount([w.example_index for w in windows], minlength=len(examples))
    cut = np.array([e.truncated for e in examples], dtype=bool)
    counts = {
        "whole": int(((per_example <= 1) & ~cut).sum()),
        "windowed": int((per_example > 1).sum()),
        "windows": len(windows),
        "truncated": sum(e.truncated for e in examples),
    }
    return windows, counts


def _token_span(offsets: Offsets, start_char: int, length: int) -> tuple[int, int] | None:
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


def _best_span(window_logits, window_offsets: list[Offsets], context: str) -> str:
    """The highest-scoring answer over all windows of one example (see the module's rule).

    Per window, the ``N_BEST`` starts and ends are scored as one matrix; on a tie the
    higher-ranked start, then end, then the earlier window wins."""
    best_score, best = -np.inf, ""
    for (start_logits, end_logits), offsets in zip(window_logits, window_offsets):
        in_context = np.array([o is not None for o in offsets] or [False])
        starts = np.argsort(start_logits)[::-1][:N_BEST]
        ends = np.argsort(end_logits)[::-1][:N_BEST]
        starts, ends = starts[starts < len(offsets)], ends[ends < len(offsets)]
        length = ends[None, :] - starts[:, None] + 1
        valid = (
            in_context[starts][:, None]
            & in_context[ends][None, :]
            & (length >= 1)
            & (length <= MAX_ANSWER_TOKENS)
        )
        if not valid.any():
            continue
        scores = np.where(valid, start_logits[starts][:, None] + end_logits[ends][None, :], -np.inf)
        flat = int(np.argmax(scores))
        if scores.flat[flat] > best_score:
            s, e = starts[flat // len(ends)], ends[flat % len(ends)]
            best_score, best = scores.flat[flat], context[offsets[s][0] : offsets[e][1]]
    return best


class QACollator:
    """Pads like ``DataCollatorWithPadding`` and pads a global attention mask with 0. The
    rows are left as they are: the same rows make every epoch's batches."""

    def __init__(self, tokenizer, pad_to_multiple_of: int | None = None):
        self.pad = DataCollatorWithPadding(tokenizer, pad_to_multiple_of=pad_to_multiple_of)
        self.left = tokenizer.padding_side == "left"

    def __call__(self, rows: list[dict]):
        masks = [row[GLOBAL] for row in rows] if rows and GLOBAL in rows[0] else None
        batch = self.pad([{k: v for k, v in row.items() if k != GLOBAL} for row in rows])
        if masks is not None:  # padded on the same side as the inputs
            import torch

            width = batch["input_ids"].shape[1]
            padding = [[0] * (width - len(m)) for m in masks]
            batch[GLOBAL] = torch.tensor(
                [p + m if self.left else m + p for m, p in zip(masks, padding)]
            )
        return batch


class ExtractiveQA:
    name = "extractive_qa"
    head = AutoModelForQuestionAnswering
    head_suffix = "ForQuestionAnswering"

    def label_names(self, spec, dataset) -> None:
        return None

    def fresh_head(self, label_names) -> dict:
        return {}

    def label_mapping(self, model_labels, label_names, task):
        return {}, "not applicable"

    def collator(self, tokenizer, pad_to_multiple_of: int | None = None):
        return QACollator(tokenizer, pad_to_multiple_of)

    def training_features(self, context, dataset):
        examples = qa_examples(context.spec.qa_layout, dataset)
        windows, counts = qa_windows(context, examples, GLOBAL in context.model_inputs)
        rows, negatives = [], {}
        counts |= {"windows_without_gold_answer": 0, "negative_windows_dropped": 0}
        for window in windows:
            example = examples[window.example_index]
            if example.answer_start is None:
                counts["windows_without_gold_answer"] += 1
                continue
            span = _token_span(window.offsets, example.answer_start, len(example.answer_text))
            if span is None:
                seen = negatives.get(window.example_index, 0) + 1
                negatives[window.example_index] = seen
                if seen > NEGATIVE_WINDOWS_PER_EXAMPLE:
                    counts["negative_windows_dropped"] += 1
                    continue
                span = (0, 0)  # the answer is not in this window: point at the first token
            rows.append({**window.inputs, "start_positions": span[0], "end_positions": span[1]})
        if not rows:
            raise BenchError(
                f"task {context.spec.name}: no training input could be built (no gold answer "
                "was located in any training context)"
            )
        return rows, counts

    def evaluate(self, context, dataset, model, label_map, batch_size, on_batch=None):
        examples = qa_examples(context.spec.qa_layout, dataset)
        windows, counts = qa_windows(context, examples, GLOBAL in context.model_inputs)
        outputs = predict(
            model,
            [w.inputs for w in windows],
            pad_id=context.tokenizer.pad_token_id or 0,
            batch_size=batch_size,
            output_names=("start_logits", "end_logits"),
            per_token=True,
            on_batch=on_batch,
        )
        by_example: dict[int, list[int]] = {}
        for window_index, window in enumerate(windows):
            by_example.setdefault(window.example_index, []).append(window_index)
        predictions = []
        for index, example in enumerate(examples):
            chosen = by_example.get(index, [])
            predictions.append(
                _best_span(
                    [outputs[i] for i in chosen],
                    [windows[i].offsets for i in chosen],
                    example.context,
                )
            )
        metrics = squad_scores(predictions, [e.answers for e in examples])
        records = [
            {"id": e.id, "prediction": p, "reference": list(e.answers)}
            for e, p in zip(examples, predictions)
        ]
        buckets = None
        if context.spec.length_buckets:
            lengths = _full_lengths(context, examples)
            for record, label in zip(records, bucket_column(context.spec.length_buckets, lengths)):
                record["bucket"] = label  # its interval is then drawn from the rows alone
            buckets = bucket_scores(
                context.spec.length_buckets,
                lengths,
                [len(by_example.get(i, [])) > 1 for i in range(len(examples))],
                [e.truncated for e in examples],
                predictions,
                [e.answers for e in examples],
                squad_scores,
                context.spec.main_score,
            )
        return EvalOutput(metrics, records, counts, buckets)

    def rescore(self, spec, rows):
        return squad_scores([r["prediction"] for r in rows], [r["reference"] for r in rows])

    def unit_scores(self, spec, rows) -> UnitScores:
        """One question per unit, with its exact match and F1 (each the best over its gold
        answers): SQuAD's scores are their means. Two answers agree when their normalised
        texts are equal; an answer is right when it matches a gold answer exactly."""
        golds = [r["reference"] for r in rows]
        predicted = [r["prediction"] for r in rows]
        em = np.array(
            [max((exact_match(p, g) for g in gs), default=0.0) for p, gs in zip(predicted, golds)]
        )
        f1 = np.array(
            [max((token_f1(p, g) for g in gs), default=0.0) for p, gs in zip(predicted, golds)]
        )
        column = 0 if spec.main_score == "exact_match" else 1
        stats = np.stack([em, f1, np.ones_like(em)], axis=1)

        def metric(sums: np.ndarray) -> np.ndarray:
            return 100 * sums[:, column] / np.where(sums[:, 2] > 0, sums[:, 2], np.nan)

        answers = [normalize_answer(p) for p in predicted]
        return UnitScores("question", unit_ids(rows), additive(stats, metric), answers, em == 1)

    def near_chance(self, result) -> bool:
        """An answer F1 below ``SPAN_F1_FLOOR``: near the 0 that answering nothing scores."""
        return result.main_score < SPAN_F1_FLOOR


def _full_lengths(context: TaskContext, examples) -> list[int]:
    """Each (question, context) pair's length in tokens, special tokens included, read
    whole: the length the buckets are about, whatever the model's limit."""
    encoded = context.tokenizer(
        [e.question.lstrip() for e in examples],
        [e.context for e in examples],
        truncation=False,
        verbose=False,
        return_attention_mask=False,
        return_token_type_ids=False,
    )
    return [len(ids) for ids in encoded["input_ids"]]


FAMILY = register(ExtractiveQA())
