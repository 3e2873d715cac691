"""Masking for masked-language-model training (BERT's and DistilBERT's rule: 15 % of the
real tokens chosen; of those 80 % become [MASK], 10 % a random token, 10 % stay).

The choice is drawn from a generator seeded by (seed, epoch, row index), not from the
process's random state, so a row is masked the same way whichever process of a
distributed run reads it: a run on two processes sees the same masked batches as a run on
one, which is what lets the tests compare them. Rows change masks from epoch to epoch
(dynamic masking, as RoBERTa does).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class MaskingCollator:
    """Pads rows of ``input_ids`` (and ``index``) into a batch with ``attention_mask`` and
    MLM ``labels`` (-100 where nothing is predicted)."""

    pad_token_id: int
    mask_token_id: int
    vocab_size: int
    special_ids: frozenset[int]
    probability: float = 0.15
    seed: int = 0
    epoch: int = 0

    @classmethod
    def for_tokenizer(cls, tokenizer, probability: float = 0.15, seed: int = 0):
        if tokenizer.mask_token_id is None:
            raise ValueError("the tokenizer has no mask token: it cannot train a masked LM")
        return cls(
            pad_token_id=tokenizer.pad_token_id,
            mask_token_id=tokenizer.mask_token_id,
            vocab_size=len(tokenizer),
            special_ids=frozenset(tokenizer.all_special_ids),
            probability=probability,
            seed=seed,
        )

    def mask_row(self, ids: list[int], index: int) -> tuple[list[int], list[int]]:
        """One row's masked input and labels, the same for the same (seed, epoch, index)."""
        generator = torch.Generator().manual_seed(
            (self.seed * 1_000_003 + self.epoch) * 1_000_033 + index
        )
        tokens = torch.tensor(ids)
        maskable = torch.tensor([i not in self.special_ids for i in ids])
        chosen = (torch.rand(len(ids), generator=generator) < self.probability) & maskable
        labels = torch.where(chosen, tokens, torch.full_like(tokens, -100))
        roll = torch.rand(len(ids), generator=generator)
        random_ids = torch.randint(self.vocab_size, (len(ids),), generator=generator)
        masked = tokens.clone()
        masked[chosen & (roll < 0.8)] = self.mask_token_id
        swap = chosen & (roll >= 0.8) & (roll < 0.9)
        masked[swap] = random_ids[swap]
        return masked.tolist(), labels.tolist()

    def __call__(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        width = max(len(row["input_ids"]) for row in rows)
        batch = {
            "input_ids": torch.full((len(rows), width), self.pad_token_id),
            "attention_mask": torch.zeros((len(rows), width), dtype=torch.long),
            "labels": torch.full((len(rows), width), -100),
        }
        for n, row in enumerate(rows):
            ids, labels = self.mask_row(row["input_ids"], row["index"])
            batch["input_ids"][n, : len(ids)] = torch.tensor(ids)
            batch["attention_mask"][n, : len(ids)] = 1
            batch["labels"][n, : len(ids)] = torch.tensor(labels)
        return batch
