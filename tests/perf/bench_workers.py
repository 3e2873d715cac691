"""Does `bench sweep --workers 2` finish a sweep sooner than one process on 2 cores?

The same sweep, four equal fine-tuning units (the bundled all-MiniLM-L6-v2 on the bundled
CoNLL-2003 sample at four seeds, no speed units), is run from scratch both ways in each
round: `--workers 1` (one process, every core's threads) and `--workers 2` (two processes,
the cores' threads shared out). The order alternates from round to round, so a slow spell of
the machine falls on both alike; the ratio (workers 2 / workers 1 wall time) is taken
within each round and summarised as the median with the lowest and highest, and the
medians of the even and odd rounds, which should agree. Below 1 the workers are faster.
Run it on a machine doing nothing else.

Run: HF_HUB_OFFLINE=1 python tests/perf/bench_workers.py [--rounds 6] [--epochs 2]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml


def _manifest(folder: Path, epochs: int) -> Path:
    from benchmark.defaults import default_model_path

    path = folder / "sweep.yaml"
    content = {
        "models": [{"model": str(default_model_path()), "name": "minilm"}],
        "tasks": "conll2003",
        "seeds": [1, 2, 3, 4],
        "settings": {
            "data_dir": "bundled",
            "epochs": epochs,
            "learning_rate": 1.0e-4,
            "max_length": 128,
            "speed": False,
        },
    }
    path.write_text(yaml.safe_dump(content))
    return path


def _sweep(manifest: Path, workers: int, output: Path) -> float:
    """Wall seconds of one sweep from scratch in a fresh `bench` process."""
    command = [sys.executable, "-m", "benchmark", "sweep", str(manifest)]
    command += ["--workers", str(workers), "--output-dir", str(output)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the sweep with --workers {workers} failed:\n{done.stdout[-2000:]}")
    units = list((output / "units").rglob("*.json"))
    if len(units) != 4:
        raise SystemExit(f"--workers {workers} wrote {len(units)} units, not 4")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    if args.rounds < 2:
        raise SystemExit("--rounds: at least 2, so that two halves can be compared")
    ratios, times = [], {1: [], 2: []}
    with tempfile.TemporaryDirectory() as scratch:
        manifest = _manifest(Path(scratch), args.epochs)
        for n in range(args.rounds):
            order = (1, 2) if n % 2 == 0 else (2, 1)
            took = {w: _sweep(manifest, w, Path(scratch) / f"r{n}-w{w}") for w in order}
            for w in (1, 2):
                times[w].append(took[w])
            ratios.append(took[2] / took[1])
            print(
                f"round {n + 1}: workers 1 {took[1]:.1f} s, workers 2 {took[2]:.1f} s, "
                f"ratio {ratios[-1]:.3f}",
                flush=True,
            )
    even, odd = statistics.median(ratios[0::2]), statistics.median(ratios[1::2])
    print(
        f"workers 1: median {statistics.median(times[1]):.1f} s "
        f"[{min(times[1]):.1f}-{max(times[1]):.1f}]; workers 2: median "
        f"{statistics.median(times[2]):.1f} s [{min(times[2]):.1f}-{max(times[2]):.1f}]"
    )
    print(
        f"workers 2 / workers 1: median {statistics.median(ratios):.3f} "
        f"[{min(ratios):.3f}-{max(ratios):.3f}] over {len(ratios)} rounds; halves "
        f"{even:.3f} / {odd:.3f}"
    )


if __name__ == "__main__":
    main()
