"""One task of ``bench run``, in named steps: prepare the model for the task's family,
fine-tune it (protocol ``finetune``), evaluate it, and record what happened, with the main
score's bootstrap interval (benchmark.bootstrap) while the predictions are in memory.

The protocol is ``evaluate`` for a checkpoint that already has the task's head and
``finetune`` for a base checkpoint (``--protocol auto``), and the fine-tuning recipe is the
task spec's with the run's overrides, recorded in the task's result.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass
from typing import Any

import torch

from benchmark.bootstrap import interval_record, unit_scores_for
from benchmark.config import RunConfig
from benchmark.distributed import current
from benchmark.families import EvalOutput, Family, TaskContext, family_for
from benchmark.model_setup import InputLimit, has_head, input_limit, model_for_task
from benchmark.models import load_model_config
from benchmark.run_result import Counts, TaskResult
from benchmark.task_data import load_task_split, seeded_subset
from benchmark.tasks import TaskSpec
from benchmark.training import progress_bar, train


@dataclass
class PreparedTask:
    """A model ready for one task: its family's head on the checkpoint, the label map,
    the input limit that applies, and the task's evaluation data."""

    family: Family
    protocol: str
    model: Any
    label_map: dict[int, int]
    mapping_kind: str
    limit: InputLimit
    context: TaskContext
    eval_data: Any
    eval_source: dict
    load_s: float


@dataclass
class Finetuned:
    """What fine-tuning used and took (all empty under the ``evaluate`` protocol)."""

    recipe: dict | None = None
    n_train: dict | None = None
    counts: dict | None = None
    seconds: float = 0.0


def run_task(
    spec: TaskSpec, config: RunConfig, model_path: str, tokenizers, data_dir, device, console
) -> tuple[TaskResult, list[dict], dict]:
    """Evaluate one task; returns its result, readable predictions, and the size of the
    model's encoder (parameters, position limit).

    ``tokenizers`` is the model's tokenizer and the one for text split into words."""
    task = prepare(spec, config, model_path, tokenizers, data_dir, device, console)
    tuned = Finetuned()
    if task.protocol == "finetune":
        tuned = finetune(task, config, data_dir, device, console)
    if config.dtype != "float32":
        task.model.to(getattr(torch, config.dtype))
    n_original = task.eval_data.num_rows
    eval_data = seeded_subset(task.eval_data, config.limit, config.seed)
    t0 = time.perf_counter()
    output = evaluate(task, eval_data, config.eval_batch_size, console)
    timings = {"load": task.load_s, "train": tuned.seconds, "evaluate": time.perf_counter() - t0}
    counts = Counts(original=n_original, evaluated=eval_data.num_rows)
    entry = task_result(spec, config, device, task, tuned, output, counts, timings)
    if config.bootstrap:  # the predictions are at hand now, and only now
        scores = unit_scores_for(task.family, spec, output.predictions)
        entry.main_score_ci95, entry.bootstrap = interval_record([scores], config.bootstrap)
    size = {
        "parameters": sum(p.numel() for p in task.model.base_model.parameters()),
        "max_positions": task.limit.position_limit,
    }
    return entry, output.predictions, size


def prepare(
    spec: TaskSpec, config: RunConfig, model_path: str, tokenizers, data_dir, device, console
) -> PreparedTask:
    """The evaluation data, the protocol, and the model with the family's head on it."""
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
    return PreparedTask(
        family,
        protocol,
        model,
        label_map,
        mapping_kind,
        limit,
        context,
        eval_data,
        eval_source,
        time.perf_counter() - started,
    )


def finetune(task: PreparedTask, config: RunConfig, data_dir, device, console) -> Finetuned:
    """Fine-tune with the task's recipe (the run's overrides on it), on the training split
    (``--limit`` rows of it, by the run's seed)."""
    spec = task.context.spec
    given = {"epochs": config.epochs, "batch_size": config.batch_size}
    given["learning_rate"] = config.learning_rate
    recipe = spec.recipe.model_dump() | {k: v for k, v in given.items() if v is not None}
    recipe |= {"max_length": task.limit.max_length, "seed": config.seed}
    train_data, recipe["data"] = load_task_split(spec, spec.train_split, data_dir)
    n_train = {"original": train_data.num_rows}
    train_data = seeded_subset(train_data, config.limit, config.seed)
    n_train["used"] = train_data.num_rows
    rows, counts = task.family.training_features(task.context, train_data)
    console.print(f"  fine-tuning on {len(rows)} inputs ({recipe['epochs']:g} epochs)")
    t0 = time.perf_counter()
    collator = task.family.collator(task.context.tokenizer)
    steps = train(task.model, rows, collator, recipe, config.seed, config.dtype, device, console)
    seconds = time.perf_counter() - t0
    if current().size > 1:
        recipe["processes"] = current().size
    return Finetuned(recipe, n_train, {**counts, "optimizer_steps": steps}, seconds)


def evaluate(task: PreparedTask, eval_data, batch_size: int, console) -> EvalOutput:
    """The family's evaluation of the model, with a progress bar."""
    with progress_bar(console) as progress:
        bar = progress.add_task("evaluating", total=None)
        return task.family.evaluate(
            task.context,
            eval_data,
            task.model,
            task.label_map,
            batch_size,
            on_batch=lambda n: progress.advance(bar, n),
        )


def task_result(
    spec: TaskSpec,
    config: RunConfig,
    device,
    task: PreparedTask,
    tuned: Finetuned,
    output: EvalOutput,
    counts: Counts,
    timings: dict[str, float],
) -> TaskResult:
    """The task's record in the result file."""
    return TaskResult(
        task_version=spec.version,
        spec_hash=spec.content_hash(),
        task_key=config.task_key(spec.content_hash(), device.type),
        family=spec.family,
        protocol=task.protocol,
        split=spec.eval_split,
        main_score_name=spec.main_score,
        main_score=output.metrics[spec.main_score],
        metrics=output.metrics,
        n_examples=counts,
        n_train_examples=tuned.n_train,
        inputs={**task.limit.record(), **output.counts},
        training_inputs=tuned.counts or None,
        recipe=tuned.recipe,
        label_mapping={
            "kind": task.mapping_kind,
            "model_to_task": {str(k): v for k, v in task.label_map.items()},
        },
        data=task.eval_source,
        label_counts=output.label_counts,
        buckets=output.buckets,
        timings_s={name: round(seconds, 3) for name, seconds in timings.items()},
    )
