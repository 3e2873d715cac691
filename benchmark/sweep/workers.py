"""`bench sweep --workers N`: a sweep's fine-tuning units in N local processes.

On a few CPU cores, small models may fine-tune faster as several one-thread processes than
as one process using every core, because much of a step is not matrix work that threads
share (the gain is not measured yet: README). Units differ in length tenfold, so workers
take the next pending unit in turn rather than a fixed share. Speed units are not theirs:
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
    that fails, or a worker that dies, stops the pool after the units in progress, and is
    named with its log."""
    import torch

    workers = min(workers, len(units))  # a worker with nothing to do would only take cores
    if not units:
        return
    threads = max(1, torch.get_num_threads() // workers)
    logs = sweep.output / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked torch
    taken = context.Value("i", 0)  # the index of the next unit to take, under its lock
    stop = context.Event()
    finished = context.Queue()
    log_of = [logs / f"worker-{i}.log" for i in range(workers)]
    processes = [
        context.Process(
            target=_work,
            args=(sweep.manifest, sweep.output, units, taken, stop, finished),
            kwargs={"threads": threads, "log": log_of[i], "index": i},
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
            except queue.Empty:  # nothing for 5 s: every worker may have ended
                if not any(p.is_alive() for p in processes):
                    break
                if any(p.exitcode not in (0, None) for p in processes):
                    stop.set()  # a worker died (killed, out of memory): the others stop too
                continue
            count += 1
            if error is not None:
                failure = failure or (unit, worker, error)
                stop.set()
                console.print(f"[red]{unit.label}: failed in worker {worker}[/]")
                continue
            console.print(f"[{count}/{len(units)}] {unit.label}: {seconds:.0f} s (worker {worker})")
        for process in processes:
            process.join()
    finally:
        stop.set()
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
    dead = [p for p in processes if p.exitcode not in (0, None)]
    if dead:
        raise BenchError(
            ", ".join(f"{p.name} ended abruptly (exit code {p.exitcode})" for p in dead)
            + f"; its output is in {logs} and its error above. The units finished are kept: "
            "run the sweep again (with fewer workers if memory ran out)"
        )


def _work(manifest, output: Path, units: list, taken, stop, finished, *, threads, log, index):
    """One worker: take the next unit until none is left, the pool stops or the process
    that started it is gone (so a killed sweep leaves no worker writing behind it)."""
    import torch

    from benchmark.console import quiet_libraries
    from benchmark.sweep.plan import Sweep

    torch.set_num_threads(threads)
    quiet_libraries()
    sweep = Sweep(manifest, output)
    parent = multiprocessing.parent_process()
    with open(log, "a", encoding="utf-8") as stream:
        console = Console(file=stream, width=100, force_terminal=False)
        while not stop.is_set() and (parent is None or parent.is_alive()):
            with taken.get_lock():
                next_index = taken.value
                taken.value += 1
            if next_index >= len(units):
                return
            unit = units[next_index]
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
