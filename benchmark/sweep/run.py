"""Running a sweep: this worker's share of the units (``--shard I/N``), those done skipped,
the task units optionally in local worker processes, then every complete model merged."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from benchmark.cost import speed_block
from benchmark.errors import BenchError
from benchmark.model_setup import pick_device
from benchmark.results import write_atomic
from benchmark.run_result import SpeedBlock
from benchmark.runner import run
from benchmark.sweep.manifest import Manifest, load_manifest
from benchmark.sweep.merge import merge_all
from benchmark.sweep.plan import Sweep, Unit, parse_shard, read_speed, status_table
from benchmark.sweep.workers import run_in_workers


def run_unit(sweep: Sweep, unit: Unit, console: Console) -> None:
    """A task unit is one `bench run`; a speed unit is the model's speed block alone."""
    config = sweep.run_config(unit.model, unit)
    if unit.task is not None:
        run(config, console)
        return
    path = sweep.unit_path(unit)
    previous = read_speed(path)
    block = speed_block(
        config,
        config.model,
        pick_device(config.device),
        previous and previous.model_dump(),
        console,
    )
    write_atomic(path, SpeedBlock.model_validate(block).model_dump(mode="json"))


def run_sweep(
    manifest_path: Path | Manifest,
    shard: str | None = None,
    dry_run: bool = False,
    output: Path | None = None,
    console: Console | None = None,
    workers: int = 1,
) -> list[Path]:
    """Run this worker's units (skipping those done), then merge what is complete. With
    ``workers`` > 1 the task units run in that many local processes first, and the speed
    units after them, alone."""
    console = console or Console()
    if isinstance(manifest_path, Manifest):  # built in code (a study), not read from a file
        manifest, stem = manifest_path, "sweep"
    else:
        manifest, stem = load_manifest(manifest_path), Path(manifest_path).stem
    folder = output or Path(manifest.output or f"results/{stem}")
    sweep = Sweep(manifest, folder)
    index, count = parse_shard(shard)
    if dry_run:
        console.print(status_table(sweep, index, count))
        return []
    if workers < 1:
        raise BenchError(f"--workers {workers}: give 1 or more processes")
    mine = sweep.shard(index, count)
    if workers > 1 and not dry_run:
        pending = [u for u in mine if u.task is not None and not sweep.is_done(u)]
        run_in_workers(sweep, pending, workers, console)
    for n, unit in enumerate(mine, 1):
        if sweep.is_done(unit):
            console.print(f"[dim][{n}/{len(mine)}] {unit.label}: done[/]")
            continue
        console.rule(f"[{n}/{len(mine)}] {unit.label}")
        sweep.run_unit(unit, console)
    return merge_all(sweep, console)
