"""One task of ``bench run``, in named steps: prepare the model for the task's family,
fine-tune it (protocol ``finetune``), evaluate it, and record what happened, with the main
score's bootstrap interval (benchmark.bootstrap), each length bucket's, and with
``--long-context-gain`` the same model read again at 512 tokens (benchmark.long_context),
while the predictions are in memory.

The protocol is ``evaluate`` for a checkpoint that already has the task's head and
``finetune`` for a base checkpoint (``--protocol auto``), and the fine-tuning recipe is the
task spec's with the run's overrides, recorded in the task's result.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass, replace
from typing import Any

import torch

from benchmark.batching import collator_for, padding_multiple
from benchmark.bootstrap import UnitScores, interval_record, unit_scores_for
from benchmark.buckets import with_intervals
from benchmark.config import RunConfig
from benchmark.distributed import current
from benchmark.families import EvalOutput, Family, TaskContext, family_for
from benchmark.feature_cache import training_features as cached_features
from benchmark.long_context import gain_record, short_context, undefined
from benchmark.model_setup import InputLimit, has_head, input_limit, model_for_task
from benchmark.models import load_model_config
from benchmark.precision import resolve_dtype
from benchmark.run_records import SHORT_CONTEXT, LongContextGain
from benchmark.run_result import Counts, TaskResult
from benchmark.task_data import load_task_split, seeded_subset
from benchmark.tasks import TaskSpec
from benchmark.training import Execution, progress_bar, train


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
    seconds: float = 0.0  # the training steps, without compiling
    compile_s: float | None = None  # torch.compile's own time (``--compile``)


def run_task(
    spec: TaskSpec, config: RunConfig, model_path: str, tokenizers, data_dir, device, console
) -> tuple[TaskResult, list[dict], dict, UnitScores | None]:
    """Evaluate one task; returns its result, readable predictions, the size of the
    model's encoder (parameters, position limit) and, with ``--long-context-gain``, the
    predictions read at 512 tokens, reduced (None otherwise).

    ``tokenizers`` is the model's tokenizer and the one for text split into words."""
    task = prepare(spec, config, model_path, tokenizers, data_dir, device, console)
    tuned = Finetuned()
    if task.protocol == "finetune":
        tuned = finetune(task, config, data_dir, device, console)
    dtype = resolve_dtype(config.dtype, device)
    if dtype != "float32":
        task.model.to(getattr(torch, dtype))
    n_original = task.eval_data.num_rows
    eval_data = seeded_subset(task.eval_data, config.limit, config.seed)
    t0 = time.perf_counter()
    output = evaluate(task, eval_data, config.eval_batch_size, console)
    timings = {"load": task.load_s, "train": tuned.seconds, "evaluate": time.perf_counter() - t0}
    if tuned.compile_s is not None:
        timings["compile"] = tuned.compile_s
    counts = Counts(original=n_original, evaluated=eval_data.num_rows)
    entry = task_result(spec, config, device, task, tuned, output, counts, timings)
    truncated = None
    if config.long_context_gain and spec.length_buckets:
        found = long_context(task, eval_data, config, output, entry, console)
        entry.long_context, truncated = found
    if config.bootstrap:  # the predictions are at hand now, and only now
        scores = unit_scores_for(task.family, spec, output.predictions)
        entry.main_score_ci95, entry.bootstrap = interval_record([scores], config.bootstrap)
        entry.buckets = with_intervals(entry.buckets, [scores], config.bootstrap)
    size = {
        "parameters": sum(p.numel() for p in task.model.base_model.parameters()),
        "max_positions": task.limit.position_limit,
    }
    return entry, output.predictions, size, truncated


def long_context(
    task: PreparedTask,
    eval_data,
    config: RunConfig,
    output: EvalOutput,
    entry: TaskResult,
    console,
) -> tuple[LongContextGain, UnitScores | None]:
    """The fine-tuned model scored again on the same rows reading at most 512 tokens at a
    time (benchmark.long_context): the gain's record, and that reading's predictions
    reduced (a mean over seeds draws them again)."""
    short = short_context(task.context)
    if short is None:
        return undefined(entry.main_score, task.limit.max_length), None
    console.print(f"  reading again at {SHORT_CONTEXT} tokens (long-context gain)")
    t0 = time.perf_counter()
    again = evaluate(replace(task, context=short), eval_data, config.eval_batch_size, console)
    entry.timings_s["evaluate_512"] = round(time.perf_counter() - t0, 3)
    spec = task.context.spec
    truncated = unit_scores_for(task.family, spec, again.predictions)
    full = unit_scores_for(task.family, spec, output.predictions)  # last: asked for again
    labels = list(entry.buckets or {})
    record = gain_record([full], [truncated], task.limit.max_length, config.bootstrap, labels)
    interval = record.gain_ci95
    console.print(
        f"  long-context gain: {record.gain:+.2f}"
        + (f" [{interval[0]:+.2f}, {interval[1]:+.2f}]" if interval else "")
        + f" ({record.full:.2f} at {record.max_length_full} tokens, "
        f"{record.truncated_512:.2f} at {SHORT_CONTEXT})",
        highlight=False,
    )
    return record, truncated


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
    (``--limit`` rows of it, by the run's seed), tokenised once per tokenizer and length
    (benchmark.feature_cache), in length-grouped batches (benchmark.batching)."""
    spec = task.context.spec
    given = {"epochs": config.epochs, "learning_rate": config.learning_rate}
    if config.batch_size != "auto":  # auto keeps the task's batch, split to fit
        given["batch_size"] = config.batch_size
    recipe = spec.recipe.model_dump() | {k: v for k, v in given.items() if v is not None}
    recipe |= {"max_length": task.limit.max_length, "seed": config.seed}
    train_data, recipe["data"] = load_task_split(spec, spec.train_split, data_dir)
    n_train = {"original": train_data.num_rows}
    train_data = seeded_subset(train_data, config.limit, config.seed)
    n_train["used"] = train_data.num_rows
    features = cached_features(task.family, task.context, train_data, recipe["data"])
    rows = features.rows
    read = "; inputs read from the tokenisation cache" if features.source == "cache" else ""
    console.print(f"  fine-tuning on {len(rows)} inputs ({recipe['epochs']:g} epochs{read})")
    t0 = time.perf_counter()
    multiple = padding_multiple(task.model.config, device.type)
    execution = Execution(
        dtype=resolve_dtype(config.dtype, device),
        length_grouping=config.length_grouping,
        batch_auto=config.batch_size == "auto",
        compile=config.compile,
        pad_multiple=multiple,
    )
    collator = collator_for(task.family, task.context.tokenizer, multiple)
    trained = train(task.model, rows, collator, recipe, config.seed, execution, device, console)
    seconds = time.perf_counter() - t0 - (trained.compile_s or 0.0)
    padding = trained.record.pop("padding")
    recipe |= trained.record
    if current().size > 1:
        recipe["processes"] = current().size
    counts = {**features.counts, "optimizer_steps": trained.steps}
    counts["padding"] = padding
    return Finetuned(recipe, n_train, counts, seconds, trained.compile_s)


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
