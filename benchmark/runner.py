"""`bench run`: evaluate one model on a list of tasks and keep one result file current.

For each task: load the data, pick the protocol (fine-tune a base checkpoint, or evaluate a
checkpoint that already has the task's head), evaluate with the task's family, and replace
the result file atomically. Tasks already in the file with the same score settings, task
spec and data are reused, so an interrupted run resumes where it stopped, and adding a
teacher, changing the speed settings or saving predictions re-runs nothing. With ``--seeds``
each task runs once per seed and is written, as the mean and spread over its seeds, when the
last seed finishes (benchmark.seeds). Under `torchrun` or `accelerate launch` fine-tuning runs
as DDP and evaluation is shared out (benchmark.distributed); the main process alone writes.
"""

from __future__ import annotations

import inspect
import re
import time
from pathlib import Path

import torch
from rich.console import Console

from benchmark.config import BUNDLED, RunConfig
from benchmark.cost import speed_block
from benchmark.defaults import default_model_path
from benchmark.distributed import current, setup
from benchmark.errors import BenchError
from benchmark.families import TaskContext, family_for
from benchmark.model_setup import (
    check_model_path,
    has_head,
    input_limit,
    model_for_task,
    pick_device,
)
from benchmark.models import load_model_config, load_tokenizer, word_tokenizer
from benchmark.provenance import model_identity, now, provenance
from benchmark.results import write_atomic, write_jsonl_atomic
from benchmark.retention import ratio_record, retention, with_time_ratios
from benchmark.run_result import (
    Counts,
    ModelInfo,
    Provenance,
    RunResult,
    SpeedBlock,
    TaskResult,
    read_result,
)
from benchmark.seeds import aggregate_seeds
from benchmark.task_data import bundled_tasks, data_identity, load_task_split, seeded_subset
from benchmark.tasks import TASKS, TaskSpec, resolve_tasks
from benchmark.training import progress_bar, train
from gonerd.errors import GonerdError


def run_task(
    spec: TaskSpec, config: RunConfig, model_path: str, tokenizers, data_dir, device, console
) -> tuple[TaskResult, list[dict], dict]:
    """Evaluate one task; returns its result, readable predictions, and the size of the
    model's encoder (parameters, position limit).

    ``tokenizers`` is the model's tokenizer and the one for text split into words."""
    tokenizer, words_tokenizer = tokenizers
    family = family_for(spec.family)
    started = time.perf_counter()
    eval_data, eval_source = load_task_split(spec, spec.eval_split, data_dir)
    label_names = family.label_names(spec, eval_data)
    protocol = config.protocol
    if protocol == "auto":
        checkpoint = load_model_config(model_path, config.trust_remote_code)
        protocol = "evaluate" if has_head(checkpoint, family) else "finetune"
    model, label_map, mapping_kind = model_for_task(
        family, protocol, model_path, spec.name, label_names, config
    )
    model.to(device)
    limit = input_limit(model.config, tokenizer, spec.max_length, config.max_length)
    if limit.warning:
        console.print(f"  [yellow]note:[/] {limit.warning}")
    context = TaskContext(
        spec,
        tokenizer,
        limit.max_length,
        label_names,
        frozenset(inspect.signature(model.forward).parameters),
        words_tokenizer,
    )
    load_s = time.perf_counter() - started
    recipe, n_train, train_counts, train_s = None, None, {}, 0.0
    if protocol == "finetune":
        given = {"epochs": config.epochs, "batch_size": config.batch_size}
        given["learning_rate"] = config.learning_rate
        recipe = spec.recipe.model_dump() | {k: v for k, v in given.items() if v is not None}
        recipe |= {"max_length": limit.max_length, "seed": config.seed}
        train_data, recipe["data"] = load_task_split(spec, spec.train_split, data_dir)
        n_train = {"original": train_data.num_rows}
        train_data = seeded_subset(train_data, config.limit, config.seed)
        n_train["used"] = train_data.num_rows
        rows, train_counts = family.training_features(context, train_data)
        console.print(f"  fine-tuning on {len(rows)} inputs ({recipe['epochs']:g} epochs)")
        t0 = time.perf_counter()
        collator = family.collator(tokenizer)
        steps = train(model, rows, collator, recipe, config.seed, config.dtype, device, console)
        train_s = time.perf_counter() - t0
        train_counts = {**train_counts, "optimizer_steps": steps}
        if current().size > 1:
            recipe["processes"] = current().size

    if config.dtype != "float32":
        model.to(getattr(torch, config.dtype))
    n_original = eval_data.num_rows
    eval_data = seeded_subset(eval_data, config.limit, config.seed)
    t0 = time.perf_counter()
    with progress_bar(console) as progress:
        bar = progress.add_task("evaluating", total=None)
        output = family.evaluate(
            context,
            eval_data,
            model,
            label_map,
            config.eval_batch_size,
            on_batch=lambda n: progress.advance(bar, n),
        )
    evaluate_s = time.perf_counter() - t0
    entry = TaskResult(
        task_version=spec.version,
        spec_hash=spec.content_hash(),
        task_key=config.task_key(spec.content_hash(), device.type),
        family=spec.family,
        protocol=protocol,
        split=spec.eval_split,
        main_score_name=spec.main_score,
        main_score=output.metrics[spec.main_score],
        metrics=output.metrics,
        n_examples=Counts(original=n_original, evaluated=eval_data.num_rows),
        n_train_examples=n_train,
        inputs={**limit.record(), **output.counts},
        training_inputs=train_counts or None,
        recipe=recipe,
        label_mapping={
            "kind": mapping_kind,
            "model_to_task": {str(k): v for k, v in label_map.items()},
        },
        data=eval_source,
        label_counts=output.label_counts,
        buckets=output.buckets,
        timings_s={
            "load": round(load_s, 3),
            "train": round(train_s, 3),
            "evaluate": round(evaluate_s, 3),
        },
    )
    size = {
        "parameters": sum(p.numel() for p in model.base_model.parameters()),
        "max_positions": limit.position_limit,
    }
    return entry, output.predictions, size


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text.strip("/")).strip("-")[-80:] or "model"


