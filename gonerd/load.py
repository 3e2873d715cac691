"""``load_dataset`` for GONERD that works the same offline, from a local copy, or the Hub.

``datasets.load_dataset`` no longer runs loading scripts, so this function instantiates the
builder directly; for any other dataset it hands over to ``datasets.load_dataset``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import datasets

from gonerd.builder import Gonerd
from gonerd.errors import GonerdError
from gonerd.sources import (
    HUB_REPO_ID,
    SAMPLE_DIR,
    fingerprint_files,
    local_split_files,
    resolve_data_dir,
)

_NAMES = ("gonerd", HUB_REPO_ID.lower())


def load_dataset(
    path: str = "gonerd",
    name: str | None = None,
    *,
    data_dir: str | Path | None = None,
    split: str | None = None,
    label_names: Sequence[str] | None = None,
    cache_dir: str | None = None,
    **kwargs,
) -> datasets.DatasetDict | datasets.Dataset:
    """GONERD as a typed ``DatasetDict`` (or one ``Dataset`` with ``split=``).

    Sources in order: ``data_dir``, ``$GONERD_DATA_DIR``, the Hub (``giant-oak/GONERD``).
    ``name`` is ``default``, ``sample`` (bundled, offline), ``windowed`` or
    ``sample-windowed`` (these two need ``tokenizer=``; ``max_length=``, ``stride=`` too).
    """
    if path.rstrip("/").lower() not in _NAMES and not _is_package_dir(path):
        return datasets.load_dataset(
            path, name, data_dir=data_dir, split=split, cache_dir=cache_dir, **kwargs
        )
    name = name or "default"
    known = [config.name for config in Gonerd.BUILDER_CONFIGS]
    if name not in known:
        raise GonerdError(
            f"unknown GONERD configuration {name!r}: choose one of {', '.join(known)}"
        )
    if name.endswith("windowed") and not kwargs.get("tokenizer"):
        raise GonerdError(
            f"the {name} configuration cuts documents into windows of subword tokens, so it "
            "needs a tokenizer: pass tokenizer='<Hub id or local path>'"
        )
    config_kwargs = dict(kwargs)
    if label_names is not None:
        config_kwargs["label_names"] = tuple(label_names)
    sample = name.startswith("sample")
    local_dir = SAMPLE_DIR if sample else resolve_data_dir(data_dir)
    if local_dir is not None:
        files = local_split_files(local_dir).values()
        config_kwargs["data_fingerprint"] = fingerprint_files(list(files))
        if not sample:
            config_kwargs["data_dir"] = str(local_dir)
    builder = Gonerd(config_name=name, dataset_name="gonerd", cache_dir=cache_dir, **config_kwargs)
    builder.download_and_prepare()
    return builder.as_dataset(split=split)


def _is_package_dir(path: str) -> bool:
    """True when ``path`` points at this package's folder (``./gonerd`` in a checkout)."""
    try:
        return Path(path).resolve() == Path(__file__).parent.resolve()
    except OSError:
        return False
