"""How much evaluation costs beyond the model itself, and against `evaluate`'s evaluator.

Prints two ratios measured side by side in one run, on one model (the bundled
all-MiniLM-L6-v2 with a 9-label token-classification head) and one task's data (all 391
CoNLL-2003 sentences of the bundled sample):

1. end-to-end evaluation (tokenise, window, forward, merge, seqeval) / a bare batched
   forward loop over the same inputs, tokenised and padded beforehand (target <= 1.15);
2. `evaluate.evaluator("token-classification")` / ours, same model, same data, a local
   seqeval metric (target >= 3).

Run: HF_HUB_OFFLINE=1 python tests/perf/bench_evaluation.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import datasets
import evaluate
import torch
from transformers import AutoModelForTokenClassification, AutoTokenizer

from benchmark.defaults import default_model_path
from benchmark.families import token_classification
from benchmark.inference import pad_batch
from benchmark.metrics import entity_scores
from benchmark.task_data import load_task_split
from benchmark.tasks import TASKS

BATCH_SIZE = 32


class LocalSeqeval(evaluate.Metric):
    """seqeval strict IOB2 as an `evaluate` metric defined here, so the evaluator runs
    offline (evaluate.load would fetch the metric's code from the Hub)."""

    def _info(self):
        string_lists = datasets.Sequence(datasets.Value("string"))
        return evaluate.MetricInfo(
            description="seqeval strict IOB2",
            citation="",
            features=datasets.Features({"predictions": string_lists, "references": string_lists}),
        )

    def _compute(self, predictions, references):
        return {"overall_f1": entity_scores(predictions, references)["f1"] / 100}


def timed(fn, repeats: int) -> float:
    fn()  # warm-up
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    spec = TASKS["conll2003"]
    data = datasets.concatenate_datasets(
        [load_task_split(spec, split, "bundled")[0] for split in ("train", "validation", "test")]
    )
    names = list(spec.label_names)
    path = default_model_path()
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForTokenClassification.from_pretrained(
        path,
        num_labels=len(names),
        id2label=dict(enumerate(names)),
        label2id={n: i for i, n in enumerate(names)},
    ).eval()
    identity = {i: i for i in range(len(names))}

    def ours():
        token_classification.evaluate(
            spec, data, model, tokenizer, 512, BATCH_SIZE, names, identity
        )

    windows, _ = token_classification._windows(spec, data, tokenizer, 512)
    encodings = [token_classification._inputs(e) for _, _, e, _ in windows]
    order = sorted(range(len(encodings)), key=lambda i: len(encodings[i]["input_ids"]))
    batches = [
        pad_batch(
            [encodings[i] for i in order[s : s + BATCH_SIZE]],
            tokenizer.pad_token_id,
            torch.device("cpu"),
        )
        for s in range(0, len(order), BATCH_SIZE)
    ]

    def bare():
        with torch.inference_mode():
            for batch in batches:
                model(**batch)

    readable = data.cast_column("ner_tags", datasets.Sequence(datasets.ClassLabel(names=names)))
    evaluator = evaluate.evaluator("token-classification")
    metric = LocalSeqeval()

    def theirs():
        evaluator.compute(
            # the model itself, not a pipeline: evaluate 0.4.6 probes a TensorFlow class
            # that transformers 5 no longer has when handed a pipeline object
            model_or_pipeline=model,
            tokenizer=tokenizer,
            device=-1,
            data=readable,
            metric=metric,
            input_column="tokens",
            label_column="ner_tags",
            join_by=" ",
        )

    print(
        f"torch threads: {torch.get_num_threads()}, sentences: {data.num_rows}, "
        f"batch size: {BATCH_SIZE}, repeats: {args.repeats} (median)"
    )
    t_bare = timed(bare, args.repeats)
    t_ours = timed(ours, args.repeats)
    t_theirs = timed(theirs, max(1, args.repeats // 2))
    print(f"bare forward loop            {t_bare:8.3f} s")
    print(f"bench end-to-end evaluation  {t_ours:8.3f} s")
    print(f"evaluate.evaluator           {t_theirs:8.3f} s")
    print(f"ours / bare forward:   {t_ours / t_bare:.3f}x   (target <= 1.15)")
    print(f"evaluator / ours:      {t_theirs / t_ours:.2f}x  faster (target >= 3)")


if __name__ == "__main__":
    main()
