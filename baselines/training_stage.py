"""One training stage of the recipe (pretraining or distillation) through transformers'
Trainer: the settings a config gives, checkpoints to resume from, a rich progress bar with
the running loss, and the loss curve kept for the stage's record.

Distribution is the Trainer's own: started with ``accelerate launch`` or ``torchrun`` it
trains with DDP (gloo on CPU), or with FSDP (version 2: each encoder layer of the trained
model a unit) when the config names ``fsdp``; a single process needs nothing. Checkpoints go
to ``<stage>/checkpoints``; a stage started again resumes from the newest one, optimizer,
scheduler and random state included. With ``--report-to`` a stage's training reports to
that tracker (benchmark.tracking), TensorBoard into ``<stage>/runs``.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from rich.console import Console

from benchmark.errors import BenchError
from benchmark.tracking import Reporting
from benchmark.training import optimizer_steps, run_trainer, training_arguments, warmup_steps


class TrainingSettings(BaseModel):
    """How a stage trains; every field is recorded in the stage's model card."""

    model_config = ConfigDict(extra="forbid")

    learning_rate: float = 5e-5
    epochs: float = 1.0
    max_steps: int = -1
    batch_size: int = Field(8, description="per device")
    gradient_accumulation: int = 1
    warmup_ratio: float = 0.05
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    seed: int = 42
    save_steps: int = 500
    save_total_limit: int = 2
    logging_steps: int = 10
    bf16: bool = False
    fsdp: str = Field(
        "",
        description="FSDP under a launcher, e.g. 'full_shard auto_wrap' (FSDP2, one unit per "
        "encoder layer; the saved model is whole); empty: DDP",
    )
    gradient_checkpointing: bool = False


def stage_reporting(
    tracker: str, name: str, stage_dir: Path, settings: TrainingSettings | None
) -> Reporting | None:
    """How a stage's training reports (None for ``none``): as ``name`` and the stage's
    seed, and to TensorBoard in ``<stage>/runs/``, beside its checkpoints, so a resumed
    stage continues the curve it started."""
    if tracker == "none":
        return None
    seed = f" seed {settings.seed}" if settings is not None else ""
    return Reporting(tracker, name + seed, Path(stage_dir) / "runs")


def latest_checkpoint(folder: Path) -> Path | None:
    """The newest complete ``checkpoint-N`` folder the Trainer left, if any: the Trainer
    writes ``trainer_state.json`` last, so a folder without it was cut off mid-save."""
    found = [
        p
        for p in folder.glob("checkpoint-*")
        if p.name.split("-")[-1].isdigit() and (p / "trainer_state.json").is_file()
    ]
    return max(found, key=lambda p: int(p.name.split("-")[-1])) if found else None


def stage_trainer(base=None):
    """The Trainer the stages train with: it saves the trained model alone, whole, as a
    loadable checkpoint, and runs FSDP on CPUs too.

    accelerate enables its FSDP plugin only on accelerators: on CPUs it quietly falls back to
    DDP (its state is MULTI_CPU). FSDP2 itself shards over gloo on a CPU mesh, so when the
    run asks for FSDP and accelerate chose MULTI_CPU, the plugin is set here; that is how
    FSDP is tested on CPU processes, and it lets CPU nodes shard too."""
    from transformers import Trainer

    class StageTrainer(base or Trainer):
        def create_accelerator_and_postprocess(self):
            from accelerate.state import PartialState
            from accelerate.utils import DistributedType, FullyShardedDataParallelPlugin

            super().create_accelerator_and_postprocess()
            state = self.accelerator.state
            asked = self.args.fsdp_plugin_args is not None
            if asked and state.distributed_type == DistributedType.MULTI_CPU:
                state.fsdp_plugin = FullyShardedDataParallelPlugin(**self.args.fsdp_plugin_args)
                state.distributed_type = DistributedType.FSDP
                PartialState._shared_state["distributed_type"] = DistributedType.FSDP
                self.is_fsdp_enabled = True

        def trained_model(self):
            """What a checkpoint holds, and the prefix of its keys in the trained module."""
            model = self.accelerator.unwrap_model(self.model)
            if isinstance(model, ShardedModel):
                return model.model, "model."
            return model, ""

        def _save(self, output_dir=None, state_dict=None):
            if not self.args.should_save:  # every rank gets here; the main one writes
                return
            model, prefix = self.trained_model()
            if state_dict is not None:  # FSDP: the whole state, gathered from the shards
                state_dict = {
                    k.removeprefix(prefix): v for k, v in state_dict.items() if k.startswith(prefix)
                }
                _retie(model, state_dict)
            model.save_pretrained(output_dir or self.args.output_dir, state_dict=state_dict)

    return StageTrainer


def _retie(model, state_dict: dict) -> None:
    """A gathered state dict holds tied weights (the MLM decoder and the word embeddings)
    as separate copies, which save_pretrained would write twice: give each name of one
    parameter the same tensor again, so they are saved once, as from the model itself."""
    names: dict[int, list[str]] = {}
    for name, parameter in model.named_parameters(remove_duplicate=False):
        names.setdefault(id(parameter), []).append(name)
    for group in names.values():
        present = [n for n in group if n in state_dict]
        for name in present[1:]:
            state_dict[name] = state_dict[present[0]]


class ShardedModel:
    """Built lazily (torch is imported inside): see :func:`sharded`."""


