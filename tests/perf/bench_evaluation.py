"""What evaluation costs beyond the model itself, against three references, side by side.

One model (the bundled all-MiniLM-L6-v2 with a 9-label token-classification head) and one
task's data (all 391 CoNLL-2003 sentences of the bundled sample, ``--copies`` times over so
that each timed call lasts seconds, not a fraction of one). Four ways to score it:

* bare: a batched forward loop over inputs tokenised, sorted and padded beforehand, the
  floor any evaluation pays;
* ours: `bench run`'s evaluation end to end (tokenise, window, forward, merge, seqeval);
* trainer: what `run_ner` users get: the rows tokenised with `datasets.map` and labels
  aligned, `Trainer.predict` with `DataCollatorForTokenClassification`, arg-max, seqeval;
* evaluator: `evaluate.evaluator("token-classification")` with a local seqeval metric.

Each round runs all four, in an order rotated every round, so a slow spell of the machine
falls on every method alike; ratios are taken within a round and summarised over rounds as
the median with the lowest and highest. Targets: ours / bare <= 1.05, evaluator / ours >=
4, trainer / ours > 1.

Run: HF_HUB_OFFLINE=1 python tests/perf/bench_evaluation.py [--rounds 7] [--copies 3] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import datasets
import evaluate
import numpy as np
import torch
from transformers import (
    AutoModelForTokenClassification,
    AutoTokenizer,
    DataCollatorForTokenClassification,
    Trainer,
    TrainingArguments,
)

from benchmark.console import quiet_libraries
from benchmark.defaults import default_model_path
from benchmark.families import TaskContext, family_for
from benchmark.families.token_classification import windows_for
from benchmark.inference import pad_batch
from benchmark.metrics import entity_scores
from benchmark.task_data import load_task_split
from benchmark.tasks import TASKS

BATCH_SIZE = 32


class LocalSeqeval(evaluate.Metric):
    """seqeval strict IOB2 as an `evaluate` metric defined here, shaped as the evaluator
    expects (it reads ``overall_f1``)."""

    def _info(self):
        string_lists = datasets.Sequence(datasets.Value("string"))
        return evaluate.MetricInfo(
            description="seqeval strict IOB2",
            citation="",
            features=datasets.Features({"predictions": string_lists, "references": string_lists}),
        )

    def _compute(self, predictions, references):
        return {"overall_f1": entity_scores(predictions, references)["f1"] / 100}


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} (min {min(values):.3f}, max {max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    quiet_libraries()
    torch.manual_seed(0)
    spec = TASKS["conll2003"]
    splits = [load_task_split(spec, s, "bundled")[0] for s in ("train", "validation", "test")]
    data = datasets.concatenate_datasets(splits * args.copies)
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
    family = family_for(spec.family)
    context = TaskContext(spec, tokenizer, 512, names, frozenset({"token_type_ids"}))

    def ours():
        family.evaluate(context, data, model, identity, BATCH_SIZE)

    items, _ = windows_for(context, list(data["tokens"]))
    encodings = [item.inputs for item in items]
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

    def align(batch):  # run_ner's tokenize_and_align_labels: label the first subword only
        encoded = tokenizer(batch["tokens"], truncation=True, is_split_into_words=True)
        labels = []
        for i, tags in enumerate(batch["ner_tags"]):
            previous, row = None, []
            for word in encoded.word_ids(i):
                row.append(-100 if word is None or word == previous else tags[word])
                previous = word
            labels.append(row)
        encoded["labels"] = labels
        return encoded

    scratch = tempfile.mkdtemp(prefix="bench-eval-")
    trainer = Trainer(
        model=model,
        args=TrainingArguments(
            output_dir=scratch,
            per_device_eval_batch_size=BATCH_SIZE,
            use_cpu=True,
            report_to="none",
            disable_tqdm=True,
        ),
        data_collator=DataCollatorForTokenClassification(tokenizer),
    )

    def with_trainer():
        features = data.map(
            align, batched=True, remove_columns=data.column_names, load_from_cache_file=False
        )
        output = trainer.predict(features)
        choice = np.argmax(output.predictions, axis=-1)
        predicted = [
            [names[p] for p, g in zip(row, gold) if g != -100]
            for row, gold in zip(choice, output.label_ids)
        ]
        gold = [[names[g] for g in row if g != -100] for row in output.label_ids]
        entity_scores(predicted, gold)

    readable = data.cast_column("ner_tags", datasets.Sequence(datasets.ClassLabel(names=names)))
    evaluator = evaluate.evaluator("token-classification")
    metric = LocalSeqeval()

    def with_evaluator():
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

    methods = {"bare": bare, "ours": ours, "trainer": with_trainer, "evaluator": with_evaluator}
    print(
        f"torch threads: {torch.get_num_threads()}, sentences: {data.num_rows}, "
        f"batch size: {BATCH_SIZE}, rounds: {args.rounds} (+1 warm-up round)"
    )
    # wall time, and the process's CPU time (all its threads): the work done, which other
    # programs on the machine disturb less than the clock
    times: dict[str, list[float]] = {name: [] for name in methods}
    cpu: dict[str, list[float]] = {name: [] for name in methods}
    for round_index in range(args.rounds + 1):
        names_in_order = list(methods)
        shift = round_index % len(names_in_order)
        for name in names_in_order[shift:] + names_in_order[:shift]:
            start, start_cpu = time.perf_counter(), time.process_time()
            methods[name]()
            elapsed, elapsed_cpu = time.perf_counter() - start, time.process_time() - start_cpu
            if round_index:  # round 0 warms every path up
                times[name].append(elapsed)
                cpu[name].append(elapsed_cpu)
    for name in methods:
        print(f"{name:10s} seconds  {summary(times[name])}   cpu {summary(cpu[name])}")
    pairs = {"ours / bare": ("ours", "bare"), "trainer / ours": ("trainer", "ours")}
    pairs["evaluator / ours"] = ("evaluator", "ours")
    targets = {"ours / bare": "<= 1.05", "trainer / ours": "> 1", "evaluator / ours": ">= 4"}
    for label, (a, b) in pairs.items():
        wall = [x / y for x, y in zip(times[a], times[b])]
        work = [x / y for x, y in zip(cpu[a], cpu[b])]
        print(f"{label:18s} {summary(wall)}   cpu {summary(work)}   target {targets[label]}")


if __name__ == "__main__":
    main()
