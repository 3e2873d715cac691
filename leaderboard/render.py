"""The board in the terminal (rich), as Markdown, CSV and JSON, as one self-contained web
page (no server, no network: it works opened from disk), and as a plot image.

Everything that came from a submission is escaped for the format it lands in: HTML text and
attributes through ``html.escape``, Markdown through :func:`md_escape`; numbers are
formatted here, never passed through.
"""

from __future__ import annotations

import csv
import html
import io
import json
from pathlib import Path

from rich.console import Group
from rich.table import Table
from rich.text import Text

from benchmark.markdown import md_escape
from benchmark.pareto import PlotPoint, PlotStyle, draw_pareto
from leaderboard.board import Row, ordered

DASH = "–"


def _num(value: float | None, pattern: str = "{:.2f}") -> str:
    return DASH if value is None else pattern.format(value)


def _params(row: Row) -> str:
    n = row.entry.model.parameters
    if n is None:
        return DASH
    return f"{n / 1e6:.1f}M" if n >= 100_000 else f"{n:,}"


def _speedup(row: Row) -> str:
    """The speed-up at the longest shape measured (* on the front there)."""
    if row.pareto:
        return f"{row.pareto['speedup']:.2f}x" + (" *" if row.pareto["front"] else "")
    if row.speedups:
        longest = max(row.speedups, key=lambda s: (s["seq_len"], s["batch_size"]))
        return f"{longest['speedup']:.2f}x"
    return DASH


def _aggregate(value: float | None, row: Row, n_tasks: int, pattern="{:.2f}") -> str:
    if value is not None:
        return pattern.format(value)
    if row.missing:
        return f"{DASH} ({n_tasks - len(row.missing)}/{n_tasks} tasks)"
    return DASH


def _retained_cell(row: Row, n_tasks: int) -> str:
    if not row.is_student:
        return DASH
    if row.retained_mean is not None:
        return f"{row.retained_mean:.1f}%"
    if row.missing:
        return f"{DASH} ({n_tasks - len(row.missing)}/{n_tasks} tasks)"
    if row.teacher_row is not None:
        held = sum(t in row.teacher_row.entry.tasks for t in row.scores)
        if held < n_tasks:
            return f"{DASH} (teacher: {held}/{n_tasks} tasks)"
    return DASH


def cells(rows: list[Row], tasks: list[str], sort: str) -> tuple[list[str], list[list[str]]]:
    """Header and plain-text cells shared by the terminal, Markdown and CSV renderings."""
    n = len(tasks)
    header = ["model", "params", "verified", *tasks, f"mean ({n} tasks)"]
    header += [f"retained mean ({n} tasks)", "worst task", "speed-up (* front)", "data"]
    body = []
    for row, depth in ordered(rows, sort):
        e = row.entry
        worst = DASH
        if row.retained_min:
            worst = f"{row.retained_min[0]:.1f}% {row.retained_min[1]}"
        task_cells = []
        for t in tasks:
            score = _num(row.scores.get(t))
            if row.scores_std.get(t) is not None:  # over several seeds
                score += f" ± {row.scores_std[t]:.2f}"
            if row.retained.get(t) is not None:
                score += f" ({row.retained[t]:.1f}%)"
            task_cells.append(score)
        body.append(
            [
                ("  " * depth + "└ " if depth else "") + e.model.name,
                _params(row),
                e.verified,
                *task_cells,
                _aggregate(row.score_mean, row, n),
                _retained_cell(row, n),
                worst,
                _speedup(row),
                "sample" if e.sample_data else "full",
            ]
        )
    return header, body


def notes(rows: list[Row]) -> list[str]:
    """What a reader should know about some rows: why a student has no teacher on the
    board, and where a result's own retention disagrees with the board's."""
    found = []
    for row in rows:
        if row.link:
            found.append(f"{row.name}: not linked to a teacher: {row.link}")
        found += [f"{row.name}: {note}" for note in row.notes]
    return found


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


