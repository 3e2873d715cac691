"""Where the board finds an entry's result file and predictions again: under the board
file's own folder (for the repository's board, `leaderboard/submissions/`), recorded on the
entry as its ``source``, a relative path.

Only a result under that folder becomes a source, so what the board draws from predictions
is what anyone with the repository can draw again (`bench leaderboard check`), and no path
of the submitter's own machine is written into the board. A source is read as data, within
the size limit of a submission, and taken for an entry's result only when it holds that
entry's run (:func:`same_run`).
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, StringConstraints

from benchmark.errors import BenchError
from benchmark.run_result import RunResult

if TYPE_CHECKING:
    from leaderboard.entry import Entry

_SOURCE_CHARS = re.compile(r"^[A-Za-z0-9._/+@=-][A-Za-z0-9._/ +@=-]*$")


def _relative(path: str) -> str:
    """A path inside the board's folder: relative, in ``/`` form, no ``..``, plain
    characters (it lands in a terminal, Markdown and a web page)."""
    parts = PurePosixPath(path).parts
    if not _SOURCE_CHARS.match(path) or path.startswith("/") or ".." in parts or not parts:
        raise ValueError(f"{path!r} is not a relative path inside the board's folder")
    return path


Source = Annotated[str, StringConstraints(max_length=200), AfterValidator(_relative)]


def source_of(result_path: Path, board_dir: Path) -> str | None:
    """``result_path`` relative to ``board_dir`` when it lies under it (None otherwise, or
    when it cannot be a :data:`Source`)."""
    try:
        relative = Path(result_path).resolve().relative_to(Path(board_dir).resolve())
    except ValueError:
        return None
    text = relative.as_posix()
    try:
        return _relative(text) if len(text) <= 200 else None
    except ValueError:
        return None


def source_path(source: str, board_dir: Path) -> Path | None:
    """The file a source names, refused (None) when it resolves outside the board's folder
    (a link pointing out of it)."""
    root = Path(board_dir).resolve()
    path = (root / source).resolve()
    return path if path.is_relative_to(root) else None


def without_folder(text: str, folder: Path) -> str:
    """``text`` (a reason naming files) with ``folder``'s own path left out of it, as typed
    and resolved: what the board stores names files relative to it, on any machine."""
    for prefix in {str(Path(folder)), str(Path(folder).resolve())}:
        if prefix not in ("", "."):
            text = text.replace(prefix.rstrip("/") + "/", "")
    return text


def same_run(entry: Entry, result: RunResult) -> str | None:
    """Why ``result`` is not the run ``entry`` was made from (None when it is): the same
    weights, dtype and suite version, and for every task of the entry the same score, the
    same predictions hash and, over seeds, the same seeds' scores."""
    model = result.model
    dtype = model.dtype or result.config.get("dtype", "float32")
    if (model.hub_id, model.revision, model.weights_sha256) != entry.model.key():
        return "it is a result of other weights"
    if dtype != entry.model.dtype or result.provenance.suite.get("version") != entry.suite.version:
        return "it is a result of another dtype or suite version"
    for name, held in entry.tasks.items():
        task = result.tasks.get(name)
        if task is None:
            return f"it has no result for {name}"
        seed_scores = [r.main_score for r in task.seed_runs.values()] if task.seed_runs else None
        if (
            task.main_score != held.main_score
            or task.predictions_sha256 != held.predictions_sha256
            or seed_scores != held.seed_scores
        ):
            return f"its {name} result is not the entry's"
    return None


def load_source(entry: Entry, board_dir: Path) -> tuple[RunResult, Path] | str:
    """The entry's result file and its path, or why the board cannot read it."""
    from leaderboard.validation import load_submission

    if entry.source is None:
        return f"{entry.model.name}'s result is not under the board's folder"
    path = source_path(entry.source, board_dir)
    if path is None or not path.is_file():
        return f"{entry.model.name}'s result {entry.source} is not beside the board"
    try:
        result = load_submission(path)
    except BenchError as exc:
        return f"{entry.model.name}'s result {entry.source} cannot be read ({exc})"
    mismatch = same_run(entry, result)
    if mismatch:
        return f"{entry.model.name}'s result {entry.source} is not its entry's run: {mismatch}"
    return result, path
