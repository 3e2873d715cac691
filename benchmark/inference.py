"""One batched forward loop shared by every family.

Examples are sorted by length and padded per batch, so a batch of short sentences never
pays for the longest document; outputs come back in the original order, trimmed to each
example's own length. A batch's padding is rounded up as fine-tuning rounds it
(:func:`benchmark.batching.padding_multiple`: to 8 on a GPU, and to the window of a model
that pads its inputs itself, which then pads nothing). Under a launcher each process runs
every N-th of those batches and the outputs are gathered (benchmark.distributed). Inputs
the model's ``forward`` does not name (DistilBERT takes no ``token_type_ids``) are left out,
so one encoding serves every architecture. This loop is what
`tests/perf/bench_evaluation.py` compares end-to-end evaluation with.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

import numpy as np
import torch

from benchmark.batching import padding_multiple, round_up
from benchmark.distributed import current


def accepted_inputs(model, keys) -> list[str]:
    """The input names among ``keys`` that the model's forward takes by name."""
    parameters = inspect.signature(model.forward).parameters
    return [k for k in keys if k in parameters]


def pad_batch(
    encodings: Sequence[dict],
    pad_id: int,
    device: torch.device,
    keys: Sequence[str] | None = None,
    multiple: int | None = None,
) -> dict[str, torch.Tensor]:
    """Right-pad encodings (lists of ids) into tensors on ``device``, to the longest (rounded
    up to ``multiple`` where given): ``input_ids`` with ``pad_id``, every other input (masks,
    token types) with 0. An attention mask is made when the encodings have none."""
    keys = list(keys if keys is not None else encodings[0])
    lengths = [len(e["input_ids"]) for e in encodings]
    width = round_up(max(lengths), multiple)
    batch: dict[str, torch.Tensor] = {}
    for key in keys:
        if key == "attention_mask" and key not in encodings[0]:
            continue
        array = np.full((len(encodings), width), pad_id if key == "input_ids" else 0, np.int64)
        for row, encoding in enumerate(encodings):
            array[row, : lengths[row]] = encoding[key]
        batch[key] = torch.from_numpy(array).to(device)
    if "attention_mask" not in batch:
        mask = np.arange(width)[None, :] < np.asarray(lengths)[:, None]
        batch["attention_mask"] = torch.from_numpy(mask.astype(np.int64)).to(device)
    return batch


def predict(
    model,
    encodings: Sequence[dict],
    *,
    pad_id: int,
    batch_size: int,
    output_names: Sequence[str] = ("logits",),
    per_token: bool = False,
    argmax: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> list[tuple[np.ndarray, ...]]:
    """Model outputs per example, in input order: one array per name in ``output_names``
    (the arg-max over the last axis when ``argmax``), cut to the example's length when
    ``per_token``."""
    if not encodings:
        return []
    device = next(model.parameters()).device
    multiple = padding_multiple(model.config, device.type)
    keys = accepted_inputs(model, dict.fromkeys(k for e in encodings[:1] for k in e))
    order = sorted(range(len(encodings)), key=lambda i: len(encodings[i]["input_ids"]))
    batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
    world = current()  # under a launcher, every N-th batch is this process's
    mine: dict[int, tuple[np.ndarray, ...]] = {}
    model.eval()
    with torch.inference_mode():
        for indices in world.share(batches):
            batch = pad_batch([encodings[i] for i in indices], pad_id, device, keys, multiple)
            outputs = model(**batch)
            tensors = [getattr(outputs, name) for name in output_names]
            if argmax:
                tensors = [t.argmax(dim=-1) for t in tensors]
            arrays = [
                t.float().cpu().numpy() if t.is_floating_point() else t.cpu().numpy()
                for t in tensors
            ]
            for row, index in enumerate(indices):
                length = len(encodings[index]["input_ids"])
                mine[index] = tuple(a[row, :length] if per_token else a[row] for a in arrays)
            if on_batch is not None:
                on_batch(len(indices))
    gathered = world.gather(mine)
    return [gathered[i] for i in range(len(encodings))]
