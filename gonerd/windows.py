"""Cutting long documents into overlapping windows of whole words, and merging back.

A model shorter than a document reads it in windows of at most ``max_length`` subword
tokens (special tokens included). Windows never split a word, so every word's label is
predicted from a window that holds all of it; consecutive windows share at most ``stride``
subword tokens, in the sense of ``stride`` in transformers' overflowing tokenization.

Merge rule: each word takes its label from the window in which it is most central, that is
the window maximising the distance, in words, from the word to the nearer window edge; on a
tie the earlier window wins. Words near a window's edge see the least context, so this
keeps, for each word, the prediction made with the most context on both sides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

Label = TypeVar("Label")


@dataclass(frozen=True)
class Window:
    """Words ``[word_start, word_end)`` of a document, ``n_tokens`` subwords with specials."""

    word_start: int
    word_end: int
    n_tokens: int

    @property
    def n_words(self) -> int:
        return self.word_end - self.word_start


def word_token_counts(words: Sequence[str], tokenizer) -> list[int]:
    """How many subword tokens each word becomes (no special tokens)."""
    if not words:
        return []
    if getattr(tokenizer, "is_fast", False):
        encoding = tokenizer(
            list(words), is_split_into_words=True, add_special_tokens=False, verbose=False
        )
        counts = [0] * len(words)
        for word_id in encoding.word_ids():
            if word_id is not None:
                counts[word_id] += 1
        return counts
    return [len(tokenizer.tokenize(word)) for word in words]


def window_words(
    token_counts: Sequence[int], budget: int, stride: int, n_special: int = 0
) -> list[Window]:
    """Windows over words with the given subword counts, each at most ``budget`` subwords
    of content, consecutive windows sharing at most ``stride`` of them.

    A single word longer than the whole budget gets a window of its own and is truncated to
    the budget when tokenized (its first subword, which carries its label, is kept).
    """
    if budget < 1:
        raise ValueError(f"the window budget must be at least 1 token, got {budget}")
    if not 0 <= stride < budget:
        raise ValueError(f"stride must be in [0, {budget}) for this budget, got {stride}")
    windows: list[Window] = []
    n_words = len(token_counts)
    start = 0
    while start < n_words:
        end, used = start, 0
        while end < n_words and used + token_counts[end] <= budget:
            used += token_counts[end]
            end += 1
        if end == start:  # one word longer than the budget
            end, used = start + 1, budget
        windows.append(Window(start, end, used + n_special))
        if end == n_words:
            break
        next_start, overlap = end, 0
        while next_start - 1 > start and overlap + token_counts[next_start - 1] <= stride:
            overlap += token_counts[next_start - 1]
            next_start -= 1
        start = next_start
    return windows


def window_document(words: Sequence[str], tokenizer, max_length: int, stride: int) -> list[Window]:
    """Windows of at most ``max_length`` tokens for ``tokenizer``, special tokens included."""
    n_special = tokenizer.num_special_tokens_to_add(pair=False)
    return window_words(
        word_token_counts(words, tokenizer), max_length - n_special, stride, n_special
    )


def merge_window_predictions(
    n_words: int, windows: Sequence[Window], predictions: Sequence[Sequence[Label]]
) -> list[Label]:
    """One label per document word from per-window labels (see the module's merge rule)."""
    if len(windows) != len(predictions):
        raise ValueError(f"{len(windows)} windows but {len(predictions)} prediction lists")
    best: list[tuple[int, Label] | None] = [None] * n_words
    for window, labels in zip(windows, predictions):
        if len(labels) != window.n_words:
            raise ValueError(
                f"window {window.word_start}-{window.word_end} has {window.n_words} words "
                f"but {len(labels)} predictions"
            )
        for offset, label in enumerate(labels):
            word = window.word_start + offset
            centrality = min(offset, window.n_words - 1 - offset)
            current = best[word]
            if current is None or centrality > current[0]:
                best[word] = (centrality, label)
    missing = [i for i, entry in enumerate(best) if entry is None]
    if missing:
        raise ValueError(f"{len(missing)} words are in no window (first: word {missing[0]})")
    return [entry[1] for entry in best]  # type: ignore[index]
