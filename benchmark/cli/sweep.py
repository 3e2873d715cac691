"""``bench sweep``: a manifest's units, sharded, resumed and merged."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from benchmark.cli.output import console
from benchmark.console import quiet_libraries


def sweep_command(
    manifest: Annotated[Path, typer.Argument(help="YAML: models (with teachers), tasks, seeds.")],
    shard: Annotated[
        str | None,
        typer.Option(
            help="I/N: take every N-th unit from the I-th (0 <= I < N), e.g. a job array."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the units, their shard and which are done.")
    ] = False,
    output_dir: Annotated[
        Path | None,
        typer.Option(help="Where units and merged results go; default: the manifest's output."),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            help="Fine-tune in N local processes sharing the cores (speed is timed alone after)."
        ),
    ] = 1,
) -> None:
    """Run a sweep's units (model x task x seed, and each model's speed), skipping those
    done, then merge every model whose units are all done into one result file."""
    from benchmark.sweep import run_sweep

    quiet_libraries()
    written = run_sweep(manifest, shard, dry_run, output_dir, console, workers)
    if not dry_run and not written:
        console.print("no model has all its units done yet; the other shards will merge them")
