"""SQuAD 1.1 exact match and F1 as GONERD Bench scores them (0-100): the official answer
normalisation, each the maximum over an example's gold answers (or TriviaQA aliases)."""

import datasets
import evaluate

from benchmark.metrics import squad_scores


class BenchSquad(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=__doc__,
            citation="",
            inputs_description="predictions: answer strings; references: lists of gold answers",
            features=datasets.Features(
                {
                    "predictions": datasets.Value("string"),
                    "references": datasets.Sequence(datasets.Value("string")),
                }
            ),
        )

    def _compute(self, predictions, references):
        return squad_scores(predictions, references)
