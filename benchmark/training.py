"""Training through transformers' Trainer, for fine-tuning a task head here and for the
recipe's stages (baselines.training_stage): one set of arguments, one progress bar, one
meaning of warm-up.

The console shows one rich progress bar (with the running loss where the run logs it); the
Trainer's own printer (its raw metric dicts) is removed. Warm-up is given to the Trainer as
a whole number of steps, worked out here from a ratio of the run's optimiser steps, so it
means the same in both and on every transformers version (a float ``warmup_steps`` is a
ratio only from 5.x on). A training reports to the tracker :mod:`benchmark.tracking` makes
active (``--report-to``), and to none without one.
"""

from __future__ import annotations

import inspect
import math
import tempfile

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from benchmark import tracking
from benchmark.distributed import current
from benchmark.errors import BenchError


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


def train(
    model, rows: list[dict], collator, recipe: dict, seed: int, dtype: str, device, console
) -> int:
    """Fine-tune ``model`` in place on ``rows`` with the recipe's settings; returns the
    number of optimiser steps taken (the same in any number of processes)."""
    from transformers import Trainer

    if not rows:
        raise BenchError("no training inputs could be built from the training split")
    world = current()
    if recipe["batch_size"] % world.size:
        raise BenchError(
            f"the batch size {recipe['batch_size']} does not split over {world.size} processes: "
            f"pass a --batch-size that is a multiple of {world.size}"
        )
    steps = optimizer_steps(len(rows), recipe["batch_size"], recipe["epochs"])
    with tempfile.TemporaryDirectory(prefix="bench-train-") as scratch:
        args = training_arguments(
            scratch,
            learning_rate=recipe["learning_rate"],
            epochs=recipe["epochs"],
            # the recipe's batch is the global one: the same steps in any number of processes
            per_device_batch_size=recipe["batch_size"] // world.size,
            weight_decay=recipe["weight_decay"],
            warmup=warmup_steps(steps, recipe["warmup_ratio"]),
            seed=seed,
            on_cpu=device.type == "cpu",
            processes=world.size,
            bf16=device.type == "cuda" and dtype == "bfloat16",
        )
        trainer = run_trainer(
            Trainer,
            console,
            "fine-tuning",
            model=model,
            args=args,
            train_dataset=rows,
            data_collator=_OnlyModelInputs(collator, model),
        )
        return trainer.state.global_step
