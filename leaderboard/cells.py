"""The texts every rendering of the board shows (terminal, Markdown, CSV, the web page):
one header and one row of cell texts per entry, in display order, the table of intervals,
paired numbers and long-context gains per task, and the notes a reader should see about
some rows."""

from __future__ import annotations

from leaderboard.board import Row, ordered
from leaderboard.trust_cells import DASH, interval_text


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


def tasks_text(n: int) -> str:
    """The count an aggregate's header names ("1 task", "4 tasks"), in one place so the page's
    filter can swap one label's count for another's."""
    return f"{n} task" if n == 1 else f"{n} tasks"


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
        spread = row.retained_mean_std
        return f"{row.retained_mean:.1f}%" + (f" ± {spread:.1f}" if spread is not None else "")
    if row.missing:
        return f"{DASH} ({n_tasks - len(row.missing)}/{n_tasks} tasks)"
    if row.teacher_row is not None:
        held = sum(t in row.teacher_row.entry.tasks for t in row.scores)
        if held < n_tasks:
            return f"{DASH} (teacher: {held}/{n_tasks} tasks)"
    return DASH


def cells(
    rows: list[Row], tasks: list[str], sort: str, intervals: bool = False
) -> tuple[list[str], list[list[str]]]:
    """Header and plain-text cells shared by the terminal, Markdown and web renderings;
    with ``intervals`` (the terminal and Markdown), a task's cell holds its score's
    interval too (the web page shows it in the cell's tooltip instead,
    :func:`leaderboard.trust_cells.task_title`)."""
    n = len(tasks)
    over = tasks_text(n)
    header = ["model", "params", "verified", *tasks, f"mean ({over})"]
    header += [f"retained mean ({over})", "worst task", "speed-up (* front)", "data"]
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
            held = row.entry.tasks.get(t)
            if intervals and held is not None and held.main_score_ci95 is not None:
                score += " " + interval_text(held.main_score_ci95)
            if row.retained.get(t) is not None:
                spread = row.retained_std.get(t)
                shown = f" ± {spread:.1f}" if spread is not None else ""
                score += f" ({row.retained[t]:.1f}%{shown})"
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
                e.data_name(),
            ]
        )
    return header, body


def row_notes(row: Row) -> list[str]:
    """A row's notes: the board's on its numbers, then what it lacks of intervals and
    paired numbers, and why (one note each)."""
    return [*row.notes, *row.trust_notes]


def row_note_lines(rows: list[Row]) -> list[tuple[Row, str]]:
    """What a reader should know about some rows, each line with the row it is about: why
    a student has no teacher on the board, where a result's own retention disagrees with the
    board's, and which intervals or paired numbers a row lacks, and why."""
    found = []
    for row in rows:
        if row.link:
            found.append((row, f"{row.name}: not linked to a teacher: {row.link}"))
        found += [(row, f"{row.name}: {note}") for note in row_notes(row)]
    return found


def notes(rows: list[Row]) -> list[str]:
    """The lines of :func:`row_note_lines`, as the terminal and Markdown print them."""
    return [line for _, line in row_note_lines(rows)]
