"""The columns of the board's dataset export (`bench leaderboard export`): each with its
type and meaning, and one record per board row in those columns. Kept apart from
:mod:`leaderboard.export`, which writes the data file and its card: what a row holds changes
with the board's numbers, how a folder is written does not.

Every column is typed (``datasets`` features), so a column null in every row still loads
with its type; intervals are lists of two floats, flips whole counts.
"""

from __future__ import annotations

from datetime import datetime, timezone

from datasets import Features, List, Value

from benchmark.errors import BenchError
from leaderboard.board import Row, ordered
from leaderboard.cells import cells, row_notes
from leaderboard.trust_cells import task_numbers

SORT = "score"  # rows in the board's default display order

_TEXT, _INT, _FLOAT, _BOOL = Value("string"), Value("int64"), Value("float64"), Value("bool")
_TIME = Value("timestamp[s, tz=UTC]")
_TASK = {
    "task": _TEXT,
    "task_version": _INT,
    "split": _TEXT,
    "metric": _TEXT,
    "score": _FLOAT,
    "score_std": _FLOAT,
    "seeds": List(_INT),
    "retained": _FLOAT,
    "examples": _INT,
    "max_length": _INT,
    "data_source": _TEXT,
    "data_sha256": _TEXT,
    "score_ci95": List(_FLOAT),
    "score_ci95_drawn_by": _TEXT,
    "retained_ci95": List(_FLOAT),
    "agreement": _FLOAT,
    "agreement_unit": _TEXT,
    "flips_correct_to_wrong": _INT,
    "flips_wrong_to_correct": _INT,
    "long_context_gain": _FLOAT,
    "long_context_gain_ci95": List(_FLOAT),
    "long_context_full": _FLOAT,
    "long_context_truncated_512": _FLOAT,
    "long_context_max_length": _INT,
}
_SPEEDUP = {
    "seq_len": _INT,
    "batch_size": _INT,
    "dtype": _TEXT,
    "device": _TEXT,
    "speedup": _FLOAT,
    "method": _TEXT,
    "range": List(_FLOAT),
}

