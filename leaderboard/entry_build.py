"""The fields of a leaderboard entry, read from a result that passed validation.

A result file records far more than the board shows, some of it the submitter's own business
(local paths, per-type breakdowns). This module picks what an entry keeps, in the entry's
shape; :meth:`leaderboard.entry.Entry.from_result` validates the result first, then checks
these fields against the entry schema and sets the entry's id.
"""

from __future__ import annotations

import math
from pathlib import Path

from pydantic import BaseModel

from benchmark.run_result import RunResult, TaskResult
from leaderboard.intervals import drawn_interval, reported_interval, short
from leaderboard.speedups import from_result
from leaderboard.validation import SubmissionError, teacher_identity


def entry_content(result: RunResult, result_path: Path | None = None) -> dict[str, object]:
    """The entry's fields but those of the submission itself (id, time, verification).
    With ``result_path``, the board draws each score's interval from the predictions beside
    it; without, the entry keeps the intervals the result reports."""
    model = result.model
    return {
        "schema_version": 1,
        "model": {
            "name": model.name,
            "hub_id": model.hub_id,
            "revision": model.revision,
            "weights_sha256": model.weights_sha256,
            "parameters": model.parameters,
            "max_positions": model.max_positions,
            "dtype": model.dtype or result.config.get("dtype", "float32"),
        },
        "teacher": teacher_identity(result),
        "suite": {k: result.provenance.suite.get(k) for k in ("version", "revision", "dirty")},
        "tasks": {name: _task(name, task, result_path) for name, task in result.tasks.items()},
        "speed": [
            {
                "seq_len": m.seq_len,
                "batch_size": m.batch_size,
                "device": m.device,
                "device_name": m.device_name,
                "dtype": m.dtype,
                "latency_ms_median": m.latency_ms.median,
                "latency_ms_p90": m.latency_ms.p90,
                "peak_memory_mb": m.peak_memory_mb,
            }
            for m in (result.speed.ok() if result.speed else [])
        ],
        "provenance": {
            "python": result.provenance.python,
            "libraries": result.provenance.libraries,
            "hardware": result.provenance.hardware,
            "seed": result.provenance.seed,
        },
        "sample_data": any(t.data.get("source") == "bundled sample" for t in result.tasks.values()),
        "time_ratios": from_result(result),
        "claimed_retention": None
        if result.retention is None
        else {
            "teacher": str(result.retention.teacher.get("name")),
            "tasks": {t: r.retained_percent for t, r in result.retention.tasks.items()},
        },
    }


def _count(where: str, value: object) -> int:
    """An input count of the result, as a whole number or one clear refusal."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SubmissionError(where, f"{value!r} is not a count", "run `bench run` again")
    if not math.isfinite(value) or value < 0 or value != int(value):
        raise SubmissionError(where, f"{value!r} is not a count", "run `bench run` again")
    return int(value)


def _task(name: str, task: TaskResult, result_path: Path | None) -> dict[str, object]:
    """A task's fields of the entry: its scores, the data and input handling they come from,
    its predictions' hash, over several seeds each seed's score, the main score's interval
    and the long-context gain."""
    where = f"tasks.{name}.inputs"
    evaluated = task.n_examples.evaluated
    windowed = _count(f"{where}.windowed", task.inputs.get("windowed", 0))
    truncated = _count(
        f"{where}.truncated",
        task.inputs.get("truncated", task.inputs.get("truncated_documents", 0)),
    )
    # "whole" is what the families count since schema 2; older results: what is neither
    # windowed nor truncated, at best
    whole = task.inputs.get("whole", max(0, evaluated - windowed - truncated))
    data = {k: task.data.get(k) for k in ("source", "file", "sha256", "config", "revision")}
    if data["sha256"] and data["source"] != "bundled sample":
        data["source"] = "local file"  # the submitter's own path is none of the board's business
    return {
        "task_version": task.task_version,
        "split": task.split,
        "main_score_name": task.main_score_name,
        "main_score": task.main_score,
        # the flat numbers; per-type breakdowns stay in the result file
        "metrics": {
            k: v
            for k, v in task.metrics.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)
        },
        "n_examples": task.n_examples.model_dump(),
        "data": data,
        "inputs": {
            "max_length": _count(f"{where}.max_length", task.inputs.get("max_length", 1)),
            "whole": _count(f"{where}.whole", whole),
            "windowed": windowed,
            "truncated": truncated,
        },
        "predictions_sha256": task.predictions_sha256,
        "seeds": task.seeds,
        "main_score_std": task.main_score_std,
        "seed_scores": (
            [run.main_score for run in task.seed_runs.values()] if task.seed_runs else None
        ),
        "label_counts": task.label_counts,
        **_interval(name, task, result_path),
        "long_context": _long_context(task),
    }


def _interval(name: str, task: TaskResult, result_path: Path | None) -> dict[str, object]:
    """The main score's interval: drawn by the board where it reads the predictions (a
    task with none saved keeps the result's own), else the result's own."""
    if result_path is not None and (task.predictions_file or task.seed_runs):
        interval, draws = drawn_interval(name, task, result_path)
    else:
        interval, draws = reported_interval(task)
    return {"main_score_ci95": interval, "bootstrap": draws}


_LONG_CONTEXT = (
    "max_length_full",
    "max_length_truncated",
    "full",
    "truncated_512",
    "gain",
    "gain_ci95",
    "gain_std",
    "unit",
    "resamples",
    "reason",
)
_BUCKET = ("n_examples", "full", "truncated_512", "gain", "gain_ci95")


def _long_context(task: TaskResult) -> dict[str, object] | None:
    """The long-context record the result holds (optional), in the entry's shape: the
    fields the board shows, each checked by the entry's schema; anything else stays in the
    result file."""
    record = getattr(task, "long_context", None)
    if record is None:
        record = (task.model_extra or {}).get("long_context")
    if isinstance(record, BaseModel):
        record = record.model_dump()
    if record is None or not isinstance(record, dict):
        return record  # None, or a shape the entry's schema refuses, naming the field
    kept = {k: record[k] for k in _LONG_CONTEXT if record.get(k) is not None}
    if isinstance(kept.get("reason"), str):
        kept["reason"] = short(kept["reason"])
    buckets = record.get("buckets")
    if isinstance(buckets, dict):
        kept["buckets"] = {
            label: {k: b.get(k) for k in _BUCKET if b.get(k) is not None}
            if isinstance(b, dict)
            else b
            for label, b in buckets.items()
        }
    elif buckets is not None:
        kept["buckets"] = buckets
    return kept
