"""Result files: one JSON document per run, replaced atomically after each task.

The file is written to a temporary sibling, flushed to disk and renamed over the old one,
so a crash, a kill or a full disk leaves the previous complete file in place and never a
half-written one; a task is only recorded once it has finished.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import jsonlines

from benchmark.errors import BenchError

FORMAT = "gonerd-bench-result"
FORMAT_VERSION = 1


def read_result(path: Path) -> dict | None:
    """The result file at ``path``, None if there is none; an error if it is not ours."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BenchError(
            f"{path} exists but is not a readable result file ({exc}); move it away or choose "
            "another --output"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BenchError(f"{path} is not a GONERD Bench result file; choose another --output")
    return data


def _replace_atomically(path: Path, write: Callable[[TextIO], object]) -> None:
    """Let ``write`` fill a temporary sibling, flush it to disk, rename it over ``path``."""
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
    _replace_atomically(path, lambda handle: handle.write(text))


def write_jsonl_atomic(path: Path, rows: list[dict]) -> None:
    """A predictions file (one JSON object per line), written the same all-or-nothing way."""

    def write(handle: TextIO) -> None:
        with jsonlines.Writer(handle, compact=True, flush=False) as writer:
            writer.write_all(rows)

    _replace_atomically(path, write)


def read_jsonl(path: Path) -> list[dict]:
    """The rows of a JSON-lines file (a predictions file), one error naming a bad line."""
    try:
        with jsonlines.open(path) as reader:
            return list(reader)
    except OSError as exc:
        raise BenchError(f"cannot read {path}: {exc.strerror}") from None
    except jsonlines.InvalidLineError as exc:
        raise BenchError(f"{path} line {exc.lineno}: not a JSON object ({exc})") from None
