"""The leaderboard file: one JSON document of entries, changed only under a file lock and
replaced atomically (temporary file, fsync, rename), so concurrent submitters lose nothing
and a refused submission leaves the file byte-identical."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from filelock import FileLock
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from benchmark.results import write_atomic
from leaderboard.entry import Entry, canonical_id
from leaderboard.validation import SIGNED_METRICS, SubmissionError, name_problem

BOARD_FORMAT = "gonerd-bench-leaderboard"
DEFAULT_BOARD = Path(__file__).parent / "leaderboard.json"
MAX_ENTRIES = 10_000
LOCK_TIMEOUT_S = 60


class Board(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["gonerd-bench-leaderboard"] = BOARD_FORMAT
    schema_version: Literal[1] = 1
    entries: list[Entry] = Field(default_factory=list, max_length=MAX_ENTRIES)


def read_board(path: Path) -> Board:
    """The board at ``path`` (an empty one when there is no file yet), validated."""
    path = Path(path)
    if not path.exists():
        return Board()
    try:
        return Board.model_validate(json.loads(path.read_text("utf-8")))
    except json.JSONDecodeError as exc:
        raise SubmissionError(str(path), f"not JSON ({exc})", "restore it from git") from None
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(map(str, error["loc"])) or "board"
        raise SubmissionError(f"{path}: {field}", error["msg"], "restore it from git") from None


def board_problems(board: Board) -> list[str]:
    """What a valid board must also hold true: names without markup, ids that are the
    hashes of their entries, no two entries of one model revision, dtype and suite
    version."""
    problems, seen = [], {}
    for index, entry in enumerate(board.entries):
        for who, identity in (("model", entry.model), ("teacher", entry.teacher)):
            if identity is not None and name_problem(identity.name):
                problem = name_problem(identity.name)
                problems.append(f"entries.{index}.{who}.name: {problem}")
        problems += [f"entries.{index}.{p}" for p in _entry_problems(entry)]
        content = entry.model_dump(mode="json")
        if canonical_id(content) != entry.entry_id:
            problems.append(f"entries.{index}.entry_id: not the hash of the entry")
        key = entry.duplicate_key()
        if key in seen:
            problems.append(
                f"entries.{index}: the same model, revision, dtype and suite version as "
                f"entries.{seen[key]}"
            )
        seen.setdefault(key, index)
    return problems


def _entry_problems(entry: Entry) -> list[str]:
    """What `bench submit` would have refused, checked again on a board edited by hand:
    known tasks, whole runs, scores in their metric's range."""
    from benchmark.tasks import TASKS

    found = []
    for name, task in entry.tasks.items():
        if name not in TASKS:
            found.append(f"tasks.{name}: not a task of this suite")
        if task.n_examples.evaluated != task.n_examples.original:
            found.append(f"tasks.{name}.n_examples: a subset run")
        for metric, value in {task.main_score_name: task.main_score, **task.metrics}.items():
            low = -100.0 if metric in SIGNED_METRICS else 0.0
            if not low <= value <= 100.0:
                found.append(f"tasks.{name}.metrics.{metric}: {value} is out of range")
    return found


def submit(path: Path, entry: Entry, replace: bool = False) -> Entry:
    """Add ``entry`` to the board at ``path``; a duplicate is refused unless ``replace``,
    which removes the old entry and links the new one to it (``supersedes``). The board then
    pairs it with its teacher's entry, and the students already linked to it with it
    (:func:`leaderboard.pairing.pair_board`); returns the entry as added."""
    from leaderboard.pairing import pair_board
    from leaderboard.sources import load_source

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT_S):
        board = read_board(path)
        same = [e for e in board.entries if e.duplicate_key() == entry.duplicate_key()]
        if same and not replace:
            raise SubmissionError(
                "model",
                f"{entry.model.name} at this revision, dtype and suite version is already on "
                f"the board (entry {same[0].entry_id[:12]})",
                "pass --replace to supersede it",
            )
        if same:
            entry = entry.model_copy(update={"supersedes": same[0].entry_id})
        entries = [e for e in board.entries if e.duplicate_key() != entry.duplicate_key()]
        if len(entries) >= MAX_ENTRIES:
            raise SubmissionError("entries", "the board is full", "archive old entries")
        entries = pair_board([*entries, entry], path.parent, entry, load_source(entry, path.parent))
        write_atomic(path, Board(entries=entries).model_dump(mode="json"))
    return entries[-1]
