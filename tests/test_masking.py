"""Masking as BERT and DistilBERT do it (15 %, then 80/10/10), the same for a row whichever
process reads it, and new each epoch."""

from __future__ import annotations

from baselines.masking import MaskingCollator


def _collator(**kw) -> MaskingCollator:
    return MaskingCollator(
        pad_token_id=0,
        mask_token_id=4,
        vocab_size=1000,
        special_ids=frozenset({0, 1, 2, 3, 4}),
        **kw,
    )


def test_masking_rule_and_proportions_on_a_long_row():
    row = [1] + list(range(10, 20_010)) + [2]
    ids, labels = _collator().mask_row(row, index=0)
    chosen = [i for i, label in enumerate(labels) if label != -100]
    assert 0.14 < len(chosen) / 20_000 < 0.16
    assert labels[0] == labels[-1] == -100  # [CLS]/[SEP] are never chosen
    assert all(labels[i] == row[i] for i in chosen)
    masked = sum(ids[i] == 4 for i in chosen) / len(chosen)
    kept = sum(ids[i] == row[i] for i in chosen) / len(chosen)
    assert 0.77 < masked < 0.83 and 0.08 < kept < 0.12
    unchosen = set(range(len(row))) - set(chosen)
    assert all(ids[i] == row[i] for i in unchosen)


def test_same_row_same_mask_across_collators_new_mask_next_epoch():
    row = list(range(10, 200))
    first = _collator(seed=7).mask_row(row, index=5)
    assert _collator(seed=7).mask_row(row, index=5) == first
    assert _collator(seed=7).mask_row(row, index=6) != first
    assert _collator(seed=7, epoch=1).mask_row(row, index=5) != first


def test_batch_is_padded_with_an_attention_mask_and_no_labels_on_padding():
    batch = _collator()(
        [{"input_ids": [1, 10, 11, 2], "index": 0}, {"input_ids": [1, 12, 2], "index": 1}]
    )
    assert batch["input_ids"].shape == (2, 4)
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1], [1, 1, 1, 0]]
    assert batch["input_ids"][1, 3] == 0 and batch["labels"][1, 3] == -100
