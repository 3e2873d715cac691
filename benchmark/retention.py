"""Percent of the teacher's score a student keeps, and what it saves in time and memory.

``retained_percent`` = student main score / teacher main score x 100 per task. The suite's
``retained_percent_macro`` averages over tasks a per-task score that first averages the
task's headline metrics, as GLUE does (F1 and accuracy for MRPC/QQP, Pearson and Spearman
for STS-B, exact match and F1 for QA). Cost changes are (student - teacher) / teacher in
percent, at every sequence length both were measured at. Two results are only compared when
each shared task has the same task version, spec and evaluated data; otherwise the error
says which task and what differs.
"""

from __future__ import annotations

import statistics

from benchmark.errors import BenchError

HEADLINE_METRICS = {
    "mcc": ("matthews_correlation",),
    "accuracy": ("accuracy",),
    "f1_accuracy": ("f1", "accuracy"),
    "pearson_spearman": ("pearson", "spearmanr"),
    "squad": ("exact_match", "f1"),
    "seqeval": ("f1",),
}


def combined_score(entry: dict) -> float:
    """The mean of a task's headline metrics (its GLUE-style single number)."""
    metrics = entry["metrics"]
    for names in HEADLINE_METRICS.values():
        if all(n in metrics for n in names) and entry["main_score_name"] in names:
            return statistics.fmean(metrics[n] for n in names)
    return entry["main_score"]


def _data_key(entry: dict) -> str | None:
    """What identifies the evaluated data: a content hash, else the Hub source and revision."""
    data = entry.get("data") or {}
    if data.get("sha256"):
        return data["sha256"]
    return f"{data.get('source')}/{data.get('config')}@{data.get('revision')}"


def check_comparable(a: dict, b: dict, a_name: str, b_name: str) -> list[str]:
    """The tasks both results hold; an error naming the first task that differs."""
    shared = [t for t in a.get("tasks", {}) if t in b.get("tasks", {})]
    for task in shared:
        x, y = a["tasks"][task], b["tasks"][task]
        checks = [
            ("task version", x.get("task_version"), y.get("task_version")),
            ("task spec", x.get("spec_hash"), y.get("spec_hash")),
            ("evaluated data", _data_key(x), _data_key(y)),
            ("evaluated examples", x["n_examples"]["evaluated"], y["n_examples"]["evaluated"]),
        ]
        for what, left, right in checks:
            if left != right:
                raise BenchError(
                    f"cannot compare {a_name} with {b_name}: task {task} has a different {what} "
                    f"({left} vs {right}); re-run both with the same suite version, data, --limit"
                )
    return shared


def _ratio(student: float, teacher: float) -> float | None:
    return None if teacher <= 0 else 100 * student / teacher


def _delta(student: float | None, teacher: float | None) -> float | None:
    if student is None or teacher is None or teacher == 0:
        return None
    return 100 * (student - teacher) / teacher


def cost_changes(student_speed: list[dict], teacher_speed: list[dict]) -> list[dict]:
    """Latency and memory change at each (length, batch) both measured successfully."""
    teacher_by_shape = {
        (m["seq_len"], m["batch_size"]): m for m in teacher_speed if m.get("status") == "ok"
    }
    changes = []
    for s in student_speed:
        t = teacher_by_shape.get((s["seq_len"], s["batch_size"]))
        if s.get("status") != "ok" or t is None:
            continue
        s_ms, t_ms = s["latency_ms"]["median"], t["latency_ms"]["median"]
        changes.append(
            {
                "seq_len": s["seq_len"],
                "batch_size": s["batch_size"],
                "device": s.get("device"),
                "latency_change_percent": _delta(s_ms, t_ms),
                "speedup": t_ms / s_ms if s_ms else None,
                "peak_memory_change_percent": _delta(
                    s.get("peak_memory_mb"), t.get("peak_memory_mb")
                ),
            }
        )
    return changes


def retention(
    student: dict, teacher: dict, student_name: str = "student", teacher_name: str = "teacher"
) -> dict:
    """The retention block stored in the student's result file."""
    shared = check_comparable(student, teacher, student_name, teacher_name)
    tasks, combined = {}, []
    for task in shared:
        s, t = student["tasks"][task], teacher["tasks"][task]
        s_combined, t_combined = combined_score(s), combined_score(t)
        retained_combined = _ratio(s_combined, t_combined)
        tasks[task] = {
            "main_score_name": s["main_score_name"],
            "student": s["main_score"],
            "teacher": t["main_score"],
            "retained_percent": _ratio(s["main_score"], t["main_score"]),
            "student_combined": s_combined,
            "teacher_combined": t_combined,
            "retained_percent_combined": retained_combined,
        }
        if retained_combined is not None:
            combined.append(retained_combined)
    return {
        "teacher": {"name": teacher.get("model", {}).get("name"), "model": teacher.get("model")},
        "tasks": tasks,
        "retained_percent_macro": statistics.fmean(combined) if combined else None,
        "tasks_without_ratio": [
            t for t, v in tasks.items() if v["retained_percent_combined"] is None
        ],
        "cost": cost_changes(
            (student.get("speed") or {}).get("measurements", []),
            (teacher.get("speed") or {}).get("measurements", []),
        ),
    }
