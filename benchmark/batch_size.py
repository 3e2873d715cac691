"""``--batch-size auto``: the largest batch a GPU holds for the task's longest input, with
the recipe's batch kept through gradient accumulation.

The recipe's batch is what one optimiser step sees, so it stays; what ``auto`` chooses is
how many inputs each forward and backward pass takes (the physical batch), a divisor of
the batch each process takes per step, and how many passes are accumulated into a step.
The optimiser steps, the warm-up and the inputs each step sees are those of the recipe.
The largest divisor that fits is found by trying a forward and backward pass on copies of
the longest training input (memory grows with the batch, so the divisors are bisected),
with room left for the optimiser's state, which the trial does not allocate. On a CPU there
is nothing to fit: the physical batch is the recipe's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from benchmark.errors import BenchError

MEMORY_SHARE = 0.9  # of the device's memory a batch and the optimiser state may take
ADAMW_BYTES_PER_PARAMETER = 8  # two float32 moments per trained weight


@dataclass(frozen=True)
class BatchPlan:
    """One optimiser step's batch and how it is split: ``physical`` inputs per pass in each
    process, ``accumulation`` passes per step (``physical x accumulation x processes`` is
    the recipe's ``batch_size``)."""

    batch_size: int
    physical: int
    accumulation: int
    chosen_by: str  # "recipe" (the batch as given) or "memory probe"

    def record(self) -> dict:
        return {
            "physical_batch_size": self.physical,
            "gradient_accumulation": self.accumulation,
            "batch_chosen_by": self.chosen_by,
        }


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def largest_fitting(per_process: int, fits: Callable[[int], bool]) -> int:
    """The largest divisor of ``per_process`` for which ``fits`` holds, by bisection over
    the divisors (a batch that fits means every smaller one does)."""
    options = divisors(per_process)
    low, high = 0, len(options) - 1  # options[low - 1] fits (none yet); high: untried top
    best = None
    while low <= high:
        middle = (low + high) // 2
        if fits(options[middle]):
            best, low = options[middle], middle + 1
        else:
            high = middle - 1
    if best is None:
        raise BenchError(
            "--batch-size auto: not even one input of the task's longest length fits on the "
            "device; lower --max-length or use a device with more memory"
        )
    return best


def plan_batch(
    batch_size: int, processes: int, auto: bool, fits: Callable[[int], bool] | None
) -> BatchPlan:
    """The recipe's batch split over ``processes`` and, with ``auto`` and a ``fits`` probe
    (a GPU), into the largest physical batch that fits and the passes accumulated."""
    per_process = batch_size // processes
    if not auto or fits is None:
        return BatchPlan(batch_size, per_process, 1, "recipe")
    physical = largest_fitting(per_process, fits)
    return BatchPlan(batch_size, physical, per_process // physical, "memory probe")


def memory_probe(
    model, rows: Sequence[dict], collate: Callable, device: torch.device, bf16: bool
) -> Callable[[int], bool]:
    """Whether ``b`` copies of the longest of ``rows`` take a forward and backward pass on
    the GPU ``device`` within :data:`MEMORY_SHARE` of its memory, with room for AdamW's
    state. The trial leaves no gradients and no trace in the random generators."""
    longest = max(rows, key=lambda row: len(row["input_ids"]))
    total = torch.cuda.get_device_properties(device).total_memory
    state = ADAMW_BYTES_PER_PARAMETER * sum(
        p.numel() for p in model.parameters() if p.requires_grad
    )

    def fits(b: int) -> bool:
        was_training, batch = model.training, None
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
        try:
            copies = [dict(longest) for _ in range(b)]
            batch = {k: v.to(device) for k, v in collate(copies).items()}
            with (
                torch.random.fork_rng(devices=[device]),
                torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16),
            ):
                model.train()
                model(**batch).loss.backward()
            return torch.cuda.max_memory_allocated(device) + state <= MEMORY_SHARE * total
        except torch.cuda.OutOfMemoryError:
            return False
        finally:
            model.zero_grad(set_to_none=True)
            model.train(was_training)
            batch = None
            torch.cuda.empty_cache()

    return fits
