"""``bench speed``: inference time and peak memory, alone or as a ratio to a teacher."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from benchmark.cli.output import console
from benchmark.errors import BenchError


def _field(name: str):
    """A run setting's declaration, so `bench speed` shares `bench run`'s defaults and help."""
    from benchmark.config import RunConfig

    return RunConfig.model_fields[name]


def speed_command(
    model: Annotated[
        str | None, typer.Option(help="Hub id or local folder; default: the bundled model.")
    ] = None,
    seq_len: Annotated[str, typer.Option(help="Comma-separated lengths.")] = "512,1024,2048,4096",
    batch_size: Annotated[int, typer.Option(help=_field("speed_batch_size").description)] = _field(
        "speed_batch_size"
    ).default,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = _field("device").default,
    dtype: Annotated[str, typer.Option(help="auto, float32, float16 or bfloat16.")] = _field(
        "dtype"
    ).default,
    min_repeats: Annotated[
        int, typer.Option(help=_field("speed_min_repeats").description)
    ] = _field("speed_min_repeats").default,
    min_seconds: Annotated[
        float, typer.Option(help=_field("speed_min_seconds").description)
    ] = _field("speed_min_seconds").default,
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
    from benchmark.cost import describe_measurement, speed_report
    from benchmark.defaults import default_model_path
    from benchmark.model_setup import check_model_path, pick_device
    from benchmark.profiler import ProfileRequest
    from benchmark.provenance import BUNDLED_MODEL
    from benchmark.results import write_atomic
    from benchmark.time_ratio import describe_ratio, time_ratio_report

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
    name = model or BUNDLED_MODEL
    options = {
        "min_repeats": min_repeats,
        "min_seconds": min_seconds,
        "trust_remote_code": trust_remote_code,
    }
    if teacher is not None:
        check_model_path(teacher)
        request = ProfileRequest(model_path, 0, batch_size, resolved.type, dtype, "time", **options)
        if min_rounds < 2 or max_rounds < min_rounds:
            raise BenchError(
                "--min-rounds/--max-rounds: need min_rounds >= 2 and max_rounds >= min_rounds"
            )
        report = time_ratio_report(
            name,
            request,
            teacher,
            lengths,
            tolerance=tolerance,
            min_rounds=min_rounds,
            max_rounds=max_rounds,
            on_ratio=None if as_json else lambda r, _: console.print(describe_ratio(r)),
        )
    else:
        report = speed_report(
            name,
            model_path,
            lengths,
            batch_size,
            resolved.type,
            dtype,
            on_result=None if as_json else lambda m: console.print(describe_measurement(m)),
            **options,
        )
    if output is not None:
        write_atomic(output, report)
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    elif output is not None:
        console.print(f"report: {output}")
