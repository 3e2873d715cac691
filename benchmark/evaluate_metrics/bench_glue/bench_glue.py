"""GLUE's metrics as GONERD Bench scores them (0-100): the configuration names the task's
metric: ``mcc`` (CoLA), ``accuracy``, ``f1_accuracy`` (MRPC, QQP) or ``pearson_spearman``
(STS-B, predictions and references as scores)."""

import datasets
import evaluate

from benchmark.metrics import classification_scores

_METRICS = ("mcc", "accuracy", "f1_accuracy", "pearson_spearman")


class BenchGlue(evaluate.Metric):
    def _info(self):
        if self.config_name not in _METRICS:
            raise KeyError(f"configuration must be one of {', '.join(_METRICS)}")
        value = datasets.Value("float64" if self.config_name == "pearson_spearman" else "int64")
        return evaluate.MetricInfo(
            description=__doc__,
            citation="",
            inputs_description="predictions and references: label ids, or scores for STS-B",
            features=datasets.Features({"predictions": value, "references": value}),
        )

    def _compute(self, predictions, references):
        return classification_scores(self.config_name, predictions, references)
