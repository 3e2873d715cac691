"""`bench submit` and `bench leaderboard`: the board's commands, added to the `bench` CLI.

Every refusal is a :class:`~leaderboard.validation.SubmissionError` (a BenchError): one
``error:`` line naming the field and the fix, exit status 2, the board file untouched.
"""

from __future__ import annotations

import io
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from benchmark.errors import BenchError

console = Console()
FORMATS = ("table", "md", "json", "csv", "html")
leaderboard_app = typer.Typer(
    help="The leaderboard: show it (table, md, json, csv, html), check it, export it, its schema.",
    invoke_without_command=True,
)


def _default_board() -> Path:
    from leaderboard.store import DEFAULT_BOARD

    return DEFAULT_BOARD


def _board_to_read(given: Path | None) -> Path:
    """The board a command reads: one that is not there is a mistyped path, not an empty
    board (only `bench submit` starts a board)."""
    path = given or _default_board()
    if not path.is_file():
        raise BenchError(f"no board file at {path}: check the path (`bench submit` starts one)")
    return path


BoardOption = Annotated[
    Path | None,
    typer.Option(
        "--leaderboard",
        help="The board file (default: the suite's own, leaderboard/leaderboard.json where it "
        "is installed from).",
    ),
]


def submit_command(
    result: Annotated[Path, typer.Argument(help="A result file written by `bench run`.")],
    leaderboard: BoardOption = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Supersede this model's entry already there.")
    ] = False,
    recompute: Annotated[
        bool,
        typer.Option(
            "--recompute", help="Score every task again from its saved predictions first."
        ),
    ] = False,
    data_label: Annotated[
        str | None,
        typer.Option(
            "--data-label",
            help="The data column and filter's name for it (e.g. study); default sample or full.",
        ),
    ] = None,
    budget: Annotated[
        str | None,
        typer.Option(help="The training budget behind the model, in words, shown with it."),
    ] = None,
    time_ratios: Annotated[
        Path | None,
        typer.Option(
            "--time-ratios",
            help="A file of its interleaved time ratios timed elsewhere (a GPU machine's).",
        ),
    ] = None,
) -> None:
    """Validate a result file and add its entry to the leaderboard."""
    from leaderboard.entry import DATA_LABEL, Entry
    from leaderboard.store import submit
    from leaderboard.trust import submit_notes
    from leaderboard.validation import load_submission

    board = leaderboard or _default_board()
    if data_label is not None and not DATA_LABEL.fullmatch(data_label):
        raise BenchError(
            f"--data-label {data_label!r}: a label is 1-32 lower-case letters, digits, '.', "
            "'_' or '-', starting with a letter or digit (e.g. study)"
        )
    parsed = load_submission(result)
    submitted_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    extra: dict = {"data_label": data_label, "budget": budget}
    if time_ratios is not None:
        from leaderboard.speedups import from_file

        extra["time_ratios"] = from_file(time_ratios, parsed.model.name)
    entry = Entry.from_result(
        parsed, result, submitted_at, recompute=recompute, board_dir=board.parent, extra=extra
    )
    entry = submit(board, entry, replace=replace)
    line = f"added {entry.model.name} ({entry.verified}, entry {entry.entry_id[:12]})"
    if entry.supersedes:
        line += f", superseding {entry.supersedes[:12]}"
    console.print(line + f" to {board}", markup=False, highlight=False, soft_wrap=True)
    for note in submit_notes(entry, board.parent):
        console.print(note, markup=False, highlight=False, soft_wrap=True)


