"""The board in the terminal (rich), as Markdown, CSV and JSON, as one self-contained web
page (no server, no network: it works opened from disk), and as a plot image.

Everything that came from a submission is escaped for the format it lands in: HTML text and
attributes through ``html.escape``, Markdown through :func:`md_escape`; numbers are
formatted here, never passed through.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from rich.console import Group
from rich.table import Table
from rich.text import Text

from benchmark.markdown import md_escape
from benchmark.pareto import PlotPoint, PlotStyle, draw_pareto
from leaderboard.board import Row, ordered
from leaderboard.cells import cells, row_notes
from leaderboard.html_plot import plot_points
from leaderboard.trust_cells import detail_cells, task_numbers


def as_table(rows: list[Row], tasks: list[str], sort: str) -> Group:
    """Tables that fit a terminal: one row per model with the aggregates, then each model's
    score per task with its interval (and retained %), a model per row where the models
    outnumber the tasks and a task per row where not, then, where there are some,
    one row per student's task with its paired numbers and per long-context gain. Every
    cell is Text, not markup: a name holding ``[bold]`` stays as written."""
    header, body = cells(rows, tasks, sort, intervals=True)
    n = len(tasks)
    task_columns = range(3, 3 + n)
    summary = Table(title="GONERD Bench leaderboard")
    for index, column in enumerate(header):
        if index not in task_columns:
            summary.add_column(Text(column), overflow="fold", min_width=None if index else 20)
    for line in body:
        summary.add_row(*(Text(c) for i, c in enumerate(line) if i not in task_columns))
    per_task = Table(title=Text("Scores per task, [95% interval] (retained % of the teacher)"))
    if len(body) > n:  # more models than tasks: a model per row, as in the table above
        per_task.add_column("model", overflow="fold", min_width=20)
        for task in tasks:
            per_task.add_column(Text(task), overflow="fold", min_width=9)
        for line in body:
            per_task.add_row(*(Text(c) for c in [line[0], *line[3 : 3 + n]]))
    else:  # a task per row, a model per column: many tasks fit the terminal's height
        per_task.add_column("task", min_width=9)
        for line in body:
            per_task.add_column(Text(line[0].strip()), overflow="fold", min_width=9)
        for offset, task in enumerate(tasks):
            per_task.add_row(Text(task), *(Text(line[3 + offset]) for line in body))
    detail_header, details = detail_cells(rows, tasks, sort)
    if not details:
        return Group(summary, per_task)
    paired = Table(title=Text(DETAILS_TITLE))
    for column in detail_header:
        paired.add_column(Text(column), overflow="fold")
    for line in details:
        paired.add_row(*(Text(c) for c in line))
    return Group(summary, per_task, paired)


DETAILS_TITLE = "Paired with the teacher (lost: teacher right, student wrong), long-context gains"


def as_markdown(rows: list[Row], tasks: list[str], sort: str) -> str:
    """The board's table, then the details table where there is one (its title in bold)."""
    text = _markdown_table(*cells(rows, tasks, sort, intervals=True))
    detail_header, details = detail_cells(rows, tasks, sort)
    if details:
        text += f"\n**{md_escape(DETAILS_TITLE)}**\n\n" + _markdown_table(detail_header, details)
    return text


def _markdown_table(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(md_escape(h) for h in header) + " |"]
    lines.append("|" + "---|" * len(header))
    lines += ["| " + " | ".join(md_escape(c) for c in line) + " |" for line in body]
    return "\n".join(lines) + "\n"


def records(rows: list[Row], tasks: list[str], sort: str) -> list[dict]:
    """The board's rows as plain data: the entry's identity and the board's own numbers."""
    out = []
    for row, depth in ordered(rows, sort):
        e = row.entry
        out.append(
            {
                "entry_id": e.entry_id,
                "model": e.model.name,
                "depth": depth,
                "teacher": row.teacher_row.name if row.teacher_row else None,
                "teacher_link": row.link,
                "parameters": e.model.parameters,
                "verified": e.verified,
                "sample_data": e.sample_data,
                "data": e.data_name(),
                "budget": e.budget,
                "suite_version": e.suite.version,
                "scores": row.scores,
                "score_mean": row.score_mean,
                "retained_percent": row.retained if row.is_student else {},
                "retained_percent_mean": row.retained_mean,
                # over seeds: each seed's retained %, seed by seed (leaderboard.seed_spread)
                "retained_percent_std": row.retained_std if row.is_student else {},
                "retained_percent_mean_std": row.retained_mean_std,
                "retained_percent_min": row.retained_min[0] if row.retained_min else None,
                "worst_task": row.retained_min[1] if row.retained_min else None,
                "aggregate_over_tasks": len(tasks),
                "missing_tasks": row.missing,
                "speedups": row.speedups,
                "pareto": row.pareto,
                # per task: the score's interval, the paired numbers, the long-context gain
                "trust": {t: task_numbers(row, t) for t in tasks if t in e.tasks},
                "notes": row_notes(row),
            }
        )
    return out


