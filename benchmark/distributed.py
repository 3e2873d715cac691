"""`bench run` under a launcher: `torchrun` or `accelerate launch` start N processes, and this
module gives each one its place.

The process group is accelerate's (``PartialState``), which reads the launcher's environment
and is the same one transformers' Trainer then fine-tunes in, as DDP. Evaluation shares out
whole batches (the batches a single process would form, every N-th to each process, so
each is computed exactly as it would be alone) and gathers the outputs in input order;
only the main process writes files. Without a launcher everything here is a no-op.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache

import torch


@dataclass(frozen=True)
class World:
    """This process's rank among ``size`` processes, and the device it runs on."""

    rank: int = 0
    size: int = 1
    device: torch.device | None = None
    record: dict = field(default_factory=dict)  # what the result file keeps of it

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def share(self, items: list) -> list:
        """This process's part of ``items``: every ``size``-th from its rank."""
        return items[self.rank :: self.size]

    def gather(self, part: dict) -> dict:
        """The union of every process's ``part`` (keys are distinct across processes)."""
        if self.size == 1:
            return part
        parts: list = [None] * self.size
        torch.distributed.all_gather_object(parts, part)
        return {k: v for p in parts for k, v in p.items()}

    def broadcast(self, value):
        """The main process's ``value``, in every process (what it decided or read, so
        that no process decides alone, e.g. on a node whose files differ)."""
        if self.size == 1:
            return value
        holder = [value if self.is_main else None]
        torch.distributed.broadcast_object_list(holder, src=0)
        return holder[0]

    def wait(self) -> None:
        """Every process reaches this point before any goes on (e.g. past a file the main
        process writes)."""
        if self.size > 1:
            torch.distributed.barrier()


def launched() -> bool:
    """Started by a launcher with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def is_main_process() -> bool:
    """The process that prints and writes (rank 0), known before any group is set up."""
    return int(os.environ.get("RANK", "0")) == 0


_SINGLE = World()
WAIT = timedelta(hours=12)


@lru_cache(maxsize=1)
def _join(device_choice: str) -> World:
    from accelerate import PartialState

    cpu = device_choice == "cpu" or not torch.cuda.is_available()
    # The others wait while the main process alone measures speed and time ratios, which
    # can take far longer than the default collective timeout (10 minutes on NCCL).
    state = PartialState(cpu=cpu, backend="gloo" if cpu else None, timeout=WAIT)
    device = torch.device("cpu") if cpu else state.device
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    devices: list = [None] * state.num_processes
    torch.distributed.all_gather_object(devices, {"device": str(device), "name": name})
    record = {
        "world_size": state.num_processes,
        "backend": torch.distributed.get_backend(),
        "devices": devices,
    }
    return World(state.process_index, state.num_processes, device, record)


_current: World = _SINGLE


def setup(device_choice: str) -> World:
    """This process's World: joins the launcher's group once (the same group for the rest
    of the process); a single World without a launcher."""
    global _current
    if not launched():
        return _SINGLE
    if device_choice == "cuda" and not torch.cuda.is_available():
        from benchmark.errors import BenchError

        raise BenchError("--device cuda was asked for but no CUDA device is visible")
    _current = _join("cpu" if device_choice == "cpu" else "auto")
    return _current


def current() -> World:
    """The World set up by :func:`setup` (a single process when none was)."""
    return _current
