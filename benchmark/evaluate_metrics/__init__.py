"""The suite's metrics as local `evaluate` modules, loadable offline:

    import evaluate
    from benchmark.evaluate_metrics import metric_path

    glue = evaluate.load(metric_path("bench_glue"), "mcc")         # or accuracy, f1_accuracy,
    glue.compute(predictions=[1, 0], references=[1, 1])             #    pearson_spearman
    evaluate.load(metric_path("bench_squad")).compute(predictions=["Denver"],
                                                      references=[["Denver Broncos"]])
    evaluate.load(metric_path("bench_seqeval")).compute(predictions=[["B-PER"]],
                                                        references=[["B-PER"]])

Each module computes through :mod:`benchmark.metrics`, the functions `bench run` scores
with, so a training loop scored this way gets exactly the numbers a result file holds
(all on a 0-100 scale).
"""

from __future__ import annotations

from pathlib import Path

METRICS = ("bench_glue", "bench_squad", "bench_seqeval")


def metric_path(name: str) -> str:
    """The folder to hand to ``evaluate.load`` for one of :data:`METRICS`."""
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}: choose one of {', '.join(METRICS)}")
    return str(Path(__file__).parent / name)
