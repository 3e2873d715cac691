"""One batched forward loop shared by every family.

Examples are sorted by length and padded per batch, so a batch of short sentences never
pays for the longest document; outputs come back in the original order, trimmed to each
example's own length. This loop is what `tests/perf` compares end-to-end evaluation with.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

INPUT_KEYS = ("input_ids", "attention_mask", "token_type_ids")


def pad_batch(
    encodings: Sequence[dict], pad_id: int, device: torch.device
) -> dict[str, torch.Tensor]:
    """Right-pad a list of encodings (lists of ids) into tensors on ``device``."""
    length = max(len(e["input_ids"]) for e in encodings)
    batch: dict[str, torch.Tensor] = {}
    for key in INPUT_KEYS:
        if key not in encodings[0]:
            continue
        fill = pad_id if key == "input_ids" else 0
        rows = [list(e[key]) + [fill] * (length - len(e[key])) for e in encodings]
        batch[key] = torch.tensor(rows, dtype=torch.long, device=device)
    if "attention_mask" not in batch:
        rows = [[1] * len(e["input_ids"]) + [0] * (length - len(e["input_ids"])) for e in encodings]
        batch["attention_mask"] = torch.tensor(rows, dtype=torch.long, device=device)
    return batch


def predict(
    model,
    encodings: Sequence[dict],
    *,
    pad_id: int,
    batch_size: int,
    output_names: Sequence[str] = ("logits",),
    per_token: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> list[tuple[np.ndarray, ...]]:
    """Model outputs per example, in input order: one array per name in ``output_names``,
    cut to the example's length when ``per_token``."""
    device = next(model.parameters()).device
    order = sorted(range(len(encodings)), key=lambda i: len(encodings[i]["input_ids"]))
    results: list[tuple[np.ndarray, ...] | None] = [None] * len(encodings)
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            indices = order[start : start + batch_size]
            outputs = model(**pad_batch([encodings[i] for i in indices], pad_id, device))
            arrays = [getattr(outputs, name).float().cpu().numpy() for name in output_names]
            for row, index in enumerate(indices):
                length = len(encodings[index]["input_ids"])
                results[index] = tuple(a[row, :length] if per_token else a[row] for a in arrays)
            if on_batch is not None:
                on_batch(len(indices))
    return results  # type: ignore[return-value]
