"""How training inputs become batches: grouped by length, padded once, to a shape the
device runs well.

Padding every batch to its longest input wastes little when the inputs in a batch have
similar lengths, and most of the time when a short sentence shares a batch with a long one.
:class:`LengthGroupedSampler` orders an epoch so that each optimiser step's batch holds
inputs of similar length while every input is still seen once per epoch, in an order
drawn from the run's seed:

* the epoch's inputs are shuffled and cut into mega-batches of ``MEGABATCH`` batches;
* within a mega-batch they are sorted by length, each length first scaled by a random
  factor within ``1 ± LENGTH_NOISE`` so that inputs of nearly the same length do not always
  share a batch (the "padding noise" of bucketing iterators);
* the sorted mega-batch is cut into batches, and the full batches of the whole epoch are
  shuffled; a last, partial batch stays last, as it does without grouping.

The grouping is by the run's batch (one optimiser step, over every process and every
accumulated pass), so splitting that batch into smaller passes (``--batch-size auto``) or
over processes leaves the inputs each step sees as they were.

Each batch is padded to its longest input, rounded up (:func:`padding_multiple`) to a
multiple of 8 on a GPU (tensor cores work on tiles of 8) and, for Longformer, which pads
every input to a multiple of its attention window itself, to that multiple: the model then
finds nothing to pad, so inputs are padded once. The logits and the loss are the same
either way; the gradients differ by float rounding (about 1e-8), which over a fine-tuning
run on a small set can move a score by a point for the same seed, as any change in the
order of float sums does. (BigBird pads only long inputs in block-sparse mode and turns
to full attention, unpadded, below about 700 tokens, so it is left to decide for itself.)
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterator, Sequence

import torch
from torch.utils.data import Sampler

MEGABATCH = 50  # batches per mega-batch at most: the span within which lengths are sorted
MIN_MEGABATCHES = 4  # mega-batches an epoch at least, where there are inputs enough
LENGTH_NOISE = 0.1  # lengths are scaled by a factor in [1 - noise, 1 + noise] before sorting
GPU_MULTIPLE = 8


def grouped_batches(
    lengths: Sequence[int], batch_size: int, generator: torch.Generator
) -> list[list[int]]:
    """One epoch's batches of indices into ``lengths`` (module docstring): full batches of
    similar lengths in a random order, then the partial batch, if any."""
    n = len(lengths)
    order = torch.randperm(n, generator=generator).tolist()
    noise = (1 + LENGTH_NOISE * (2 * torch.rand(n, generator=generator) - 1)).tolist()
    span = megabatch(n, batch_size) * batch_size
    batches: list[list[int]] = []
    for start in range(0, n, span):
        chunk = sorted(order[start : start + span], key=lambda i: lengths[i] * noise[i])
        batches += [chunk[j : j + batch_size] for j in range(0, len(chunk), batch_size)]
    partial = [b for b in batches if len(b) < batch_size]
    full = [b for b in batches if len(b) == batch_size]
    shuffled = [full[i] for i in torch.randperm(len(full), generator=generator).tolist()]
    return shuffled + partial


def megabatch(n: int, batch_size: int) -> int:
    """Batches per mega-batch: :data:`MEGABATCH`, or fewer so that an epoch holds at least
    :data:`MIN_MEGABATCHES` of them (a small set stays shuffled, not sorted whole)."""
    return max(1, min(MEGABATCH, n // (MIN_MEGABATCHES * batch_size)))


class LengthGroupedSampler(Sampler[int]):
    """Indices of an epoch in length-grouped batches of ``batch_size`` (module docstring),
    drawn from ``seed`` and the epoch: the same on every process, so data-parallel
    processes agree on each step's inputs. The Trainer cuts the stream into its passes."""

    def __init__(self, lengths: Sequence[int], batch_size: int, seed: int):
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Called by the data loader at each epoch; without it epochs count themselves."""
        self.epoch = epoch

    def batches(self, epoch: int) -> list[list[int]]:
        generator = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
        return grouped_batches(self.lengths, self.batch_size, generator)

    def __iter__(self) -> Iterator[int]:
        epoch = self.epoch
        self.epoch += 1
        return iter([i for batch in self.batches(epoch) for i in batch])

    def __len__(self) -> int:
        return len(self.lengths)


def padding_multiple(model_config, device_type: str) -> int | None:
    """What batches are padded to a multiple of (module docstring); None: no rounding."""
    multiples = [GPU_MULTIPLE] if device_type == "cuda" else []
    window = getattr(model_config, "attention_window", None)
    if window:  # Longformer (one window per layer, or one for all)
        multiples.append(max(window) if isinstance(window, (list, tuple)) else int(window))
    return math.lcm(*multiples) if multiples else None


def round_up(length: int, multiple: int | None) -> int:
    return length if not multiple else -(-length // multiple) * multiple


def collator_for(family, tokenizer, multiple: int | None) -> Callable:
    """The family's collator, asked to pad to ``multiple`` where it takes that option (a
    family written without it pads to the longest input)."""
    if multiple and "pad_to_multiple_of" in inspect.signature(family.collator).parameters:
        return family.collator(tokenizer, pad_to_multiple_of=multiple)
    return family.collator(tokenizer)


def padding_record(
    lengths: Sequence[int],
    batches: list[list[int]] | None,
    multiple: int | None,
    fixed: int | None,
) -> dict:
    """Tokens an epoch's batches hold: the inputs' own and, for ``batches`` grouped here
    (None: the Trainer's random batches, not known in advance), as padded; with ``fixed``,
    also as every input padded to that length would hold them."""
    record = {
        "batching": "length-grouped" if batches is not None else "random",
        "pad_to_multiple_of": multiple,
        "tokens": sum(lengths),
    }
    if batches is not None:
        record["padded_tokens"] = sum(
            round_up(max(lengths[i] for i in b), multiple) * len(b) for b in batches
        )
    if fixed:
        record["padded_tokens_at_max_length"] = round_up(fixed, multiple) * len(lengths)
    return record
