"""Errors the CLI reports as one line; tracebacks are kept for bugs."""

from __future__ import annotations


class BenchError(Exception):
    """A problem with the user's input or environment, with the fix in its message."""
