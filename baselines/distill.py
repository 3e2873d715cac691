"""Stage 3 of the recipe: DistilBERT-style distillation of the (converted, pretrained)
teacher into a student with half its layers, initialised from every other teacher layer
(the paper's choice; the layer map is configurable) and the teacher's embeddings and head.

Teacher and student must share a tokenizer (checked): the KL term compares their
distributions over one vocabulary, position by position."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from baselines.distill_loss import DistillationPair, LossWeights
from baselines.masking import MaskingCollator
from baselines.student import cut, every_other_layer
from baselines.text_data import TextSource, training_sequences
from baselines.training_stage import TrainingSettings, check_length, train_stage
from benchmark.errors import BenchError


def distillation_trainer():
    """The stages' Trainer, saving the student alone and logging the loss's three terms
    beside the total."""
    from baselines.training_stage import stage_trainer

    class DistillationTrainer(stage_trainer()):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._terms: dict[str, list[float]] = {}

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            outputs = model(**inputs)
            for name in ("kl", "mlm", "cos"):
                self._terms.setdefault(name, []).append(float(outputs[name]))
            return (outputs["loss"], outputs) if return_outputs else outputs["loss"]

        def trained_model(self):
            """Checkpoints hold the student alone, as a loadable model (tied weights and
            all); the teacher is never saved."""
            return self.accelerator.unwrap_model(self.model).student, "student."

        def _load_from_checkpoint(self, resume_from_checkpoint, model=None):
            from transformers import AutoModelForMaskedLM

            from benchmark.models import quiet_loading

            if self.is_fsdp_enabled:  # the shards, from the checkpoint's FSDP state
                return super()._load_from_checkpoint(resume_from_checkpoint, model)
            pair = self.accelerator.unwrap_model(model or self.model)
            with quiet_loading():
                saved = AutoModelForMaskedLM.from_pretrained(resume_from_checkpoint)
            pair.student.load_state_dict(saved.state_dict(), strict=True)

        def log(self, logs, *args, **kwargs):
            """Every rank logs at the same steps (the Trainer gathers the loss there), so
            the terms are averaged over ranks the same way."""
            import torch

            if "loss" in logs and self._terms:
                names = sorted(self._terms)
                means = torch.tensor(
                    [sum(self._terms[n]) / len(self._terms[n]) for n in names],
                    device=self.args.device,
                )
                means = self.accelerator.gather(means[None]).mean(0)
                logs.update({n: round(float(v), 4) for n, v in zip(names, means)})
                self._terms = {}
            super().log(logs, *args, **kwargs)

    return DistillationTrainer


def check_same_tokenizer(teacher_tokenizer, student_tokenizer) -> None:
    """Distillation compares logits id by id: the vocabularies must be the same."""
    if teacher_tokenizer.get_vocab() != student_tokenizer.get_vocab():
        raise BenchError(
            "teacher and student tokenizers differ: distillation needs one vocabulary; start "
            "the student from the teacher (layer map) or give it the teacher's tokenizer"
        )


def distill(
    teacher_path: str,
    output: Path,
    text: TextSource | list[TextSource],
    max_length: int,
    settings: TrainingSettings,
    console: Console,
    weights: LossWeights | None = None,
    layers: list[int] | None = None,
    student_path: str | None = None,
    mask_probability: float = 0.15,
) -> dict:
    """Distil ``teacher_path`` into a student saved in ``output`` (MLM checkpoint and
    tokenizer). The student is cut from the teacher by ``layers`` (every other layer by
    default) unless ``student_path`` names one. Returns the run's record."""
    from transformers import AutoModelForMaskedLM, set_seed

    from benchmark.architectures import prepare
    from benchmark.models import load_model, load_tokenizer

    set_seed(settings.seed)  # heads a checkpoint lacks start the same on every run
    weights = weights or LossWeights()
    tokenizer = load_tokenizer(teacher_path)
    teacher = load_model(AutoModelForMaskedLM, teacher_path)
    if student_path:
        check_same_tokenizer(tokenizer, load_tokenizer(student_path))
        student = load_model(AutoModelForMaskedLM, student_path)
        layers = None
    else:
        layers = every_other_layer(teacher.config.num_hidden_layers) if layers is None else layers
        student = prepare(cut(teacher, layers))  # a new model: its attention swapped again
    check_length(teacher, max_length, "distill")
    pair = DistillationPair(student, teacher, weights)
    dataset = training_sequences(text, tokenizer, max_length)
    collator = MaskingCollator.for_tokenizer(tokenizer, mask_probability, settings.seed)
    record = train_stage(
        pair,
        dataset,
        collator,
        settings,
        Path(output),
        "distillation",
        console,
        trainer_class=distillation_trainer(),
    )
    if record["is_main_process"]:  # the student itself was saved by the stage
        tokenizer.save_pretrained(output)
    return record | {
        "loss_weights": weights.to_dict(),
        "layer_map": layers,
        "student_from": student_path or "teacher layers",
        "sequences": len(dataset),
        "teacher_layers": teacher.config.num_hidden_layers,
        "student_layers": student.config.num_hidden_layers,
    }
