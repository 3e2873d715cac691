"""`bench sweep --workers N`: a sweep's fine-tuning units in N local processes.

On a few CPU cores, small models fine-tune faster as several one-thread processes than as
one process using every core, because much of a step is not matrix work that threads
share (README: on 2 cores, two one-thread GONERD units took 37.7 s together, one
two-thread unit 28.8 s). Units differ in length tenfold, so workers pull the next
pending unit from one queue rather than take a fixed share. Speed units are not theirs:
timing beside another process measures the other process, so the caller times them alone
afterwards.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from pathlib import Path

from rich.console import Console

from benchmark.errors import BenchError


def run_in_workers(sweep, units: list, workers: int, console: Console) -> None:
    """Run ``units`` (task units not yet done) in ``workers`` processes sharing the cores.

    Each worker writes its unit files as `bench sweep` does and its output to
    ``<output>/logs/worker-<i>.log``; here one line is printed per finished unit. A unit
    that fails stops the pool after the units in progress, and is named with its log."""
    import torch

    if not units:
        return
    threads = max(1, torch.get_num_threads() // workers)
    logs = sweep.output / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked torch
    todo, finished = context.Queue(), context.Queue()
    for unit in units:
        todo.put(unit)
    for _ in range(workers):
        todo.put(None)
    log_of = [logs / f"worker-{i}.log" for i in range(workers)]
    processes = [
        context.Process(
            target=_work,
            args=(sweep.manifest, sweep.output, todo, finished, threads, log_of[i], i),
            name=f"sweep-worker-{i}",
        )
        for i in range(workers)
    ]
    console.print(
        f"{len(units)} units in {workers} workers of {threads} thread(s) each; "
        f"their output: {logs}/worker-*.log"
    )
    failure = None
    try:
        for process in processes:
            process.start()
        count = 0
        while count < len(units):
            try:
                unit, worker, seconds, error = finished.get(timeout=5)
            except queue.Empty:
                if not any(p.is_alive() for p in processes):
                    break  # every worker has ended (killed, or stopped after a failure)
                continue
            count += 1
            if error is not None:
                failure = failure or (unit, worker, error)
                _drain(todo, workers)
                console.print(f"[red]{unit.label}: failed in worker {worker}[/]")
                continue
            console.print(f"[{count}/{len(units)}] {unit.label}: {seconds:.0f} s (worker {worker})")
        for process in processes:
            process.join()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join()
    if failure is not None:
        unit, worker, error = failure
        raise BenchError(
            f"{unit.label} failed: {error} (its output: {log_of[worker]}); the units "
            "finished are kept, and running the sweep again resumes after them"
        )
    crashed = [p.name for p in processes if p.exitcode not in (0, None)]
    if crashed:
        raise BenchError(
            f"{', '.join(crashed)} ended abruptly (exit codes "
            f"{', '.join(str(p.exitcode) for p in processes)}), perhaps out of memory; see "
            f"{logs}. The units finished are kept: run the sweep again, with fewer workers"
        )


def _drain(todo, workers: int) -> None:
    """Take the pending units off the queue so workers stop after their current unit."""
    while True:
        try:
            todo.get_nowait()
        except queue.Empty:
            break
    for _ in range(workers):
        todo.put(None)


def _work(manifest, output: Path, todo, finished, threads: int, log: Path, index: int) -> None:
    """One worker: take units until the queue says stop, writing each unit's file."""
    import torch

    from benchmark.cli import quiet_libraries
    from benchmark.sweep import Sweep

    torch.set_num_threads(threads)
    quiet_libraries()
    sweep = Sweep(manifest, output)
    with open(log, "a", encoding="utf-8") as stream:
        console = Console(file=stream, width=100, force_terminal=False)
        while (unit := todo.get()) is not None:
            console.rule(unit.label)
            start = time.monotonic()
            try:
                sweep.run_unit(unit, console)
            except Exception as exc:  # reported by the parent, with this log
                console.print_exception()
                finished.put((unit, index, time.monotonic() - start, f"{exc}"))
                return
            stream.flush()
            finished.put((unit, index, time.monotonic() - start, None))