# (column, type, meaning): the columns before and after the per-task ones.
_IDENTITY = [
    (
        "entry_id",
        _TEXT,
        "The entry's id: the sha256 of its canonical JSON, less when and how it was submitted.",
    ),
    ("model", _TEXT, "The model's name as submitted."),
    ("hub_id", _TEXT, "Its Hugging Face Hub id (null for weights identified by their sha256)."),
    ("revision", _TEXT, "The Hub commit of those weights."),
    ("weights_sha256", _TEXT, "The sha256 of a local folder's weights."),
    ("dtype", _TEXT, "The dtype it ran in."),
    ("parameters", _INT, "Its number of parameters."),
    ("max_positions", _INT, "The longest input its position embeddings take."),
    ("depth", _INT, "0 for a teacher or an unlinked entry, 1 for its students, 2 for theirs."),
    ("teacher", _TEXT, "The model name of the teacher entry the board linked it to (null: none)."),
    ("teacher_entry_id", _TEXT, "That teacher entry's `entry_id`."),
    ("teacher_unlinked", _TEXT, "Why a student has no linked teacher, as the board says it."),
    ("claimed_teacher", _TEXT, "The teacher its result file names (null for a teacher)."),
    ("claimed_teacher_hub_id", _TEXT, "That teacher's Hub id."),
    ("claimed_teacher_revision", _TEXT, "That teacher's Hub commit."),
    ("claimed_teacher_weights_sha256", _TEXT, "That teacher's weights sha256."),
    ("suite_version", _TEXT, "The GONERD Bench version it ran on."),
    ("suite_revision", _TEXT, "The suite's git commit, where recorded."),
    ("verified", _TEXT, "`recomputed` (from its saved predictions) or `self-reported`."),
    ("sample_data", _BOOL, "Whether it ran on the bundled samples instead of the full data."),
    ("data", _TEXT, "The board's data column: the submitter's label, else `sample` or `full`."),
    ("budget", _TEXT, "The training budget behind the model, in the submitter's words."),
    ("submitted_at", _TIME, "When it was submitted (UTC, to the second)."),
    ("supersedes", _TEXT, "The `entry_id` of the entry it replaced, if any."),
]
_PER_TASK = [
    ("score:{task}", _FLOAT, "Its main score on the task (0-100; null: not run)."),
    ("score_std:{task}", _FLOAT, "The score's standard deviation over seeds (null: one seed)."),
    ("retained:{task}", _FLOAT, "The percent of its teacher's score it keeps on the task."),
    (
        "retained_std:{task}",
        _FLOAT,
        "Its spread over the seeds both ran, seed by seed (null with one seed).",
    ),
    ("score_ci95:{task}", List(_FLOAT), "The score's 95% bootstrap interval [low, high]."),
    (
        "retained_ci95:{task}",
        List(_FLOAT),
        "The retained percent's paired 95% interval (the same examples resampled for both).",
    ),
    (
        "agreement:{task}",
        _FLOAT,
        "The percent of units it predicts as its teacher does; where agreement_unit is "
        "entity, of the entities either predicts, the percent both predict.",
    ),
    (
        "agreement_unit:{task}",
        _TEXT,
        "What agreement and flips count: the unit drawn (sentence, pair, question) or entity.",
    ),
    ("flips_correct_to_wrong:{task}", _INT, "Units (or entities) its teacher got right, it wrong."),
    ("flips_wrong_to_correct:{task}", _INT, "Units (or entities) its teacher got wrong, it right."),
    (
        "long_context_gain:{task}",
        _FLOAT,
        "Its score reading inputs whole less its score reading at most 512 tokens.",
    ),
]
_AGGREGATES = [
    ("score_mean", _FLOAT, "The mean score over the selected tasks (null unless it has them all)."),
    ("retained_percent_mean", _FLOAT, "The mean retained percent over the selected tasks."),
    (
        "retained_percent_mean_std",
        _FLOAT,
        "Its spread over the seeds: each seed's mean of retained percents, seed by seed.",
    ),
    ("retained_percent_min", _FLOAT, "The lowest retained percent of those tasks."),
    ("worst_task", _TEXT, "The task of that lowest retained percent."),
    ("aggregate_over_tasks", _INT, "How many tasks the aggregates are taken over."),
    ("missing_tasks", List(_TEXT), "The selected tasks it has no score for."),
    ("tasks", List(_TASK), "Per selected task it holds, the details below."),
    ("speedups", List(_SPEEDUP), "Its speed-ups over its teacher, as below."),
    ("pareto_device", _TEXT, "The device class of its point on the plot (null: no point)."),
    ("pareto_seq_len", _INT, "That point's length (the longest shape it was timed at)."),
    ("pareto_batch_size", _INT, "That point's batch size."),
    ("pareto_dtype", _TEXT, "That point's dtype."),
    ("pareto_retained", _FLOAT, "That point's retained percent (100 for a teacher)."),
    ("pareto_speedup", _FLOAT, "That point's speed-up over the teacher (1 for such a teacher)."),
    ("pareto_method", _TEXT, "How that speed-up was timed: `interleaved` or `separate runs`."),
    ("pareto_front", _BOOL, "Whether that point is on the Pareto front."),
    ("notes", List(_TEXT), "What the board says about the row (as its notes show)."),
]


def columns(tasks: list[str]) -> list[tuple[str, object, str]]:
    """Every column in order, with its type and its meaning (the card's table)."""
    per_task = [(name.format(task=t), kind, text) for t in tasks for name, kind, text in _PER_TASK]
    return [*_IDENTITY, *per_task, *_AGGREGATES]


def features(tasks: list[str]) -> Features:
    return Features({name: kind for name, kind, _ in columns(tasks)})


