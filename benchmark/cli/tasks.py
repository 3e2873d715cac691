"""``bench tasks``: the task registry as a table or JSON."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from benchmark.cli.output import console


def tasks_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the specs as JSON.")] = False,
) -> None:
    """The task registry: family, data source, metric, lengths and version of each task."""
    from benchmark.tasks import GROUPS, TASKS

    if as_json:
        specs = {
            name: spec.model_dump(mode="json") | {"spec_hash": spec.content_hash()}
            for name, spec in TASKS.items()
        }
        sys.stdout.write(json.dumps({"tasks": specs, "groups": GROUPS}, indent=2) + "\n")
        return
    table = Table(title="Tasks (groups: " + ", ".join(GROUPS) + ")")
    for column in ("task", "v", "family", "source", "eval split", "metric", "main", "max len"):
        table.add_column(column)
    for spec in TASKS.values():
        source = spec.hub_id + (f" ({spec.hub_config})" if spec.hub_config else "")
        table.add_row(
            spec.name,
            str(spec.version),
            spec.family.replace("_", " "),
            source,
            spec.eval_split,
            spec.metric,
            spec.main_score,
            f"{spec.max_length}{' long' if spec.long_context else ''}",
        )
    console.print(table)
