"""``bench run``: its flags are generated from :class:`benchmark.config.RunConfig`, so each
setting is declared once; the scores and retention are printed when the file is written,
each with its 95 % interval where the file holds one."""

from __future__ import annotations

import inspect
import types
import typing
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from benchmark.cli.output import console
from benchmark.console import quiet_libraries


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
    for line in _bucket_lines(result):
        console.print(line, highlight=False)
    if result.retention is not None:
        block = result.retention
        macro = block.retained_percent_macro
        spread = block.retained_percent_macro_std
        console.print(
            f"retained of {block.teacher['name']}: "
            + (f"{macro:.1f}%" if macro is not None else "undefined")
            + (f" ± {spread:.1f}" if spread is not None else "")
            + (f" ({block.macro_scope()})" if macro is not None else "")
        )
        for task, kept in block.tasks.items():
            console.print(f"  {task}: {_retained(kept)}", highlight=False)
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
    [*list(inspect.signature(run_command, eval_str=True).parameters.values())[:1], *_run_flags()]
)


def _scores_table(result) -> Table:
    """One row per task of a RunResult: the main score with its 95 % interval and, where
    measured, the long-context gain with its paired one (benchmark.long_context)."""
    table = Table(title=result.model.name)
    gains = any(entry.long_context for entry in result.tasks.values())
    columns = ["task", "protocol", "main score", "value", "95% interval", "evaluated"]
    columns += ["windowed", "seconds"] + (["long-context gain"] if gains else [])
    for column in columns:
        table.add_column(
            column, justify="left" if column in ("task", "protocol", "main score") else "right"
        )
    for name, entry in result.tasks.items():
        counts = entry.inputs
        cells = [
            name,
            entry.protocol,
            entry.main_score_name,
            f"{entry.main_score:.2f}"
            + (f" ± {entry.main_score_std:.2f}" if entry.main_score_std is not None else ""),
            _interval(entry.main_score_ci95) or "-",
            f"{entry.n_examples.evaluated:,}/{entry.n_examples.original:,}",
            str(counts.get("windowed", counts.get("truncated", 0))),
            f"{sum(entry.timings_s.values()):.1f}",
        ]
        table.add_row(*cells, *([_gain(entry.long_context)] if gains else []))
    return table


def _interval(interval: list[float] | None, pattern: str = "{:.2f}") -> str:
    """``[low, high]``, or nothing without an interval."""
    if not interval:
        return ""
    return "[" + ", ".join(pattern.format(v) for v in interval) + "]"


def _gain(record) -> str:
    """A long-context gain with its paired interval; why it is undefined; or ``-``."""
    if record is None:
        return "-"
    if record.gain is None:
        return f"undefined (reads {record.max_length_full} tokens)"
    shown = f"{record.gain:+.2f}"
    return shown + (" " + _interval(record.gain_ci95, "{:+.2f}") if record.gain_ci95 else "")


def _bucket_lines(result) -> list[str]:
    """Below the table, per length bucket of each task: its score's interval and its
    long-context gain, where the file holds them."""
    lines = []
    for name, entry in result.tasks.items():
        gained = (entry.long_context.buckets or {}) if entry.long_context else {}
        for label, bucket in (entry.buckets or {}).items():
            parts = [f"{bucket['main_score']:.2f}"]
            if bucket.get("ci95"):
                parts.append(_interval(bucket["ci95"]))
            if label in gained:
                parts.append(f"long-context gain {_gain(gained[label])}")
            if len(parts) > 1:
                n = bucket["n_examples"]  # a mean over seeds that scored other examples
                lines.append(f"  {name} {label} tokens (n={n:g}): " + " ".join(parts))
    return lines


def _retained(kept) -> str:
    """A task's retained percent with its paired interval, agreement and flips, or why
    they are missing."""
    from benchmark.run_result import counted_note

    if kept.retained_percent is None:
        shown = "undefined retained"
    else:
        shown = f"{kept.retained_percent:.1f}% retained"
    if kept.retained_percent_std is not None:
        shown = shown.replace("% ", f"% ± {kept.retained_percent_std:.1f} ", 1)
    if kept.retained_percent_ci95:
        shown += f" {_interval(kept.retained_percent_ci95, '{:.1f}')} (paired)"
    if kept.agreement is not None:
        shown += f", {kept.agreement:.1f}% agree"
    if kept.flips is not None:
        flips = kept.flips
        shown += (
            f", {flips.correct_to_wrong} right to wrong, {flips.wrong_to_correct} wrong to right"
        )
    if kept.agreement is not None or kept.flips is not None:
        shown += counted_note(kept.agreement_unit)
    if kept.unpaired_reason:
        shown += f" (unpaired: {kept.unpaired_reason})"
    return shown
