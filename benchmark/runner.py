"""`bench run`: evaluate one model on a list of tasks and keep one result file current.

:func:`run` is a few named steps: plan the run (the model, the tasks, the device, the
output and what it already holds), run each task (benchmark.task_run) and replace the
result file atomically after each, attach the speed block, attach retention against the
teacher, and write. Tasks already in the file are reused by benchmark.reuse's rule, so an
interrupted run resumes where it stopped, and adding a teacher, changing the speed settings
or saving predictions re-runs nothing. With ``--seeds`` each task runs once per seed and is
written, as the mean and spread over its seeds, when the last seed finishes
(benchmark.seeds). Under `torchrun` or `accelerate launch` fine-tuning runs as DDP and
evaluation is shared out (benchmark.distributed); the main process alone writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from benchmark.config import BUNDLED, RunConfig
from benchmark.cost import speed_block
from benchmark.defaults import default_model_path
from benchmark.distributed import World, current, setup
from benchmark.errors import BenchError
from benchmark.model_setup import check_model_path, pick_device
from benchmark.models import load_model_config, load_tokenizer, word_tokenizer
from benchmark.paired import Pairing, remember
from benchmark.precision import resolve_dtype
from benchmark.provenance import BUNDLED_MODEL, model_identity, now, provenance
from benchmark.results import (
    default_result_path,
    legacy_result_path,
    predictions_dir,
    write_atomic,
    write_jsonl_atomic,
)
from benchmark.retention import ratio_record, retention, with_time_ratios
from benchmark.reuse import reusable_tasks
from benchmark.run_result import ModelInfo, Provenance, RunResult, SpeedBlock, read_result
from benchmark.seeds import aggregate_seeds
from benchmark.task_data import bundled_tasks
from benchmark.task_run import run_task
from benchmark.tasks import TaskSpec, resolve_tasks
from benchmark.tracking import for_task, log_summary, reporting, require


@dataclass
class RunPlan:
    """What a run works on, decided before any task runs."""

    config: RunConfig
    model_path: str
    model_name: str
    specs: list[TaskSpec]
    data_dir: Any
    world: World
    device: Any  # torch.device
    output: Path
    previous: RunResult | None
    identity: dict
    resumed_from: Path | None = None  # an older default path the previous result came from


def run(config: RunConfig, console: Console | None = None) -> Path:
    """Run every selected task, resuming from ``config.output`` when it already holds some."""
    console = console or Console()
    require(config.report_to)  # a tracker that cannot report fails before any work
    plan = plan_run(config)
    if not plan.world.is_main:
        console = Console(quiet=True)  # one process speaks
    if plan.resumed_from is not None:
        console.print(
            f"[dim]resuming from {plan.resumed_from} (the earlier default path); "
            f"results now go to {plan.output}[/]"
        )
    result = start_result(plan)
    run_tasks(plan, result, console)
    attach_speed(plan, result, console)
    attach_retention(plan, result, console)
    result.provenance.finished_at = now()
    if plan.world.is_main:
        write_atomic(plan.output, result.to_json())
        log_summary(result, config.report_to, plan.output, console)
    plan.world.wait()  # the others may read the file next (a teacher's result): it is written
    return plan.output


def plan_run(config: RunConfig) -> RunPlan:
    """The model (a missing one fails here), the tasks, this process's device, and the
    result file with what it already holds."""
    model_path = config.model or str(default_model_path())
    check_model_path(model_path)
    data_dir = config.tasks_data_dir
    default_tasks = ",".join(bundled_tasks()) if data_dir == BUNDLED else "all"
    specs = resolve_tasks(config.tasks or default_tasks)
    world = setup(config.device)  # under torchrun / accelerate launch: this process's place
    device = world.device if world.size > 1 else pick_device(config.device)
    if config.dtype == "auto":  # decided once, here, by the main process for every process
        dtype = world.broadcast(resolve_dtype("auto", device))
        config = config.model_copy(update={"dtype": dtype})
    load_model_config(model_path, config.trust_remote_code)  # a missing model fails here
    model = BUNDLED_MODEL if config.model is None else config.model
    model_name = config.name or model
    identity = model_identity(model_path)
    output = Path(config.output or default_result_path(model, identity, config.name))
    if config.teacher_output and Path(config.teacher_output).resolve() == output.resolve():
        raise BenchError(
            f"--teacher-output {config.teacher_output} is the student's result file too: "
            "name another file for the teacher (or an --output for the student)"
        )
    if config.teacher:  # a teacher that is not there fails now, not after the student's run
        _check_teacher(config, world)
    previous, resumed_from = read_result(output), None
    if previous is None and config.output is None:
        previous, resumed_from = _legacy_previous(model_name, identity)
    return RunPlan(
        config,
        model_path,
        model_name,
        specs,
        data_dir,
        world,
        device,
        output,
        previous,
        identity,
        resumed_from,
    )


def _legacy_previous(model_name: str, identity: dict) -> tuple[RunResult | None, Path | None]:
    """A result at the default path of earlier versions (``results/<name>.json``) whose model
    has these same weights: the run resumes from it and writes to the new path, leaving the
    old file as it was."""
    old = legacy_result_path(model_name)
    found = read_result(old) if old.is_file() else None
    if found is None or not found.model.same_weights(identity):
        return None, None
    return found, old


def start_result(plan: RunPlan) -> RunResult:
    """The result so far: the previous file's tasks this run would score the same, and its
    provenance when any are kept (a file whose tasks all changed starts anew)."""
    config, previous = plan.config, plan.previous
    # decided by the main process for all: every process must run the same tasks
    kept = plan.world.broadcast(
        reusable_tasks(
            previous,
            config,
            plan.identity,
            plan.device.type,
            plan.data_dir,
            plan.resumed_from or plan.output,
        )
    )
    result = RunResult(
        config=config.model_dump(),
        model=ModelInfo(name=plan.model_name, **plan.identity, dtype=config.dtype),
        provenance=previous.provenance
        if kept and previous
        else Provenance(**provenance(plan.model_path, plan.device, config.seed), started_at=now()),
        tasks=kept,
    )
    result.provenance.distributed = plan.world.record or None
    if kept and previous:
        result.model.parameters = previous.model.parameters
        result.model.max_positions = previous.model.max_positions
    return result


def run_tasks(plan: RunPlan, result: RunResult, console: Console) -> None:
    """Every task not kept, at each seed; the file is replaced after each task."""
    config, output = plan.config, plan.output
    tokenizer = load_tokenizer(plan.model_path, config.trust_remote_code)
    tokenizers = (tokenizer, word_tokenizer(tokenizer, plan.model_path, config.trust_remote_code))
    kept = dict(result.tasks)
    for spec in plan.specs:
        if spec.name in kept:
            _say_kept(spec, kept, config, output, console)
            continue
        console.print(f"[bold]{spec.name}[/] ({spec.family.replace('_', ' ')})")
        # each seed's result, its predictions reduced, and those read at 512 tokens
        runs, units, truncated = {}, {}, {}
        for seed in config.seeds or [config.seed]:
            seed_config = config.model_copy(update={"seeds": None, "seed": seed})
            if config.seeds:
                console.print(f"  [dim]seed {seed}[/]")
            tracked = for_task(
                config.report_to, output, plan.model_name, spec.name, seed, bool(config.seeds)
            )
            with reporting(tracked):
                entry, predictions, size, truncated[seed] = run_task(
                    spec,
                    seed_config,
                    plan.model_path,
                    tokenizers,
                    plan.data_dir,
                    plan.device,
                    console,
                )
            if config.save_predictions and plan.world.is_main:
                stem = f"{spec.name}.seed{seed}" if config.seeds else spec.name
                path = predictions_dir(output) / f"{stem}.jsonl"
                entry.predictions_sha256 = write_jsonl_atomic(path, predictions)
                entry.predictions_file = str(path)
            runs[seed] = entry
            units[seed] = remember(output, spec, seed if config.seeds else None, predictions)
        if config.seeds:
            key = config.task_key(spec.content_hash(), plan.device.type)
            entry = aggregate_seeds(runs, key, units, config.bootstrap, truncated)
        result.model.parameters = size["parameters"]
        result.model.max_positions = size["max_positions"]
        result.tasks[spec.name] = entry
        result.provenance.finished_at = now()
        if plan.world.is_main:
            write_atomic(output, result.to_json())
        spread = f" ± {entry.main_score_std:.2f}" if entry.main_score_std is not None else ""
        console.print(f"  {spec.main_score} = {entry.main_score:.2f}{spread}")
    selected = [s.name for s in plan.specs]
    result.tasks = {n: result.tasks[n] for n in selected} | {
        n: e for n, e in result.tasks.items() if n not in selected
    }


def _say_kept(spec: TaskSpec, kept: dict, config: RunConfig, output: Path, console) -> None:
    console.print(f"[dim]{spec.name}: already in {output} with these settings, kept[/]")
    saved = kept[spec.name].predictions_file or any(
        run.predictions_file for run in (kept[spec.name].seed_runs or {}).values()
    )
    if config.save_predictions and not saved:
        console.print(
            "[dim]  (its predictions were not saved then; use a new --output to write them)[/]"
        )


def attach_speed(plan: RunPlan, result: RunResult, console: Console) -> None:
    """The speed block: measured once, by the main process, or kept from the previous
    file where it was measured on these weights."""
    earlier = plan.previous.speed if plan.previous else None
    if plan.config.speed and plan.world.is_main:
        block = speed_block(
            plan.config, plan.model_path, plan.device, earlier and earlier.model_dump(), console
        )
        result.speed = SpeedBlock.model_validate(block)
        write_atomic(plan.output, result.to_json())
    elif earlier is not None and earlier.settings.get("model") == plan.identity:
        result.speed = earlier  # measured before for these weights: still true


def attach_retention(plan: RunPlan, result: RunResult, console: Console) -> None:
    """With a teacher: each task's retained percent, and the student/teacher time ratio
    measured side by side where both can be run."""
    config = plan.config
    if not config.teacher:
        return
    teacher, teacher_path = _teacher_result(config, console)
    pairing = Pairing(plan.output, teacher_path, config.bootstrap)
    result.retention = retention(result, teacher, str(plan.output), config.teacher, pairing)
    if plan.world.is_main and _pairs_timeable(config, result, teacher):
        ratios = _time_ratios(config, plan.model_path, plan.device, plan.previous, console)
        result.retention.cost = with_time_ratios(result.retention.cost, ratios)


def _pairs_timeable(config: RunConfig, student: RunResult, teacher: RunResult) -> bool:
    """Whether to time student and teacher side by side: asked for, the teacher given as a
    model (a result file alone cannot be run), and both measured at a shared shape."""
    return bool(
        config.time_ratio
        and config.speed
        and not config.teacher.endswith(".json")
        and student.retention
        and student.retention.cost
    )


def _time_ratios(config: RunConfig, model_path: str, device, previous, console) -> list[dict]:
    """The interleaved student/teacher time ratio at every speed length, reusing those a
    previous run measured for the same two models with the same settings."""
    from benchmark.profiler import ProfileRequest
    from benchmark.time_ratio import describe_ratio, ratios_at_lengths

    earlier = {}
    if previous is not None and previous.retention is not None:
        earlier = {c.seq_len: c for c in previous.retention.cost if c.time_method == "interleaved"}
    same_models = (
        previous is not None
        and previous.config.get("dtype") == config.dtype
        and previous.model.same_weights(model_identity(model_path))
        and previous.retention is not None
        and ModelInfo(**previous.retention.teacher["model"]).same_weights(
            model_identity(config.teacher)
        )
    )

    def kept(seq_len: int) -> dict | None:
        change = earlier.get(seq_len) if same_models else None
        if change and change.batch_size == config.speed_batch_size and change.device == device.type:
            return ratio_record(change)
        return None

    def say(record: dict, reused: bool) -> None:
        if reused:
            console.print(
                f"[dim]  {record['seq_len']}: measured before for these two models, kept[/]"
            )
        else:
            console.print("  " + describe_ratio(record))

    console.print("[bold]time ratio[/] student/teacher, both in one process, in turns")
    request = ProfileRequest(
        model_path,
        0,
        config.speed_batch_size,
        device.type,
        config.dtype,
        min_repeats=config.speed_min_repeats,
        min_seconds=config.speed_min_seconds,
        trust_remote_code=config.trust_remote_code,
    )
    return ratios_at_lengths(
        request, config.teacher, config.speed_seq_len, earlier=kept, on_ratio=say
    )


def _check_teacher(config: RunConfig, world: World) -> None:
    """The teacher as given: a result file that reads, or a model whose configuration
    loads (its weights and result come after the student's run)."""
    teacher = config.teacher
    if teacher.endswith(".json"):
        if world.is_main and read_result(Path(teacher), _TEACHER_FIX) is None:
            raise BenchError(f"teacher result file {teacher} does not exist: {_TEACHER_FIX}")
        return
    check_model_path(teacher)
    load_model_config(teacher, config.trust_remote_code)


_TEACHER_FIX = "give --teacher a result file that `bench run` wrote, or the teacher's model"


def _teacher_result(config: RunConfig, console) -> tuple[RunResult, Path]:
    """The teacher's result and its file (where its predictions are looked for): a result
    file as given, or the teacher model run (or reused from its result file) with exactly
    the student's configuration."""
    teacher, world = config.teacher, current()
    if teacher.endswith(".json"):
        # read by the main process, for all (another node may not have the file)
        loaded = world.broadcast(
            read_result(Path(teacher), _TEACHER_FIX) if world.is_main else None
        )
        if loaded is None:
            raise BenchError(f"teacher result file {teacher} does not exist: {_TEACHER_FIX}")
        return loaded, Path(teacher)
    console.rule(f"teacher: {teacher}")
    teacher_config = config.model_copy(
        update={
            "model": teacher,
            "name": None,
            "teacher": None,
            "teacher_output": None,
            "output": config.teacher_output,
        }
    )
    written = run(teacher_config, console)  # every process takes part
    return world.broadcast(read_result(written) if world.is_main else None), written
