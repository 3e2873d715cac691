"""What distillation adds over the work it cannot avoid.

A distillation step must run a student training step and a teacher forward pass; the rest
(KL over the vocabulary, the cosine loss, masking, picking positions) is overhead. This
measures, side by side on the same masked batch, in interleaved rounds:

    distill step  = DistillationPair forward + backward + AdamW step
    baseline      = student MLM training step (forward with labels, backward, AdamW step)
                    + teacher forward (with its MLM head) under no_grad

and prints the median of distill / baseline over the rounds with its spread (target <= 1.10).

    python tests/perf/bench_distill_step.py [--length 256] [--batch 4] [--rounds 25]

The teacher is a checkpoint (``--model``, default the bundled MiniLM) or, with
``--random-config``, a randomly initialised model of a paper-scale size: ``bert-base``
(BertForMaskedLM: hidden 768, 12 layers, 12 heads, intermediate 3072, vocabulary 30522) or
``longformer-base`` (LongformerForMaskedLM of the same size, attention window 512); its
text is cut by ``--tokenizer`` (default: the model's own, or the bundled one). The student
is the teacher's every other layer (``baselines.student.cut``). On a GPU
(``--device cuda``) the clocks are read after ``torch.cuda.synchronize``; the arithmetic is
float32 unless ``--tf32`` (TF32 matrix products) or ``--bf16`` (bf16 autocast) is given:

    python tests/perf/bench_distill_step.py --device cuda --random-config longformer-base \
        --tokenizer TOKENIZER --length 4096 --batch 2 --rounds 15 --steps 3

The batch is the first ``--batch`` rows of exactly ``--length`` tokens among the bundled
training sequences (``baselines.text_data.training_sequences``), so every row is real text
at full length; where fewer such rows exist (long lengths need long documents) it stops
with an error rather than pad, repeat or glue rows, which would time a different batch.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

import torch

RANDOM_CONFIGS = ("bert-base", "longformer-base")


def random_teacher(name: str, length: int, tokenizer):
    """A randomly initialised masked-LM teacher of the size ``name`` (module docstring),
    with positions for ``length`` tokens and the tokenizer's special ids."""
    from transformers import BertConfig, BertForMaskedLM, LongformerConfig, LongformerForMaskedLM

    size = dict(
        vocab_size=30522,
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        pad_token_id=tokenizer.pad_token_id,
    )
    if len(tokenizer) > size["vocab_size"]:
        raise SystemExit(f"the tokenizer has {len(tokenizer)} tokens, more than {name}'s 30522")
    if name == "bert-base":
        config = BertConfig(max_position_embeddings=max(512, length), **size)
        return BertForMaskedLM(config)
    # RoBERTa-style positions start after the padding id: length + 2 covers pad id 0 or 1
    config = LongformerConfig(
        attention_window=512,
        max_position_embeddings=length + 2,
        bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id,
        sep_token_id=tokenizer.sep_token_id,
        **size,
    )
    return LongformerForMaskedLM(config)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="teacher with or without MLM head; default: bundled")
    parser.add_argument(
        "--random-config", choices=RANDOM_CONFIGS, help="a randomly initialised teacher instead"
    )
    parser.add_argument("--tokenizer", help="tokenizer for the text; default: the model's")
    parser.add_argument("--length", type=int, default=256)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--steps", type=int, default=1, help="steps per model per round")
    parser.add_argument("--threads", type=int, default=0, help="torch threads; 0: default")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast; default float32")
    parser.add_argument("--tf32", action="store_true", help="allow TF32 matrix products (cuda)")
    args = parser.parse_args()
    if args.model and args.random_config:
        parser.error("name a --model or a --random-config, not both")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.tf32:
        torch.backends.cuda.matmul.allow_tf32 = True

    from transformers import AutoModelForMaskedLM, AutoTokenizer

    from baselines.distill_loss import DistillationPair, LossWeights
    from baselines.masking import MaskingCollator
    from baselines.student import cut
    from baselines.text_data import TextSource, training_sequences
    from benchmark.defaults import default_model_path
    from benchmark.models import load_model

    path = None if args.random_config else args.model or str(default_model_path())
    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer or path or default_model_path())
    torch.manual_seed(0)
    if args.random_config:
        teacher = random_teacher(args.random_config, args.length, tokenizer).eval()
    else:
        teacher = load_model(AutoModelForMaskedLM, path).eval()
    rows = training_sequences(TextSource(bundled=True), tokenizer, args.length)
    full = [r for r in rows if len(r["input_ids"]) == args.length][: args.batch]
    if len(full) < args.batch:
        raise SystemExit(
            f"only {len(full)} bundled sequences have {args.length} tokens with this "
            f"tokenizer: use --batch {len(full)} or less, or a shorter --length"
        )
    batch = MaskingCollator.for_tokenizer(tokenizer)(full)
    batch = {name: tensor.to(device) for name, tensor in batch.items()}

    distilled = cut(teacher)
    plain = cut(teacher)
    for model in (teacher, distilled, plain):
        model.to(device)
    pair = DistillationPair(distilled, teacher, LossWeights()).train()
    plain.train()
    optimizers = {
        "distill": torch.optim.AdamW(distilled.parameters(), lr=1e-5),
        "student": torch.optim.AdamW(plain.parameters(), lr=1e-5),
    }

    def precision():
        if not args.bf16:
            return contextlib.nullcontext()
        return torch.autocast(device.type, dtype=torch.bfloat16)

    def synchronize() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    def distill_step() -> None:
        with precision():
            loss = pair(**batch)["loss"]
        loss.backward()
        optimizers["distill"].step()
        optimizers["distill"].zero_grad()

    def student_step() -> None:
        with precision():
            loss = plain(**batch).loss
        loss.backward()
        optimizers["student"].step()
        optimizers["student"].zero_grad()

    def teacher_forward() -> None:
        with torch.no_grad(), precision():
            teacher(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])

    jobs = {"distill": distill_step, "student": student_step, "teacher": teacher_forward}
    for job in jobs.values():  # warm-up
        job()
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(args.rounds):
        for name, job in jobs.items():
            synchronize()
            started = time.perf_counter()
            for _ in range(args.steps):
                job()
            synchronize()
            times[name].append((time.perf_counter() - started) / args.steps)
    ratios = [d / (s + t) for d, s, t in zip(times["distill"], times["student"], times["teacher"])]
    if device.type == "cuda":
        where = (
            f"{torch.cuda.get_device_name(device)}, "
            f"{'bf16 autocast' if args.bf16 else 'tf32' if args.tf32 else 'float32'}, "
            f"peak {torch.cuda.max_memory_allocated(device) / 2**30:.1f} GiB"
        )
    else:
        where = f"{torch.get_num_threads()} threads" + (", bf16 autocast" if args.bf16 else "")
    print(
        f"teacher {path or 'random ' + args.random_config} "
        f"({teacher.config.num_hidden_layers} layers) -> student "
        f"{distilled.config.num_hidden_layers} layers; batch {args.batch} x {args.length} "
        f"tokens; {where}; {args.rounds} interleaved rounds of {args.steps} steps"
    )
    for name in jobs:
        print(f"  {name:8s} median {1000 * statistics.median(times[name]):8.1f} ms per step")
    print(
        f"  distill / (student step + teacher forward): median {statistics.median(ratios):.3f} "
        f"(min {min(ratios):.3f}, max {max(ratios):.3f}); target <= 1.10"
    )


if __name__ == "__main__":
    main()
