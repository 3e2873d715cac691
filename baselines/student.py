"""A student cut from its teacher: the teacher's embeddings and a chosen subset of its
layers (by default every other one, the paper's choice), everything else carried over.

This is the initialisation step of distillation; on its own it gives the "no
distillation" floor of a compressed model. Weights are mapped by name, layer by layer;
a weight of the student that no teacher weight fills is an error, never left random.

    python -m baselines.student --model TEACHER --output DIR [--layers 0,2,4]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from benchmark.errors import BenchError

# Where encoders keep their layer stack: BERT/RoBERTa style, DistilBERT, ModernBERT.
_LAYER = re.compile(r"^(.*?(?:encoder\.layer|transformer\.layer|layers))\.(\d+)\.(.*)$")


def every_other_layer(n_layers: int) -> list[int]:
    """Half the layers, 0, 2, 4, ...: the paper's student initialisation."""
    return list(range(0, n_layers, 2))


def student_config(teacher_config, layers: list[int]):
    """The teacher's configuration with ``len(layers)`` layers (per-layer settings, such as
    Longformer's attention windows, cut to the chosen layers)."""
    values = teacher_config.to_dict() | {"num_hidden_layers": len(layers)}
    window = values.get("attention_window")
    if isinstance(window, list) and len(window) == teacher_config.num_hidden_layers:
        values["attention_window"] = [window[i] for i in layers]
    return teacher_config.__class__.from_dict(values)


def check_layers(layers: list[int], n_layers: int) -> None:
    if not layers or any(not 0 <= i < n_layers for i in layers):
        raise BenchError(f"layers {layers}: choose layers between 0 and {n_layers - 1}")


def cut(teacher, layers: list[int] | None = None):
    """A student of the teacher's class holding the teacher's ``layers`` (in order) and
    every other weight of the teacher (embeddings, task or MLM head)."""
    n_layers = teacher.config.num_hidden_layers
    layers = every_other_layer(n_layers) if layers is None else list(layers)
    check_layers(layers, n_layers)
    student = teacher.__class__(student_config(teacher.config, layers))
    source = teacher.state_dict()
    mapped = {}
    for name in student.state_dict():
        match = _LAYER.match(name)
        origin = name
        if match:
            prefix, index, rest = match.groups()
            origin = f"{prefix}.{layers[int(index)]}.{rest}"
        if origin not in source:
            raise BenchError(f"student weight {name} has no teacher weight {origin} to copy")
        mapped[name] = source[origin]
    student.load_state_dict(mapped, strict=True)
    return student


def cut_layers(teacher_path: str, output: Path, layers: list[int] | None = None) -> dict:
    """Save a student with the teacher's ``layers`` (in order) to ``output``; returns what
    was done: the layer map and the number of parameters of each model."""
    from transformers import AutoModel, AutoTokenizer

    teacher = AutoModel.from_pretrained(teacher_path)
    layers = every_other_layer(teacher.config.num_hidden_layers) if layers is None else layers
    student = cut(teacher, layers)
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    student.save_pretrained(output)
    AutoTokenizer.from_pretrained(teacher_path).save_pretrained(output)
    return {
        "layer_map": layers,
        "teacher_parameters": sum(p.numel() for p in teacher.parameters()),
        "student_parameters": sum(p.numel() for p in student.parameters()),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="the teacher: Hub id or local folder")
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--layers", help="teacher layers to keep, e.g. 0,2,4 (default)")
    args = parser.parse_args(argv)
    layers = [int(x) for x in args.layers.split(",")] if args.layers else None
    done = cut_layers(args.model, args.output, layers)
    print(
        f"{args.output}: teacher layers {done['layer_map']}, "
        f"{done['student_parameters']:,} of {done['teacher_parameters']:,} parameters"
    )


if __name__ == "__main__":
    main()