def _predictions_path(output: Path, task: str) -> Path:
    return output.with_name(output.stem + ".predictions") / f"{task}.jsonl"


def run(config: RunConfig, console: Console | None = None) -> Path:
    """Run every selected task, resuming from ``config.output`` when it already holds some."""
    console = console or Console()
    model_path = config.model or str(default_model_path())
    check_model_path(model_path)
    data_dir = config.tasks_data_dir
    default_tasks = ",".join(bundled_tasks()) if data_dir == BUNDLED else "all"
    specs = resolve_tasks(config.tasks or default_tasks)
    world = setup(config.device)  # under torchrun / accelerate launch: this process's place
    device = world.device if world.size > 1 else pick_device(config.device)
    if not world.is_main:
        console = Console(quiet=True)  # one process speaks
    load_model_config(model_path, config.trust_remote_code)  # a missing model fails here
    model_name = config.name or (
        "bundled all-MiniLM-L6-v2" if config.model is None else config.model
    )
    output = Path(config.output or f"results/{_slug(model_name)}.json")
    if config.teacher_output and Path(config.teacher_output).resolve() == output.resolve():
        raise BenchError(
            f"--teacher-output {config.teacher_output} is the student's result file too: "
            "name another file for the teacher (or an --output for the student)"
        )
    previous = read_result(output)
    identity = model_identity(model_path)
    # decided by the main process for all: every process must run the same tasks
    kept = world.broadcast(reusable_tasks(previous, config, identity, device, data_dir))
    result = RunResult(
        config=config.model_dump(),
        model=ModelInfo(name=model_name, **identity, dtype=config.dtype),
        # A resumed run keeps its first start time; a file whose tasks all changed starts anew.
        provenance=previous.provenance
        if kept and previous
        else Provenance(**provenance(model_path, device, config.seed), started_at=now()),
        tasks=kept,
    )
    result.provenance.distributed = world.record or None
    if kept and previous:
        result.model.parameters = previous.model.parameters
        result.model.max_positions = previous.model.max_positions
    tokenizer = load_tokenizer(model_path, config.trust_remote_code)
    tokenizers = (tokenizer, word_tokenizer(tokenizer, model_path, config.trust_remote_code))
    for spec in specs:
        if spec.name in kept:
            console.print(f"[dim]{spec.name}: already in {output} with these settings, kept[/]")
            saved = kept[spec.name].predictions_file or any(
                run.predictions_file for run in (kept[spec.name].seed_runs or {}).values()
            )
            if config.save_predictions and not saved:
                console.print(
                    "[dim]  (its predictions were not saved then; use a new --output to "
                    "write them)[/]"
                )
            continue
        console.print(f"[bold]{spec.name}[/] ({spec.family.replace('_', ' ')})")
        runs = {}
        for seed in config.seeds or [config.seed]:
            seed_config = config.model_copy(update={"seeds": None, "seed": seed})
            if config.seeds:
                console.print(f"  [dim]seed {seed}[/]")
            entry, predictions, size = run_task(
                spec, seed_config, model_path, tokenizers, data_dir, device, console
            )
            if config.save_predictions and world.is_main:
                stem = f"{spec.name}.seed{seed}" if config.seeds else spec.name
                path = _predictions_path(output, stem)
                entry.predictions_sha256 = write_jsonl_atomic(path, predictions)
                entry.predictions_file = str(path)
            runs[seed] = entry
        if config.seeds:
            entry = aggregate_seeds(runs, config.task_key(spec.content_hash(), device.type))
        result.model.parameters = size["parameters"]
        result.model.max_positions = size["max_positions"]
        result.tasks[spec.name] = entry
        result.provenance.finished_at = now()
        if world.is_main:
            write_atomic(output, result.to_json())
        spread = f" ± {entry.main_score_std:.2f}" if entry.main_score_std is not None else ""
        console.print(f"  {spec.main_score} = {entry.main_score:.2f}{spread}")
    selected = [s.name for s in specs]
    result.tasks = {n: result.tasks[n] for n in selected} | {
        n: e for n, e in result.tasks.items() if n not in selected
    }
    earlier_speed = previous.speed if previous else None
    if config.speed and world.is_main:  # measured once, by the main process
        block = speed_block(
            config, model_path, device, earlier_speed and earlier_speed.model_dump(), console
        )
        result.speed = SpeedBlock.model_validate(block)
        write_atomic(output, result.to_json())
    elif earlier_speed is not None and earlier_speed.settings.get("model") == identity:
        result.speed = earlier_speed  # measured before for these weights: still true
    if config.teacher:
        teacher = _teacher_result(config, console)
        result.retention = retention(result, teacher, str(output), config.teacher)
        if world.is_main and _pairs_timeable(config, result, teacher):
            ratios = _time_ratios(config, model_path, device, previous, console)
            result.retention.cost = with_time_ratios(result.retention.cost, ratios)
    result.provenance.finished_at = now()
    if world.is_main:
        write_atomic(output, result.to_json())
    world.wait()  # the others may read the file next (a teacher's result): it is written
    return output


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
        trust_remote_code=config.trust_remote_code,
    )
    return ratios_at_lengths(
        request, config.teacher, config.speed_seq_len, earlier=kept, on_ratio=say
    )


