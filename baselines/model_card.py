"""The model card each recipe stage leaves beside its checkpoint: a README.md in the Hub's
model-card format (YAML metadata, then prose), saying which stage made the weights, from
what, on which data, with which settings, and what it measured."""

from __future__ import annotations

import json
from pathlib import Path

_TITLES = {
    "convert": "converted to efficient attention",
    "pretrain": "masked-LM pretraining on long documents",
    "distill": "distilled student (DistilBERT-style)",
}


def write_card(
    folder: Path, stage: str, base_model: str, record: dict, settings: dict, recipe: str
) -> Path:
    """Write ``folder/README.md`` for one stage; returns its path."""
    from huggingface_hub import ModelCard, ModelCardData

    data = ModelCardData(
        library_name="transformers",
        pipeline_tag="fill-mask",
        tags=["gonerd-bench", "long-context", f"recipe-{stage}"],
        base_model=base_model if not Path(base_model).exists() else None,
    )
    body = "\n".join(
        [
            f"# {Path(folder).name}: {_TITLES.get(stage, stage)}",
            "",
            f"Made by stage `{stage}` of the GONERD Bench recipe `{recipe}` from `{base_model}`.",
            "",
            "## Settings",
            "",
            "```json",
            json.dumps(settings, indent=2, default=str),
            "```",
            "",
            "## What the stage did",
            "",
            "```json",
            json.dumps(_summary(record), indent=2, default=str),
            "```",
            "",
            "The full record is in `stage.json` beside this card.",
            "",
        ]
    )
    card = ModelCard(f"---\n{data.to_yaml()}\n---\n\n{body}")
    path = Path(folder) / "README.md"
    card.save(path)
    return path


def _summary(record: dict) -> dict:
    """The record without its long lists (the loss curve is summarised by its ends)."""
    summary = {k: v for k, v in record.items() if k not in ("loss_curve", "not_mapped")}
    curve = record.get("loss_curve") or []
    if curve:
        summary["first_loss"] = curve[0].get("loss")
        summary["last_loss"] = curve[-1].get("loss")
    if "not_mapped" in record:
        summary["not_mapped"] = record["not_mapped"]
    return summary
