"""Scoring a task again from its saved, readable predictions (`bench submit --recompute`),
through the same metric functions `bench run` used."""

from __future__ import annotations

from benchmark.metrics import classification_scores, entity_scores, squad_scores
from benchmark.tasks import TaskSpec


def rescore(spec: TaskSpec, rows: list[dict]) -> dict[str, float]:
    """The task's flat metrics from rows of ``{"prediction", "reference"}``."""
    predictions = [row["prediction"] for row in rows]
    references = [row["reference"] for row in rows]
    if spec.metric == "seqeval":
        scores = entity_scores(predictions, references)
        return {k: v for k, v in scores.items() if k != "per_type"}
    if spec.metric == "squad":
        return squad_scores(predictions, references)
    if spec.label_names:  # readable label names back to the task's ids
        index = {name: i for i, name in enumerate(spec.label_names)}
        predictions = [index[p] for p in predictions]
        references = [index[r] for r in references]
    return classification_scores(spec.metric, predictions, references)
