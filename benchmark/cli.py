"""The ``bench`` command line. Flags map onto library calls; every user-facing failure is a
typed error printed as one line (exit status 2), never a traceback."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console, Group
from rich.table import Table

from benchmark.errors import BenchError
from gonerd.errors import GonerdError

app = typer.Typer(
    name="bench",
    help="GONERD Bench: long-context encoders, their distilled students, and what they cost.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(help="Datasets: statistics and checks.", no_args_is_help=True)
app.add_typer(data_app, name="data")

console = Console()
DATASETS = ("gonerd",)


@data_app.command("stats")
def data_stats(
    dataset: Annotated[str, typer.Argument(help="The dataset: gonerd.")],
    data_dir: Annotated[
        Path | None, typer.Option(help="A local copy in the Hub's file layout.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="The configuration: default or sample.")] = None,
    split: Annotated[str | None, typer.Option(help="One split only.")] = None,
    tokenizer: Annotated[
        str | None,
        typer.Option(
            help="Tokenizer (Hub id or path) for subword lengths; default: the bundled model."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON keyed by split.")] = False,
) -> None:
    """Documents, words, subword lengths and entity counts per split."""
    from benchmark.defaults import default_model_path
    from benchmark.models import load_tokenizer
    from gonerd import load_dataset
    from gonerd.stats import dataset_stats

    if dataset.lower() not in DATASETS:
        raise BenchError(f"unknown dataset {dataset!r}: choose one of {', '.join(DATASETS)}")
    dataset_dict = load_dataset("gonerd", name, data_dir=data_dir)
    if split is not None:
        if split not in dataset_dict:
            raise BenchError(
                f"split {split!r} is not in this dataset: choose one of {', '.join(dataset_dict)}"
            )
        dataset_dict = dataset_dict.__class__({split: dataset_dict[split]})
    tok = load_tokenizer(tokenizer or str(default_model_path()))
    stats = dataset_stats(dataset_dict, tok)
    if as_json:
        sys.stdout.write(json.dumps(stats, indent=2) + "\n")
        return
    console.print(_stats_table(stats, tokenizer or "bundled all-MiniLM-L6-v2"))


def _stats_table(stats: dict[str, dict], tokenizer_name: str) -> Group:
    """Lengths per split, then entity counts with one column per split."""
    lengths = Table(title=f"Documents and subword lengths ({tokenizer_name})")
    for column in ("split", "docs", "words", "p50", "p95", "max", ">512", ">4096"):
        lengths.add_column(column, justify="left" if column == "split" else "right")
    for split, row in stats.items():
        tokens = row.get("subword_tokens", {})
        lengths.add_row(
            split,
            f"{row['documents']:,}",
            f"{row['words']:,}",
            f"{tokens.get('p50', 0):,.0f}",
            f"{tokens.get('p95', 0):,.0f}",
            f"{tokens.get('max', 0):,}",
            f"{tokens.get('share_over_512', 0):.0%}",
            f"{tokens.get('share_over_4096', 0):.0%}",
        )
    entities = Table(title="Entities")
    entities.add_column("type")
    for split in stats:
        entities.add_column(split, justify="right")
    types = sorted({t for row in stats.values() for t in row["entities"]})
    for entity_type in [*types, "total"]:
        key = "entities_total" if entity_type == "total" else None
        entities.add_row(
            entity_type,
            *(
                f"{row[key] if key else row['entities'].get(entity_type, 0):,}"
                for row in stats.values()
            ),
        )
    return Group(lengths, entities)


def main() -> None:
    """Console-script entry point: user errors become one line on stderr and exit code 2."""
    try:
        app()
    except (BenchError, GonerdError) as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
