"""Student/teacher inference-time ratio against the layer-count limit of 0.5.

A 4-layer teacher and its 2-layer student (same width: hidden 64, 4 heads; random weights,
a 15-label token-classification head) for full attention (RoBERTa), Longformer (window
256), BigBird (block 64, 3 random blocks) and Nystromformer (64 landmarks, its segment
length set to the input length so it runs its approximate attention). Every number comes
from `benchmark.profiler` (a fresh process per measurement), side by side in one run.
Halving the layers can at best halve the time: the ratio's distance above 0.5 is what the
embeddings, the head and fixed per-call costs keep.

The time ratio is measured in interleaved rounds until two halves of them agree
(``benchmark.time_ratio``); each row says its spread and how many rounds it took.

Run: HF_HUB_OFFLINE=1 python tests/perf/bench_layer_ratio.py [--lengths 512,2048,4096]
     [--batch-size 1] [--tolerance 0.03] [--max-rounds 16]
     [--archs roberta,longformer,bigbird,nystromformer] [--json FILE] [--tokenizer DIR]
On a GPU, real sizes: --hidden 768 --heads 12 --layers 12,6 --batch-size 16 --device cuda
(--tokenizer: a tokenizer folder, where the bundled model is not installed)
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from transformers import (
    AutoTokenizer,
    BigBirdConfig,
    LongformerConfig,
    NystromformerConfig,
    RobertaConfig,
)

from benchmark.defaults import default_model_path
from benchmark.profiler import ProfileRequest, measure_model
from benchmark.time_ratio import interleaved_ratio


def make_config(arch: str, layers: int, hidden: int, heads: int, vocab: int):
    common = dict(
        vocab_size=vocab,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=4 * hidden,
    )
    if arch == "roberta":
        return RobertaConfig(max_position_embeddings=4098, pad_token_id=1, **common)
    if arch == "longformer":
        return LongformerConfig(
            max_position_embeddings=4098, pad_token_id=1, attention_window=256, **common
        )
    if arch == "bigbird":
        return BigBirdConfig(
            max_position_embeddings=4096,
            attention_type="block_sparse",
            block_size=64,
            num_random_blocks=3,
            **common,
        )
    if arch == "nystromformer":
        return NystromformerConfig(
            max_position_embeddings=4098, num_landmarks=64, segment_means_seq_len=64, **common
        )
    raise ValueError(arch)


def save_model(folder: Path, config, tokenizer) -> Path:
    from transformers import AutoModelForTokenClassification

    config.num_labels = 15
    AutoModelForTokenClassification.from_config(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lengths", default="512,2048,4096")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--archs", default="roberta,longformer,bigbird,nystromformer")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--layers", default="4,2")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--min-seconds", type=float, default=1.0)
    parser.add_argument("--tolerance", type=float, default=0.03, help="halves must agree")
    parser.add_argument("--min-rounds", "--rounds", type=int, default=4)
    parser.add_argument("--max-rounds", type=int, default=16)
    parser.add_argument("--json", default=None)
    parser.add_argument("--tokenizer", default=None, help="tokenizer folder; default: bundled")
    args = parser.parse_args()
    lengths = [int(x) for x in args.lengths.split(",")]
    teacher_layers, student_layers = (int(x) for x in args.layers.split(","))
    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer or default_model_path())
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for arch in args.archs.split(","):
            folders = {
                layers: save_model(
                    Path(scratch) / f"{arch}-{layers}",
                    make_config(arch, layers, args.hidden, args.heads, tokenizer.vocab_size),
                    tokenizer,
                )
                for layers in (teacher_layers, student_layers)
            }
            for length in lengths:
                overrides = {"segment_means_seq_len": length} if arch == "nystromformer" else {}
                # The time ratio from both models in one process per round, called in turn
                # (benchmark.time_ratio), rounds until its two halves agree; memory and the
                # per-model latencies from one measurement of each.
                ratio = interleaved_ratio(
                    ProfileRequest(
                        str(folders[student_layers]),
                        length,
                        args.batch_size,
                        args.device,
                        min_seconds=args.min_seconds,
                        threads=args.threads,
                        overrides=overrides,
                    ),
                    str(folders[teacher_layers]),
                    tolerance=args.tolerance,
                    min_rounds=args.min_rounds,
                    max_rounds=max(args.max_rounds, args.min_rounds),
                )
                measured = {
                    layers: measure_model(
                        str(folder),
                        [length],
                        args.batch_size,
                        args.device,
                        "float32",
                        min_seconds=args.min_seconds,
                        threads=args.threads,
                        overrides=overrides,
                    )[0]
                    for layers, folder in folders.items()
                }
                teacher, student = measured[teacher_layers], measured[student_layers]
                row = {
                    "arch": arch,
                    "seq_len": length,
                    "batch_size": args.batch_size,
                    "teacher": teacher,
                    "student": student,
                    "ratio": ratio,
                }
                if (
                    ratio["status"] == "ok"
                    and teacher.get("status") == student.get("status") == "ok"
                ):
                    row["time_ratio"] = ratio["ratio"]
                    row["memory_ratio"] = student["peak_memory_mb"] / teacher["peak_memory_mb"]
                rows.append(row)
                print(describe(row, teacher_layers, student_layers), flush=True)
    device = rows[0]["teacher"].get("device_name") if rows else "?"
    print(
        f"\ndevice: {device}; threads: {rows[0]['teacher'].get('threads') if rows else '?'}; "
        f"hidden {args.hidden}, {args.heads} heads, {teacher_layers} vs {student_layers} layers"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


def describe(row: dict, teacher_layers: int, student_layers: int) -> str:
    head = f"{row['arch']:<14} {row['seq_len']:>5} x {row['batch_size']:<3}"
    if "time_ratio" not in row:
        reason = (
            row["ratio"].get("reason")
            or row["teacher"].get("reason")
            or row["student"].get("reason")
        )
        return head + f" not measured: {reason}"
    limit = student_layers / teacher_layers
    t, s = row["teacher"]["latency_ms"]["median"], row["student"]["latency_ms"]["median"]
    saved = (1 - row["time_ratio"]) / (1 - limit)
    attention = row["teacher"]["effective_attention"]
    return (
        f"{head} teacher {t:9.1f} ms  student {s:9.1f} ms  ratio {row['time_ratio']:.3f} "
        f"({row['ratio']['min']:.3f}-{row['ratio']['max']:.3f}, {row['ratio']['rounds']} rounds"
        f"{'' if row['ratio']['agreed'] else ', halves disagree'}; limit {limit:.2f}; "
        f"{saved:.0%} of the possible saving)  memory ratio "
        f"{row['memory_ratio']:.3f}  [{attention}]"
    )


if __name__ == "__main__":
    main()