@leaderboard_app.callback()
def show_command(
    ctx: typer.Context,
    leaderboard: BoardOption = None,
    format: Annotated[str, typer.Option("--format", help=" | ".join(FORMATS))] = "table",
    tasks: Annotated[
        str | None, typer.Option(help="Task columns: a group (glue, all) or t1,t2.")
    ] = None,
    sort: Annotated[
        str,
        typer.Option(help="score | retained | worst | speedup | params | name | a task name."),
    ] = "score",
    output: Annotated[Path | None, typer.Option(help="Write here instead of printing.")] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Also write the Pareto plot as a .png or .svg image.")
    ] = None,
) -> None:
    """Show the leaderboard, ranked, with the numbers the board computes itself."""
    if ctx.invoked_subcommand is not None:
        return
    from leaderboard import html_page, render
    from leaderboard.board import build_rows, plot_view, select_tasks, sort_value
    from leaderboard.cells import notes
    from leaderboard.store import read_board

    if format not in FORMATS:
        raise BenchError(f"--format {format!r}: choose one of {', '.join(FORMATS)}")
    if plot is not None and plot.suffix.lower() not in (".png", ".svg"):
        raise BenchError(f"--plot {plot}: the file must end in .png or .svg")
    board = read_board(_board_to_read(leaderboard))
    try:
        columns = select_tasks(board.entries, tasks)
        rows = build_rows(board.entries, columns)
        for row in rows[:1]:
            sort_value(row, sort)  # an unknown column is an error even on a small board
    except ValueError as exc:
        raise BenchError(str(exc)) from None
    view = plot_view(board.entries, rows, columns, chosen=tasks is not None)
    if plot is not None:
        render.write_plot(view.rows, plot)
    if format == "table" and output is None:
        # piped into a file or a pager, the table keeps its width
        out = console if console.is_terminal else Console(width=160)
        out.print(render.as_table(rows, columns, sort))
        for note in notes(rows):
            out.print(note, markup=False, highlight=False, soft_wrap=True)
        return
    text = {
        "table": lambda: _table_text(render.as_table(rows, columns, sort)),
        "md": lambda: render.as_markdown(rows, columns, sort),
        "json": lambda: render.as_json(rows, columns, sort),
        "csv": lambda: render.as_csv(rows, columns, sort),
        "html": lambda: html_page.as_html(rows, columns, sort, view),
    }[format]()
    if output is None:
        sys.stdout.write(text)
    else:
        from benchmark.results import replace_atomically

        replace_atomically(output, lambda handle: handle.write(text))
        console.print(f"wrote {output}", highlight=False)


def _table_text(table) -> str:
    capture = Console(width=200, record=True, file=io.StringIO())
    capture.print(table)
    return capture.export_text()


@leaderboard_app.command("check")
def check_command(
    board_file: Annotated[
        Path | None,
        typer.Argument(
            help="The board (default: the suite's own, leaderboard/leaderboard.json where it is "
            "installed from)."
        ),
    ] = None,
) -> None:
    """Validate a whole board: its schema, entry ids, no duplicates, and the intervals and
    paired numbers the board drew, drawn again from the predictions beside it (what CI
    runs)."""
    from leaderboard.recheck import recheck_problems
    from leaderboard.store import board_problems, read_board

    path = _board_to_read(board_file)
    board = read_board(path)
    problems = board_problems(board) or recheck_problems(board.entries, path.parent)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise BenchError(f"{path}: {problems[0]}{more}")
    console.print(f"{path}: valid", highlight=False)


@leaderboard_app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of a leaderboard entry."""
    from leaderboard.entry import entry_schema

    sys.stdout.write(json.dumps(entry_schema(), indent=2) + "\n")


@leaderboard_app.command("export")
def export_command(
    directory: Annotated[
        Path, typer.Argument(help="The folder to write: new, empty, or a previous export.")
    ],
    format: Annotated[str, typer.Option("--format", help="parquet | jsonl")] = "parquet",
    leaderboard: BoardOption = None,
    tasks: Annotated[
        str | None, typer.Option(help="Task columns: a group (glue, all) or t1,t2.")
    ] = None,
) -> None:
    """Write the board as a Hugging Face dataset folder (a data file and its dataset card)
    that `datasets.load_dataset(DIR)` reads and a Hub dataset repository can hold."""
    from leaderboard.export import CARD, export_board

    n_rows, data_file = export_board(_board_to_read(leaderboard), directory, format, tasks)
    console.print(
        f"wrote {n_rows} entries to {directory} ({data_file} and {CARD})",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
