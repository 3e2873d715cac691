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
    paired: Annotated[
        bool,
        typer.Option(
            "--paired",
            help="From both files' saved predictions, per shared task: the paired bootstrap "
            "interval of each result's difference from the reference and of its retained "
            "percent, agreement and flips (an error names predictions that are missing).",
        ),
    ] = False,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="Resamples for --paired's intervals.", min=1)
    ] = 1000,
) -> None:
    """Scores, retained percent, speed-ups and memory of several result files."""
    from benchmark.compare import as_json, as_markdown, as_table, comparison

    if format not in ("table", "md", "json"):
        raise BenchError(f"--format {format!r}: choose table, md or json")
    data = comparison(results, paired=paired, resamples=bootstrap)
    if format == "json":
        sys.stdout.write(as_json(data))
    elif format == "md":
        sys.stdout.write(as_markdown(data))
    else:
        console.print(as_table(data))
