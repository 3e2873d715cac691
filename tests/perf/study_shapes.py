"""The study's models without their weights, to time them on another machine.

A forward pass takes the same time whatever the weights hold: it depends on the
architecture, its settings and the input's shape. So timing the study's students against
their teachers on a GPU needs no trained weights, only each model's config and tokenizer
(kilobytes, where the weights are hundreds of megabytes and too big to send).

    pack   STUDY [--runs R] --to DIR   here: each model's config.json and tokenizer files into
                                       DIR/<key>/, with DIR/models.json naming each model's
                                       teacher
    unpack DIR                         there: random weights from each config, saved as
                                       safetensors beside it, so the folders load as models

Then `tests/perf/bench_study_ratios.py STUDY --models DIR --device cuda` times them
(tests/perf/gpu_study_ratios.sh does all of it in one device call).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

KEPT = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


def pack(study_file: Path, runs: Path | None, to: Path) -> list[dict]:
    from baselines.study import load_study, models

    study = load_study(study_file)
    runs = runs or Path(study.output)
    rows = []
    for model in models(study, runs):
        source = Path(model.path)
        if not (source / "config.json").exists():
            raise SystemExit(
                f"{model.key}: no model at {source}; build the study first "
                f"(bench study run {study_file})"
            )
        target = to / model.key
        target.mkdir(parents=True, exist_ok=True)
        for name in KEPT:
            if (source / name).exists():
                shutil.copy2(source / name, target / name)
        rows.append({"key": model.key, "teacher": model.teacher, "source": str(source)})
    (to / "models.json").write_text(json.dumps(rows, indent=2))
    return rows


def unpack(folder: Path) -> None:
    import torch
    from transformers import AutoConfig, AutoModel

    from benchmark.architectures import register

    register()  # LSG's config and model are the suite's own
    torch.manual_seed(0)
    for row in json.loads((folder / "models.json").read_text()):
        target = folder / row["key"]
        if (target / "model.safetensors").exists():
            continue
        original = (target / "config.json").read_text()
        config = AutoConfig.from_pretrained(target)
        AutoModel.from_config(config).save_pretrained(target, safe_serialization=True)
        (target / "config.json").write_text(original)  # the study's config, exactly
        print(f"{row['key']}: random weights from {config.model_type} config", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    packing = verbs.add_parser("pack")
    packing.add_argument("study", type=Path)
    packing.add_argument("--runs", type=Path)
    packing.add_argument("--to", type=Path, required=True)
    unpacking = verbs.add_parser("unpack")
    unpacking.add_argument("folder", type=Path)
    args = parser.parse_args()
    if args.verb == "pack":
        rows = pack(args.study, args.runs, args.to)
        print(f"{len(rows)} models' configs and tokenizers in {args.to}")
    else:
        unpack(args.folder)


if __name__ == "__main__":
    main()
