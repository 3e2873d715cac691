"""Hand-made leaderboard entries for tests: every number chosen so the right answers can
be worked out by hand."""

from __future__ import annotations

import hashlib

from leaderboard.entry import Entry, canonical_id

DATA = "d" * 64


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def identity(name: str) -> dict:
    return {"name": name, "weights_sha256": sha(name), "dtype": "float32", "parameters": 1000}


def make_entry(
    name: str,
    scores: dict[str, float],
    speed: dict[int, float] | None = None,
    teacher: str | None = None,
    device: str = "Test CPU",
    suite: str = "0.1.0",
    data: dict[str, str] | None = None,
    claimed: dict[str, float | None] | None = None,
    submitted_at: str = "2026-11-26T00:00:00+00:00",
    sample_data: bool = False,
    extra: dict | None = None,
) -> Entry:
    """An entry with main score ``scores[task]`` (F1) per task and median latency
    ``speed[seq_len]`` ms at batch 16 on ``device``; ``extra``: more entry fields."""
    content = {
        "schema_version": 1,
        "model": identity(name),
        "teacher": identity(teacher) if teacher else None,
        "suite": {"version": suite},
        "tasks": {
            task: {
                "task_version": 1,
                "split": "test",
                "main_score_name": "f1",
                "main_score": score,
                "metrics": {"f1": score},
                "n_examples": {"original": 10, "evaluated": 10},
                "data": {"source": "test", "sha256": (data or {}).get(task, DATA)},
                "inputs": {"max_length": 512, "whole": 10, "windowed": 0, "truncated": 0},
            }
            for task, score in scores.items()
        },
        "speed": [
            {
                "seq_len": seq_len,
                "batch_size": 16,
                "device": "cpu",
                "device_name": device,
                "dtype": "float32",
                "latency_ms_median": ms,
                "latency_ms_p90": ms,
                "peak_memory_mb": 100.0,
            }
            for seq_len, ms in (speed or {}).items()
        ],
        "provenance": {"python": "3.11", "libraries": {}, "hardware": {}, "seed": 42},
        "sample_data": sample_data,
        "claimed_retention": None
        if claimed is None
        else {"teacher": teacher or "", "tasks": claimed},
        "entry_id": "0" * 64,
        "submitted_at": submitted_at,
    } | (extra or {})
    draft = Entry.model_validate(content)
    return draft.model_copy(update={"entry_id": canonical_id(draft.model_dump(mode="json"))})
