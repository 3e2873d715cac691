"""``bench recipe``: convert a checkpoint, or run a whole recipe file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from benchmark.errors import BenchError

recipe_app = typer.Typer(
    help="The baseline recipe: convert → pretrain → distill → finetune.",
    no_args_is_help=True,
)


def _settings(pairs: list[str]) -> dict:
    """``KEY=VALUE`` pairs, values read as YAML (numbers, lists, booleans)."""
    import yaml

    settings = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise BenchError(f"--set {pair!r}: write it as KEY=VALUE, e.g. attention_window=256")
        settings[key.strip()] = yaml.safe_load(value)
    return settings


@recipe_app.command("convert")
def convert_command(
    model: Annotated[str, typer.Option(help="BERT or RoBERTa checkpoint: Hub id or folder.")],
    to: Annotated[str, typer.Option(help="longformer, bigbird, lsg or nystromformer.")],
    output: Annotated[Path, typer.Option(help="Folder for the converted checkpoint.")],
    max_length: Annotated[int, typer.Option(help="Longest input the result reads.")] = 4096,
    set_: Annotated[
        list[str],
        typer.Option("--set", help="A target setting, e.g. attention_window=256 (repeatable)."),
    ] = [],  # noqa: B006 (typer reads the default, never mutates it)
) -> None:
    """Convert a checkpoint to efficient attention; says what it could not map."""
    from baselines.convert import convert
    from benchmark.console import quiet_libraries

    quiet_libraries()
    report = convert(model, to, output, max_length, _settings(set_))
    console = Console()
    console.print(f"{output}: {report.target}, inputs up to {report.max_length} tokens")
    console.print(f"  copied {report.copied} weights; positions {report.tiled_positions}")
    console.print(f"  new (initialised): {', '.join(report.initialised) or 'none'}")
    console.print(f"  source weights not used: {', '.join(report.not_mapped) or 'none'}")
    check = report.short_input_check
    verdict = "must match, and does" if check["must_match"] else check["why_not"]
    console.print(
        f"  {check['tokens']}-token input: largest hidden-state difference "
        f"{check['max_abs_difference']:.2e} ({verdict})"
    )


@recipe_app.command("run")
def run_command(
    config: Annotated[Path, typer.Argument(help="Recipe YAML (see baselines/configs/).")],
    output_dir: Annotated[
        Path | None, typer.Option(help="Where the stages write; default recipe-runs/<name>.")
    ] = None,
    only: Annotated[
        str | None, typer.Option(help="Run one stage kind only (e.g. distill under a launcher).")
    ] = None,
    report_to: Annotated[
        str,
        typer.Option(
            help="Report the stages' training (and the finetune stage's runs) to this tracker: "
            "none, tensorboard, wandb, mlflow or trackio; TensorBoard writes into each "
            "stage's runs/ folder."
        ),
    ] = "none",
) -> None:
    """Run the recipe's stages in order, resuming where an earlier run stopped."""
    from baselines.recipe import launched_rank, read_recipe, run_recipe
    from benchmark.console import quiet_libraries

    quiet_libraries()
    recipe = read_recipe(config)
    if only not in (None, "convert", "pretrain", "distill", "finetune"):
        raise BenchError(f"--only {only!r}: choose convert, pretrain, distill or finetune")
    folder = output_dir or Path("recipe-runs") / recipe.name
    stages = run_recipe(recipe, folder, Console(), only, report_to)
    if launched_rank() == 0:
        Console().print(f"recipe {recipe.name}: {len(stages)} stages in {folder}")


study_app = typer.Typer(
    help="The study: every architecture in both orders, scored over seeds and timed.",
    no_args_is_help=True,
)


@study_app.command("run")
def study_run_command(
    study: Annotated[Path, typer.Argument(help="Study YAML (baselines/configs/study*.yaml).")],
    output_dir: Annotated[
        Path | None, typer.Option(help="Where models and results go; default: the study's.")
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            help="Fine-tune in N local processes sharing the cores (e.g. 2 on 2 cores); "
            "building and timing run alone."
        ),
    ] = 1,
) -> None:
    """Build every model (recipes, floors), time each student against its teacher, then
    score every model (a sweep); every step resumes where an earlier run stopped."""
    from baselines.study import run_study
    from benchmark.console import quiet_libraries

    quiet_libraries()
    folder = run_study(study, output_dir, Console(), workers)
    Console().print(f"study written to {folder}; `bench report {study}` makes its page")


def report_command(
    study: Annotated[Path, typer.Argument(help="The study YAML the results come from.")],
    runs: Annotated[
        Path | None,
        typer.Option(help="The study's folder, or a report's data/ folder; default: the study's."),
    ] = None,
    output: Annotated[Path, typer.Option(help="Where the page goes.")] = Path("docs/study"),
) -> None:
    """The study's page (tables, Pareto plot, the paper's claims) from its result files."""
    from baselines.report import make_report
    from baselines.study import load_study

    spec = load_study(study)
    page = make_report(spec, runs or Path(spec.output), output)
    Console().print(f"report: {page}")
