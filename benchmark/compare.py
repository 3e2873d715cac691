"""`bench compare`: results side by side, the first file as the reference (the teacher).

Scores per task with the percent of the reference each result keeps, the suite's macro
retention, and cost at each measured length (median latency, speed-up, peak memory).
Results whose shared tasks differ in version, spec or evaluated data are refused.
"""

from __future__ import annotations

import json
from pathlib import Path

from rich.table import Table

from benchmark.errors import BenchError
from benchmark.retention import ratio_record, retention, with_time_ratios
from benchmark.run_result import RunResult, read_result


def load_results(paths: list[Path]) -> list[tuple[str, RunResult]]:
    if len(paths) < 2:
        raise BenchError(
            "bench compare needs at least two result files (the first is the reference)"
        )
    loaded = []
    for path in paths:
        result = read_result(path)
        if result is None:
            raise BenchError(f"result file {path} does not exist")
        loaded.append((path.name, result))
    return loaded


def comparison(paths: list[Path]) -> dict:
    """Everything `bench compare` shows, as one JSON-ready object."""
    results = load_results(paths)
    reference_name, reference = results[0]
    rows = {"reference": reference_name, "results": []}
    for name, result in results:
        entry = {
            "file": name,
            "model": result.model.name,
            "scores": {t: e.main_score for t, e in result.tasks.items()},
            # over several seeds: the main score's standard deviation
            "scores_std": {t: e.main_score_std for t, e in result.tasks.items()},
            # scores by input length, "task <bucket>" -> (score, examples)
            "bucket_scores": {
                f"{t} {label}": [b["main_score"], b["n_examples"]]
                for t, e in result.tasks.items()
                for label, b in (e.buckets or {}).items()
            },
        }
        if result is not reference:
            block = retention(result, reference, name, reference_name)
            block.cost = with_time_ratios(block.cost, _own_time_ratios(result, reference))
            entry["retained_percent"] = {t: v.retained_percent for t, v in block.tasks.items()}
            entry["retained_percent_std"] = {
                t: v.retained_percent_std for t, v in block.tasks.items()
            }
            entry["retained_percent_by_bucket"] = {
                f"{t} {label}": kept
                for t, v in block.tasks.items()
                for label, kept in (v.buckets or {}).items()
            }
            entry["retained_percent_macro"] = block.retained_percent_macro
            entry["retained_percent_macro_std"] = block.retained_percent_macro_std
            entry["cost"] = [c.model_dump(mode="json") for c in block.cost]
        measurements = result.speed.measurements if result.speed else []
        shown = ("seq_len", "batch_size", "status", "device", "latency_ms", "peak_memory_mb")
        entry["speed"] = [m.model_dump(mode="json", include=set(shown)) for m in measurements]
        rows["results"].append(entry)
    return rows


def _own_time_ratios(result: RunResult, reference: RunResult) -> list[dict]:
    """The interleaved time ratios ``result`` measured against ``reference``'s weights when
    it was run with that teacher (`bench run --teacher`): better than the ratio of two
    separate runs, which the machine's drift between them can bend."""
    own = result.retention
    if not own or not reference.model.same_weights(own.teacher.get("model", {})):
        return []
    return [
        ratio_record(c)
        for c in own.cost
        if c.time_method == "interleaved" and c.time_ratio is not None
    ]


def _fmt(value, pattern: str = "{:.2f}", std: float | None = None) -> str:
    """A number as ``pattern``, with its standard deviation where there is one."""
    if value is None:
        return "-"
    shown = pattern.format(value)
    if std is None:
        return shown
    return shown.replace("%", "") + " ± " + pattern.format(std)


def _std(result: dict, task: str) -> float | None:
    return result.get("scores_std", {}).get(task)


def _cells(data: dict) -> tuple[list[str], list[list[str]]]:
    """Header and rows shared by the table and Markdown renderings."""
    results = data["results"]
    tasks = list(dict.fromkeys(t for r in results for t in r["scores"]))
    header = ["task"] + [
        r["file"] + ("" if i == 0 else " (retained %)") for i, r in enumerate(results)
    ]
    rows = []
    for task in tasks:
        row = [task, _fmt(results[0]["scores"].get(task), std=_std(results[0], task))]
        for r in results[1:]:
            score = _fmt(r["scores"].get(task), std=_std(r, task))
            kept = r.get("retained_percent", {}).get(task)
            kept_std = r.get("retained_percent_std", {}).get(task)
            row.append(f"{score} ({_fmt(kept, '{:.1f}%', kept_std)})")
        rows.append(row)
        buckets = [k for k in results[0]["bucket_scores"] if k.startswith(task + " ")]
        for key in buckets:  # where by length the student keeps or loses
            score, n = results[0]["bucket_scores"][key]
            row = [f"  {key} tokens (n={n})", _fmt(score)]
            for r in results[1:]:
                theirs = r["bucket_scores"].get(key)
                kept = r.get("retained_percent_by_bucket", {}).get(key)
                row.append(
                    "-" if theirs is None else f"{_fmt(theirs[0])} ({_fmt(kept, '{:.1f}%')})"
                )
            rows.append(row)
    rows.append(
        ["retained, macro", ""]
        + [
            _fmt(r.get("retained_percent_macro"), "{:.1f}%", r.get("retained_percent_macro_std"))
            for r in results[1:]
        ]
    )
    shapes = list(
        dict.fromkeys((m["seq_len"], m["batch_size"]) for r in results for m in r["speed"])
    )
    for seq_len, batch in shapes:
        row = [f"time {seq_len}x{batch}"]
        for i, r in enumerate(results):
            m = next(
                (m for m in r["speed"] if (m["seq_len"], m["batch_size"]) == (seq_len, batch)), None
            )
            if m is None or m.get("status") != "ok":
                row.append("-" if m is None else m.get("status", "-"))
                continue
            cell = f"{m['latency_ms']['median']:.1f} ms"
            change = next(
                (
                    c
                    for c in r.get("cost", [])
                    if (c["seq_len"], c["batch_size"]) == (seq_len, batch)
                ),
                None,
            )
            if i and change:
                latency = _fmt(change["latency_change_percent"], "{:+.1f}%")
                if change.get("time_method") == "interleaved":
                    # the milliseconds are each model's own run; the speed-up is the ratio
                    # measured with both in one process, in turns, so it need not equal
                    # their quotient
                    low, high = change["time_ratio_range"]
                    cell += (
                        f" alone; in turns with the reference: {change['speedup']:.2f}x, "
                        f"{latency}, ratio {change['time_ratio']:.3f} [{low:.3f}-{high:.3f}] "
                        f"over {change['time_ratio_rounds']} interleaved rounds"
                        + ("" if change["time_ratio_agreed"] else ", halves not agreed")
                        + f" (mem {_fmt(change['peak_memory_change_percent'], '{:+.1f}%')})"
                    )
                else:
                    cell += f" ({change['speedup']:.2f}x, {latency}"
                    cell += f"; mem {_fmt(change['peak_memory_change_percent'], '{:+.1f}%')})"
            if m.get("peak_memory_mb") is not None:
                cell += f", {m['peak_memory_mb']:.0f} MB"
            row.append(cell)
        rows.append(row)
    return header, rows


def as_table(data: dict) -> Table:
    header, rows = _cells(data)
    table = Table(title=f"compared with {data['reference']}")
    for column in header:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    return table


def as_markdown(data: dict) -> str:
    header, rows = _cells(data)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def as_json(data: dict) -> str:
    return json.dumps(data, indent=2) + "\n"
