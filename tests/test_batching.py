"""Length-grouped training batches (every input once an epoch, similar lengths together,
drawn from the seed), what batches are padded to, collators that leave their rows alone,
and a Longformer that finds its inputs already padded computing what it computes alone."""

from __future__ import annotations

import random

import pytest
import torch
from transformers import (
    AutoTokenizer,
    BertConfig,
    LongformerConfig,
    LongformerForTokenClassification,
    TrainingArguments,
)

from benchmark.batching import (
    MEGABATCH,
    LengthGroupedSampler,
    collator_for,
    grouped_batches,
    megabatch,
    padding_multiple,
    padding_record,
    round_up,
)
from benchmark.families import family_for
from benchmark.families.extractive_qa import GLOBAL, QACollator
from benchmark.inference import pad_batch
from benchmark.training import task_trainer


def _lengths(n: int = 203, seed: int = 0) -> list[int]:
    """Short sentences and long documents mixed, as a task's inputs are."""
    draw = random.Random(seed)
    return [draw.choice([draw.randint(5, 40), draw.randint(200, 512)]) for _ in range(n)]


def _padded(lengths: list[int], batches: list[list[int]]) -> int:
    return sum(max(lengths[i] for i in b) * len(b) for b in batches)


def test_an_epoch_holds_every_input_once_in_full_batches_then_the_partial_one():
    lengths = _lengths()
    batches = grouped_batches(lengths, 16, torch.Generator().manual_seed(1))
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert [len(b) for b in batches] == [16] * (len(lengths) // 16) + [len(lengths) % 16]


def test_grouped_batches_pad_far_less_than_random_ones():
    lengths = _lengths(2000)
    grouped = grouped_batches(lengths, 16, torch.Generator().manual_seed(1))
    order = torch.randperm(len(lengths), generator=torch.Generator().manual_seed(1)).tolist()
    shuffled = [order[i : i + 16] for i in range(0, len(order), 16)]
    assert _padded(lengths, grouped) < 0.5 * _padded(lengths, shuffled)
    assert _padded(lengths, grouped) < 1.2 * sum(lengths)


def test_a_small_set_stays_shuffled_in_at_least_four_spans():
    """Sorted whole, a small set would put the same inputs together every epoch; spans of
    at most a quarter of it keep its batches drawn afresh."""
    assert megabatch(2000, 16) == 31 and megabatch(10**5, 16) == MEGABATCH
    assert megabatch(203, 16) == 3 and megabatch(60, 16) == 1
    # lengths 30 % apart, beyond the sorting noise: sorted whole, every epoch's batches agree
    lengths = [int(10 * 1.3**i) for i in range(64)]
    epochs = [LengthGroupedSampler(lengths, 8, seed=0).batches(e) for e in range(3)]
    assert len({frozenset(map(frozenset, batches)) for batches in epochs}) == 3


def test_the_order_follows_the_seed_and_the_epoch():
    sampler = LengthGroupedSampler(_lengths(), 8, seed=3)
    assert sampler.batches(0) == LengthGroupedSampler(_lengths(), 8, seed=3).batches(0)
    assert sampler.batches(0) != sampler.batches(1)
    assert sampler.batches(0) != LengthGroupedSampler(_lengths(), 8, seed=4).batches(0)
    # without set_epoch the epochs count themselves; with it, the loader's epoch decides
    first, second = list(sampler), list(sampler)
    assert first != second and sorted(first) == sorted(second)
    sampler.set_epoch(0)
    assert list(sampler) == first


def test_the_trainer_takes_its_passes_from_the_grouped_order(tmp_path):
    """The Trainer's loader cuts the sampler's order into passes of the physical batch: with
    4 passes of 4 accumulated, a step sees the same 16 inputs as one pass of 16."""
    lengths = _lengths(70)
    rows = [{"id": i, "input_ids": [1] * n} for i, n in enumerate(lengths)]
    sampler = LengthGroupedSampler(lengths, 16, seed=5)
    args = TrainingArguments(
        str(tmp_path),
        per_device_train_batch_size=4,
        gradient_accumulation_steps=4,
        use_cpu=True,
        report_to="none",
        remove_unused_columns=False,
    )
    trainer = task_trainer(sampler)(
        model=torch.nn.Linear(1, 1),
        args=args,
        train_dataset=rows,
        data_collator=lambda batch: {"ids": [row["id"] for row in batch]},
    )
    passes = [batch["ids"] for batch in trainer.get_train_dataloader()]
    steps = [sum(passes[i : i + 4], []) for i in range(0, len(passes), 4)]
    assert steps == sampler.batches(0)


def test_padding_multiples_for_the_device_and_the_model():
    bert = BertConfig()
    assert padding_multiple(bert, "cpu") is None
    assert padding_multiple(bert, "cuda") == 8
    longformer = LongformerConfig(attention_window=[64, 128])
    assert padding_multiple(longformer, "cpu") == 128  # the model pads to its widest window
    assert padding_multiple(LongformerConfig(attention_window=12), "cuda") == 24
    assert round_up(13, None) == 13 and round_up(13, 8) == 16 and round_up(16, 8) == 16


def test_padding_record_counts_the_tokens_batched():
    lengths = [3, 5, 9, 10]
    record = padding_record(lengths, [[0, 1], [2, 3]], 8, fixed=16)
    assert record["tokens"] == 27
    assert record["padded_tokens"] == 8 * 2 + 16 * 2
    assert record["padded_tokens_at_max_length"] == 16 * 4


@pytest.mark.parametrize("task", ["sst2", "conll2003"])
def test_collators_round_their_padding_up_when_asked(task, minilm_tokenizer):
    family = family_for(
        "token_classification" if task == "conll2003" else "sequence_classification"
    )
    rows = [{"input_ids": [101] + [7] * n + [102], "token_type_ids": [0] * (n + 2)} for n in (3, 9)]
    if task == "conll2003":
        rows = [r | {"labels": [-100] + [1] * (len(r["input_ids"]) - 2) + [-100]} for r in rows]
    else:
        rows = [r | {"labels": 1} for r in rows]
    batch = collator_for(family, minilm_tokenizer, 8)(rows)
    assert batch["input_ids"].shape == (2, 16)
    assert batch["attention_mask"][0].tolist() == [1] * 5 + [0] * 11
    if task == "conll2003":
        assert batch["labels"][0, 5:].tolist() == [-100] * 11
    assert collator_for(family, minilm_tokenizer, None)(rows)["input_ids"].shape == (2, 11)


def test_a_family_collator_without_the_option_pads_as_before(minilm_tokenizer):
    class Plain:
        def collator(self, tokenizer):
            return ("plain", tokenizer)

    assert collator_for(Plain(), minilm_tokenizer, 8) == ("plain", minilm_tokenizer)


def test_the_qa_collator_leaves_its_rows_as_they_were(minilm_tokenizer):
    """The same rows make every epoch's batches: a collator that took the global attention
    mask out of them would train every epoch after the first without it."""
    rows = [
        {"input_ids": [101, 7, 102], GLOBAL: [1, 1, 0], "start_positions": 1, "end_positions": 1},
        {"input_ids": [101, 7, 8, 9, 102], GLOBAL: [1, 1, 0, 0, 0]},
    ]
    rows[1] |= {"start_positions": 0, "end_positions": 0}
    kept = [dict(r) for r in rows]
    collate = QACollator(minilm_tokenizer, pad_to_multiple_of=8)
    first, second = collate(rows), collate(rows)
    assert rows == kept
    assert first[GLOBAL].tolist() == second[GLOBAL].tolist() == [[1, 1] + [0] * 6, [1, 1] + [0] * 6]


def test_a_longformer_given_inputs_padded_to_its_window_computes_the_same():
    """Padded once by the batch, to the window, Longformer pads nothing more: the outputs on
    the real tokens are those it computes padding the inputs itself."""
    torch.manual_seed(0)
    config = LongformerConfig(
        vocab_size=100,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        attention_window=8,
        max_position_embeddings=64,
        num_labels=3,
    )
    model = LongformerForTokenClassification(config).eval()
    rows = [{"input_ids": list(range(5, 5 + n))} for n in (5, 11)]
    multiple = padding_multiple(config, "cpu")
    unpadded = pad_batch(rows, config.pad_token_id, torch.device("cpu"))
    padded = pad_batch(rows, config.pad_token_id, torch.device("cpu"), multiple=multiple)
    assert unpadded["input_ids"].shape[1] == 11 and padded["input_ids"].shape[1] == 16
    with torch.inference_mode():
        alone, once = model(**unpadded).logits, model(**padded).logits
    for row, n in enumerate((5, 11)):
        assert torch.allclose(alone[row, :n], once[row, :n], atol=1e-5)


def test_evaluation_rounds_its_batches_as_training_does(monkeypatch, minilm_path):
    """The shared forward loop pads each batch to the model's multiple (here a stand-in
    GPU's 8, on the CPU) and still returns each example cut to its own length."""
    from transformers import AutoModelForTokenClassification

    from benchmark import inference

    seen = []
    real_pad = inference.pad_batch

    def spy(*args, **kwargs):
        batch = real_pad(*args, **kwargs)
        seen.append(batch["input_ids"].shape[1])
        return batch

    monkeypatch.setattr(inference, "pad_batch", spy)
    monkeypatch.setattr(inference, "padding_multiple", lambda config, device: 8)
    tokenizer = AutoTokenizer.from_pretrained(minilm_path)
    model = AutoModelForTokenClassification.from_pretrained(minilm_path, num_labels=3).eval()
    encodings = [dict(tokenizer(text)) for text in ("a b", "a much longer sentence than that")]
    outputs = inference.predict(model, encodings, pad_id=0, batch_size=1, per_token=True)
    assert all(width % 8 == 0 for width in seen)
    assert [o[0].shape[0] for o in outputs] == [len(e["input_ids"]) for e in encodings]


class _FixedLoss(torch.nn.Module):
    """A model whose loss is 1 whatever it reads: what a pass's loss is scaled by shows."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(()))

    def forward(self, input_ids=None, labels=None):
        return {"loss": self.weight * 1.0}


def test_a_token_task_weighs_every_labelled_token_alike(tmp_path):
    """Grouped by length, a pass of short sentences holds few labelled tokens: its mean
    loss is scaled by its tokens over the average pass's, so each token counts the same
    (one label per row, as in sentence classification, is left as it is)."""
    from benchmark.training import IGNORED_LABEL, tokens_per_pass

    rows = [{"input_ids": [1] * 4, "labels": [IGNORED_LABEL, 3, 4, IGNORED_LABEL]}] * 3
    rows += [{"input_ids": [1] * 8, "labels": [IGNORED_LABEL] + [1] * 6 + [IGNORED_LABEL]}]
    assert tokens_per_pass(rows, 2) == (2 * 3 + 6) / 4 * 2
    assert tokens_per_pass([{"input_ids": [1], "labels": 1}], 2) is None
    args = TrainingArguments(str(tmp_path), use_cpu=True, report_to="none")
    model = _FixedLoss()
    trainer = task_trainer(LengthGroupedSampler([4] * 4, 2, 0), tokens_per_pass=6.0)(
        model=model, args=args, train_dataset=rows
    )
    labels = torch.tensor([[IGNORED_LABEL, 3, 4, IGNORED_LABEL], [IGNORED_LABEL, 1, 2, 1]])
    loss = trainer.compute_loss(model, {"input_ids": torch.ones(2, 4), "labels": labels})
    assert loss.item() == pytest.approx(5 / 6)
    one_label = trainer.compute_loss(model, {"input_ids": torch.ones(2, 4), "labels": labels[:, 1]})
    assert one_label.item() == pytest.approx(1.0)
