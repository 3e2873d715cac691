"""Training through transformers' Trainer, for fine-tuning a task head here and for the
recipe's stages (baselines.training_stage): one set of arguments, one progress bar, one
meaning of warm-up.

The console shows one rich progress bar (with the running loss where the run logs it); the
Trainer's own printer (its raw metric dicts) is removed. Warm-up is given to the Trainer as
a whole number of steps, worked out here from a ratio of the run's optimiser steps, so it
means the same in both and on every transformers version (a float ``warmup_steps`` is a
ratio only from 5.x on). A training reports to the tracker :mod:`benchmark.tracking` makes
active (``--report-to``), and to none without one.

Fine-tuning a task head (:func:`train`) batches its inputs by length
(:mod:`benchmark.batching`), may split the recipe's batch into passes that fit the GPU
(:mod:`benchmark.batch_size`), runs under bf16 autocast where the run's dtype is bfloat16
on a GPU, with fused AdamW there, and compiles the model with ``--compile``, timing the
compilation apart from the steps.
"""

from __future__ import annotations

import inspect
import math
import tempfile
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from benchmark import tracking
from benchmark.batch_size import BatchPlan, memory_probe, plan_batch
from benchmark.batching import LengthGroupedSampler, padding_record
from benchmark.distributed import current
from benchmark.errors import BenchError

IGNORED_LABEL = -100  # a token without a target (transformers' convention)


