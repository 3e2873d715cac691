"""Writing result and predictions files: one JSON document per run, replaced atomically
after each task, and JSON-lines predictions.

The file is written to a temporary sibling, flushed to disk and renamed over the old one,
so a crash, a kill or a full disk leaves the previous complete file in place and never a
half-written one; a task is only recorded once it has finished.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import jsonlines

from benchmark.errors import BenchError


def replace_atomically(path: Path, write: Callable[[TextIO], object]) -> None:
    """Let ``write`` fill a temporary sibling, flush it to disk, rename it over ``path``."""
    if path.is_dir():  # no rename can replace a folder: say what to give instead
        raise BenchError(f"could not write {path}: it is a folder; name a file to write")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        hint = "the disk is full: free some space" if exc.errno == errno.ENOSPC else exc.strerror
        raise BenchError(
            f"could not write {path} ({hint}); what it held before is unchanged, re-run to resume"
        ) from None


def write_atomic(path: Path, data: dict) -> None:
    """Replace ``path`` with ``data`` as JSON, all or nothing."""
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    replace_atomically(path, lambda handle: handle.write(text))


def write_jsonl_atomic(path: Path, rows: list[dict]) -> str:
    """A predictions file (one JSON object per line), written the same all-or-nothing way;
    returns its sha256, so a result names exactly the predictions it was scored from."""

    def write(handle: TextIO) -> None:
        with jsonlines.Writer(handle, compact=True, flush=False) as writer:
            writer.write_all(rows)

    replace_atomically(path, write)
    return sha256_file(path)


def sha256_file(path: Path) -> str:
    """The sha256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_jsonl(path: Path) -> list[dict]:
    """The rows of a JSON-lines file (a predictions file), one error naming a bad line."""
    try:
        with jsonlines.open(path) as reader:
            return list(reader)
    except OSError as exc:
        raise BenchError(f"cannot read {path}: {exc.strerror}") from None
    except jsonlines.InvalidLineError as exc:
        raise BenchError(f"{path} line {exc.lineno}: not a JSON object ({exc})") from None


def slug(text: str) -> str:
    """A model or entry name as a file name: runs of other characters become one ``-``,
    at most the last 80 characters are kept (a Hub id's tail says the most)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text.strip("/")).strip("-")[-80:] or "model"


def revision_key(identity: dict) -> str:
    """What tells two versions of a model apart in a result's path: the Hub commit, else the
    first 12 hex digits of the weights' sha256 (``unknown-revision`` when neither is known,
    e.g. a Hub id offline with nothing cached)."""
    if identity.get("revision"):
        return slug(str(identity["revision"]))
    if identity.get("weights_sha256"):
        return str(identity["weights_sha256"])[:12]
    return "unknown-revision"


def default_result_path(model: str, identity: dict, name: str | None = None) -> Path:
    """``results/<model>/<revision or weights hash>/<name>.json``: keyed by what the model
    is, so two revisions of one model (a Hub commit, retrained weights in one folder) never
    overwrite each other's results. ``name`` defaults to the model's last path part."""
    stem = slug(name) if name else slug(Path(model.rstrip("/")).name or model)
    return (
        Path("results")
        / slug(model)
        / revision_key(identity)
        / f"{stem.removesuffix('.json')}.json"
    )


def legacy_result_path(model_name: str) -> Path:
    """Where results went before they were keyed by revision (``results/<name>.json``):
    still read to resume a run, never written."""
    return Path("results") / f"{slug(model_name)}.json"


def predictions_dir(result_path: Path) -> Path:
    """Where a result file's predictions go: ``<result>.predictions/<task>.jsonl`` beside it,
    which is also where a submitted result's predictions are looked for."""
    result_path = Path(result_path)
    return result_path.with_name(result_path.stem + ".predictions")


def _predictions_candidates(recorded: str, result_path: Path | None) -> list[Path]:
    """Where a recorded predictions file may be: beside the result, then where it says."""
    candidates = [Path(recorded)]
    if result_path is not None:
        candidates.insert(0, predictions_dir(result_path) / Path(recorded).name)
    return candidates


def find_predictions(
    recorded: str | None, result_path: Path | None, sha256: str | None = None
) -> Path | None:
    """The predictions file a result records, looked for beside the result first (where a
    copied, submitted or committed result keeps them), then where it says (a path relative
    to the directory the run was started from); None when neither is there. Given the
    ``sha256`` the result records, the first file that has it: an older file left beside
    a moved result does not hide the right one (a caller checking the hash then refuses
    the file found only when none has it)."""
    if not recorded:
        return None
    found = [c for c in _predictions_candidates(recorded, result_path) if c.is_file()]
    if sha256 is not None and len(found) > 1:
        return next((c for c in found if sha256_file(c) == sha256), found[0])
    return found[0] if found else None


def intact_predictions(
    recorded: str | None, result_path: Path | None, sha256: str | None
) -> Path | None:
    """The predictions file as the result recorded it: found as :func:`find_predictions`
    looks, and holding the recorded ``sha256`` (any file found where none is recorded);
    None where no such file is there."""
    if sha256 is None or not recorded:
        return find_predictions(recorded, result_path)
    candidates = _predictions_candidates(recorded, result_path)
    return next((c for c in candidates if c.is_file() and sha256_file(c) == sha256), None)
