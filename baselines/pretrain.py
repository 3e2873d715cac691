"""Stage 2 of the recipe: masked-language-model pretraining of the converted model on long
documents, so its tiled positions and new attention learn to work together."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from baselines.masking import MaskingCollator
from baselines.text_data import TextSource, training_sequences
from baselines.training_stage import TrainingSettings, check_length, train_stage


def pretrain(
    model_path: str,
    output: Path,
    text: TextSource | list[TextSource],
    max_length: int,
    settings: TrainingSettings,
    console: Console,
    mask_probability: float = 0.15,
) -> dict:
    """Continue MLM training of ``model_path``; the trained model and tokenizer go to
    ``output``. Returns the run's record (steps, loss curve, data size)."""
    from transformers import AutoModelForMaskedLM, set_seed

    from benchmark.models import load_model, load_tokenizer

    set_seed(settings.seed)  # heads a checkpoint lacks start the same on every run
    tokenizer = load_tokenizer(model_path)
    model = load_model(AutoModelForMaskedLM, model_path)
    check_length(model, max_length, "pretrain")
    dataset = training_sequences(text, tokenizer, max_length)
    collator = MaskingCollator.for_tokenizer(tokenizer, mask_probability, settings.seed)
    record = train_stage(model, dataset, collator, settings, Path(output), "pretraining", console)
    if record["is_main_process"]:  # the model itself was saved by the stage
        tokenizer.save_pretrained(output)
    return record | {"sequences": len(dataset), "tokens": sum(map(len, dataset["input_ids"]))}