def progress_bar(console: Console) -> Progress:
    """A bar that disappears when done, and is not drawn at all where the console is not
    a terminal (a log file would keep a blank line per bar)."""
    return Progress(
        TextColumn("  {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


def progress_callback(progress: Progress, description: str, collator=None):
    """A Trainer callback that drives a rich bar, one tick per optimisation step (from the
    step a resumed run starts at), shows the running loss when the run logs it, and tells a
    collator that masks afresh each epoch (``collator.epoch``) which epoch it is in."""
    from transformers import TrainerCallback

    class RichSteps(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            self.bar = progress.add_task(description, total=state.max_steps)
            progress.update(self.bar, completed=state.global_step)

        def on_epoch_begin(self, args, state, control, **kwargs):
            if hasattr(collator, "epoch"):
                collator.epoch = int(state.epoch or 0)

        def on_step_end(self, args, state, control, **kwargs):
            progress.update(self.bar, completed=state.global_step)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                progress.update(self.bar, description=f"{description} loss {logs['loss']:.3f}")

    return RichSteps()


def optimizer_steps(
    n_rows: int, batch_size: int, epochs: float, max_steps: int = -1, accumulation: int = 1
) -> int:
    """How many optimiser steps a run takes: ``max_steps`` where given, else the epochs of
    ``n_rows`` in batches of ``batch_size`` (the global batch: all processes together),
    ``accumulation`` batches a step."""
    if max_steps > 0:
        return max_steps
    per_epoch = max(1, math.ceil(math.ceil(n_rows / batch_size) / accumulation))
    return math.ceil(per_epoch * epochs)


def warmup_steps(total_steps: int, ratio: float) -> int:
    """The warm-up ratio as a step count: that share of the run's optimiser steps."""
    return math.ceil(ratio * total_steps)


def training_arguments(
    output_dir: str,
    *,
    learning_rate: float,
    epochs: float,
    per_device_batch_size: int,
    weight_decay: float,
    warmup: int,
    seed: int,
    on_cpu: bool,
    processes: int,
    bf16: bool,
    **extra,
):
    """The Trainer's arguments every training in the suite shares: our own bar instead of
    tqdm, reports to the active tracker only (:func:`benchmark.tracking.active`), the same
    seed for the model and the data order, gloo between CPU processes; ``extra`` holds what
    one kind of run adds (checkpoints, logging, FSDP)."""
    from transformers import TrainingArguments

    report = tracking.active()
    defaults = {"save_strategy": "no", "eval_strategy": "no", "logging_strategy": "no"}
    if report is not None and "logging_strategy" not in extra:
        # a run that logs nothing of its own gives the tracker a curve of about a hundred
        # points from its first step (a float below 1 is a share of the run's steps)
        defaults |= {"logging_strategy": "steps", "logging_steps": 0.01, "logging_first_step": True}
    return TrainingArguments(
        output_dir=output_dir,
        learning_rate=learning_rate,
        num_train_epochs=epochs,
        per_device_train_batch_size=per_device_batch_size,
        weight_decay=weight_decay,
        warmup_steps=warmup,
        seed=seed,
        data_seed=seed,
        report_to=report.to if report else "none",
        run_name=report.run_name if report else None,
        project=tracking.PROJECT,
        use_cpu=on_cpu,
        ddp_backend="gloo" if on_cpu and processes > 1 else None,
        bf16=bf16,
        dataloader_num_workers=0,
        disable_tqdm=True,
        **(defaults | extra),
    )


def run_trainer(trainer_class, console: Console, description: str, *, resume=None, **kwargs):
    """Build ``trainer_class(**kwargs)`` with the suite's progress bar in place of the
    Trainer's printers, train it (from ``resume``, a checkpoint, where given) and return it.

    With an active tracker the training reports where :mod:`benchmark.tracking` says: a
    fresh start replaces its TensorBoard folder's curve, a resumed one continues it."""
    from transformers import PrinterCallback, ProgressCallback

    report = tracking.active()
    with progress_bar(console) as progress, tracking.training_environment(report):
        callback = progress_callback(progress, description, kwargs.get("data_collator"))
        trainer = trainer_class(**kwargs, callbacks=[callback])
        trainer.remove_callback(PrinterCallback)
        trainer.remove_callback(ProgressCallback)
        reports = report is not None and trainer.is_world_process_zero()
        if reports and resume is None:
            tracking.clear_events(report.tensorboard_dir)
        trainer.train(resume_from_checkpoint=str(resume) if resume else None)
        if reports:
            tracking.end_training(report)
    return trainer


class _OnlyModelInputs:
    """Pads with the family's collator, then keeps only what the model's forward takes
    (DistilBERT reads no token types), so one set of features serves every architecture."""

    def __init__(self, collate, model):
        self.collate = collate
        self.accepted = set(inspect.signature(model.forward).parameters)

    def __call__(self, rows):
        batch = self.collate(rows)
        return {k: v for k, v in batch.items() if k in self.accepted}


@dataclass(frozen=True)
class Execution:
    """How fine-tuning batches its inputs and runs on its device: the run's dtype
    (resolved, never ``auto``), whether batches are grouped by length, whether the batch is
    fitted to the GPU's memory, whether the model is compiled, and the multiple batches are
    padded to."""

    dtype: str = "float32"
    length_grouping: bool = True
    batch_auto: bool = False
    compile: bool = False
    pad_multiple: int | None = None


@dataclass
class Trained:
    """What a fine-tuning did: its optimiser steps, how its batch was split, the seconds
    spent compiling (None without ``--compile``) and how it ran (for the task's record)."""

    steps: int
    batch: BatchPlan
    compile_s: float | None = None
    record: dict = field(default_factory=dict)


def task_trainer(sampler=None, tokens_per_pass: float | None = None, accumulation: int = 1):
    """The Trainer class that fine-tunes a task head: drawing its training order from
    ``sampler`` where given (a :class:`benchmark.batching.LengthGroupedSampler`), else in
    the Trainer's own random order.

    With ``tokens_per_pass`` (the labelled tokens a pass holds on average, for a task that
    labels tokens), each pass's loss, its tokens' mean, is scaled by its labelled tokens
    over that average, so that every token weighs the same: in batches grouped by length a
    mean would weigh a token of a short sentence several times one of a long sentence,
    where random batches weigh them alike (on average, to which the scale is 1).

    With passes accumulated into a step, each pass's loss is divided by the passes that
    step accumulates: the task heads' forward takes ``**kwargs`` but averages its loss
    itself, so the Trainer's reading of that signature (a loss already scaled by the step's
    label count) would add the passes' losses up, scaling the gradient with their number."""
    from transformers import Trainer

    class TaskTrainer(Trainer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            if accumulation > 1:
                self.model_accepts_loss_kwargs = False

        def _get_train_sampler(self, *args, **kwargs):
            if sampler is None:
                return super()._get_train_sampler(*args, **kwargs)
            return sampler

        def compute_loss(self, model, inputs, *args, **kwargs):
            labels = inputs.get("labels")
            found = super().compute_loss(model, inputs, *args, **kwargs)
            if not tokens_per_pass or labels is None or labels.dim() < 2:
                return found
            scale = (labels != IGNORED_LABEL).sum() / tokens_per_pass
            return (found[0] * scale, *found[1:]) if isinstance(found, tuple) else found * scale

    return TaskTrainer


def tokens_per_pass(rows: list[dict], physical: int) -> float | None:
    """The labelled tokens a pass of ``physical`` rows holds on average, where rows label
    tokens (a list of labels); None where each row has one label (or one span)."""
    labels = [row.get("labels") for row in rows]
    if not labels or not all(isinstance(label, list) for label in labels):
        return None
    labelled = sum(sum(1 for x in label if x != IGNORED_LABEL) for label in labels)
    return labelled / len(rows) * physical or None


def compile_seconds() -> float | None:
    """Seconds torch.compile has spent compiling in this process so far, by its own
    account (graphs traced and compiled, and backward graphs compiled when first run);
    None where this torch keeps no such account."""
    try:
        from torch._dynamo.utils import compilation_time_metrics
    except ImportError:
        return None
    stages = ("_compile.compile_inner", "backward._backward_impl")
    return sum(sum(compilation_time_metrics.get(stage, [])) for stage in stages)


def _input_length(row: dict) -> int:
    return len(row["input_ids"] if "input_ids" in row else next(iter(row.values())))


def _agreed(plan: BatchPlan) -> BatchPlan:
    """Under a launcher, the smallest physical batch any process found: every process must
    take the same passes per step."""
    world = current()
    if world.size == 1:
        return plan
    found = world.gather({world.rank: plan.physical})
    physical = min(found.values())
    per_process = plan.batch_size // world.size
    return BatchPlan(plan.batch_size, physical, per_process // physical, plan.chosen_by)


def train(
    model,
    rows: list[dict],
    collator,
    recipe: dict,
    seed: int,
    execution: Execution,
    device,
    console,
) -> Trained:
    """Fine-tune ``model`` in place on ``rows`` with the recipe's settings, in
    length-grouped batches (the recipe's batch is one optimiser step's, the same in any
    number of processes and passes)."""
    if not rows:
        raise BenchError("no training inputs could be built from the training split")
    world = current()
    if recipe["batch_size"] % world.size:
        raise BenchError(
            f"the batch size {recipe['batch_size']} does not split over {world.size} processes: "
            f"pass a --batch-size that is a multiple of {world.size}"
        )
    on_gpu = device.type == "cuda"
    bf16 = on_gpu and execution.dtype == "bfloat16"
    collate = _OnlyModelInputs(collator, model)
    auto = execution.batch_auto and on_gpu  # a CPU has no memory to fit: the recipe's batch
    fits = memory_probe(model, rows, collate, device, bf16) if auto else None
    batch = plan_batch(recipe["batch_size"], world.size, auto, fits)
    if auto:
        batch = _agreed(batch)
    steps = optimizer_steps(len(rows), recipe["batch_size"], recipe["epochs"])
    lengths = [_input_length(row) for row in rows]
    sampler, weights = None, None
    if execution.length_grouping:
        sampler = LengthGroupedSampler(lengths, recipe["batch_size"], seed)
        weights = tokens_per_pass(rows, batch.physical)
    extra = {"optim": "adamw_torch_fused"} if on_gpu else {}
    with tempfile.TemporaryDirectory(prefix="bench-train-") as scratch:
        args = training_arguments(
            scratch,
            learning_rate=recipe["learning_rate"],
            epochs=recipe["epochs"],
            per_device_batch_size=batch.physical,
            gradient_accumulation_steps=batch.accumulation,
            weight_decay=recipe["weight_decay"],
            warmup=warmup_steps(steps, recipe["warmup_ratio"]),
            seed=seed,
            on_cpu=device.type == "cpu",
            processes=world.size,
            bf16=bf16,
            torch_compile=execution.compile,
            **extra,
        )
        compiled_before = compile_seconds() if execution.compile else None
        trainer = run_trainer(
            task_trainer(sampler, weights, batch.accumulation),
            console,
            "fine-tuning",
            model=model,
            args=args,
            train_dataset=rows,
            data_collator=collate,
        )
        compile_s = None
        if compiled_before is not None:
            compile_s = compile_seconds() - compiled_before
    record = {
        **batch.record(),
        "dtype_used": execution.dtype,
        "autocast": "bfloat16" if bf16 else None,
        "optimizer": str(getattr(args.optim, "value", args.optim)),
        "attention": getattr(model.config, "_attn_implementation", None),
        "compiled": execution.compile,
        "padding": padding_record(
            lengths,
            sampler.batches(0) if sampler else None,
            execution.pad_multiple,
            recipe.get("max_length"),
        ),
    }
    return Trained(trainer.state.global_step, batch, compile_s, record)
