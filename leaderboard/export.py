"""The board as a Hugging Face dataset folder: one row per entry with the numbers the board
computes itself (:mod:`leaderboard.board`), one data file (Parquet or JSON lines) and a
dataset card, so ``datasets.load_dataset(DIR)`` reads it offline, a Hub dataset repository
can hold it as it is, and a Space's front end can load it by name.

Every column is typed in the card (``dataset_info.features``) as well as in the data: a
column that is null in every row of a JSON-lines export is still read with its type, so both
formats load with the same features. The rows are type-checked against those features before
anything is written.

The data file is named after its content (``data/leaderboard-<sha256[:12]>.<format>``):
``datasets`` keys its cache of a folder whose card declares its data files on the folder's
name, the card's configs and its features, not on the files' content, so an export with new
rows under the old file name loads as the rows read before (huggingface/datasets#2956).
"""

from __future__ import annotations

import hashlib
import io
import json
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.json as paj
import pyarrow.parquet as pq
import yaml
from datasets import DatasetInfo, Features, List
from huggingface_hub import DatasetCard, DatasetCardData

from benchmark import __version__
from benchmark.errors import BenchError
from benchmark.markdown import md_escape
from benchmark.results import replace_atomically, sha256_file
from leaderboard.board import build_rows, select_tasks
from leaderboard.cells import tasks_text
from leaderboard.export_columns import columns, features, records
from leaderboard.store import read_board

FORMATS = ("parquet", "jsonl")
MARKER_TAG = "gonerd-bench-leaderboard"  # how a folder is known as a previous export
CARD = "README.md"
SPLIT = "train"


def data_path(fmt: str, digest: str) -> str:
    """The data file's path in the folder, named by the sha256 of its bytes (module
    docstring)."""
    return f"data/leaderboard-{digest[:12]}.{fmt}"


def _data_files(directory: Path) -> list[Path]:
    """The data files an export wrote into ``directory`` (either format, any name this or
    an earlier version gave them)."""
    folder = directory / "data"
    return [p for fmt in FORMATS for p in sorted(folder.glob(f"leaderboard*.{fmt}"))]


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
) -> tuple[int, str]:
    """Write the board at ``board_file`` into ``directory`` as a dataset folder; returns how
    many rows and the data file's path in it. A folder that is neither empty nor a previous
    export is refused before anything is written; a previous export is replaced file by
    file, each file atomically, the data before the card that names it and the old data
    last, so the folder loads at every step."""
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
    blob = _data_bytes(table, rows, fmt)
    name = data_path(fmt, hashlib.sha256(blob).hexdigest())
    replace_atomically(directory / name, lambda handle: handle.buffer.write(blob))
    card = card_text(board_file, tasks, kinds, name, len(rows))
    replace_atomically(directory / CARD, lambda handle: handle.write(card))
    for old in _data_files(directory):
        if old != directory / name:
            old.unlink(missing_ok=True)
    return len(rows), name


def _data_bytes(table: pa.Table, rows: list[dict], fmt: str) -> bytes:
    """The data file's bytes, made in memory so that its name can be their hash; they are
    written through the text handle's binary buffer (nothing is written as text, so the
    two never interleave)."""
    if fmt == "parquet":
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        return buffer.getvalue()
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
    return lines.encode("ascii")


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


