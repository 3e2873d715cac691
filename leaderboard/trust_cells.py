"""How sure a row's numbers are, as every rendering shows them: a score's interval in a
compact form, one table with a line per (model, task) of the paired numbers and the
long-context gain, a task cell's tooltip on the web page, and the same numbers as plain data
(JSON, CSV, the dataset export).

Intervals are shown as ``[low–high]`` (percentile intervals are not symmetric, so never as
one ± half-width); flips as ``lost`` (the teacher right, the student wrong) and ``gained``
(the other way round).
"""

from __future__ import annotations

from benchmark.run_result import counted_note
from leaderboard.board import Row, ordered

DASH = "–"
DETAIL_HEADER = [
    "model",
    "task",
    "score [95% interval]",
    "retained [paired 95%]",
    "agreement",
    "flips (lost / gained)",
    "long-context gain [95%]",
]


def interval_text(bounds: list[float] | None) -> str:
    """``[low–high]`` to one decimal (``[low to high]`` where an end is negative, so the
    dash never reads as a minus), or nothing."""
    if bounds is None:
        return ""
    low, high = bounds
    joint = " to " if min(low, high) < 0 else "–"
    return f"[{low:.1f}{joint}{high:.1f}]"


def _score(row: Row, task: str) -> str:
    held = row.entry.tasks[task]
    text = f"{held.main_score:.2f}"
    if held.main_score_ci95 is not None:
        text += " " + interval_text(held.main_score_ci95)
    return text


def _retained(row: Row, task: str) -> str:
    value = row.retained.get(task)
    if value is None:
        return DASH
    paired = row.paired.get(task)
    bounds = paired.retained_percent_ci95 if paired else None
    return f"{value:.1f}%" + (" " + interval_text(bounds) if bounds else "")


def _flips(row: Row, task: str) -> str:
    paired = row.paired.get(task)
    if paired is None or paired.flips is None:
        return DASH
    counts = f"{paired.flips.correct_to_wrong} lost / {paired.flips.wrong_to_correct} gained"
    return counts + counted_note(paired.agreement_unit)


def _agreement(row: Row, task: str) -> str:
    paired = row.paired.get(task)
    if paired is None or paired.agreement is None:
        return DASH
    return f"{paired.agreement:.1f}%" + counted_note(paired.agreement_unit)


def _long_context(row: Row, task: str) -> str:
    gain = row.entry.tasks[task].long_context
    if gain is None:
        return DASH
    if gain.gain is None:
        return f"{DASH} ({gain.reason})" if gain.reason else DASH
    text = f"{gain.gain:+.2f}"
    if gain.gain_ci95 is not None:
        text += " " + interval_text(gain.gain_ci95)
    return text + f" ({gain.max_length_full} vs {gain.max_length_truncated} tokens)"


def _detailed(row: Row, task: str) -> bool:
    """A (row, task) the details table lists: a linked student's task both hold, or a
    task with a long-context gain."""
    held = row.entry.tasks.get(task)
    if held is None:
        return False
    linked = row.teacher_row is not None and task in row.teacher_row.entry.tasks
    return linked or held.long_context is not None


def detail_lines(rows: list[Row], tasks: list[str], sort: str) -> list[tuple[Row, list[str]]]:
    """The details table's lines, each with the row it is about (the web page labels a
    line with its entry's data, which a model's name alone does not decide): one line per
    linked student's task and per task with a long-context gain, in the board's order."""
    lines = []
    for row, _ in ordered(rows, sort):
        for task in tasks:
            if _detailed(row, task):
                lines.append(
                    (
                        row,
                        [
                            row.name,
                            task,
                            _score(row, task),
                            _retained(row, task),
                            _agreement(row, task),
                            _flips(row, task),
                            _long_context(row, task),
                        ],
                    )
                )
    return lines


def detail_cells(rows: list[Row], tasks: list[str], sort: str) -> tuple[list[str], list[list[str]]]:
    """The details table's header and plain-text cells (an empty body when no row has a
    detail)."""
    return DETAIL_HEADER, [line for _, line in detail_lines(rows, tasks, sort)]


def task_title(row: Row, task: str) -> str:
    """A task cell's tooltip on the web page: the score's interval and how it was drawn,
    and where there are some, the paired numbers and the long-context gain."""
    held = row.entry.tasks.get(task)
    if held is None:
        return f"{task}: no score"
    parts = [f"{task}: {held.main_score:.2f}"]
    if held.main_score_ci95 is not None:
        drawn = held.bootstrap
        how = ""
        if drawn is not None:
            by = "the board" if drawn.drawn_by == "board" else "its result"
            how = f" ({drawn.resamples} resamples of {drawn.unit or 'units'}, drawn by {by})"
        parts.append(f"95% interval {interval_text(held.main_score_ci95)[1:-1]}{how}")
    else:
        parts.append("no interval")
    if row.retained.get(task) is not None:
        parts.append(f"retained {_retained(row, task)}")
    if task in row.paired:
        parts.append(f"agreement {_agreement(row, task)}")
        parts.append(f"flips {_flips(row, task)}")
    if held.long_context is not None:
        parts.append(f"long-context gain {_long_context(row, task)}")
    return "; ".join(parts)


def task_numbers(row: Row, task: str) -> dict:
    """The task's trust numbers as plain data (None where there is none): what JSON, CSV
    and the export hold."""
    held = row.entry.tasks.get(task)
    paired = row.paired.get(task)
    gain = held.long_context if held is not None else None
    flips = paired.flips if paired is not None else None
    return {
        "score_ci95": held.main_score_ci95 if held is not None else None,
        "score_ci95_drawn_by": held.bootstrap.drawn_by if held and held.bootstrap else None,
        "retained_ci95": paired.retained_percent_ci95 if paired is not None else None,
        "agreement": paired.agreement if paired is not None else None,
        "agreement_unit": paired.agreement_unit if paired is not None else None,
        "flips_correct_to_wrong": flips.correct_to_wrong if flips is not None else None,
        "flips_wrong_to_correct": flips.wrong_to_correct if flips is not None else None,
        "long_context_gain": gain.gain if gain is not None else None,
        "long_context_gain_ci95": gain.gain_ci95 if gain is not None else None,
        "long_context_full": gain.full if gain is not None else None,
        "long_context_truncated_512": gain.truncated_512 if gain is not None else None,
        "long_context_max_length": gain.max_length_full if gain is not None else None,
    }
