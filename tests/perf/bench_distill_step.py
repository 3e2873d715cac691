"""What distillation adds over the work it cannot avoid.

A distillation step must run a student training step and a teacher forward pass; the rest
(KL over the vocabulary, the cosine loss, masking, picking positions) is overhead. This
measures, side by side on the same masked batch, in interleaved rounds:

    distill step  = DistillationPair forward + backward + AdamW step
    baseline      = student MLM training step (forward with labels, backward, AdamW step)
                    + teacher forward (with its MLM head) under no_grad

and prints the median of distill / baseline over the rounds with its spread (target <= 1.10).

    python tests/perf/bench_distill_step.py [--length 256] [--batch 4] [--rounds 25]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="teacher with or without MLM head; default: bundled")
    parser.add_argument("--length", type=int, default=256)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--steps", type=int, default=1, help="steps per model per round")
    parser.add_argument("--threads", type=int, default=0, help="torch threads; 0: default")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from transformers import AutoModelForMaskedLM, AutoTokenizer

    from baselines.distill_loss import DistillationPair, LossWeights
    from baselines.masking import MaskingCollator
    from baselines.student import cut
    from baselines.text_data import TextSource, training_sequences
    from benchmark.defaults import default_model_path
    from benchmark.models import load_model

    path = args.model or str(default_model_path())
    torch.manual_seed(0)
    teacher = load_model(AutoModelForMaskedLM, path).eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    rows = training_sequences(TextSource(bundled=True), tokenizer, args.length)
    full = [r for r in rows if len(r["input_ids"]) == args.length][: args.batch]
    batch = MaskingCollator.for_tokenizer(tokenizer)(full)

    distilled = cut(teacher)
    pair = DistillationPair(distilled, teacher, LossWeights()).train()
    plain = cut(teacher).train()
    optimizers = {
        "distill": torch.optim.AdamW(distilled.parameters(), lr=1e-5),
        "student": torch.optim.AdamW(plain.parameters(), lr=1e-5),
    }

    def distill_step() -> None:
        loss = pair(**batch)["loss"]
        loss.backward()
        optimizers["distill"].step()
        optimizers["distill"].zero_grad()

    def student_step() -> None:
        loss = plain(**batch).loss
        loss.backward()
        optimizers["student"].step()
        optimizers["student"].zero_grad()

    def teacher_forward() -> None:
        with torch.no_grad():
            teacher(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])

    jobs = {"distill": distill_step, "student": student_step, "teacher": teacher_forward}
    for job in jobs.values():  # warm-up
        job()
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(args.rounds):
        for name, job in jobs.items():
            started = time.perf_counter()
            for _ in range(args.steps):
                job()
            times[name].append((time.perf_counter() - started) / args.steps)
    ratios = [d / (s + t) for d, s, t in zip(times["distill"], times["student"], times["teacher"])]
    print(
        f"teacher {path} ({teacher.config.num_hidden_layers} layers) -> student "
        f"{distilled.config.num_hidden_layers} layers; batch {args.batch} x {args.length} "
        f"tokens; {torch.get_num_threads()} threads; {args.rounds} interleaved rounds of "
        f"{args.steps} steps"
    )
    for name in jobs:
        print(f"  {name:8s} median {1000 * statistics.median(times[name]):8.1f} ms per step")
    print(
        f"  distill / (student step + teacher forward): median {statistics.median(ratios):.3f} "
        f"(min {min(ratios):.3f}, max {max(ratios):.3f}); target <= 1.10"
    )


if __name__ == "__main__":
    main()
