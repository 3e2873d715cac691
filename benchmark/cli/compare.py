"""``bench compare``: several result files side by side."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from benchmark.cli.output import console
from benchmark.errors import BenchError


def compare_command(
    results: Annotated[
        list[Path], typer.Argument(help="Result files; the first is the reference.")
    ],
    format: Annotated[str, typer.Option("--format", help="table | md | json.")] = "table",
) -> None:
    """Scores, retained percent, speed-ups and memory of several result files."""
    from benchmark.compare import as_json, as_markdown, as_table, comparison

    if format not in ("table", "md", "json"):
        raise BenchError(f"--format {format!r}: choose table, md or json")
    data = comparison(results)
    if format == "json":
        sys.stdout.write(as_json(data))
    elif format == "md":
        sys.stdout.write(as_markdown(data))
    else:
        console.print(as_table(data))
