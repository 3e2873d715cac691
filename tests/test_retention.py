"""Retained percent, the macro average and cost changes on hand-made result files, and the
refusal to compare results that measured different things."""

from __future__ import annotations

import copy
import json
import re

import pytest
from typer.testing import CliRunner

from benchmark.errors import BenchError
from benchmark.retention import retention as compute_retention
from benchmark.run_result import parse_result
from gonerd_bench.cli import app


def task(main_name: str, metrics: dict, version: int = 1, sha: str = "abc") -> dict:
    return {
        "task_version": version,
        "spec_hash": f"spec-v{version}",
        "task_key": "key",
        "family": "token_classification",
        "protocol": "finetune",
        "split": "test",
        "main_score_name": main_name,
        "main_score": metrics[main_name],
        "metrics": metrics,
        "n_examples": {"original": 100, "evaluated": 100},
        "data": {"sha256": sha},
    }


def speed(median_ms: float, peak_mb: float, seq_len: int = 4096) -> dict:
    return {
        "measurements": [
            {
                "seq_len": seq_len,
                "batch_size": 16,
                "status": "ok",
                "device": "cuda",
                "latency_ms": {
                    "median": median_ms,
                    "p90": median_ms,
                    "min": median_ms,
                    "max": median_ms,
                },
                "peak_memory_mb": peak_mb,
            }
        ]
    }


def result(name: str, tasks: dict, speed_block: dict | None = None) -> dict:
    return {
        "format": "gonerd-bench-result",
        "schema_version": 2,
        "config": {},
        "model": {"name": name},
        "provenance": {
            "suite": {"name": "gonerd-bench", "version": "0.1.0"},
            "python": "3.11.7",
            "libraries": {"torch": "2.13.0"},
            "hardware": {"device": "cuda"},
            "seed": 42,
            "started_at": "2026-11-26T00:00:00+00:00",
        },
        "tasks": tasks,
        "speed": None if speed_block is None else {"settings": {}, **speed_block},
    }


def retention(student: dict, teacher: dict) -> dict:
    """The retention block of two hand-made result files, as plain data."""
    return compute_retention(parse_result(student), parse_result(teacher)).model_dump()


TEACHER = result(
    "teacher",
    {
        "mrpc": task("f1", {"f1": 90.0, "accuracy": 86.0}),
        "gonerd": task("f1", {"f1": 80.0, "precision": 79.0, "recall": 81.0}),
    },
    speed(1000.0, 8000.0),
)
STUDENT = result(
    "student",
    {
        "mrpc": task("f1", {"f1": 81.0, "accuracy": 77.4}),
        "gonerd": task("f1", {"f1": 78.0, "precision": 77.0, "recall": 79.0}),
    },
    speed(548.0, 7792.0),
)


def test_retained_percent_per_task_macro_and_cost():
    block = retention(STUDENT, TEACHER)
    assert block["tasks"]["mrpc"]["retained_percent"] == pytest.approx(90.0)  # 81 / 90
    # MRPC averages F1 and accuracy first: (81 + 77.4) / (90 + 86) = 79.2 / 88 = 90%
    assert block["tasks"]["mrpc"]["retained_percent_combined"] == pytest.approx(90.0)
    assert block["tasks"]["gonerd"]["retained_percent"] == pytest.approx(97.5)
    assert block["retained_percent_macro"] == pytest.approx((90.0 + 97.5) / 2)
    assert (
        block["tasks"]["gonerd"]["teacher"] == 80.0 and block["tasks"]["gonerd"]["student"] == 78.0
    )
    (cost,) = block["cost"]
    assert cost["latency_change_percent"] == pytest.approx(-45.2)  # the paper's average cut
    assert cost["speedup"] == pytest.approx(1000 / 548)
    assert cost["peak_memory_change_percent"] == pytest.approx(-2.6)


def test_a_zero_teacher_score_gives_no_ratio_instead_of_a_crash():
    teacher = copy.deepcopy(TEACHER)
    teacher["tasks"]["gonerd"] = task("f1", {"f1": 0.0})
    student = copy.deepcopy(STUDENT)
    student["tasks"]["gonerd"] = task("f1", {"f1": 0.0})
    block = retention(student, teacher)
    assert block["tasks"]["gonerd"]["retained_percent"] is None
    assert block["tasks_without_ratio"] == ["gonerd"]
    assert block["retained_percent_macro"] == pytest.approx(90.0)


@pytest.mark.parametrize(
    ("change", "what"),
    [
        (lambda t: t.update(task_version=2, spec_hash="spec-v2"), "task version (1 vs 2)"),
        (lambda t: t["data"].update(sha256="other"), "evaluated data (abc vs other)"),
        (lambda t: t["n_examples"].update(evaluated=50), "evaluated examples (100 vs 50)"),
    ],
)
def test_mismatched_results_are_refused_naming_the_task(change, what):
    teacher = copy.deepcopy(TEACHER)
    change(teacher["tasks"]["gonerd"])
    with pytest.raises(BenchError, match=rf"task gonerd has a different {re.escape(what)}"):
        retention(STUDENT, teacher)


def test_compare_renders_markdown_json_and_refuses_mismatches(tmp_path):
    (tmp_path / "t.json").write_text(json.dumps(TEACHER))
    (tmp_path / "s.json").write_text(json.dumps(STUDENT))
    runner = CliRunner()
    md = runner.invoke(
        app, ["compare", str(tmp_path / "t.json"), str(tmp_path / "s.json"), "--format", "md"]
    )
    assert md.exit_code == 0, md.output
    assert "| mrpc | 90.00 | 81.00 (90.0%) |" in md.stdout
    assert "| retained, macro |  | 93.8% (macro over 2 tasks) |" in md.stdout
    assert "1.82x, -45.2%; mem -2.6%" in md.stdout
    data = json.loads(
        runner.invoke(
            app, ["compare", str(tmp_path / "t.json"), str(tmp_path / "s.json"), "--format", "json"]
        ).stdout
    )
    assert data["results"][1]["retained_percent_macro"] == pytest.approx(93.75)
    # a task whose teacher scored 0 has no ratio: the macro says it is left out
    zero = copy.deepcopy(TEACHER)
    zero["tasks"]["gonerd"]["main_score"] = 0.0
    zero["tasks"]["gonerd"]["metrics"] = {"f1": 0.0, "precision": 0.0, "recall": 0.0}
    (tmp_path / "zero.json").write_text(json.dumps(zero))
    table = runner.invoke(
        app, ["compare", str(tmp_path / "zero.json"), str(tmp_path / "s.json"), "--format", "md"]
    )
    assert (
        "(macro over 1 of 2 tasks; left out, the teacher at 0 or below: gonerd) |" in table.stdout
    )
    bad = copy.deepcopy(TEACHER)
    bad["tasks"]["mrpc"]["task_version"] = 3
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    refused = runner.invoke(app, ["compare", str(tmp_path / "bad.json"), str(tmp_path / "s.json")])
    assert refused.exit_code != 0
    assert "task mrpc has a different task version" in str(refused.exception)
