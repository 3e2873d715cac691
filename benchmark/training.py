"""Fine-tuning a task head with transformers' Trainer and a recorded recipe.

The console shows one rich progress bar; the Trainer's own printer (its raw metric dicts)
is removed. Warm-up is given to the Trainer as a whole number of steps, worked out here
from the recipe's ratio, so it means the same on every transformers version (a float
``warmup_steps`` is a ratio only from 5.x on).
"""

from __future__ import annotations

import inspect
import math
import tempfile

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

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


def _progress_callback(progress: Progress):
    """A Trainer callback that drives a rich bar: one tick per optimisation step."""
    from transformers import TrainerCallback

    class RichSteps(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            self.bar = progress.add_task("fine-tuning", total=state.max_steps)

        def on_step_end(self, args, state, control, **kwargs):
            progress.update(self.bar, completed=state.global_step)

    return RichSteps()


def warmup_steps(n_rows: int, batch_size: int, epochs: float, ratio: float) -> int:
    """The warm-up ratio as a step count over the whole run (per device)."""
    steps = math.ceil(math.ceil(n_rows / batch_size) * epochs)
    return math.ceil(ratio * steps)


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
    from transformers import PrinterCallback, ProgressCallback, Trainer, TrainingArguments

    if not rows:
        raise BenchError("no training inputs could be built from the training split")
    world = current()
    if recipe["batch_size"] % world.size:
        raise BenchError(
            f"the batch size {recipe['batch_size']} does not split over {world.size} processes: "
            f"pass a --batch-size that is a multiple of {world.size}"
        )
    with tempfile.TemporaryDirectory(prefix="bench-train-") as scratch:
        args = TrainingArguments(
            output_dir=scratch,
            learning_rate=recipe["learning_rate"],
            num_train_epochs=recipe["epochs"],
            # the recipe's batch is the global one: the same steps in any number of processes
            per_device_train_batch_size=recipe["batch_size"] // world.size,
            weight_decay=recipe["weight_decay"],
            warmup_steps=warmup_steps(
                len(rows), recipe["batch_size"], recipe["epochs"], recipe["warmup_ratio"]
            ),
            seed=seed,
            data_seed=seed,
            report_to="none",
            save_strategy="no",
            eval_strategy="no",
            logging_strategy="no",
            use_cpu=device.type == "cpu",
            ddp_backend="gloo" if world.size > 1 and device.type == "cpu" else None,
            bf16=device.type == "cuda" and dtype == "bfloat16",
            dataloader_num_workers=0,
            disable_tqdm=True,
        )
        with progress_bar(console) as progress:
            trainer = Trainer(
                model=model,
                args=args,
                train_dataset=rows,
                data_collator=_OnlyModelInputs(collator, model),
                callbacks=[_progress_callback(progress)],
            )
            trainer.remove_callback(PrinterCallback)
            trainer.remove_callback(ProgressCallback)
            trainer.train()
        return trainer.state.global_step
