"""The Pareto plot of the board's web page as inline SVG: each student at (speed-up over
its teacher, retained %), joined to its teacher, the front marked, labels pushed apart with
leader lines, and, under it, what its retention is over and why any student is missing.
Every name is escaped: they are the submitters' input.
"""

from __future__ import annotations

import html

from leaderboard.board import PlotView, Row, unplotted


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


def plot_html(view: PlotView, label: str, svg_id: str) -> str:
    """One Pareto plot with what its retention is over and why any student is missing;
    a data label's (``label``) is shown by the page's filter in place of the board's."""
    points = plot_points(view.rows)
    hidden = " hidden" if label else ""
    own = [r for r in view.rows if not label or r.entry.data_name() == label]
    return (
        f'<div class="plot" data-data="{html.escape(label, quote=True)}"{hidden}>\n'
        f'<p class="plot-tasks">{html.escape(plot_choice(view, label))}</p>\n'
        + _svg(points, svg_id=svg_id)
        + _unplotted_html(unplotted(own, view.tasks), bool(points))
        + "\n</div>"
    )


def _unplotted_html(reasons: list[str], drawn: bool) -> str:
    """Why students are missing from the plot, one line each (escaped: names are input)."""
    if not reasons:
        return "" if drawn else '<p class="empty">No entry has a teacher on the board.</p>'
    head = "Not on the plot:" if drawn else "No point can be drawn for these tasks:"
    items = "".join(f"<li>{html.escape(reason)}</li>" for reason in reasons)
    return f'<p class="empty">{head}</p><ul class="unplotted">{items}</ul>'


LABEL_GAP = 13  # px between two label baselines on one side of the plot


def _label_rows(points, sx, sy, width: int, pad: int, height: int) -> list[tuple]:
    """Each point's label (x, baseline y, anchor): right of a point in the plot's left
    half, left of it in the right half (never cut off), and on each side pushed apart to
    LABEL_GAP so that points close together (a teacher's students, teachers at 100 % and
    1x) keep readable names."""
    placed: list[tuple] = [()] * len(points)
    for right in (True, False):
        side = [i for i, p in enumerate(points) if (sx(p["x"]) < width / 2) == right]
        side.sort(key=lambda i: sy(points[i]["y"]))
        ys: list[float] = []
        for i in side:  # top to bottom, each at least a gap below the one above
            wanted = sy(points[i]["y"]) + 4
            ys.append(max(wanted, ys[-1] + LABEL_GAP) if ys else max(wanted, 12.0))
        overflow = (ys[-1] - (height - pad - 4)) if ys else 0
        if overflow > 0:  # past the x axis: the column moves up as a whole
            ys = [y - overflow for y in ys]
        for i, y in zip(side, ys):
            x = sx(points[i]["x"]) + (9 if right else -9)
            placed[i] = (x, y, "start" if right else "end")
    return placed


def _svg(points: list[dict], width: int = 880, height: int = 480, svg_id: str = "pareto") -> str:
    """The Pareto plot as inline SVG: x speed-up over the teacher, y retained %."""
    if not points:
        return ""
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
        f'<svg id="{svg_id}" class="pareto" xmlns="http://www.w3.org/2000/svg" width="{width}" '
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
    labels = _label_rows(points, sx, sy, width, pad, height)
    for p in points:
        name = html.escape(p["name"], quote=True)
        cls = "point front" if p["front"] else "point"
        x, y = sx(p["x"]), sy(p["y"])
        parts.append(
            f'<circle class="{cls}" data-model="{name}" cx="{x:.1f}" '
            f'cy="{y:.1f}" r="{7 if p["front"] else 5}" '
            f'fill="{"#d62728" if p["front"] else "#1f77b4"}"><title>{name}: '
            f"{p['y']:.1f}% at {p['x']:.2f}x</title></circle>"
        )
    for p, (label_x, label_y, anchor) in zip(points, labels):
        x, y = sx(p["x"]), sy(p["y"])
        if abs(label_y - (y - 4)) > 3:  # moved off its point: a leader line back to it
            parts.append(
                f'<line class="leader" x1="{x:.1f}" y1="{y:.1f}" x2="{label_x:.1f}" '
                f'y2="{label_y - 4:.1f}" stroke="#ccc"/>'
            )
        parts.append(
            f'<text class="label" x="{label_x:.1f}" y="{label_y:.1f}" font-size="11" '
            f'text-anchor="{anchor}">{html.escape(p["name"], quote=True)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def plot_choice(view: PlotView, label: str = "") -> str:
    """What the plot's retention is averaged over, and why (plain text, escaped on use);
    ``label``: a data label's own plot, over the tasks its entries were run on."""
    over = ", ".join(view.tasks)
    if not view.chosen_by_board:
        which = f" that the {label} entries were run on" if label else ""
        return f"Retention on the plot: the mean over the tasks asked for{which} ({over})."
    if not (view.left_out or view.unscored):
        return f"Retention on the plot: the mean over every task shown ({over})."
    left = []
    for task in dict.fromkeys([*view.left_out, *view.unscored]):
        why = [f"not learned by {_names(view.left_out[task])}"] if task in view.left_out else []
        why += [f"not scored by {_names(view.unscored[task])}"] if task in view.unscored else []
        left.append(f"{task} ({'; '.join(why)})")
    if not view.shared:
        return (
            f"Retention on the plot: the mean over every task shown ({over}); no task is "
            f"learned by every linked teacher and scored by every linked teacher and student: "
            f"{'; '.join(left)}. Choose the tasks with --tasks."
        )
    scored = " and every linked teacher and student scored" if view.unscored else ""
    both = " and a mean needs every task on both sides" if view.unscored else ""
    return (
        f"Retention on the plot: the mean over the tasks every linked teacher learned{scored} "
        f"({over}); left out, as a share of a score at or near chance measures noise{both}: "
        f"{'; '.join(left)}. Choose the tasks with --tasks."
    )


def _names(names: list[str], shown: int = 3) -> str:
    """A list of model names, cut after ``shown`` with how many more."""
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")
