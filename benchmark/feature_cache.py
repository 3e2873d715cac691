"""Training inputs tokenised once and kept: a task's training features for one tokenizer
and one input length are built on the first run and read back by every later one (each
seed, each model of a sweep that shares the tokenizer: a teacher and its students).

What an entry holds: the rows a family's ``training_features`` returned (token ids, masks,
targets; one row per window of a long document) as an Arrow file written by ``datasets``,
and beside it ``entry.json`` with the counts that call returned (truncated, windowed) and
the sha256 of the Arrow file. Where: ``$GONERD_BENCH_FEATURE_CACHE`` when set (``off``
turns the cache off), else ``gonerd-bench/features/`` in the ``datasets`` cache
(``$HF_DATASETS_CACHE``, ``~/.cache/huggingface/datasets`` by default), one folder per
entry. Deleting the folder only costs the next run its tokenisation.

An entry's name is a hash (``datasets``' :class:`~datasets.fingerprint.Hasher`) of
everything the features depend on: the tokenizers' content (their vocabulary and rules, not
the folder they were read from), the task spec's content hash, the input length, the label
names and model inputs the family reads, the data (its identity: file sha256 or Hub
revision, and the ``datasets`` fingerprint of the rows chosen, which changes with
``--limit``'s sample), the family and the source of the module that builds its features,
and the versions of the suite, transformers and tokenizers. A changed tokenizer or length
therefore misses. An entry that does not read back whole (a changed or truncated file, a
different row count) is built again, never used.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmark.families.base import TaskContext, records
from benchmark.results import sha256_file

ENV = "GONERD_BENCH_FEATURE_CACHE"
FORMAT = 1  # of an entry's files


@dataclass(frozen=True)
class Features:
    """A family's training features, and whether they came from the cache."""

    rows: list[dict]
    counts: dict
    source: str  # "cache", "tokenised" (and stored), or "tokenised (cache off)"


def cache_root() -> Path | None:
    """Where entries live (module docstring); None when the cache is turned off."""
    chosen = os.environ.get(ENV)
    if chosen and chosen.strip().lower() == "off":
        return None
    if chosen:
        return Path(chosen).expanduser()
    import datasets

    return Path(datasets.config.HF_DATASETS_CACHE) / "gonerd-bench" / "features"


def tokenizer_fingerprint(tokenizer) -> str:
    """A hash of what a tokenizer does, not where it was read from: a fast tokenizer's
    whole pipeline (its truncation and padding state, which calls change, left out), its
    class, sides and special tokens; any other tokenizer as ``datasets`` hashes it."""
    from datasets.fingerprint import Hasher

    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return Hasher.hash(tokenizer)
    pipeline = json.loads(backend.to_str())
    pipeline.pop("truncation", None)
    pipeline.pop("padding", None)
    described = {
        "class": type(tokenizer).__name__,
        "pipeline": pipeline,
        "padding_side": tokenizer.padding_side,
        "truncation_side": getattr(tokenizer, "truncation_side", None),
        "special_tokens": tokenizer.special_tokens_map,
        "model_input_names": list(tokenizer.model_input_names),
        "model_max_length": tokenizer.model_max_length,
    }
    blob = json.dumps(described, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _source_hash(family) -> str:
    """The source of the module that defines the family's class (its features code)."""
    module = sys.modules.get(type(family).__module__)
    try:
        source = inspect.getsource(module) if module else type(family).__qualname__
    except (OSError, TypeError):
        source = type(family).__qualname__
    return hashlib.sha256(source.encode()).hexdigest()


def entry_key(family, context: TaskContext, dataset, data_identity: dict) -> str:
    """The entry's name: a hash of everything the features depend on (module docstring)."""
    import tokenizers
    import transformers
    from datasets.fingerprint import Hasher

    from benchmark import __version__

    words = context.word_tokenizer
    material = {
        "format": FORMAT,
        "family": family.name,
        "family_source": _source_hash(family),
        "tokenizer": tokenizer_fingerprint(context.tokenizer),
        "word_tokenizer": tokenizer_fingerprint(words) if words is not None else None,
        "spec": context.spec.content_hash(),
        "max_length": context.max_length,
        "label_names": context.label_names,
        "model_inputs": sorted(context.model_inputs),
        "data": data_identity,
        "rows": getattr(dataset, "_fingerprint", None) or Hasher.hash(records(dataset)),
        "versions": [__version__, transformers.__version__, tokenizers.__version__],
    }
    return Hasher.hash(json.dumps(material, sort_keys=True, default=str))


def _read(folder: Path, key: str) -> tuple[list[dict], dict] | None:
    """An entry's rows and counts, or None when it is missing or does not read back whole."""
    import datasets

    meta_path = folder / "entry.json"
    if not meta_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text("utf-8"))
        if meta.get("key") != key or meta.get("format") != FORMAT:
            return None
        files = meta["files"]
        if any(sha256_file(folder / "rows" / name) != digest for name, digest in files.items()):
            return None
        rows = records(datasets.load_from_disk(str(folder / "rows")))
        if len(rows) != meta["rows"]:
            return None
        return rows, meta["counts"]
    except Exception:  # any damage at all: the entry is rebuilt, not trusted
        return None


def _write(root: Path, folder: Path, key: str, rows: list[dict], counts: dict) -> None:
    """Stores an entry whole or not at all: built in a scratch folder, then renamed into
    place (a process that loses the race to another discards its copy)."""
    import datasets

    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".building-", dir=root))
    try:
        datasets.Dataset.from_list(rows).save_to_disk(str(scratch / "rows"))
        files = {
            p.name: sha256_file(p) for p in sorted((scratch / "rows").iterdir()) if p.is_file()
        }
        meta = {"format": FORMAT, "key": key, "rows": len(rows), "counts": counts, "files": files}
        (scratch / "entry.json").write_text(json.dumps(meta, indent=1), "utf-8")
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        os.replace(scratch, folder)
    except OSError:
        pass  # another process put it in place first, or the disk is full: run uncached
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _storable(rows: list[dict]) -> bool:
    """Rows that an Arrow table returns as they went in: every row with the same keys."""
    return bool(rows) and all(row.keys() == rows[0].keys() for row in rows)


def training_features(family, context: TaskContext, dataset, data_identity: dict) -> Features:
    """The family's training features for ``dataset``, from the cache where an entry for
    exactly these inputs is stored and whole, else built and stored (module docstring)."""
    root = cache_root()
    if root is None:
        rows, counts = family.training_features(context, dataset)
        return Features(rows, counts, "tokenised (cache off)")
    key = entry_key(family, context, dataset, data_identity)
    folder = root / key
    found = _read(folder, key)
    if found is not None:
        return Features(*found, "cache")
    rows, counts = family.training_features(context, dataset)
    if _storable(rows):
        _write(root, folder, key, rows, counts)
    return Features(rows, counts, "tokenised")
