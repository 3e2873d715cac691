"""The console every ``bench`` command prints to (stdout; errors go to stderr)."""

from __future__ import annotations

from rich.console import Console

console = Console()
