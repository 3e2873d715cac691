"""`bench leaderboard check` drawing again what the board drew at submission: each score
interval the board drew (``drawn_by: board``) and each student's paired numbers, from the
result files and predictions committed beside the board, so a board edited by hand cannot
show numbers its predictions do not give.

An entry whose numbers the board drew must name its result (``source``), and that result
must be the entry's run; an interval the result reported is compared with the result.
"""

from __future__ import annotations

from pathlib import Path

from leaderboard.entry import Entry
from leaderboard.entry_trust import PairedTask
from leaderboard.intervals import drawn_interval, reported_interval
from leaderboard.pairing import pair
from leaderboard.sources import load_source

TOLERANCE = 1e-6  # points (or percent) an interval drawn again may differ by


def recheck_problems(entries: list[Entry], board_dir: Path) -> list[str]:
    """Where an entry's intervals or paired numbers are not what its committed result and
    predictions give."""
    by_id = {e.entry_id: e for e in entries}
    problems = []
    for index, entry in enumerate(entries):
        where = f"entries.{index}"
        drawn = [t for t, held in entry.tasks.items() if _drawn_by(held) == "board"]
        paired = entry.paired is not None and any(
            held.reason is None for held in entry.paired.tasks.values()
        )
        if entry.source is None and not (drawn or paired):
            continue
        source = load_source(entry, board_dir)
        if isinstance(source, str):
            problems.append(f"{where}.source: {source}, so its numbers cannot be checked")
            continue
        result, path = source
        for name, held in entry.tasks.items():
            if _drawn_by(held) == "board":
                interval, draws = drawn_interval(name, result.tasks[name], path)
            else:
                interval, draws = reported_interval(result.tasks[name])
            if not _same(interval, held.main_score_ci95):
                problems.append(
                    f"{where}.tasks.{name}.main_score_ci95: {held.main_score_ci95} is not the "
                    f"interval its result and predictions give ({interval})"
                )
        if entry.paired is not None:
            problems += _paired_problems(entry, source, by_id, board_dir, where)
    return problems


def _drawn_by(held) -> str | None:
    return held.bootstrap.drawn_by if held.bootstrap is not None else None


def _paired_problems(entry: Entry, source, by_id: dict, board_dir: Path, where: str) -> list:
    teacher = by_id.get(entry.paired.teacher_entry_id)
    if teacher is None:
        return [f"{where}.paired.teacher_entry_id: no such entry on the board"]
    if entry.teacher is None or entry.teacher.key() != teacher.model.key():
        return [f"{where}.paired.teacher_entry_id: not an entry of its teacher"]
    again = pair(entry, source, teacher, board_dir).tasks
    problems = []
    for name, held in entry.paired.tasks.items():
        found = again.get(name)
        if _same_pairing(held, found):
            continue
        if held.agreement_unit is None and found is not None and found.agreement_unit == "entity":
            problems.append(
                f"{where}.paired.tasks.{name}: paired before agreement and flips counted "
                "entities in a document: submit the student again (`bench submit "
                "--recompute --replace`) to pair it anew"
            )
        else:
            problems.append(
                f"{where}.paired.tasks.{name}: not what both entries' predictions give "
                f"({_shown(found)})"
            )
    return problems


def _same_pairing(held: PairedTask, again: PairedTask | None) -> bool:
    if again is None or (held.reason is None) != (again.reason is None):
        return False
    return (
        _same(held.retained_percent_ci95, again.retained_percent_ci95)
        and _same(
            None if held.agreement is None else [held.agreement],
            None if again.agreement is None else [again.agreement],
        )
        and held.flips == again.flips
        and held.agreement_unit in (None, again.agreement_unit)  # None: written before it
    )


def _same(a: list | None, b: list | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return len(a) == len(b) and all(abs(x - y) <= TOLERANCE for x, y in zip(a, b))


def _shown(paired: PairedTask | None) -> str:
    if paired is None:
        return "the task is not paired"
    if paired.reason:
        return paired.reason
    counted = f" of {paired.agreement_unit}s" if paired.agreement_unit else ""
    return (
        f"{paired.retained_percent_ci95}, agreement {paired.agreement}, "
        f"flips {paired.flips}{counted}"
    )
