"""The board as a Hugging Face dataset folder: one row per entry with the numbers the board
computes itself (:mod:`leaderboard.board`), one data file (Parquet or JSON lines) and a
dataset card, so ``datasets.load_dataset(DIR)`` reads it offline, a Hub dataset repository
can hold it as it is, and a Space's front end can load it by name.

Every column is typed in the card (``dataset_info.features``) as well as in the data: a
column that is null in every row of a JSON-lines export is still read with its type, so both
formats load with the same features. The rows are type-checked against those features before
anything is written.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

import pyarrow as pa
import pyarrow.json as paj
import pyarrow.parquet as pq
import yaml
from datasets import DatasetInfo, Features, List, Value
from huggingface_hub import DatasetCard, DatasetCardData

from benchmark import __version__
from benchmark.errors import BenchError
from benchmark.markdown import md_escape
from benchmark.results import replace_atomically, sha256_file
from leaderboard.board import Row, build_rows, ordered, select_tasks
from leaderboard.cells import cells
from leaderboard.store import read_board

FORMATS = ("parquet", "jsonl")
MARKER_TAG = "gonerd-bench-leaderboard"  # how a folder is known as a previous export
CARD = "README.md"
SPLIT = "train"
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
}
_SPEEDUP = {
    "seq_len": _INT,
    "batch_size": _INT,
    "dtype": _TEXT,
    "device": _TEXT,
    "speedup": _FLOAT,
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
    ("data", _TEXT, "The board's data column (`sample` or `full`)."),
    ("submitted_at", _TIME, "When it was submitted (UTC, to the second)."),
    ("supersedes", _TEXT, "The `entry_id` of the entry it replaced, if any."),
]
_PER_TASK = [
    ("score:{task}", _FLOAT, "Its main score on the task (0-100; null: not run)."),
    ("score_std:{task}", _FLOAT, "The score's standard deviation over seeds (null: one seed)."),
    ("retained:{task}", _FLOAT, "The percent of its teacher's score it keeps on the task."),
]
_AGGREGATES = [
    ("score_mean", _FLOAT, "The mean score over the selected tasks (null unless it has them all)."),
    ("retained_percent_mean", _FLOAT, "The mean retained percent over the selected tasks."),
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
        "submitted_at": _utc(e.submitted_at, e.entry_id),
        "supersedes": e.supersedes,
    }
    for t in tasks:
        record[f"score:{t}"] = row.scores.get(t)
        record[f"score_std:{t}"] = row.scores_std.get(t)
        record[f"retained:{t}"] = row.retained.get(t)
    pareto = row.pareto or {}
    record |= {
        "score_mean": row.score_mean,
        "retained_percent_mean": row.retained_mean,
        "retained_percent_min": row.retained_min[0] if row.retained_min else None,
        "worst_task": row.retained_min[1] if row.retained_min else None,
        "aggregate_over_tasks": len(tasks),
        "missing_tasks": list(row.missing),
        "tasks": [_task(row, t) for t in tasks if t in e.tasks],
        "speedups": [{k: s[k] for k in _SPEEDUP} for s in row.speedups],
        **{f"pareto_{k}": pareto.get(k) for k in _PARETO_KEYS},
        "notes": list(row.notes),
    }
    return record


_PARETO_KEYS = ("device", "seq_len", "batch_size", "dtype", "retained", "speedup", "front")


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
    }


def records(rows: list[Row], tasks: list[str]) -> list[dict]:
    """One record per entry, in the board's display order (teachers, each followed by its
    students); the data label is the board's own cell text, so the two never differ."""
    _, body = cells(rows, tasks, SORT)
    return [
        _record(row, depth, texts[-1], tasks)
        for (row, depth), texts in zip(ordered(rows, SORT), body)
    ]


def data_path(fmt: str) -> str:
    return f"data/leaderboard.{fmt}"


