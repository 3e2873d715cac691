"""Percent of the teacher's score a student keeps, and what it saves in time and memory.

``retained_percent`` = student main score / teacher main score x 100 per task. The suite's
``retained_percent_macro`` averages over tasks a per-task score that first averages the
task's headline metrics, as GLUE does (F1 and accuracy for MRPC/QQP, Pearson and Spearman
for STS-B, exact match and F1 for QA). Cost changes are (student - teacher) / teacher in
percent, at every sequence length both were measured at. Two results are only compared when
each shared task has the same task version, spec, evaluated data and seeds; otherwise the
error says which task and what differs. Over several seeds, the ratio is that of the means,
and its spread is propagated from both sides' (:func:`benchmark.seeds.ratio_spread`). Where
both sides' predictions are at hand, the ratio also gets a paired bootstrap interval, with
the two models' agreement and flips (benchmark.paired).
"""

from __future__ import annotations

import math
import statistics

from benchmark.errors import BenchError
from benchmark.paired import Pairing
from benchmark.run_result import (
    CostChange,
    RetentionBlock,
    RunResult,
    SpeedBlock,
    TaskResult,
    TaskRetention,
)
from benchmark.seeds import mean_std, ratio_spread, seed_values

HEADLINE_METRICS = {
    "mcc": ("matthews_correlation",),
    "accuracy": ("accuracy",),
    "f1_accuracy": ("f1", "accuracy"),
    "pearson_spearman": ("pearson", "spearmanr"),
    "squad": ("exact_match", "f1"),
    "seqeval": ("f1",),
}


def combined_score(entry: TaskResult) -> float:
    """The mean of a task's headline metrics (its GLUE-style single number)."""
    metrics = entry.metrics
    for names in HEADLINE_METRICS.values():
        if all(n in metrics for n in names) and entry.main_score_name in names:
            return statistics.fmean(metrics[n] for n in names)
    return entry.main_score


def check_comparable(a: RunResult, b: RunResult, a_name: str, b_name: str) -> list[str]:
    """The tasks both results hold; an error naming the first task that differs."""
    shared = [t for t in a.tasks if t in b.tasks]
    for task in shared:
        x, y = a.tasks[task], b.tasks[task]
        checks = [
            ("task version", x.task_version, y.task_version),
            ("task spec", x.spec_hash, y.spec_hash),
            ("evaluated data", x.data_key(), y.data_key()),
            ("evaluated examples", x.n_examples.evaluated, y.n_examples.evaluated),
            ("list of seeds", x.seeds, y.seeds),
        ]
        for what, left, right in checks:
            if left != right:
                raise BenchError(
                    f"cannot compare {a_name} with {b_name}: task {task} has a different {what} "
                    f"({left} vs {right}); re-run both with the same suite version, data, "
                    "--limit and --seeds"
                )
    return shared


def ratio_percent(student: float, teacher: float) -> float | None:
    """Student / teacher x 100; undefined for a teacher score at or below zero."""
    return None if teacher <= 0 else 100 * student / teacher


def _delta(student: float | None, teacher: float | None) -> float | None:
    if student is None or teacher is None or teacher == 0:
        return None
    return 100 * (student - teacher) / teacher


def cost_changes(student: SpeedBlock | None, teacher: SpeedBlock | None) -> list[CostChange]:
    """Latency and memory change at each (length, batch) both measured successfully."""
    if student is None or teacher is None:
        return []
    teacher_by_shape = {(m.seq_len, m.batch_size): m for m in teacher.ok()}
    changes = []
    for s in student.ok():
        t = teacher_by_shape.get((s.seq_len, s.batch_size))
        if t is None:
            continue
        s_ms, t_ms = s.latency_ms.median, t.latency_ms.median
        changes.append(
            CostChange(
                seq_len=s.seq_len,
                batch_size=s.batch_size,
                device=s.device,
                latency_change_percent=_delta(s_ms, t_ms),
                speedup=t_ms / s_ms if s_ms else None,
                peak_memory_change_percent=_delta(s.peak_memory_mb, t.peak_memory_mb),
                time_method="separate runs",
            )
        )
    return changes


