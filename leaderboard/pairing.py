"""A student paired with its teacher's entry by the board: the retained percent's paired
interval, agreement and flips, from both entries' predictions committed beside the board.

The numbers come from :mod:`benchmark.paired` (the same units resampled for both sides,
aligned by prediction id), never from the student's result file, and are worked out when an
entry is submitted rather than each time the board is shown: that reads every prediction
file and draws a thousand resamples per task, while showing the board reads one JSON file.
They are stored on the student's entry (``paired``, outside its id's hash, as they depend
on another entry) naming the teacher entry they were drawn against; `bench leaderboard
check` draws them again (:mod:`leaderboard.recheck`). Submitting a teacher pairs the
students already on the board with it again.
"""

from __future__ import annotations

from pathlib import Path

from benchmark.bootstrap import RESAMPLES
from benchmark.paired import Paired, Pairing
from benchmark.run_result import RunResult
from leaderboard.board import teacher_for
from leaderboard.entry import Entry
from leaderboard.entry_trust import PairedBlock, PairedTask
from leaderboard.intervals import READ_ERRORS, short, unhashed
from leaderboard.sources import load_source, without_folder

Source = tuple[RunResult, Path] | str  # a result file read, or why it cannot be


def pair(student: Entry, student_source: Source, teacher: Entry, board_dir: Path) -> PairedBlock:
    """The student's tasks held by both entries, paired, or each with why it cannot be."""
    teacher_source = load_source(teacher, board_dir)
    shared = [t for t in student.tasks if t in teacher.tasks]
    reason = next((s for s in (student_source, teacher_source) if isinstance(s, str)), None)
    tasks: dict[str, PairedTask] = {}
    if reason is not None:
        tasks = {t: PairedTask(reason=short(without_folder(reason, board_dir))) for t in shared}
        return PairedBlock(teacher_entry_id=teacher.entry_id, tasks=tasks)
    (own, own_path), (other, other_path) = student_source, teacher_source
    pairing = Pairing(own_path, other_path, RESAMPLES, "the student", "the teacher")
    for t in shared:
        unchecked = unhashed(t, own.tasks[t], "the student") or unhashed(
            t, other.tasks[t], "the teacher"
        )
        try:
            found = unchecked or pairing.task(t, own.tasks[t], other.tasks[t])
        except READ_ERRORS as exc:
            found = f"the predictions of {t} cannot be read ({type(exc).__name__}: {exc})"
        tasks[t] = _task(found, board_dir)
    return PairedBlock(teacher_entry_id=teacher.entry_id, tasks=tasks)


def _task(found: Paired | str, board_dir: Path) -> PairedTask:
    if isinstance(found, str):
        return PairedTask(reason=short(without_folder(found, board_dir)))
    draws = None
    if found.bootstrap is not None:
        draws = found.bootstrap.model_dump(include={"resamples", "seed", "unit", "over", "reason"})
    return PairedTask.model_validate(
        {
            "retained_percent_ci95": found.retained_percent_ci95,
            "agreement": None if found.agreement is None else min(100.0, found.agreement),
            "agreement_unit": found.agreement_unit,
            "flips": None if found.flips is None else found.flips.model_dump(),
            "draws": draws,
        }
    )


def pair_board(
    entries: list[Entry], board_dir: Path, fresh: Entry, fresh_source: Source
) -> list[Entry]:
    """``entries`` (``fresh`` among them) with ``fresh`` paired with the teacher entry the
    board links it to, and the students the board links to ``fresh`` paired with it again;
    a student linked to no teacher holds no pairing."""
    updated = []
    for entry in entries:
        if entry.entry_id == fresh.entry_id:
            teacher, _ = teacher_for(entry, entries)
            paired = None if teacher is None else pair(entry, fresh_source, teacher, board_dir)
            entry = entry.model_copy(update={"paired": paired})
        elif entry.teacher is not None and entry.teacher.key() == fresh.model.key():
            teacher, _ = teacher_for(entry, entries)
            if teacher is not None and teacher.entry_id == fresh.entry_id:
                source = load_source(entry, board_dir)
                entry = entry.model_copy(update={"paired": pair(entry, source, fresh, board_dir)})
        updated.append(entry)
    return updated
