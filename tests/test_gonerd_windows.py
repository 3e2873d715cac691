"""Windows respect the token limit, never split a word, and merge back to one label per word."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gonerd import Window, load_dataset, merge_window_predictions, window_document, window_words


@st.composite
def documents_and_windowing(draw):
    counts = draw(st.lists(st.integers(min_value=0, max_value=12), min_size=0, max_size=300))
    budget = draw(st.integers(min_value=1, max_value=64))
    stride = draw(st.integers(min_value=0, max_value=budget - 1))
    return counts, budget, stride


@given(documents_and_windowing())
def test_windows_cover_the_document_in_order_within_budget(case):
    counts, budget, stride = case
    windows = window_words(counts, budget, stride, n_special=2)
    if not counts:
        assert windows == []
        return
    assert windows[0].word_start == 0 and windows[-1].word_end == len(counts)
    for window in windows:
        content = sum(counts[window.word_start : window.word_end])
        assert window.n_words >= 1
        # Only a single word longer than the budget may exceed it, and it is cut to budget.
        assert content <= budget or window.n_words == 1
        assert window.n_tokens == min(content, budget) + 2
    for before, after in zip(windows, windows[1:]):
        assert before.word_start < after.word_start <= before.word_end  # progress, no gap
        shared = sum(counts[after.word_start : before.word_end])
        assert shared <= stride


@given(documents_and_windowing(), st.randoms(use_true_random=False))
def test_merge_gives_exactly_one_label_per_word_from_a_window_holding_it(case, rng):
    counts, budget, stride = case
    windows = window_words(counts, budget, stride)
    predictions = [[(k, rng.random()) for _ in range(w.n_words)] for k, w in enumerate(windows)]
    merged = merge_window_predictions(len(counts), windows, predictions)
    assert len(merged) == len(counts)
    for word, (window_index, value) in enumerate(merged):
        window = windows[window_index]
        assert window.word_start <= word < window.word_end
        assert predictions[window_index][word - window.word_start] == (window_index, value)


def test_merge_takes_the_window_where_the_word_is_most_central():
    windows = window_words([1] * 10, budget=6, stride=3)
    assert [(w.word_start, w.word_end) for w in windows] == [(0, 6), (3, 9), (6, 10)]
    merged = merge_window_predictions(10, windows, [[k] * w.n_words for k, w in enumerate(windows)])
    # word 4: 4 from window 0's edge... distances min(4,1)=1 in w0, min(1,4)=1 in w1: tie -> w0
    # word 5: min(5,0)=0 in w0, min(2,3)=2 in w1 -> w1; word 6: w1 (3 vs 0)
    assert merged == [0, 0, 0, 0, 0, 1, 1, 1, 2, 2]


def test_bad_window_settings_are_refused():
    with pytest.raises(ValueError, match="stride"):
        window_words([1, 2], budget=4, stride=4)
    with pytest.raises(ValueError, match="prediction"):
        merge_window_predictions(2, window_words([1, 1], 4, 1), [])


def test_windows_of_a_real_document_fit_the_tokenizer_exactly(minilm_tokenizer):
    doc = load_dataset("gonerd", "sample", split="test")[0]
    words = doc["tokens"]
    windows = window_document(words, minilm_tokenizer, max_length=128, stride=32)
    assert len(windows) > 10
    for window in windows:
        encoding = minilm_tokenizer(
            words[window.word_start : window.word_end], is_split_into_words=True
        )
        assert len(encoding["input_ids"]) == window.n_tokens <= 128


def test_windowed_config_rows_merge_back_to_the_document_tags(minilm_path, cache_dir):
    documents = load_dataset("gonerd", "sample", split="validation")
    windows = load_dataset(
        "gonerd",
        "sample-windowed",
        split="validation",
        tokenizer=str(minilm_path),
        max_length=256,
        stride=64,
        cache_dir=cache_dir,
    )
    assert max(windows["n_subword_tokens"]) <= 256
    for document in documents:
        rows = [r for r in windows if r["document_id"] == document["id"]]
        spans = [
            Window(r["word_start"], r["word_start"] + len(r["tokens"]), r["n_subword_tokens"])
            for r in rows
        ]
        merged = merge_window_predictions(
            len(document["tokens"]), spans, [r["ner_tags"] for r in rows]
        )
        assert merged == document["ner_tags"]
    assert windows.num_rows > documents.num_rows
