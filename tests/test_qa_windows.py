"""Extractive QA's span logic on hand-made offsets, and windows for tokenizers that pad on
the left (context first, context truncated, as transformers' run_qa does)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmark.families.base import TaskContext
from benchmark.families.extractive_qa import GLOBAL, _best_span, _token_span, qa_windows
from benchmark.families.qa_examples import QAExample
from benchmark.tasks import TASKS

# Context "the cat sat": tokens [CLS] what ? [SEP] the cat sat [SEP]; only context tokens
# carry offsets.
CONTEXT = "the cat sat"
OFFSETS = [None, None, None, None, (0, 3), (4, 7), (8, 11), None]


@pytest.mark.parametrize(
    ("start", "length", "span"),
    [
        (4, 3, (5, 5)),  # "cat"
        (0, 11, (4, 6)),  # the whole context
        (5, 2, (5, 5)),  # "at" lies inside token "cat"
        (4, 7, (5, 6)),  # "cat sat"
    ],
)
def test_token_span_finds_the_tokens_covering_the_answer(start, length, span):
    assert _token_span(OFFSETS, start, length) == span


def test_token_span_is_none_when_the_window_does_not_hold_the_whole_answer():
    window = [None, None, (4, 7), (8, 11), None]  # a later window: "cat sat"
    assert _token_span(window, 0, 3) is None  # "the" began before the window
    assert _token_span(window, 4, 3) == (2, 2)
    assert _token_span([None, None], 0, 1) is None  # no context at all


def test_best_span_takes_the_highest_start_plus_end_over_windows():
    low = np.full(8, -10.0)
    # Window 1: best valid pair is "cat" (5, 5) scoring 2 + 2 = 4; the question token 1
    # scores higher but is not context, and (6, 5) ends before it starts.
    start1, end1 = low.copy(), low.copy()
    start1[[1, 5, 6]] = [9.0, 2.0, 1.0]
    end1[[1, 5]] = [9.0, 2.0]
    # Window 2 (offsets shifted): "sat" (6, 6) scores 3 + 3 = 6, the best overall.
    start2, end2 = low.copy(), low.copy()
    start2[6], end2[6] = 3.0, 3.0
    assert _best_span([(start1, end1)], [OFFSETS], CONTEXT) == "cat"
    assert _best_span([(start1, end1), (start2, end2)], [OFFSETS, OFFSETS], CONTEXT) == "sat"


def test_best_span_respects_the_longest_answer():
    offsets = [None] + [(i, i + 1) for i in range(40)] + [None]
    context = "x" * 40
    start, end = np.zeros(42), np.zeros(42)
    start[1], end[40] = 10.0, 10.0  # 40 tokens: longer than the 30-token cap
    end[30] = 5.0  # tokens 1..30: exactly 30
    assert _best_span([(start, end)], [offsets], context) == "x" * 30


def _example(question: str, context: str, answer: str) -> QAExample:
    start = context.index(answer)
    return QAExample("q1", question, context, (answer,), start, answer)


@pytest.mark.parametrize("side", ["right", "left"])
def test_windows_put_the_question_where_the_padding_side_wants_it(minilm_tokenizer, side):
    from copy import deepcopy

    tokenizer = deepcopy(minilm_tokenizer)
    tokenizer.padding_side = side
    context = " ".join(f"word{i}" for i in range(300)) + " the answer is Paris ."
    example = _example("Where is it?", context, "Paris")
    spec = TASKS["squad"]
    windows, counts = qa_windows(TaskContext(spec, tokenizer, 96, None), [example], True)
    assert counts["windowed"] == 1 and counts["windows"] == len(windows) > 1
    question_ids = tokenizer("Where is it?", add_special_tokens=False)["input_ids"]
    n = len(question_ids)
    for window in windows:
        ids = window.inputs["input_ids"]
        assert len(ids) <= 96
        # the whole question in every window: right after [CLS] when padding on the right,
        # just before the final [SEP] when padding on the left
        where = (
            list(range(1, 1 + n))
            if side == "right"
            else list(range(len(ids) - 1 - n, len(ids) - 1))
        )
        assert [ids[p] for p in where] == question_ids
        # global attention: exactly the first token and the question's tokens
        marked = [p for p, g in enumerate(window.inputs[GLOBAL]) if g]
        assert marked == sorted({0, *where})
        assert all(window.offsets[p] is None for p in marked)
    found = [_token_span(w.offsets, example.answer_start, 5) for w in windows]
    located = [(w, s) for w, s in zip(windows, found) if s is not None]
    assert located, "the answer is in some window"
    window, (first, last) = located[-1]
    start_char, end_char = window.offsets[first][0], window.offsets[last][1]
    assert context[start_char:end_char] == "Paris"


def _best_span_by_loops(window_logits, window_offsets, context):
    """The merge rule written as plain loops over the 20 best starts and ends."""
    best_score, best = -np.inf, ""
    for (start_logits, end_logits), offsets in zip(window_logits, window_offsets):
        for s in np.argsort(start_logits)[::-1][:20]:
            for e in np.argsort(end_logits)[::-1][:20]:
                if offsets[s] is None or offsets[e] is None or not 0 <= e - s < 30:
                    continue
                if start_logits[s] + end_logits[e] > best_score:
                    best_score = start_logits[s] + end_logits[e]
                    best = context[offsets[s][0] : offsets[e][1]]
    return best


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 3), st.integers(2, 60))
def test_best_span_equals_the_rule_written_as_loops(seed, n_windows, length):
    rng = np.random.default_rng(seed)
    context = "".join(rng.choice(list("abc ")) for _ in range(length * 3))
    windows, offsets = [], []
    for _ in range(n_windows):
        question = int(rng.integers(0, min(5, length)))  # leading non-context tokens
        offsets.append([None] * question + [(i, i + 1) for i in range(length - question)])
        # few distinct values, so ties happen and their order matters
        logits = rng.integers(-3, 4, size=(2, length)).astype(np.float32)
        windows.append((logits[0], logits[1]))
    assert _best_span(windows, offsets, context) == _best_span_by_loops(windows, offsets, context)
