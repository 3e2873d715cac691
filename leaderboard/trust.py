"""What a row shows of how sure its numbers are, read from the entries as stored (the board
computes them when an entry is submitted: :mod:`leaderboard.intervals`,
:mod:`leaderboard.pairing`), and the one note per row that says what is missing and why.

A student's paired numbers are shown only when they were drawn against the very teacher
entry the board links it to now; otherwise the note says so, and how to pair them again.
"""

from __future__ import annotations

from pathlib import Path

from leaderboard.entry import Entry
from leaderboard.entry_trust import PairedTask

NOT_PAIRED = (
    "the board holds no pairing with this teacher entry: submit it again (bench submit "
    "--replace) from under the board's folder, its predictions beside it"
)
NO_INTERVAL = (
    "its entry holds none: submit it again from under the board's folder, its predictions "
    "beside it, for the board to draw one"
)


def paired_tasks(
    student: Entry, teacher: Entry, tasks: list[str]
) -> tuple[dict[str, PairedTask], str | None]:
    """The student's paired numbers per selected task both hold, and the note on the tasks
    that have none (None when every one has them)."""
    shared = [t for t in tasks if t in student.tasks and t in teacher.tasks]
    block = student.paired
    if not shared:
        return {}, None
    if block is None or block.teacher_entry_id != teacher.entry_id:
        return {}, f"not paired with its teacher on {_listed({NOT_PAIRED: shared})}"
    found: dict[str, PairedTask] = {}
    unpaired: dict[str, list[str]] = {}
    no_interval: dict[str, list[str]] = {}
    for t in shared:
        paired = block.tasks.get(t)
        if paired is None or paired.reason is not None:
            why = NOT_PAIRED if paired is None else paired.reason
            unpaired.setdefault(why, []).append(t)
            continue
        found[t] = paired
        if paired.retained_percent_ci95 is None:
            why = (paired.draws.reason if paired.draws else None) or "none was drawn"
            no_interval.setdefault(why, []).append(t)
    parts = [f"not paired with its teacher on {_listed(unpaired)}"] if unpaired else []
    if no_interval:
        parts.append(f"no paired interval of the retained percent on {_listed(no_interval)}")
    return found, "; ".join(parts) or None


def _listed(by_reason: dict[str, list[str]]) -> str:
    """Tasks grouped by their reason: ``a, b (why); c (why)``."""
    return "; ".join(f"{', '.join(names)} ({why})" for why, names in by_reason.items())


def interval_note(entry: Entry, tasks: list[str]) -> str | None:
    """The note on the selected tasks whose score has no interval, with why."""
    missing: dict[str, list[str]] = {}
    for t in tasks:
        held = entry.tasks.get(t)
        if held is None or held.main_score_ci95 is not None:
            continue
        draws = held.bootstrap
        if draws is not None and draws.reason:
            why = draws.reason
        elif draws is not None and draws.resamples == 0:
            why = "its run drew none (--bootstrap 0)"
        else:
            why = NO_INTERVAL
        missing.setdefault(why, []).append(t)
    return f"no score interval on {_listed(missing)}" if missing else None


def submit_notes(entry: Entry, board_dir: Path) -> list[str]:
    """What `bench submit` says beside the line of the entry added: whether the board drew
    its intervals and paired it, and, where not, why."""
    found = []
    if entry.source is None:
        found.append(
            f"its result is not under {board_dir} (or its path holds characters other than "
            "letters, digits, spaces and ._/+@=-): the entry keeps the intervals its result "
            "reports, and the board pairs it with no teacher; submit it from under that folder "
            "(its predictions beside it) for the board to draw them"
        )
    drawn = [t for t, held in entry.tasks.items() if held.main_score_ci95 is not None]
    found.append(f"score intervals: {len(drawn)} of {len(entry.tasks)} tasks")
    if entry.paired is not None:
        tasks = entry.paired.tasks
        paired = [t for t, held in tasks.items() if held.reason is None]
        line = f"paired with its teacher's entry {entry.paired.teacher_entry_id[:12]}"
        line += f" on {len(paired)} of {len(tasks)} tasks"
        reasons = {held.reason for held in tasks.values() if held.reason}
        found.append(line + (f" ({'; '.join(sorted(reasons))})" if reasons else ""))
    return found
