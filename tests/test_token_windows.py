"""Token-classification windows are slices of one tokenisation of the whole document:
exactly what tokenising each window's words alone gives, for WordPiece (BERT) and
byte-level BPE (RoBERTa) tokenizers, with each word's first subword located."""

from __future__ import annotations

import pytest

from benchmark.families.base import TaskContext
from benchmark.families.token_classification import windows_for
from benchmark.task_data import load_task_split
from benchmark.tasks import TASKS
from gonerd import window_document


@pytest.fixture(scope="module")
def roberta_tokenizer(bpe_tokenizer_dir):
    """The byte-level BPE tokenizer as `bench run` reads words with it."""
    from transformers import AutoTokenizer

    from benchmark.models import word_tokenizer

    return word_tokenizer(AutoTokenizer.from_pretrained(bpe_tokenizer_dir), str(bpe_tokenizer_dir))


def test_words_get_the_prefix_space_they_have_in_running_text(bpe_tokenizer_dir, minilm_path):
    from transformers import AutoTokenizer

    from benchmark.models import word_tokenizer

    shipped = AutoTokenizer.from_pretrained(bpe_tokenizer_dir)
    words = ["the", "world", "turned"]
    glued = shipped(words, is_split_into_words=True, add_special_tokens=False)["input_ids"]
    running = shipped(" ".join(words), add_special_tokens=False)["input_ids"]
    assert glued != running  # as shipped, pre-split words lose their space markers
    reader = word_tokenizer(shipped, str(bpe_tokenizer_dir))
    split = reader(words, is_split_into_words=True, add_special_tokens=False)["input_ids"]
    # every word after the first reads exactly as in running text
    assert split[-len(running) + 1 :] == running[1:] and reader is not shipped
    bert = AutoTokenizer.from_pretrained(minilm_path)
    assert word_tokenizer(bert, str(minilm_path)) is bert  # WordPiece needs nothing


@pytest.mark.parametrize("which", ["bert", "roberta"])
@pytest.mark.parametrize("max_length", [24, 64, 512])
def test_sliced_windows_equal_windows_tokenised_alone(
    which, max_length, minilm_tokenizer, roberta_tokenizer
):
    tokenizer = minilm_tokenizer if which == "bert" else roberta_tokenizer
    spec = TASKS["gonerd"]
    documents = list(load_task_split(spec, "test", "bundled")[0]["tokens"])
    documents.append([])  # an empty document has no window
    items, counts = windows_for(TaskContext(spec, tokenizer, max_length, None), documents)
    stride = min(spec.doc_stride, max(0, (max_length - 2) // 2))
    expected = [
        (index, window)
        for index, words in enumerate(documents)
        for window in window_document(words, tokenizer, max_length, stride)
    ]
    assert [(i.doc_index, i.window) for i in items] == expected
    assert counts["windows"] == len(expected)
    for item in items:
        words = documents[item.doc_index][item.window.word_start : item.window.word_end]
        alone = tokenizer(words, is_split_into_words=True, truncation=True, max_length=max_length)
        assert item.inputs["input_ids"] == alone["input_ids"]
        if "token_type_ids" in alone:
            assert item.inputs["token_type_ids"] == alone["token_type_ids"]
        word_ids = alone.word_ids()
        firsts = [word_ids.index(k) if k in word_ids else -1 for k in range(len(words))]
        assert item.first_positions == firsts
