"""`bench compare`: results side by side, the first file as the reference (the teacher).

Scores per task with the percent of the reference each result keeps, the suite's macro
retention, and cost at each measured length (median latency, speed-up, peak memory).
Results whose shared tasks differ in version, spec or evaluated data are refused. Each
score shows its bootstrap interval where the file holds one, and a student run against the
reference (`bench run --teacher`) its paired interval, agreement and flips; ``paired``
(`--paired`) computes those, and the paired interval of the difference, from both files'
saved predictions for any two results (benchmark.paired). Where a result measured the
long-context gain (`bench run --long-context-gain`), each task shows it, the student's beside
the teacher's: whether distillation kept the use of the long context, overall and by length.
"""

from __future__ import annotations

import json
from pathlib import Path

from rich.table import Table

from benchmark.bootstrap import RESAMPLES
from benchmark.errors import BenchError
from benchmark.paired import Pairing
from benchmark.retention import ratio_record, retention, with_time_ratios
from benchmark.run_result import GIVE_ONE, RetentionBlock, RunResult, counted_note, read_result


def load_results(paths: list[Path]) -> list[tuple[str, RunResult]]:
    """Every result file, read; the first is the reference."""
    if len(paths) < 2:
        raise BenchError(
            "bench compare needs at least two result files (the first is the reference)"
        )
    loaded = []
    for path in paths:
        result = read_result(path, GIVE_ONE)
        if result is None:
            raise BenchError(f"result file {path} does not exist: {GIVE_ONE}")
        loaded.append((path.name, result))
    return loaded


def comparison(paths: list[Path], paired: bool = False, resamples: int = RESAMPLES) -> dict:
    """Everything `bench compare` shows, as one JSON-ready object; ``paired``: with each
    result's paired comparison against the reference from their saved predictions (an
    error naming what is missing), drawn with ``resamples``."""
    results = load_results(paths)
    reference_name, reference = results[0]
    rows = {"reference": reference_name, "results": [], "paired": paired}
    for (name, result), path in zip(results, paths):
        entry = {
            "file": name,
            "model": result.model.name,
            "scores": {t: e.main_score for t, e in result.tasks.items()},
            "scores_ci95": {t: e.main_score_ci95 for t, e in result.tasks.items()},
            # over several seeds: the main score's standard deviation
            "scores_std": {t: e.main_score_std for t, e in result.tasks.items()},
            # scores by input length, "task <bucket>" -> (score, examples)
            "bucket_scores": {
                f"{t} {label}": [b["main_score"], b["n_examples"]]
                for t, e in result.tasks.items()
                for label, b in (e.buckets or {}).items()
            },
            # the same model read at its full length and at 512 tokens
            "long_context": {
                t: e.long_context.model_dump(mode="json")
                for t, e in result.tasks.items()
                if e.long_context is not None
            },
        }
        if result is not reference:
            pairing = None
            if paired:
                pairing = Pairing(path, paths[0], resamples, name, reference_name, strict=True)
            block = retention(result, reference, name, reference_name, pairing)
            own = block if paired else _own_retention(result, reference)
            entry |= _paired_columns(own, reference)
            if pairing is not None:
                entry["paired_difference"] = {
                    t: {"difference": p.student - p.teacher, "ci95": p.difference_ci95}
                    for t, p in pairing.done.items()
                    if not isinstance(p, str)  # unpaired: its reason is in unpaired_reason
                }
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
            entry["retained_percent_macro_over"] = block.macro_scope()
            entry["cost"] = [c.model_dump(mode="json") for c in block.cost]
        measurements = result.speed.measurements if result.speed else []
        shown = ("seq_len", "batch_size", "status", "device", "latency_ms", "peak_memory_mb")
        entry["speed"] = [m.model_dump(mode="json", include=set(shown)) for m in measurements]
        rows["results"].append(entry)
    return rows


def _own_retention(result: RunResult, reference: RunResult) -> RetentionBlock | None:
    """The result's own retention block where it was run against the reference's weights
    (`bench run --teacher`): its paired fields came from both sides' predictions."""
    own = result.retention
    if own and reference.model.same_weights(own.teacher.get("model", {})):
        return own
    return None


