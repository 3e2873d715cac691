"""The page's optional section: the same students timed on a GPU.

Its own module because its input is not the study's: ``ratios-gpu.json`` is written by
tests/perf/bench_study_ratios.py --json on a lent machine (see tests/perf/gpu_study_ratios.sh)
and dropped into the study folder by hand; the page shows it when it is there and keeps a
copy under ``data/``. Its ratios are never the ones the goal and the plot use.
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmark.errors import BenchError
from benchmark.markdown import md_escape

GPU_RATIOS = "ratios-gpu.json"


def gpu_file(runs: Path, output: Path) -> Path | None:
    """The GPU time ratios: the study folder's, else the copy a page already keeps."""
    for path in (runs / GPU_RATIOS, output / "data" / GPU_RATIOS):
        if path.exists():
            return path
    return None


def gpu_section(path: Path | None) -> list[str]:
    """The section's Markdown lines, none without a file; a file that cannot be read as
    GPU time ratios is an error that says how to make it again."""
    if path is None:
        return []
    try:
        kept = json.loads(path.read_text("utf-8"))
        rows = []
        for r in kept["rows"]:
            row = [md_escape(str(r["student"])), int(r["seq_len"]), int(r["batch_size"])]
            if r["status"] == "ok":
                row += [
                    f"{r['ratio']:.3f} [{r['min']:.3f}-{r['max']:.3f}]",
                    int(r["rounds"]),
                    "yes" if r["agreed"] else "no",
                    f"{r['student_ms']:.1f}",
                    f"{r['teacher_ms']:.1f}",
                ]
            else:
                row += ["failed: " + md_escape(str(r.get("reason", ""))), "", "", "", ""]
            rows.append(row)
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise BenchError(
            f"{path} is not a GPU time-ratio file ({exc!r}); make it again with "
            "tests/perf/gpu_study_ratios.sh, or delete it"
        ) from None
    about = "; ".join(
        md_escape(str(kept[k])) for k in ("device", "software", "plan", "weights") if kept.get(k)
    )
    lines = [
        "## The time ratios on a GPU",
        "",
        f"{about}." if about else "",
        "",
        f"Command: {md_escape(str(kept.get('command', 'not recorded')))}. These are not the "
        "ratios the goal and the plot use: those are the study's own, on its CPU.",
        "",
        "| student | tokens | batch | time ratio [min-max] | rounds | halves agree | student ms "
        "| teacher ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines + [""]