def ratio_record(change: CostChange) -> dict:
    """An interleaved cost change back in the shape :func:`with_time_ratios` takes (that of
    benchmark.time_ratio), to carry a ratio measured before into another block."""
    low, high = change.time_ratio_range or [change.time_ratio, change.time_ratio]
    return {
        "seq_len": change.seq_len,
        "batch_size": change.batch_size,
        "device": change.device,
        "status": "ok",
        "ratio": change.time_ratio,
        "min": low,
        "max": high,
        "rounds": change.time_ratio_rounds,
        "agreed": change.time_ratio_agreed,
    }


def with_time_ratios(changes: list[CostChange], ratios: list[dict]) -> list[CostChange]:
    """The cost changes with time taken from interleaved ratios (benchmark.time_ratio) where
    one was measured at the same length, batch and device: the time change and speed-up
    then follow from the ratio, and its spread and rounds are kept beside it."""
    by_shape = {
        (r["seq_len"], r["batch_size"], r.get("device")): r for r in ratios if r["status"] == "ok"
    }
    updated = []
    for change in changes:
        r = by_shape.get((change.seq_len, change.batch_size, change.device))
        if r is not None:
            change = change.model_copy(
                update={
                    "time_method": "interleaved",
                    "time_ratio": r["ratio"],
                    "time_ratio_range": [r["min"], r["max"]],
                    "time_ratio_rounds": r["rounds"],
                    "time_ratio_agreed": r["agreed"],
                    "latency_change_percent": 100 * (r["ratio"] - 1),
                    "speedup": 1 / r["ratio"] if r["ratio"] else None,
                }
            )
        updated.append(change)
    return updated


def bucket_retention(student: TaskResult, teacher: TaskResult) -> dict | None:
    """Retained % of the main score per length bucket, over the buckets both results hold
    with the same number of examples (a different tokenizer can sort examples otherwise)."""
    if not student.buckets or not teacher.buckets:
        return None
    shared = {}
    for label, s in student.buckets.items():
        t = teacher.buckets.get(label)
        if t is not None and t["n_examples"] == s["n_examples"]:
            shared[label] = ratio_percent(s["main_score"], t["main_score"])
    return shared


def retention(
    student: RunResult,
    teacher: RunResult,
    student_name: str = "student",
    teacher_name: str = "teacher",
    pairing: Pairing | None = None,
) -> RetentionBlock:
    """The retention block stored in the student's result file; with ``pairing`` (where
    both sides' predictions are), each task's paired interval, agreement and flips
    (benchmark.paired), or the reason they are missing."""
    shared = check_comparable(student, teacher, student_name, teacher_name)
    tasks, combined, combined_spread = {}, [], []
    for task in shared:
        s, t = student.tasks[task], teacher.tasks[task]
        s_combined, t_combined = combined_score(s), combined_score(t)
        retained_combined = ratio_percent(s_combined, t_combined)
        spreads = {}
        if s.seeds:  # the same seeds on both sides (check_comparable)
            main = [mean_std(seed_values(x, lambda r: r.main_score)) for x in (s, t)]
            both = [mean_std(seed_values(x, combined_score)) for x in (s, t)]
            spreads = {
                "seeds": s.seeds,
                "student_std": main[0][1],
                "teacher_std": main[1][1],
                "retained_percent_std": ratio_spread(*main),
                "retained_percent_combined_std": ratio_spread(*both),
            }
        tasks[task] = TaskRetention(
            main_score_name=s.main_score_name,
            student=s.main_score,
            teacher=t.main_score,
            retained_percent=ratio_percent(s.main_score, t.main_score),
            student_combined=s_combined,
            teacher_combined=t_combined,
            retained_percent_combined=retained_combined,
            buckets=bucket_retention(s, t),
            **spreads,
            **(pairing.retention_fields(task, s, t) if pairing else {}),
        )
        if retained_combined is not None:
            combined.append(retained_combined)
            combined_spread.append(spreads.get("retained_percent_combined_std"))
    macro_std = None
    if combined_spread and all(sd is not None for sd in combined_spread):
        # the tasks' deviations taken as independent
        macro_std = math.sqrt(sum(sd**2 for sd in combined_spread)) / len(combined_spread)
    return RetentionBlock(
        teacher={"name": teacher.model.name, "model": teacher.model.model_dump(mode="json")},
        tasks=tasks,
        retained_percent_macro=statistics.fmean(combined) if combined else None,
        retained_percent_macro_std=macro_std,
        tasks_without_ratio=[t for t, v in tasks.items() if v.retained_percent_combined is None],
        cost=cost_changes(student.speed, teacher.speed),
    )
