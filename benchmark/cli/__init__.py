"""The runner's commands (``bench run``, ``speed``, ``sweep``, ``compare``, ``card``,
``tasks``, ``data``, ``schema``), one small module each.

:func:`build_app` returns a fresh typer app holding them; the ``bench`` command
(:mod:`gonerd_bench.cli`) adds the leaderboard's and the recipe's commands to it, so nothing
here knows about the packages above. ``python -m benchmark`` runs these commands alone.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

import typer

from benchmark.cli import card, compare, data, run, speed, sweep, tasks
from benchmark.console import run_command_line

HELP = "GONERD Bench: long-context encoders, their distilled students, and what they cost."


def result_schema() -> dict:
    """The JSON Schema of a result file (what `bench run` writes)."""
    from benchmark.run_result import result_schema as schema

    return schema()


def build_app(schemas: dict[str, Callable[[], dict]] | None = None) -> typer.Typer:
    """The runner's commands; ``schemas`` adds ``bench schema NAME`` commands, each printing
    the JSON Schema its function returns (the function's docstring is the command's help)."""
    app = typer.Typer(
        name="bench",
        help=HELP,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    app.command("tasks")(tasks.tasks_command)
    app.command("run")(run.run_command)
    app.command("sweep")(sweep.sweep_command)
    app.command("speed")(speed.speed_command)
    app.command("compare")(compare.compare_command)
    app.command("card")(card.card_command)
    data_app = typer.Typer(help="Datasets: statistics and checks.", no_args_is_help=True)
    data_app.command("stats")(data.data_stats)
    app.add_typer(data_app, name="data")
    schema_app = typer.Typer(
        help="JSON Schemas of the files the suite writes.", no_args_is_help=True
    )
    for name, make in ({"result": result_schema} | (schemas or {})).items():
        schema_app.command(name, help=make.__doc__)(_printer(make))
    app.add_typer(schema_app, name="schema")
    return app


def _printer(make: Callable[[], dict]) -> Callable[[], None]:
    def print_schema() -> None:
        sys.stdout.write(json.dumps(make(), indent=2) + "\n")

    return print_schema


def main() -> None:
    """``python -m benchmark``: the runner's commands, errors as one line."""
    run_command_line(build_app())
