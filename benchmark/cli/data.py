"""``bench data``: what a dataset holds (documents, lengths, entities), per split."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Group
from rich.table import Table

from benchmark.cli.output import console
from benchmark.errors import BenchError

DATASETS = ("gonerd",)


def data_stats(
    dataset: Annotated[str, typer.Argument(help="The dataset: gonerd.")],
    data_dir: Annotated[
        Path | None, typer.Option(help="A local copy in the Hub's file layout.")
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            help="The configuration: default, sample, windowed or sample-windowed (the last two "
            "cut with --tokenizer)."
        ),
    ] = None,
    split: Annotated[str | None, typer.Option(help="One split only.")] = None,
    tokenizer: Annotated[
        str | None,
        typer.Option(
            help="Tokenizer (Hub id or path) for subword lengths; default: the bundled model."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON keyed by split.")] = False,
    plot: Annotated[
        Path | None,
        typer.Option(help="Also draw the length histogram per split (.png or .svg)."),
    ] = None,
) -> None:
    """Documents, words, subword lengths and entity counts per split."""
    from benchmark.defaults import default_model_path
    from benchmark.models import load_tokenizer
    from gonerd import load_dataset
    from gonerd.stats import dataset_stats

    if dataset.lower() not in DATASETS:
        raise BenchError(f"unknown dataset {dataset!r}: choose one of {', '.join(DATASETS)}")
    windows = {"tokenizer": tokenizer or str(default_model_path())}  # a windowed config's
    extra = windows if name and name.endswith("windowed") else {}
    dataset_dict = load_dataset("gonerd", name, data_dir=data_dir, **extra)
    if split is not None:
        if split not in dataset_dict:
            raise BenchError(
                f"split {split!r} is not in this dataset: choose one of {', '.join(dataset_dict)}"
            )
        dataset_dict = dataset_dict.__class__({split: dataset_dict[split]})
    if plot is not None and plot.suffix.lower() not in (".png", ".svg"):
        raise BenchError(f"--plot {plot}: the file must end in .png or .svg")
    tok = load_tokenizer(tokenizer or str(default_model_path()))
    stats = dataset_stats(dataset_dict, tok)
    if plot is not None:
        from gonerd.stats import document_lengths, plot_lengths

        lengths = {split: document_lengths(dataset_dict[split], tok) for split in dataset_dict}
        plot_lengths(lengths, plot, f"GONERD document lengths ({tokenizer or 'bundled model'})")
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