def is_previous_export(directory: Path) -> bool:
    """A folder this command wrote: its card carries :data:`MARKER_TAG`."""
    card = Path(directory) / CARD
    if not card.is_file():
        return False
    try:
        tags = DatasetCard.load(card).data.to_dict().get("tags") or []
    except (OSError, ValueError, yaml.YAMLError):
        return False
    return isinstance(tags, list) and MARKER_TAG in tags


def _check_target(directory: Path) -> None:
    if directory.exists() and not directory.is_dir():
        raise BenchError(
            f"{directory} is a file: export into a new, empty or previous export folder"
        )
    if directory.is_dir() and any(directory.iterdir()) and not is_previous_export(directory):
        raise BenchError(
            f"{directory} is not empty and is not a previous leaderboard export (no {CARD} "
            f"tagged {MARKER_TAG}): choose a new or empty folder"
        )


def export_board(
    board_file: Path, directory: Path, fmt: str = "parquet", selection: str | None = None
) -> int:
    """Write the board at ``board_file`` into ``directory`` as a dataset folder; returns how
    many rows. A folder that is neither empty nor a previous export is refused before
    anything is written; a previous export is replaced file by file, each file atomically,
    the data before the card that names it, so the folder loads at every step."""
    if fmt not in FORMATS:
        raise BenchError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    directory, board_file = Path(directory), Path(board_file)
    _check_target(directory)
    board = read_board(board_file)
    if not board.entries:
        raise BenchError(f"{board_file} holds no entries: there is nothing to export")
    try:
        tasks = select_tasks(board.entries, selection)
    except ValueError as exc:
        raise BenchError(str(exc)) from None
    rows = records(build_rows(board.entries, tasks), tasks)
    kinds = features(tasks)
    table = pa.Table.from_pylist(rows, schema=kinds.arrow_schema)  # type-checks every row
    replace_atomically(directory / data_path(fmt), _writer(table, rows, fmt))
    card = card_text(board_file, tasks, kinds, fmt, len(rows))
    replace_atomically(directory / CARD, lambda handle: handle.write(card))
    for other in FORMATS:
        if other != fmt:
            (directory / data_path(other)).unlink(missing_ok=True)
    return len(rows)


def _writer(table: pa.Table, rows: list[dict], fmt: str) -> Callable[[TextIO], object]:
    """What fills the temporary file: Parquet bytes go through the text handle's binary
    buffer (nothing is written as text, so the two never interleave)."""
    if fmt == "parquet":
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        blob = buffer.getvalue()
        return lambda handle: handle.buffer.write(blob)
    # ASCII-only JSON: a user's U+2028 or other line separator stays inside its line
    lines = "".join(
        json.dumps(r, ensure_ascii=True, allow_nan=False, default=_json_time) + "\n" for r in rows
    )
    read_as_times = _read_as_times(table.schema, lines)
    if read_as_times:
        raise BenchError(
            f"--format jsonl: every value of {', '.join(read_as_times)} looks like a date or "
            "time, which the JSON reader of `datasets` would load as one, changing the text: "
            "export with --format parquet"
        )
    return lambda handle: handle.write(lines)