def as_json(rows: list[Row], tasks: list[str], sort: str) -> str:
    return json.dumps({"tasks": tasks, "rows": records(rows, tasks, sort)}, indent=2) + "\n"


def as_csv(rows: list[Row], tasks: list[str], sort: str) -> str:
    buffer = io.StringIO()
    columns = ["entry_id", "model", "teacher", "parameters", "verified", "sample_data", "data"]
    columns += [f"score:{t}" for t in tasks] + [f"retained:{t}" for t in tasks]
    columns += [f"retained_std:{t}" for t in tasks]
    columns += [f"{k}:{t}" for k in TRUST_CSV for t in tasks]
    columns += ["score_mean", "retained_percent_mean", "retained_percent_mean_std"]
    columns += ["retained_percent_min", "worst_task"]
    columns += ["pareto_speedup", "pareto_method", "pareto_front", "device"]
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for r in records(rows, tasks, sort):
        pareto = r["pareto"] or {}
        writer.writerow(
            [
                r["entry_id"],
                _csv_text(r["model"]),
                _csv_text(r["teacher"] or ""),
                r["parameters"] if r["parameters"] is not None else "",
                r["verified"],
                r["sample_data"],
                _csv_text(r["data"]),
                *[_blank(r["scores"].get(t)) for t in tasks],
                *[_blank(r["retained_percent"].get(t)) for t in tasks],
                *[_blank(r["retained_percent_std"].get(t)) for t in tasks],
                *[_trust_value(r["trust"].get(t), k) for k in TRUST_CSV for t in tasks],
                _blank(r["score_mean"]),
                _blank(r["retained_percent_mean"]),
                _blank(r["retained_percent_mean_std"]),
                _blank(r["retained_percent_min"]),
                r["worst_task"] or "",
                _blank(pareto.get("speedup")),
                pareto.get("method") or "",
                pareto.get("front", ""),
                _csv_text(pareto.get("device", "")),
            ]
        )
    return buffer.getvalue()


# the CSV's columns of each task's trust numbers: an interval as its two ends
TRUST_CSV = (
    "score_ci95_low",
    "score_ci95_high",
    "retained_ci95_low",
    "retained_ci95_high",
    "agreement",
    "agreement_unit",
    "flips_correct_to_wrong",
    "flips_wrong_to_correct",
    "long_context_gain",
    "long_context_gain_ci95_low",
    "long_context_gain_ci95_high",
)


def _trust_value(numbers: dict | None, column: str) -> str:
    """One CSV cell of a task's trust numbers (:func:`task_numbers`)."""
    if numbers is None:
        return ""
    for end, index in (("_low", 0), ("_high", 1)):
        if column.endswith(end):
            bounds = numbers[column.removesuffix(end)]
            return "" if bounds is None else repr(bounds[index])
    return _blank(numbers[column])


def _blank(value) -> str:
    return "" if value is None else repr(value) if isinstance(value, float) else str(value)


def _csv_text(text: str) -> str:
    """Spreadsheets run a cell that starts with = + - @ as a formula: not ours to run."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def write_plot(rows: list[Row], path) -> None:
    """The Pareto plot as an image (PNG or SVG by the file's suffix): each student named,
    coloured by its teacher and linked to it (benchmark.pareto draws it)."""
    points = plot_points(rows)
    by_id = {p["id"]: p for p in points}
    teacher_names = {row.entry.entry_id: row.name for row in rows}
    draw_pareto(
        [
            PlotPoint(
                speedup=p["x"],
                retained=p["y"],
                group=f"teacher: {teacher_names.get(p['teacher'], '?')}",
                on_front=p["front"],
                label=p["name"],
                teacher=(by_id[p["teacher"]]["x"], by_id[p["teacher"]]["y"])
                if p["teacher"] in by_id
                else None,
            )
            for p in points
        ],
        [Path(path)],
        PlotStyle(title="Retained % against speed-up (red rings: Pareto front)", size=(7, 4.5)),
    )