def _record(row: Row, depth: int, data_label: str, tasks: list[str]) -> dict:
    e, claimed = row.entry, row.entry.teacher
    record = {
        "entry_id": e.entry_id,
        "model": e.model.name,
        "hub_id": e.model.hub_id,
        "revision": e.model.revision,
        "weights_sha256": e.model.weights_sha256,
        "dtype": e.model.dtype,
        "parameters": e.model.parameters,
        "max_positions": e.model.max_positions,
        "depth": depth,
        "teacher": row.teacher_row.name if row.teacher_row else None,
        "teacher_entry_id": row.teacher_row.entry.entry_id if row.teacher_row else None,
        "teacher_unlinked": row.link,
        "claimed_teacher": claimed.name if claimed else None,
        "claimed_teacher_hub_id": claimed.hub_id if claimed else None,
        "claimed_teacher_revision": claimed.revision if claimed else None,
        "claimed_teacher_weights_sha256": claimed.weights_sha256 if claimed else None,
        "suite_version": e.suite.version,
        "suite_revision": e.suite.revision,
        "verified": e.verified,
        "sample_data": e.sample_data,
        "data": data_label,
        "budget": e.budget,
        "submitted_at": _utc(e.submitted_at, e.entry_id),
        "supersedes": e.supersedes,
    }
    for t in tasks:
        record[f"score:{t}"] = row.scores.get(t)
        record[f"score_std:{t}"] = row.scores_std.get(t)
        record[f"retained:{t}"] = row.retained.get(t)
        record[f"retained_std:{t}"] = row.retained_std.get(t)
        numbers = task_numbers(row, t)
        record[f"score_ci95:{t}"] = numbers["score_ci95"]
        record[f"retained_ci95:{t}"] = numbers["retained_ci95"]
        record[f"agreement:{t}"] = numbers["agreement"]
        record[f"agreement_unit:{t}"] = numbers["agreement_unit"]
        record[f"flips_correct_to_wrong:{t}"] = numbers["flips_correct_to_wrong"]
        record[f"flips_wrong_to_correct:{t}"] = numbers["flips_wrong_to_correct"]
        record[f"long_context_gain:{t}"] = numbers["long_context_gain"]
    pareto = row.pareto or {}
    record |= {
        "score_mean": row.score_mean,
        "retained_percent_mean": row.retained_mean,
        "retained_percent_mean_std": row.retained_mean_std,
        "retained_percent_min": row.retained_min[0] if row.retained_min else None,
        "worst_task": row.retained_min[1] if row.retained_min else None,
        "aggregate_over_tasks": len(tasks),
        "missing_tasks": list(row.missing),
        "tasks": [_task(row, t) for t in tasks if t in e.tasks],
        "speedups": [{k: s.get(k) for k in _SPEEDUP} for s in row.speedups],
        **{f"pareto_{k}": pareto.get(k) for k in _PARETO_KEYS},
        "notes": row_notes(row),
    }
    return record


_PARETO_KEYS = (
    "device",
    "seq_len",
    "batch_size",
    "dtype",
    "retained",
    "speedup",
    "method",
    "front",
)


def _utc(text: str, entry_id: str) -> datetime:
    """A submission time as a typed UTC time, so both formats load it as one (the JSON
    reader would turn the text into a time anyway, dropping its offset)."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise BenchError(
            f"entry {entry_id[:12]}: submitted_at {text!r} is not an ISO 8601 time: fix the board"
        ) from None
    when = when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when
    return when.astimezone(timezone.utc).replace(microsecond=0)


def _task(row: Row, task: str) -> dict:
    held = row.entry.tasks[task]
    return {
        "task": task,
        "task_version": held.task_version,
        "split": held.split,
        "metric": held.main_score_name,
        "score": held.main_score,
        "score_std": held.main_score_std,
        "seeds": held.seeds,
        "retained": row.retained.get(task),
        "examples": held.n_examples.evaluated,
        "max_length": held.inputs.max_length,
        "data_source": held.data.source,
        "data_sha256": held.data.sha256,
        **task_numbers(row, task),
    }


def records(rows: list[Row], tasks: list[str]) -> list[dict]:
    """One record per entry, in the board's display order (teachers, each followed by its
    students); the data label is the board's own cell text, so the two never differ."""
    _, body = cells(rows, tasks, SORT)
    return [
        _record(row, depth, texts[-1], tasks)
        for (row, depth), texts in zip(ordered(rows, SORT), body)
    ]
