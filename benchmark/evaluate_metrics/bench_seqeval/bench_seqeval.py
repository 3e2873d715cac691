"""Entity-level precision, recall and F1 as GONERD Bench scores them (0-100): seqeval in
strict IOB2 mode, overall and per entity type (``strict=False`` for seqeval's default)."""

import datasets
import evaluate

from benchmark.metrics import entity_scores


class BenchSeqeval(evaluate.Metric):
    def _info(self):
        tags = datasets.Sequence(datasets.Value("string"))
        return evaluate.MetricInfo(
            description=__doc__,
            citation="",
            inputs_description="predictions and references: one list of IOB2 tags per sequence",
            features=datasets.Features({"predictions": tags, "references": tags}),
        )

    def _compute(self, predictions, references, strict=True):
        return entity_scores(predictions, references, strict=strict)