def _heat(retained: float | None) -> str:
    """A background colour for a retained %: red at 80 % or less, green at 100 % or more."""
    if retained is None:
        return ""
    share = max(0.0, min(1.0, (retained - 80.0) / 20.0))
    red, green = int(230 - 120 * share), int(120 + 100 * share)
    return f"background:rgb({red},{green},130)"


def plot_points(rows: list[Row]) -> list[dict]:
    """One point per plotted model: (speed-up, retained %) with its teacher and front."""
    points = []
    for row in rows:
        if row.pareto is None:
            continue
        points.append(
            {
                "id": row.entry.entry_id,
                "name": row.name,
                "x": row.pareto["speedup"],
                "y": row.pareto["retained"],
                "front": row.pareto["front"],
                "device": row.pareto["device"],
                "teacher": row.teacher_row.entry.entry_id if row.teacher_row else None,
            }
        )
    return points


def _svg(points: list[dict], width: int = 640, height: int = 400) -> str:
    """The Pareto plot as inline SVG: x speed-up over the teacher, y retained %."""
    if not points:
        return '<p class="empty">No entry has both a teacher on the board and a speed-up.</p>'
    pad = 50
    xs, ys = [p["x"] for p in points], [p["y"] for p in points]
    x_lo, x_hi = min(xs + [1.0]) * 0.9, max(xs + [1.0]) * 1.1
    y_lo, y_hi = min(ys + [100.0]) - 5, max(ys + [100.0]) + 5

    def sx(x):
        return pad + (x - x_lo) / (x_hi - x_lo) * (width - 2 * pad)

    def sy(y):
        return height - pad - (y - y_lo) / (y_hi - y_lo) * (height - 2 * pad)

    by_id = {p["id"]: p for p in points}
    parts = [
        f'<svg id="pareto" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" role="img" aria-label="retained percent against speed-up">',
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        'stroke="#444"/>',
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#444"/>',
        f'<text x="{width / 2}" y="{height - 12}" text-anchor="middle">speed-up over the '
        "teacher (x)</text>",
        f'<text x="14" y="{height / 2}" transform="rotate(-90 14 {height / 2})" '
        'text-anchor="middle">retained of the teacher (%)</text>',
    ]
    for i in range(3):  # ticks: both ends and the middle of each axis
        x = x_lo + (x_hi - x_lo) * (0.05 + 0.45 * i)
        y = y_lo + (y_hi - y_lo) * (0.05 + 0.45 * i)
        parts.append(
            f'<text class="tick" x="{sx(x):.1f}" y="{height - pad + 16}" font-size="11" '
            f'text-anchor="middle">{x:.2f}x</text>'
        )
        parts.append(
            f'<text class="tick" x="{pad - 6}" y="{sy(y) + 4:.1f}" font-size="11" '
            f'text-anchor="end">{y:.1f}</text>'
        )
    for p in points:  # each student joined to its teacher
        t = by_id.get(p["teacher"])
        if t is not None:
            parts.append(
                f'<line class="link" x1="{sx(p["x"]):.1f}" y1="{sy(p["y"]):.1f}" '
                f'x2="{sx(t["x"]):.1f}" y2="{sy(t["y"]):.1f}" stroke="#999"/>'
            )
    for p in points:
        name = html.escape(p["name"], quote=True)
        cls = "point front" if p["front"] else "point"
        parts.append(
            f'<circle class="{cls}" data-model="{name}" cx="{sx(p["x"]):.1f}" '
            f'cy="{sy(p["y"]):.1f}" r="{7 if p["front"] else 5}" '
            f'fill="{"#d62728" if p["front"] else "#1f77b4"}"><title>{name}: '
            f"{p['y']:.1f}% at {p['x']:.2f}x</title></circle>"
        )
        parts.append(
            f'<text class="label" x="{sx(p["x"]) + 8:.1f}" y="{sy(p["y"]) - 8:.1f}" '
            f'font-size="11">{name}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<title>GONERD Bench leaderboard</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; font-size: 14px; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: right; }}
th {{ background: #f0f0f0; cursor: pointer; }}
td.model {{ text-align: left; }}
tr.student td.model {{ padding-left: 2em; }}
.note {{ color: #666; font-size: 12px; }}
</style></head><body>
<h1>GONERD Bench leaderboard</h1>
<p>Scores on a 0-100 scale; in brackets, the percent of the teacher's score a student
keeps (coloured from red at 80 % to green at 100 %). Aggregates are taken only over entries
that have all {n_tasks} tasks. Speed-up: the teacher's time over the student's at the
longest length both measured on the same device; * marks the Pareto front of retained %
and speed-up within a device class. Click a column header to sort.</p>
<table id="board"><thead><tr>{header}</tr></thead><tbody>
{body}
</tbody></table>
<h2>Retained % against speed-up</h2>
{svg}
<p class="note">{notes}</p>
<script>{script}</script>
</body></html>
"""

# Our own sorting script, the only one the page runs (its hash is in the page's
# Content-Security-Policy, so no injected script could run even if escaping failed).
_SCRIPT = """
document.querySelectorAll('#board th').forEach(function (th, column) {
  th.addEventListener('click', function () {
    var body = document.querySelector('#board tbody');
    var rows = Array.prototype.slice.call(body.rows);
    var ascending = th.getAttribute('data-order') !== 'asc';
    th.setAttribute('data-order', ascending ? 'asc' : 'desc');
    rows.sort(function (a, b) {
      var x = a.cells[column].getAttribute('data-sort');
      var y = b.cells[column].getAttribute('data-sort');
      var nx = parseFloat(x), ny = parseFloat(y);
      var bothNumbers = !isNaN(nx) && !isNaN(ny);
      if (x === '' && y !== '') return 1;
      if (y === '' && x !== '') return -1;
      var order = bothNumbers ? nx - ny : x.localeCompare(y);
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  });
});
"""


def as_html(rows: list[Row], tasks: list[str], sort: str) -> str:
    """One self-contained page: the sortable table and the Pareto plot."""
    import base64
    import hashlib

    n = len(tasks)
    header_cells, body = cells(rows, tasks, sort)  # the same texts as every rendering
    header = "".join(f"<th>{html.escape(c)}</th>" for c in header_cells)
    lines = []
    for (row, depth), texts in zip(ordered(rows, sort), body):
        e = row.entry
        # what each column sorts by, and the heat-map colour of the retained % columns
        keys = [e.model.name.lower(), e.model.parameters, e.verified]
        keys += [row.scores.get(t) for t in tasks]
        keys += [
            row.score_mean,
            row.retained_mean,
            row.retained_min[0] if row.retained_min else None,
            row.pareto["speedup"] if row.pareto else None,
            texts[-1],
        ]
        styles = {3 + i: _heat(row.retained.get(t)) for i, t in enumerate(tasks)}
        styles[4 + n] = _heat(row.retained_mean)
        cells_html = []
        for column, (text, key) in enumerate(zip(texts, keys)):
            sort_key = "" if key is None else html.escape(str(key), quote=True)
            css = ' class="model"' if column == 0 else ""
            style = f' style="{styles[column]}"' if styles.get(column) else ""
            cells_html.append(f'<td data-sort="{sort_key}"{css}{style}>{html.escape(text)}</td>')
        css = "student" if depth else "teacher"
        lines.append(f'<tr class="{css}" data-entry="{e.entry_id}">{"".join(cells_html)}</tr>')
    digest = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
    csp = f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'"
    return _PAGE.format(
        csp=csp,
        n_tasks=n,
        header=header,
        body="\n".join(lines),
        svg=_svg(plot_points(rows)),
        notes="<br>".join(html.escape(note) for note in notes(rows)),
        script=_SCRIPT,
    )


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
