"""Errors the GONERD loader raises.

Each error carries everything a person needs to fix the input (the file, the line, the
problem), so the CLI can print it as one line instead of a traceback.
"""

from __future__ import annotations

from pathlib import Path


class GonerdError(Exception):
    """Base class: anything the CLI reports as one clear line."""


class GonerdFormatError(GonerdError, ValueError):
    """A data file that does not parse as either GONERD layout."""

    def __init__(self, path: str | Path, line: int | None, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


class GonerdSourceError(GonerdError, FileNotFoundError):
    """No source of GONERD data could be reached (no local copy and no Hub)."""
