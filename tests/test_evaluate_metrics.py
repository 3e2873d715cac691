"""The suite's metrics as local `evaluate` modules: loaded offline from the folder the
package names, they give the numbers `bench run` wrote, from its own predictions."""

from __future__ import annotations

import json

import evaluate
import pytest

from benchmark import runner
from benchmark.evaluate_metrics import METRICS, metric_path
from benchmark.results import read_jsonl
from benchmark.tasks import TASKS
from tests.helpers import run_config


def test_each_module_loads_offline_and_scores_known_values():
    glue = evaluate.load(metric_path("bench_glue"), "f1_accuracy")
    # TP=2, TN=1, FP=1, FN=0: accuracy 3/4, F1 = 2*2/(2*2+1) = 0.8
    assert glue.compute(predictions=[1, 0, 1, 1], references=[1, 0, 0, 1]) == {
        "accuracy": 75.0,
        "f1": pytest.approx(80.0),
    }
    squad = evaluate.load(metric_path("bench_squad"))
    scores = squad.compute(predictions=["the Broncos"], references=[["Denver Broncos"]])
    assert scores == {"exact_match": 0.0, "f1": pytest.approx(200 / 3)}  # P=1, R=1/2
    seqeval = evaluate.load(metric_path("bench_seqeval"))
    scores = seqeval.compute(predictions=[["I-PER", "O"]], references=[["B-PER", "O"]])
    assert scores["f1"] == 0.0  # strict IOB2: a stray I-PER is no entity
    with pytest.raises(ValueError, match="unknown metric"):
        metric_path("bench_bleu")
    assert len(METRICS) == 3


@pytest.mark.slow
def test_the_same_numbers_both_ways_on_the_bundled_samples(tiny_bert, tmp_path):
    tasks = "cola,mrpc,stsb,squad,triviaqa,conll2003,gonerd"
    config = run_config(tiny_bert, tasks, tmp_path / "result.json", limit=12)
    result = json.loads(runner.run(config).read_text())
    for name, entry in result["tasks"].items():
        spec = TASKS[name]
        rows = read_jsonl(entry["predictions_file"])
        predictions = [r["prediction"] for r in rows]
        references = [r["reference"] for r in rows]
        if spec.metric == "squad":
            metric = evaluate.load(metric_path("bench_squad"))
        elif spec.metric == "seqeval":
            metric = evaluate.load(metric_path("bench_seqeval"))
        else:
            metric = evaluate.load(metric_path("bench_glue"), spec.metric)
            if spec.label_names:  # readable names back to ids
                index = {n: i for i, n in enumerate(spec.label_names)}
                predictions = [index[p] for p in predictions]
                references = [index[r] for r in references]
        scores = metric.compute(predictions=predictions, references=references)
        # the same code on the same predictions: equal to the last bit, per type included
        assert json.loads(json.dumps(scores)) == entry["metrics"], name
