"""The ``bench`` command line. Flags map onto library calls; every user-facing failure is a
typed error printed as one line (exit status 2), never a traceback."""

from __future__ import annotations

import inspect
import json
import sys
import types
import typing
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

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
schema_app = typer.Typer(help="JSON Schemas of the files the suite writes.", no_args_is_help=True)
app.add_typer(schema_app, name="schema")

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
    dataset_dict = load_dataset("gonerd", name, data_dir=data_dir)
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


@app.command("tasks")
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


def _run_flags() -> list[inspect.Parameter]:
    """One ``bench run`` flag per RunConfig field, with the field's help and default: the
    settings are declared once (benchmark/config.py), and the flags follow them."""
    from benchmark.config import EMBEDDED_DEFAULTS, RunConfig

    parameters = []
    for name, field in RunConfig.model_fields.items():
        flag = "--" + name.replace("_", "-")
        kind = field.annotation
        if isinstance(kind, types.UnionType):  # X | None: the flag's type is X
            kind = next(a for a in typing.get_args(kind) if a is not type(None))
        help_text = field.description or ""
        if typing.get_origin(kind) is typing.Literal:
            help_text += " One of: " + ", ".join(map(str, typing.get_args(kind))) + "."
        if field.default is not None:
            default = field.default
            shown = ",".join(map(str, default)) if isinstance(default, list) else default
            help_text += f" (default: {str(shown).lower() if kind is bool else shown})"
        if name in EMBEDDED_DEFAULTS:
            value = EMBEDDED_DEFAULTS[name]
            shown = ",".join(map(str, value)) if isinstance(value, list) else value
            help_text += f" (without --model, the demo: {shown})"
        if kind is bool:
            option, cli_type = typer.Option(f"{flag}/--no-{flag[2:]}", help=help_text), bool
        else:
            cli_type = kind if kind in (int, float) else str
            option = typer.Option(flag, help=help_text)
        parameters.append(
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[cli_type | None, option],
            )
        )
    return parameters


def run_command(
    config: Annotated[
        Path | None, typer.Option(help="YAML or JSON file with these settings; flags win.")
    ] = None,
    **flags,
) -> None:
    """Evaluate a model on the benchmark tasks and write one result file."""
    from benchmark.config import load_config
    from benchmark.distributed import is_main_process
    from benchmark.run_result import read_result
    from benchmark.runner import run

    quiet_libraries()
    overrides = {k: str(v) if isinstance(v, Path) else v for k, v in flags.items()}
    run_config = load_config(config, overrides)
    path = run(run_config, console)
    if not is_main_process():  # under a launcher the main process reports
        return
    result = read_result(path)
    console.print(_scores_table(result))
    if result.retention is not None:
        block = result.retention
        macro = block.retained_percent_macro
        spread = block.retained_percent_macro_std
        console.print(
            f"retained of {block.teacher['name']}: "
            + (f"{macro:.1f}%" if macro is not None else "undefined")
            + (f" ± {spread:.1f}" if spread is not None else "")
            + (" (macro over tasks)" if macro is not None else "")
        )
        for task, kept in block.tasks.items():
            for label, value in (kept.buckets or {}).items():
                shown = "undefined" if value is None else f"{value:.1f}%"
                console.print(f"  {task} {label} tokens: {shown} retained", highlight=False)
        for change in block.cost:
            how = (
                f" (interleaved, {change.time_ratio_rounds} rounds)"
                if change.time_method == "interleaved"
                else " (separate runs)"
            )
            console.print(
                f"  {change.seq_len} x {change.batch_size}: "
                f"{change.speedup:.2f}x speed-up, time {change.latency_change_percent:+.1f}%" + how
            )
    console.print(f"results: {path}")


run_command.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [*list(inspect.signature(run_command).parameters.values())[:1], *_run_flags()]
)
app.command("run")(run_command)


def _field(name: str):
    """A run setting's declaration, so `bench speed` shares `bench run`'s defaults and help."""
    from benchmark.config import RunConfig

    return RunConfig.model_fields[name]


