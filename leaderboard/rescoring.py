"""Scoring a task again from its saved, readable predictions (`bench submit --recompute`),
through the same metric functions `bench run` used: each task family knows its own."""

from __future__ import annotations

from benchmark.families import family_for
from benchmark.tasks import TaskSpec


def rescore(spec: TaskSpec, rows: list[dict]) -> dict[str, float]:
    """The task's flat metrics from rows of ``{"prediction", "reference"}``."""
    return family_for(spec.family).rescore(spec, rows)