def card_text(
    board_file: Path, tasks: list[str], kinds: Features, data_file: str, n_rows: int
) -> str:
    """The dataset card: front matter naming the data file and typing every column, then
    what a row is, every column, how retention is computed and where the rows came from."""
    data = DatasetCardData(
        pretty_name="GONERD Bench leaderboard",
        tags=[MARKER_TAG, "leaderboard"],
        size_categories="n<1K" if n_rows < 1000 else "1K<n<10K",
        configs=[{"config_name": "default", "data_files": [{"split": SPLIT, "path": data_file}]}],
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
        n_tasks=tasks_text(len(tasks)),
        tasks=task_list,
        file=data_file,
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
(sha256 `{board_sha256}`), over {n_tasks}: {tasks}. The rows are in the board's order:
each teacher (or unlinked entry) by its mean score, followed by its students.

```python
from datasets import load_dataset

board = load_dataset("PATH_OR_HUB_ID", split="{split}")  # this folder, or its Hub repository
```

The data file is `{file}`, named by its content's sha256, so that a cache of an earlier
export (`datasets` keys a folder's cache on its card, not on its files) is never read for
it; the front matter above types every column, so a Space or any other front end reads the
same features whichever format was written.

## How the numbers are computed

- Scores are the tasks' main metrics on a 0-100 scale, as the board shows them. An entry run
  over several seeds holds the mean over its seeds, with their sample standard deviation in
  `score_std:TASK`.
- A student is linked to its teacher's entry: the entry of the same weights (revision and
  dtype) on the same suite version, scored on the same data for every task both hold;
  otherwise `teacher_unlinked` says why.
- Retained percent per task = 100 x the student's main score / its linked teacher's main
  score, on the scores (seed means) above. It is null where the teacher scored 0 or less, or
  either has no score. Where both ran the same seeds, `retained_std:TASK` is the sample
  standard deviation over those seeds of each seed's retained percent (student seed s over
  teacher seed s), and `retained_percent_mean_std` that of each seed's mean of them.
- `score_mean`, `retained_percent_mean` and `retained_percent_min` are taken only over an
  entry (and, for retention, its teacher) that has every selected task, never over fewer.
- A speed-up is the teacher's time over the student's at a length, batch size and dtype
  both were timed at on one kind of device: the student's interleaved ratio against that
  teacher where it has one, else the ratio of the two median latencies (`method`). The
  Pareto front of (retained percent, speed-up) is taken within each device class and shape;
  a row's `pareto_*` columns are its point at the longest shape it was timed at.
- `score_ci95:TASK` is the score's 95 % percentile bootstrap interval over the task's units,
  drawn by the board from the predictions committed beside it (1,000 resamples, the seed
  `bench run` uses), else as the entry's result reports it (`score_ci95_drawn_by` in
  `tasks` says which). For a student, `retained_ci95:TASK` is the paired interval of the
  retained percent (the same units resampled for both), `agreement:TASK` the percent of
  units it predicts as its teacher does, and `flips_correct_to_wrong:TASK` /
  `flips_wrong_to_correct:TASK` the units its teacher got right and it wrong, and the
  other way round; in a GONERD document (`agreement_unit:TASK` is `entity`) agreement is
  the percent of the entities either predicts that both predict (100 where neither
  predicts any) and a flip is a gold entity one finds and the other misses; all drawn by
  the board
  from both entries' predictions; null where the board could not pair them (the `notes` say
  why). `long_context_gain:TASK` is as the result reports it.

## Columns

`TASK` stands for each of the tasks above.

| column | type | meaning |
|---|---|---|
{columns}

A `tasks` item: `task`, `task_version`, `split`, `metric` (the main metric's name), `score`,
`score_std` and `seeds` (where run over several seeds), `retained` (as `retained:TASK`),
`examples` (how many were evaluated), `max_length` (its input length limit) and
`data_source` with `data_sha256` (the data it was scored on), `score_ci95` and
`score_ci95_drawn_by` (`board` or `result`), `retained_ci95`, `agreement` with
`agreement_unit` (what agreement and flips count: the unit drawn, or `entity` in a
document), `flips_correct_to_wrong`, `flips_wrong_to_correct`, and the long-context record:
`long_context_gain` with its `long_context_gain_ci95`, `long_context_full`,
`long_context_truncated_512` and `long_context_max_length` (the full reading's length). A
`speedups` item: `seq_len`,
`batch_size`, `dtype`, `device` (its class: kind and name), `speedup` (the teacher's time over
the student's there) and `method`: `interleaved` (the two timed in turns in one process) or
`separate runs` (the ratio of the two entries' median latencies), and for an interleaved one
its `range` over the rounds.
"""