def _paired_columns(block: RetentionBlock | None, reference: RunResult) -> dict:
    """Per task: the retained percent's paired interval, agreement, flips, or why not;
    from a block against the reference's very scores only."""
    tasks = {
        t: v
        for t, v in (block.tasks if block else {}).items()
        if t in reference.tasks and v.teacher == reference.tasks[t].main_score
    }
    return {
        "retained_percent_ci95": {t: v.retained_percent_ci95 for t, v in tasks.items()},
        "agreement": {t: v.agreement for t, v in tasks.items()},
        "agreement_unit": {t: v.agreement_unit for t, v in tasks.items()},
        "flips": {t: v.flips.model_dump() if v.flips else None for t, v in tasks.items()},
        "unpaired_reason": {t: v.unpaired_reason for t, v in tasks.items()},
    }


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


def _ci(interval: list[float] | None, pattern: str = "{:.2f}") -> str:
    """`` [low, high]`` for a 95 % interval, nothing without one."""
    if not interval:
        return ""
    return " [" + ", ".join(pattern.format(v).replace("%", "") for v in interval) + "]"


def _score(result: dict, task: str) -> str:
    score = _fmt(result["scores"].get(task), std=_std(result, task))
    return score + _ci(result.get("scores_ci95", {}).get(task))


def _pairing_rows(task: str, results: list[dict]) -> list[list[str]]:
    """Below a task: each result's agreement and flips against the reference, and with
    ``--paired`` the difference from it; or why they are missing. None where no result
    has any."""
    rows = []
    agree = [_agreement(r, task) for r in results[1:]]
    if any(agree):
        rows.append(["  agreement, flips", ""] + [a or "-" for a in agree])
    differences = [r.get("paired_difference", {}).get(task) for r in results[1:]]
    if any(differences):
        rows.append(
            ["  difference (paired)", ""]
            + [
                "-" if d is None else _fmt(d["difference"], "{:+.2f}") + _ci(d["ci95"], "{:+.2f}")
                for d in differences
            ]
        )
    return rows


def _gain_rows(task: str, results: list[dict]) -> list[list[str]]:
    """Below a task: each result's long-context gain (full length - 512 tokens) with its
    paired interval, then per length bucket; none where no result measured it."""
    records = [r.get("long_context", {}).get(task) for r in results]
    if not any(records):
        return []
    rows = [["  long-context gain (full - 512)"] + [_gain_cell(g) for g in records]]
    labels = dict.fromkeys(k for g in records if g for k in g.get("buckets") or {})
    for label in labels:
        cells = [_gain_cell((g.get("buckets") or {}).get(label)) if g else "-" for g in records]
        rows.append([f"    {label} tokens"] + cells)
    return rows


def _gain_cell(record: dict | None) -> str:
    """A gain with its interval and both readings' scores; why it is undefined; or ``-``."""
    if record is None:
        return "-"
    if record.get("gain") is None:
        return f"undefined (reads {record.get('max_length_full')} tokens)"
    both = f" ({_fmt(record['full'])} vs {_fmt(record['truncated_512'])})"
    return _fmt(record["gain"], "{:+.2f}") + _ci(record.get("gain_ci95"), "{:+.2f}") + both


def _agreement(result: dict, task: str) -> str:
    agreement = result.get("agreement", {}).get(task)
    flips = result.get("flips", {}).get(task)
    parts = [] if agreement is None else [f"{agreement:.1f}% agree"]
    if flips:
        lost, gained = flips["correct_to_wrong"], flips["wrong_to_correct"]
        parts.append(f"{lost} right to wrong, {gained} wrong to right")
    if parts:
        parts[-1] += counted_note(result.get("agreement_unit", {}).get(task))
    reason = result.get("unpaired_reason", {}).get(task)
    return "; ".join(parts) or (f"unpaired: {reason}" if reason else "")


def _cells(data: dict) -> tuple[list[str], list[list[str]]]:
    """Header and rows shared by the table and Markdown renderings."""
    results = data["results"]
    tasks = list(dict.fromkeys(t for r in results for t in r["scores"]))
    header = ["task"] + [
        r["file"] + ("" if i == 0 else " (retained %)") for i, r in enumerate(results)
    ]
    rows = []
    for task in tasks:
        row = [task, _score(results[0], task)]
        for r in results[1:]:
            kept = r.get("retained_percent", {}).get(task)
            kept_std = r.get("retained_percent_std", {}).get(task)
            kept_ci = _ci(r.get("retained_percent_ci95", {}).get(task), "{:.1f}")
            row.append(f"{_score(r, task)} ({_fmt(kept, '{:.1f}%', kept_std)}{kept_ci})")
        rows.append(row)
        rows += _pairing_rows(task, results)
        rows += _gain_rows(task, results)
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
            + (
                f" ({r['retained_percent_macro_over']})"
                if r.get("retained_percent_macro") is not None
                else ""
            )
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