def reusable_tasks(
    previous: RunResult | None, config: RunConfig, identity: dict, device, data_dir
) -> dict[str, TaskResult]:
    """The finished tasks of ``previous`` that this run would score the same: the same
    weights, the same score settings (the device as resolved, not as asked for), the same
    task spec, and the same data, checked against the files as they are now."""
    if previous is None or not previous.model.same_weights(identity):
        return {}
    kept = {}
    for name, entry in previous.tasks.items():
        spec = TASKS.get(name)
        if spec is None or entry.task_key != config.task_key(spec.content_hash(), device.type):
            continue
        try:
            same_data = entry.data == data_identity(spec, spec.eval_split, data_dir)
            recipe = entry.recipe or {}
            if same_data and "data" in recipe:
                same_data = recipe["data"] == data_identity(spec, spec.train_split, data_dir)
        except (BenchError, GonerdError):  # the data is gone: the task runs (and says why)
            same_data = False
        if same_data:
            kept[name] = entry
    return kept


def _teacher_result(config: RunConfig, console) -> RunResult:
    """The teacher's result: a result file as given, or the teacher model run (or reused
    from its result file) with exactly the student's configuration."""
    teacher, world = config.teacher, current()
    if teacher.endswith(".json"):
        # read by the main process, for all (another node may not have the file)
        loaded = world.broadcast(read_result(Path(teacher)) if world.is_main else None)
        if loaded is None:
            raise BenchError(f"teacher result file {teacher} does not exist")
        return loaded
    console.rule(f"teacher: {teacher}")
    teacher_config = config.model_copy(
        update={
            "model": teacher,
            "name": None,
            "teacher": None,
            "teacher_output": None,
            "output": config.teacher_output or f"results/{_slug(teacher)}.json",
        }
    )
    written = run(teacher_config, console)  # every process takes part
    return world.broadcast(read_result(written) if world.is_main else None)
