"""Do the study's time ratios reproduce? Each student is timed against its teacher again,
independently of the study's own measurement, and the two are set side by side.

The study (`bench study run`) keeps each student/teacher inference-time ratio in
``<runs>/time-ratios/<model>.json``, measured in interleaved rounds until two halves agree
(benchmark.time_ratio). This re-measures the same pairs with the same plan, in new
processes, and prints both ratios, how far apart they are, whether that is within the
plan's tolerance (±0.03 by default) and how many rounds each took. Run it on a machine
doing nothing else: the ratio of two models timed in turns survives slow drift, not a
neighbour that takes a core away from one of them.

Run: HF_HUB_OFFLINE=1 python tests/perf/bench_study_ratios.py baselines/configs/study.yaml
     [--runs study-runs/study] [--lengths 4096] [--json FILE]
On a GPU, over the models' shapes alone (tests/perf/study_shapes.py; see
tests/perf/gpu_study_ratios.sh): add --models DIR --device cuda --batch-size 16.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from baselines.study import load_study, models, ratio_path
from benchmark.profiler import ProfileRequest
from benchmark.time_ratio import interleaved_ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("study", type=Path)
    parser.add_argument("--runs", type=Path, help="the study's folder; default: its output")
    parser.add_argument("--lengths", help="comma-separated; default: the study's")
    parser.add_argument(
        "--models",
        type=Path,
        help="time the models of a tests/perf/study_shapes.py folder instead (another machine)",
    )
    parser.add_argument("--device", help="default: the study's (cpu)")
    parser.add_argument("--batch-size", type=int, help="default: the study's (1)")
    parser.add_argument("--max-rounds", type=int, help="default: the study's")
    parser.add_argument("--json", type=Path, help="write the rows here too, after each one")
    args = parser.parse_args()
    study = load_study(args.study)
    runs = args.runs or Path(study.output)
    plan = study.speed
    device = args.device or plan.device
    batch_size = args.batch_size or plan.batch_size
    max_rounds = args.max_rounds or plan.max_rounds
    lengths = [int(n) for n in args.lengths.split(",")] if args.lengths else plan.seq_lens
    # the study's own ratios are the ones to compare with only on the same device and batch
    comparable = device == plan.device and batch_size == plan.batch_size
    if args.models:
        pairs = [
            (row["key"], str(args.models / row["key"]), str(args.models / row["teacher"]))
            for row in json.loads((args.models / "models.json").read_text())
            if row["teacher"]
        ]
    else:
        if not (runs / "time-ratios").is_dir():
            raise SystemExit(
                f"no time ratios under {runs}: run `bench study run {args.study}` first, or "
                "give --runs the study's folder"
            )
        found = models(study, runs)
        path_of = {m.key: m.path for m in found}
        pairs = [(m.key, m.path, path_of[m.teacher]) for m in found if m.teacher]
    about = _about(device, batch_size, plan, bool(args.models))
    rows = []
    print(
        f"# {device}, batch {batch_size}; the study's ratios: {plan.device}, batch "
        f"{plan.batch_size}" + ("" if comparable else " (not compared)")
    )
    print(f"{'student':36} {'len':>5} {'study':>20} {'again':>20} {'apart':>6}")
    for seq_len in lengths:  # length by length, so a run cut short has whole lengths
        for key, student, teacher in pairs:
            kept = ratio_path(runs, key)
            first = {
                r["seq_len"]: r
                for r in (json.loads(kept.read_text()) if kept.exists() else {}).get("ratios", [])
            }
            before = first.get(seq_len) if comparable else None
            again = interleaved_ratio(
                ProfileRequest(student, seq_len, batch_size, device),
                teacher,
                plan.tolerance,
                plan.min_rounds,
                max_rounds,
            )
            row = {"student": key, **again, "study": before}
            apart = None
            if before and before["status"] == "ok" and again["status"] == "ok":
                apart = abs(before["ratio"] - again["ratio"])
            row["apart"] = apart
            row["within"] = apart is not None and apart <= plan.tolerance
            rows.append(row)
            print(
                f"{key:36} {seq_len:>5} {_cell(before):>20} {_cell(again):>20} "
                + ("     –" if apart is None else f"{apart:6.3f}")
                + (" ok" if row["within"] else " MISSED" if apart is not None else ""),
                flush=True,
            )
            if args.json:
                _write(args.json, about, rows)
    if comparable:
        within = sum(r["within"] for r in rows)
        print(f"{within} of {len(rows)} pairs reproduce within ±{plan.tolerance}")
    else:
        agreed = sum(r.get("agreed", False) for r in rows)
        print(f"{agreed} of {len(rows)} ratios' two halves agree within ±{plan.tolerance}")


def _about(device: str, batch_size: int, plan, shapes: bool) -> dict:
    """What the rows were measured on and how (what `bench report` prints above them)."""
    import platform
    import sys

    import torch
    import transformers

    from benchmark.profiler import _cpu_name

    name = torch.cuda.get_device_name(0) if device.startswith("cuda") else _cpu_name()
    return {
        "device": f"{name or device} ({device})",
        "dtype": "float32",
        "software": f"Python {platform.python_version()}, torch {torch.__version__}, "
        f"transformers {transformers.__version__}",
        "plan": f"float32, batch {batch_size}; each round a fresh process timing student "
        "and teacher in turns (ABBA), rounds until the even and odd halves agree within "
        f"±{plan.tolerance}",
        "weights": "random, from each model's config and tokenizer (tests/perf/study_shapes.py):"
        " a forward pass takes the same time whatever its weights"
        if shapes
        else "trained, the study's own models",
        "command": " ".join(["python", *sys.argv]),
    }


def _write(path: Path, about: dict, rows: list[dict]) -> None:
    """Atomically, so a run stopped by its time limit leaves its last whole file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(about | {"rows": rows}, indent=2))
    os.replace(partial, path)


def _cell(r: dict | None) -> str:
    if r is None:
        return "not measured"
    if r["status"] != "ok":
        return "failed"
    return f"{r['ratio']:.3f} ({r['rounds']} rounds)"


if __name__ == "__main__":
    main()
