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
from leaderboard.cells import cells
from leaderboard.html_page import plot_points


def as_table(rows: list[Row], tasks: list[str], sort: str) -> Group:
    """Two tables that fit a terminal: one row per model with the aggregates, then one row
    per task with each model's score (and retained %). Every cell is Text, not markup: a
    name holding ``[bold]`` stays as written."""
    header, body = cells(rows, tasks, sort)
    n = len(tasks)
    task_columns = range(3, 3 + n)
    summary = Table(title="GONERD Bench leaderboard")
    for index, column in enumerate(header):
        if index not in task_columns:
            summary.add_column(Text(column), overflow="fold", min_width=None if index else 20)
    for line in body:
        summary.add_row(*(Text(c) for i, c in enumerate(line) if i not in task_columns))
    per_task = Table(title="Scores per task (retained % of the teacher)")
    per_task.add_column("task", min_width=9)
    for line in body:
        per_task.add_column(Text(line[0].strip()), overflow="fold", min_width=9)
    for offset, task in enumerate(tasks):
        per_task.add_row(Text(task), *(Text(line[3 + offset]) for line in body))
    return Group(summary, per_task)


def as_markdown(rows: list[Row], tasks: list[str], sort: str) -> str:
    header, body = cells(rows, tasks, sort)
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
                "suite_version": e.suite.version,
                "scores": row.scores,
                "score_mean": row.score_mean,
                "retained_percent": row.retained if row.is_student else {},
                "retained_percent_mean": row.retained_mean,
                "retained_percent_min": row.retained_min[0] if row.retained_min else None,
                "worst_task": row.retained_min[1] if row.retained_min else None,
                "aggregate_over_tasks": len(tasks),
                "missing_tasks": row.missing,
                "speedups": row.speedups,
                "pareto": row.pareto,
                "notes": row.notes,
            }
        )
    return out


def as_json(rows: list[Row], tasks: list[str], sort: str) -> str:
    return json.dumps({"tasks": tasks, "rows": records(rows, tasks, sort)}, indent=2) + "\n"


def as_csv(rows: list[Row], tasks: list[str], sort: str) -> str:
    buffer = io.StringIO()
    columns = ["entry_id", "model", "teacher", "parameters", "verified", "sample_data"]
    columns += [f"score:{t}" for t in tasks] + [f"retained:{t}" for t in tasks]
    columns += ["score_mean", "retained_percent_mean", "retained_percent_min", "worst_task"]
    columns += ["pareto_speedup", "pareto_front", "device"]
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
                *[_blank(r["scores"].get(t)) for t in tasks],
                *[_blank(r["retained_percent"].get(t)) for t in tasks],
                _blank(r["score_mean"]),
                _blank(r["retained_percent_mean"]),
                _blank(r["retained_percent_min"]),
                r["worst_task"] or "",
                _blank(pareto.get("speedup")),
                pareto.get("front", ""),
                _csv_text(pareto.get("device", "")),
            ]
        )
    return buffer.getvalue()


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
