"""The published schemas: the entry's is committed beside the board and must match the
code; the result's is printed by `bench schema result` and validates a real result."""

from __future__ import annotations

import json
from pathlib import Path

from leaderboard.entry import entry_schema
from leaderboard.store import DEFAULT_BOARD, board_problems, read_board
from tests.helpers import bench as run_bench

ROOT = Path(__file__).resolve().parents[1]


def bench(*args) -> str:
    return run_bench(*args, check=True).stdout


def test_the_committed_entry_schema_is_the_codes():
    committed = json.loads((ROOT / "leaderboard" / "entry.schema.json").read_text())
    assert committed == entry_schema() == json.loads(bench("leaderboard", "schema"))
    assert committed["properties"]["entry_id"]["pattern"] == "^[0-9a-f]{64}$"


def test_the_result_schema_describes_a_real_result(tiny_result):
    schema = json.loads(bench("schema", "result"))
    assert schema["title"] == "RunResult"
    required = set(schema["required"])
    assert {"config", "model", "provenance"} <= required
    result = json.loads(tiny_result.read_text())
    assert required <= set(result) and result["schema_version"] == 2
    task = schema["$defs"]["TaskResult"]
    assert {"main_score_name", "split", "main_score"} <= set(task["required"])
    assert set(task["required"]) <= set(result["tasks"]["sst2"])
    # the gold labels counted on the 64 validation sentences (28 negative, 36 positive):
    # the majority guess a report holds a classifier's accuracy against
    assert result["tasks"]["sst2"]["label_counts"] == {"negative": 28, "positive": 36}
    assert result["tasks"]["conll2003"]["label_counts"] is None


def test_the_repositorys_own_board_is_valid_and_verifiable():
    board = read_board(DEFAULT_BOARD)
    assert board_problems(board) == []
    assert board.entries, "the board holds this suite's own entries"
    for entry in board.entries:
        assert entry.sample_data and entry.verified == "recomputed"
        assert entry.suite.dirty is False  # made from a committed suite
        kept = ROOT / "leaderboard" / "submissions"
        if entry.data_label == "study":  # the study's models, from scripts/submit_study.sh
            kept = kept / "study"
        assert (kept / f"{_slug(entry.model.name)}.json").exists()
    assert sum(e.data_label == "study" for e in board.entries) == 16


def _slug(name: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")


def test_every_schema_version_has_a_fixture_that_loads():
    from benchmark.run_result import SCHEMA_VERSION, read_result

    folder = ROOT / "tests" / "fixtures" / "results"
    versions = {}
    for path in sorted(folder.glob("format-*.json")):
        raw = json.loads(path.read_text())
        versions[raw.get("schema_version", raw.get("format_version"))] = read_result(path)
    assert sorted(versions) == list(range(1, SCHEMA_VERSION + 1))
    student = versions[2]
    assert student.retention.teacher["name"] == "all-MiniLM-L6-v2"
    conll = student.tasks["conll2003"]
    assert sum(b["n_examples"] for b in conll.buckets.values()) == conll.n_examples.evaluated
    assert student.retention.tasks["conll2003"].buckets["< 512"] is not None