def sharded(model):
    """``model`` inside a plain module for FSDP. accelerate puts a model's output embeddings
    (the MLM decoder) into an FSDP unit of their own, but the decoder's bias is tied to its
    head's, which stays in the root unit, and torch refuses a parameter shared by two units.
    A wrapper without ``get_output_embeddings`` keeps the head in one unit, as the
    distillation pair does. Checkpoints then hold its keys under ``model.``."""
    import torch

    class Sharded(torch.nn.Module, ShardedModel):
        accepts_loss_kwargs = False  # the wrapped model's loss is already a mean

        def __init__(self, inner) -> None:
            super().__init__()
            self.model = inner

        def forward(self, input_ids, attention_mask=None, labels=None, **extra):
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, labels=labels, **extra
            )

    return Sharded(model)


def fsdp_config(model) -> dict:
    """FSDP2 with one unit per encoder layer, saving whole (unsharded) state dicts."""
    layer = type(model.base_model.encoder.layer[0]).__name__
    return {
        "version": 2,
        "auto_wrap_policy": "TRANSFORMER_BASED_WRAP",
        "transformer_layer_cls_to_wrap": [layer],
        "state_dict_type": "FULL_STATE_DICT",
    }


def check_length(model, max_length: int, stage: str) -> None:
    """A training length beyond the model's position table fails deep inside the model:
    say so before any data is prepared."""
    from benchmark.model_setup import position_limit

    limit = position_limit(model.config)
    if limit is not None and max_length > limit:
        raise BenchError(
            f"{stage}.max_length {max_length} exceeds the model's {limit} positions; set it to "
            f"at most {limit} (or convert first, which extends the positions)"
        )


def train_stage(
    model,
    dataset,
    collator,
    settings: TrainingSettings,
    stage_dir: Path,
    description: str,
    console: Console,
    trainer_class=None,
) -> dict:
    """Train ``model`` on ``dataset``, resuming from the stage's newest checkpoint, and save
    the trained model whole in ``stage_dir`` (the main process writes; under FSDP every
    process takes part in gathering it). Returns the run's record: steps, the loss curve,
    where it resumed from."""
    import torch

    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if settings.fsdp and world_size < 2:
        raise BenchError(
            f"fsdp: {settings.fsdp!r} shards over processes: start the recipe with "
            "`accelerate launch --num_processes N -m gonerd_bench recipe run ...` or `torchrun "
            "--nproc-per-node N -m gonerd_bench recipe run ...`, or leave fsdp empty"
        )
    if not settings.fsdp:
        # accelerate leaves ACCELERATE_USE_FSDP set once a stage used FSDP (or the launcher
        # was told to); the config is the switch, so a stage without fsdp runs DDP
        os.environ.pop("ACCELERATE_USE_FSDP", None)
    inner = getattr(model, "student", model)  # the distillation pair trains its student
    if settings.gradient_checkpointing:
        inner.gradient_checkpointing_enable()
    if settings.fsdp and not hasattr(model, "student"):  # the pair needs no wrapper
        model = sharded(model)
    checkpoints = Path(stage_dir) / "checkpoints"
    resume = latest_checkpoint(checkpoints)
    on_cpu = not torch.cuda.is_available()
    steps = optimizer_steps(
        len(dataset),
        settings.batch_size * world_size,
        settings.epochs,
        settings.max_steps,
        settings.gradient_accumulation,
    )
    args = training_arguments(
        str(checkpoints),
        learning_rate=settings.learning_rate,
        epochs=settings.epochs,
        per_device_batch_size=settings.batch_size,
        weight_decay=settings.weight_decay,
        warmup=warmup_steps(steps, settings.warmup_ratio),
        seed=settings.seed,
        on_cpu=on_cpu,
        processes=world_size,
        bf16=settings.bf16 and not on_cpu,
        max_steps=settings.max_steps,
        gradient_accumulation_steps=settings.gradient_accumulation,
        max_grad_norm=settings.max_grad_norm,
        save_strategy="steps",
        save_steps=settings.save_steps,
        save_total_limit=settings.save_total_limit,
        logging_strategy="steps",
        logging_steps=settings.logging_steps,
        fsdp=settings.fsdp,
        fsdp_config=fsdp_config(inner) if settings.fsdp else None,
        # Longformer's global projections get no gradient in MLM training (no global tokens)
        ddp_find_unused_parameters=inner.config.model_type == "longformer",
        remove_unused_columns=False,
    )
    trainer = run_trainer(
        trainer_class or stage_trainer(),
        console,
        description,
        resume=resume,
        model=model,
        args=args,
        train_dataset=dataset,
        data_collator=collator,
    )
    if trainer.is_fsdp_enabled:  # the model is saved whole, however the checkpoints were
        trainer.accelerator.state.fsdp_plugin.set_state_dict_type("FULL_STATE_DICT")
    trainer.save_model(str(stage_dir))  # collective under FSDP; the main process writes
    curve = [
        {k: v for k, v in entry.items() if k in ("step", "epoch", "loss", "kl", "mlm", "cos")}
        for entry in trainer.state.log_history
        if "loss" in entry
    ]
    return {
        "steps": trainer.state.global_step,
        "world_size": args.world_size,
        "sharding": "fsdp" if trainer.is_fsdp_enabled else ("ddp" if world_size > 1 else None),
        "resumed_from": resume.name if resume else None,
        "loss_curve": curve,
        "final_loss": curve[-1]["loss"] if curve else None,
        "is_main_process": trainer.is_world_process_zero(),
    }
