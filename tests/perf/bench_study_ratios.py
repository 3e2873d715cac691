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
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from baselines.study import load_study, models, ratio_path
from benchmark.profiler import ProfileRequest
from benchmark.time_ratio import interleaved_ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("study", type=Path)
    parser.add_argument("--runs", type=Path, help="the study's folder; default: its output")
    parser.add_argument("--lengths", help="comma-separated; default: the study's")
    parser.add_argument("--json", type=Path, help="write the rows here too")
    args = parser.parse_args()
    study = load_study(args.study)
    runs = args.runs or Path(study.output)
    plan = study.speed
    lengths = [int(n) for n in args.lengths.split(",")] if args.lengths else plan.seq_lens
    if not (runs / "time-ratios").is_dir():
        raise SystemExit(
            f"no time ratios under {runs}: run `bench study run {args.study}` first, or give "
            "--runs the study's folder"
        )
    found = models(study, runs)
    path_of = {m.key: m.path for m in found}
    rows = []
    print(f"{'student':36} {'len':>5} {'study':>20} {'again':>20} {'apart':>6}")
    for model in (m for m in found if m.teacher):
        kept = ratio_path(runs, model.key)
        first = {
            r["seq_len"]: r
            for r in (json.loads(kept.read_text()) if kept.exists() else {}).get("ratios", [])
        }
        for seq_len in lengths:
            before = first.get(seq_len)
            again = interleaved_ratio(
                ProfileRequest(model.path, seq_len, plan.batch_size, plan.device),
                path_of[model.teacher],
                plan.tolerance,
                plan.min_rounds,
                plan.max_rounds,
            )
            row = {"student": model.key, "seq_len": seq_len, "study": before, "again": again}
            apart = None
            if before and before["status"] == "ok" and again["status"] == "ok":
                apart = abs(before["ratio"] - again["ratio"])
            row["apart"] = apart
            row["within"] = apart is not None and apart <= plan.tolerance
            rows.append(row)
            print(
                f"{model.key:36} {seq_len:>5} {_cell(before):>20} {_cell(again):>20} "
                + ("     –" if apart is None else f"{apart:6.3f}")
                + (" ok" if row["within"] else " MISSED" if apart is not None else "")
            )
    within = sum(r["within"] for r in rows)
    print(f"{within} of {len(rows)} pairs reproduce within ±{plan.tolerance}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


def _cell(r: dict | None) -> str:
    if r is None:
        return "not measured"
    if r["status"] != "ok":
        return "failed"
    return f"{r['ratio']:.3f} ({r['rounds']} rounds)"


if __name__ == "__main__":
    main()
