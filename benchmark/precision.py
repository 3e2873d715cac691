"""What ``--dtype auto`` becomes, decided once per run from the device it runs on.

``auto`` is bfloat16 on a CUDA device of compute capability 8.0 or newer (Ampere on), whose
tensor cores run bf16 at full rate with float32's exponent range, so training needs no loss
scaling; fine-tuning then runs under bf16 autocast and evaluation in bf16 weights, as with
``--dtype bfloat16``. Everywhere else it is float32: a CPU run computes exactly what a
float32 run does (its scores, and the key its results are reused by, are the same), and an
older GPU keeps float32 rather than float16, which fine-tuning here does not scale.
"""

from __future__ import annotations

import torch

AUTO = "auto"
BF16_CAPABILITY = (8, 0)


def auto_dtype(device_type: str, capability: tuple[int, int] | None) -> str:
    """``auto`` on a device of this type and CUDA compute capability (None: not a GPU)."""
    if device_type == "cuda" and capability is not None and capability >= BF16_CAPABILITY:
        return "bfloat16"
    return "float32"


def cuda_capability(device: torch.device | str) -> tuple[int, int] | None:
    """The CUDA compute capability of ``device``; None for a CPU or where no GPU is visible."""
    device = torch.device(device)
    if device.type != "cuda" or not torch.cuda.is_available():
        return None
    return tuple(torch.cuda.get_device_capability(device))


def resolve_dtype(choice: str, device: torch.device | str | None) -> str:
    """The dtype a run asking for ``choice`` computes in on ``device``; ``auto`` on a CUDA
    device that this machine cannot see, or on no device named, stays ``auto``."""
    if choice != AUTO or device is None:
        return choice
    device = torch.device(device)
    capability = cuda_capability(device)
    if device.type == "cuda" and capability is None:
        return AUTO
    return auto_dtype(device.type, capability)
