"""A score's 95 % interval as the board draws it: from the task's saved predictions, with
the same seeded bootstrap `bench run` uses (benchmark.bootstrap: the task's units, the
resamples and seed `bench run` uses by default), so for a result written with the defaults
it is the very interval `bench run` wrote.

The board draws it itself rather than taking the result's word, and always with the same
resamples and seed, so every entry's interval is drawn alike; where the predictions cannot
be read (not saved, a hash or score that does not match), it says why.
"""

from __future__ import annotations

from pathlib import Path

from benchmark.bootstrap import RESAMPLES, SEED, interval_record
from benchmark.errors import BenchError
from benchmark.paired import task_units
from benchmark.run_result import TaskResult
from leaderboard.sources import without_folder

# what reading a submission's predictions can raise: they are data from outside
READ_ERRORS = (BenchError, KeyError, TypeError, ValueError, IndexError, AttributeError)
SIDE = "the model"  # how a reason names the entry's own model


def drawn_interval(name: str, task: TaskResult, result_path: Path) -> tuple[list | None, dict]:
    """``task``'s interval from the predictions beside ``result_path`` and its draws
    (:class:`leaderboard.entry_trust.ScoreDraws`), or None with the reason in the draws."""
    draws: dict = {"resamples": RESAMPLES, "seed": SEED, "drawn_by": "board"}
    unchecked = unhashed(name, task)
    if unchecked:
        return None, draws | {"reason": unchecked}
    try:
        units = task_units(task, name, Path(result_path), SIDE)
        if isinstance(units, str):
            return None, draws | {"reason": _plain(units, result_path)}
        interval, info = interval_record(units, RESAMPLES, SEED)
    except READ_ERRORS as exc:
        reason = f"its predictions of {name} cannot be read ({type(exc).__name__}: {exc})"
        return None, draws | {"reason": _plain(reason, result_path)}
    kept = info.model_dump(include={"resamples", "seed", "unit", "over", "reason"})
    return interval, kept | {"drawn_by": "board"}


def unhashed(name: str, task: TaskResult, side: str = SIDE) -> str | None:
    """Why ``task``'s saved predictions cannot be checked before they are read (None when
    every run of it that names a predictions file records its sha256): the board reads no
    file it cannot check."""
    runs = list(task.seed_runs.values()) if task.seed_runs else [task]
    if all(run.predictions_sha256 or run.predictions_file is None for run in runs):
        return None
    return f"{side}'s predictions of {name} record no sha256 to check them against"


def reported_interval(task: TaskResult) -> tuple[list | None, dict | None]:
    """The interval the result itself reports, and its draws, marked as the result's."""
    if task.main_score_ci95 is None and task.bootstrap is None:
        return None, None
    draws = None
    if task.bootstrap is not None:
        fields = {"resamples", "seed", "unit", "over", "reason"}
        draws = task.bootstrap.model_dump(include=fields) | {"drawn_by": "result"}
        draws["reason"] = draws["reason"] and short(draws["reason"])
    return task.main_score_ci95, draws


def _plain(reason: str, result_path: Path) -> str:
    """A reason without the folder the result lies in, at most the length an entry keeps."""
    return short(without_folder(reason, Path(result_path).parent))


def short(text: str) -> str:
    """``text`` within the 200 characters an entry keeps of a reason."""
    return text if len(text) <= 200 else text[:199] + "…"