@app.command("sweep")
def sweep_command(
    manifest: Annotated[Path, typer.Argument(help="YAML: models (with teachers), tasks, seeds.")],
    shard: Annotated[
        str | None,
        typer.Option(
            help="I/N: take every N-th unit from the I-th (0 <= I < N), e.g. a job array."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the units, their shard and which are done.")
    ] = False,
    output_dir: Annotated[
        Path | None,
        typer.Option(help="Where units and merged results go; default: the manifest's output."),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            help="Fine-tune in N local processes sharing the cores (speed is timed alone after)."
        ),
    ] = 1,
) -> None:
    """Run a sweep's units (model x task x seed, and each model's speed), skipping those
    done, then merge every model whose units are all done into one result file."""
    from benchmark.sweep import run_sweep

    quiet_libraries()
    written = run_sweep(manifest, shard, dry_run, output_dir, console, workers)
    if not dry_run and not written:
        console.print("no model has all its units done yet; the other shards will merge them")


@app.command("speed")
def speed_command(
    model: Annotated[
        str | None, typer.Option(help="Hub id or local folder; default: the bundled model.")
    ] = None,
    seq_len: Annotated[str, typer.Option(help="Comma-separated lengths.")] = "512,1024,2048,4096",
    batch_size: Annotated[int, typer.Option(help=_field("speed_batch_size").description)] = _field(
        "speed_batch_size"
    ).default,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = _field("device").default,
    dtype: Annotated[str, typer.Option(help="float32, float16 or bfloat16.")] = _field(
        "dtype"
    ).default,
    min_repeats: Annotated[int, typer.Option(help="Timed passes, at least.")] = 5,
    min_seconds: Annotated[float, typer.Option(help="Timed seconds, at least.")] = 2.0,
    output: Annotated[Path | None, typer.Option(help="Write the JSON report here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
    trust_remote_code: Annotated[
        bool, typer.Option("--trust-remote-code", help=_field("trust_remote_code").description)
    ] = False,
    teacher: Annotated[
        str | None,
        typer.Option(
            help="Also time this model interleaved with --model, round by round, and report "
            "the student/teacher time ratio with its spread."
        ),
    ] = None,
    tolerance: Annotated[
        float, typer.Option(help="With --teacher: stop when two halves of the rounds agree.")
    ] = 0.03,
    min_rounds: Annotated[int, typer.Option(help="With --teacher: rounds at least.")] = 4,
    max_rounds: Annotated[int, typer.Option(help="With --teacher: rounds at most.")] = 16,
) -> None:
    """Inference time and peak memory at each length, every pass in a fresh process; with
    --teacher, the student/teacher time ratio measured in interleaved rounds."""
    from benchmark.config import build_config
    from benchmark.cost import describe_measurement
    from benchmark.defaults import default_model_path
    from benchmark.model_setup import check_model_path, pick_device
    from benchmark.profiler import measure_model
    from benchmark.provenance import model_identity, now
    from benchmark.results import write_atomic

    # the same validation as bench run's settings of the same names
    settings = build_config(
        {"speed_seq_len": seq_len, "speed_batch_size": batch_size, "device": device}
        | {"dtype": dtype, "model": model},
        what="bad bench speed setting",
    )
    lengths = settings.speed_seq_len
    model_path = model or str(default_model_path())
    check_model_path(model_path)
    resolved = pick_device(device)
    if teacher is not None:
        check_model_path(teacher)
        report = _time_ratio_report(
            model or "bundled all-MiniLM-L6-v2",
            model_path,
            teacher,
            lengths,
            batch_size,
            resolved.type,
            dtype,
            {
                "min_repeats": min_repeats,
                "min_seconds": min_seconds,
                "trust_remote_code": trust_remote_code,
            },
            tolerance,
            (min_rounds, max_rounds),
            quiet=as_json,
        )
    else:
        report = {
            "model": {"name": model or "bundled all-MiniLM-L6-v2", **model_identity(model_path)},
            "started_at": now(),
            "measurements": measure_model(
                model_path,
                lengths,
                batch_size,
                resolved.type,
                dtype,
                on_result=None if as_json else lambda m: console.print(describe_measurement(m)),
                min_repeats=min_repeats,
                min_seconds=min_seconds,
                trust_remote_code=trust_remote_code,
            ),
            "finished_at": now(),
        }
    if output is not None:
        write_atomic(output, report)
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    elif output is not None:
        console.print(f"report: {output}")


def _time_ratio_report(
    name: str,
    model_path: str,
    teacher: str,
    lengths: list[int],
    batch_size: int,
    device: str,
    dtype: str,
    options: dict,
    tolerance: float,
    rounds: tuple[int, int],
    quiet: bool,
) -> dict:
    """bench speed --teacher: the interleaved time ratio at each length."""
    from benchmark.profiler import ProfileRequest
    from benchmark.provenance import library_versions, model_identity, now
    from benchmark.time_ratio import describe_ratio, interleaved_ratio

    started, ratios = now(), []
    for seq_len in lengths:
        request = ProfileRequest(model_path, seq_len, batch_size, device, dtype, "time", **options)
        try:
            measured = interleaved_ratio(request, teacher, tolerance, *rounds)
        except ValueError as exc:
            raise BenchError(f"--min-rounds/--max-rounds: {exc}") from None
        if not quiet:
            console.print(describe_ratio(measured))
        ratios.append(measured)
    return {
        "model": {"name": name, **model_identity(model_path)},
        "teacher": {"name": teacher, **model_identity(teacher)},
        "started_at": started,
        "time_ratio": ratios,
        "libraries": library_versions(),
        "finished_at": now(),
    }


@app.command("compare")
def compare_command(
    results: Annotated[
        list[Path], typer.Argument(help="Result files; the first is the reference.")
    ],
    format: Annotated[str, typer.Option("--format", help="table | md | json.")] = "table",
) -> None:
    """Scores, retained percent, speed-ups and memory of several result files."""
    from benchmark.compare import as_json, as_markdown, as_table, comparison

    if format not in ("table", "md", "json"):
        raise BenchError(f"--format {format!r}: choose table, md or json")
    data = comparison(results)
    if format == "json":
        sys.stdout.write(as_json(data))
    elif format == "md":
        sys.stdout.write(as_markdown(data))
    else:
        console.print(as_table(data))


def quiet_libraries() -> None:
    """Our own progress output replaces the libraries' per-file bars and load reports."""
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def _scores_table(result) -> Table:
    """One row per task of a RunResult."""
    table = Table(title=result.model.name)
    for column in ("task", "protocol", "main score", "value", "evaluated", "windowed", "seconds"):
        table.add_column(
            column, justify="left" if column in ("task", "protocol", "main score") else "right"
        )
    for name, entry in result.tasks.items():
        counts = entry.inputs
        table.add_row(
            name,
            entry.protocol,
            entry.main_score_name,
            f"{entry.main_score:.2f}"
            + (f" ± {entry.main_score_std:.2f}" if entry.main_score_std is not None else ""),
            f"{entry.n_examples.evaluated:,}/{entry.n_examples.original:,}",
            str(counts.get("windowed", counts.get("truncated", 0))),
            f"{sum(entry.timings_s.values()):.1f}",
        )
    return table


@schema_app.command("result")
def schema_result() -> None:
    """The JSON Schema of a result file (what `bench run` writes)."""
    from benchmark.run_result import result_schema

    sys.stdout.write(json.dumps(result_schema(), indent=2) + "\n")


@schema_app.command("entry")
def schema_entry() -> None:
    """The JSON Schema of a leaderboard entry (as `bench leaderboard schema`)."""
    from leaderboard.entry import entry_schema

    sys.stdout.write(json.dumps(entry_schema(), indent=2) + "\n")


def _add_leaderboard_commands() -> None:
    """The board's commands live with the board (leaderboard/cli.py); this CLI, the
    suite's entry point, is the one place that joins them."""
    from leaderboard.cli import leaderboard_app, submit_command

    app.command("submit")(submit_command)
    app.add_typer(leaderboard_app, name="leaderboard")


def _add_recipe_commands() -> None:
    """The recipe's commands live with the recipe (baselines/cli.py)."""
    from baselines.cli import recipe_app, report_command, study_app

    app.add_typer(recipe_app, name="recipe")
    app.add_typer(study_app, name="study")
    app.command("report")(report_command)


_add_leaderboard_commands()
_add_recipe_commands()


def one_line(text: str) -> str:
    """``text`` on one line, every unprintable character written as an escape."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in " ".join(text.splitlines()))


def main() -> None:
    """Console-script entry point: user errors become one line on stderr and exit code 2."""
    try:
        app()
    except (BenchError, GonerdError) as exc:
        # The message may quote user input (a name, a value from a submitted file): shown
        # as plain text on one line, never as markup, unprintable characters escaped.
        message = Text.assemble(("error:", "bold red"), " ", one_line(str(exc)))
        Console(stderr=True).print(message, highlight=False, soft_wrap=True)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        Console(stderr=True).print(
            "[bold red]interrupted:[/] finished tasks are kept in the result file; "
            "run the same command again to resume",
            highlight=False,
            soft_wrap=True,
        )
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