def _json_time(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    raise TypeError(f"{type(value).__name__} is not JSON")


def _read_as_times(schema: pa.Schema, lines: str) -> list[str]:
    """The text columns that the JSON reader `datasets` uses (pyarrow's, which infers a
    time from a column whose every value looks like one) would read as times."""
    data = lines.encode()
    inferred = paj.read_json(io.BytesIO(data), paj.ReadOptions(block_size=len(data) + 1)).schema
    return [
        field.name
        for field in schema
        if field.name in inferred.names
        and _holds_time(inferred.field(field.name).type)
        and not _holds_time(field.type)
    ]


def _holds_time(kind: pa.DataType) -> bool:
    if pa.types.is_temporal(kind):
        return True
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return _holds_time(kind.value_type)
    if pa.types.is_struct(kind):
        return any(_holds_time(kind.field(i).type) for i in range(kind.num_fields))
    return False


def _type_name(kind) -> str:
    if isinstance(kind, List):
        inner = kind.feature
        return "list of struct" if isinstance(inner, dict) else f"list of {_type_name(inner)}"
    return kind.dtype


def card_text(board_file: Path, tasks: list[str], kinds: Features, fmt: str, n_rows: int) -> str:
    """The dataset card: front matter naming the data file and typing every column, then
    what a row is, every column, how retention is computed and where the rows came from."""
    data = DatasetCardData(
        pretty_name="GONERD Bench leaderboard",
        tags=[MARKER_TAG, "leaderboard"],
        size_categories="n<1K" if n_rows < 1000 else "1K<n<10K",
        configs=[
            {"config_name": "default", "data_files": [{"split": SPLIT, "path": data_path(fmt)}]}
        ],
        dataset_info=DatasetInfo(features=kinds)._to_yaml_dict(),
    )
    task_list = ", ".join(md_escape(t) for t in tasks)  # names from users: no code span
    table = "\n".join(
        f"| `{name}` | {_type_name(kind)} | {text} |" for name, kind, text in columns(["TASK"])
    )
    prose = _PROSE.format(
        version=__version__,
        board=md_escape(board_file.name),
        board_sha256=sha256_file(board_file),
        n_rows=n_rows,
        n_tasks=len(tasks),
        tasks=task_list,
        file=data_path(fmt),
        split=SPLIT,
        columns=table,
    )
    text = f"---\n{data.to_yaml()}\n---\n\n{prose}"
    DatasetCard(text)  # it parses back, or this is a bug
    return text


_PROSE = """# GONERD Bench leaderboard

The GONERD Bench leaderboard as data: {n_rows} rows, one per board entry (one model's results
on the suite), with the numbers the board computes itself. Written by
`bench leaderboard export` (GONERD Bench {version}) from the board file {board}
(sha256 `{board_sha256}`), over {n_tasks} tasks: {tasks}. The rows are in the board's order:
each teacher (or unlinked entry) by its mean score, followed by its students.

```python
from datasets import load_dataset

board = load_dataset("PATH_OR_HUB_ID", split="{split}")  # this folder, or its Hub repository
```

The data file is `{file}`; the front matter above types every column, so a Space or any
other front end reads the same features whichever format was written.

## How the numbers are computed

- Scores are the tasks' main metrics on a 0-100 scale, as the board shows them. An entry run
  over several seeds holds the mean over its seeds, with their sample standard deviation in
  `score_std:TASK`.
- A student is linked to its teacher's entry: the entry of the same weights (revision and
  dtype) on the same suite version, scored on the same data for every task both hold;
  otherwise `teacher_unlinked` says why.
- Retained percent per task = 100 x the student's main score / its linked teacher's main
  score, on the scores (seed means) above. It is null where the teacher scored 0 or less, or
  either has no score.
- `score_mean`, `retained_percent_mean` and `retained_percent_min` are taken only over an
  entry (and, for retention, its teacher) that has every selected task, never over fewer.
- A speed-up is the teacher's median latency over the student's at a length, batch size and
  dtype both were timed at on one kind of device. The Pareto front of (retained percent,
  speed-up) is taken within each device class and shape; a row's `pareto_*` columns are its
  point at the longest shape it was timed at.

## Columns

`TASK` stands for each of the tasks above.

| column | type | meaning |
|---|---|---|
{columns}

A `tasks` item: `task`, `task_version`, `split`, `metric` (the main metric's name), `score`,
`score_std` and `seeds` (where run over several seeds), `retained` (as `retained:TASK`),
`examples` (how many were evaluated), `max_length` (its input length limit) and
`data_source` with `data_sha256` (the data it was scored on). A `speedups` item: `seq_len`,
`batch_size`, `dtype`, `device` (its class: kind and name) and `speedup` (the teacher's median
latency over the student's there).
"""
