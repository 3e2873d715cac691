"""Scores by input length: bucket assignment at every boundary, per-bucket scores on
hand-made documents, the buckets of a real run, and per-bucket retention in compare."""

from __future__ import annotations

import json

import pytest

from benchmark.buckets import bucket_labels, bucket_of, bucket_scores
from benchmark.metrics import entity_scores
from tests.helpers import run_config

BOUNDS = (512, 2048, 4096)


@pytest.mark.parametrize(
    ("length", "label"),
    [
        (1, "< 512"),
        (511, "< 512"),
        (512, "512-2047"),
        (2047, "512-2047"),
        (2048, "2048-4095"),
        (4095, "2048-4095"),
        (4096, ">= 4096"),
        (100_000, ">= 4096"),
    ],
)
def test_a_length_just_under_and_over_each_boundary(length, label):
    assert bucket_of(length, BOUNDS) == label


def test_per_bucket_scores_on_hand_made_documents():
    assert bucket_labels(BOUNDS) == ["< 512", "512-2047", "2048-4095", ">= 4096"]
    # four one-entity documents: the two short ones found, the 2048-token one missed,
    # the 4096-token one found with a second, wrong entity
    references = [["B-PER", "O"], ["B-LOC", "O"], ["B-ORG", "O"], ["B-PER", "O"]]
    predictions = [["B-PER", "O"], ["B-LOC", "O"], ["O", "O"], ["B-PER", "B-LOC"]]
    lengths = [511, 12, 2048, 4096]
    windowed = [False, False, True, True]
    truncated = [False, False, False, True]
    buckets = bucket_scores(
        BOUNDS, lengths, windowed, truncated, predictions, references, entity_scores, "f1"
    )
    assert list(buckets) == ["< 512", "2048-4095", ">= 4096"]  # 512-2047 is empty
    assert buckets["< 512"]["n_examples"] == 2 and buckets["< 512"]["main_score"] == 100.0
    assert buckets["2048-4095"]["main_score"] == 0.0  # nothing found: P = R = 0
    # >= 4096: 1 right of 2 predicted (P 1/2), 1 of 1 gold (R 1): F1 = 2/3
    assert buckets[">= 4096"]["main_score"] == pytest.approx(200 / 3)
    assert buckets[">= 4096"]["inputs"] == {"whole": 0, "windowed": 1, "truncated": 1}
    assert buckets["< 512"]["inputs"] == {"whole": 2, "windowed": 0, "truncated": 0}


def test_a_run_reports_its_buckets(tiny_bert, tmp_path):
    from transformers import AutoTokenizer

    from benchmark import runner
    from benchmark.results import read_jsonl
    from gonerd import load_dataset

    config = run_config(tiny_bert, "gonerd,hotpotqa", tmp_path / "r.json")
    result = json.loads(runner.run(config).read_text())
    entry = result["tasks"]["gonerd"]
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    documents = load_dataset("gonerd", "sample", split="test")["tokens"]
    lengths = [len(tokenizer(d, is_split_into_words=True)["input_ids"]) for d in documents]
    expected: dict[str, list[int]] = {}
    for index, length in enumerate(lengths):
        expected.setdefault(bucket_of(length, BOUNDS), []).append(index)
    buckets = entry["buckets"]
    assert {k: v["n_examples"] for k, v in buckets.items()} == {
        k: len(v) for k, v in expected.items()
    }
    rows = read_jsonl(entry["predictions_file"])
    for label, members in expected.items():
        scores = entity_scores(
            [rows[i]["prediction"] for i in members], [rows[i]["reference"] for i in members]
        )
        assert buckets[label]["main_score"] == scores["f1"]
        # the tiny model reads 512 tokens: everything from 512 on is read in windows
        windowed = sum(lengths[i] > 512 for i in members)
        assert buckets[label]["inputs"]["windowed"] == windowed

    # HotpotQA: each question with its ten joined paragraphs, tokenised whole
    from benchmark.families.qa_examples import qa_examples
    from benchmark.metrics import squad_scores
    from benchmark.task_data import load_task_split
    from benchmark.tasks import TASKS

    qa = result["tasks"]["hotpotqa"]
    examples = qa_examples(
        "hotpotqa", load_task_split(TASKS["hotpotqa"], "validation", "bundled")[0]
    )
    pairs = tokenizer([e.question.lstrip() for e in examples], [e.context for e in examples])
    rows = read_jsonl(qa["predictions_file"])
    found: dict[str, list[int]] = {}
    for index, ids in enumerate(pairs["input_ids"]):
        found.setdefault(bucket_of(len(ids), BOUNDS), []).append(index)
    assert {k: v["n_examples"] for k, v in qa["buckets"].items()} == {
        k: len(v) for k, v in found.items()
    }
    for label, members in found.items():
        scores = squad_scores(
            [rows[i]["prediction"] for i in members], [rows[i]["reference"] for i in members]
        )
        assert qa["buckets"][label]["main_score"] == scores["f1"]


def test_compare_shows_retained_percent_per_bucket(tmp_path):
    from test_retention import STUDENT, TEACHER
    from typer.testing import CliRunner

    from gonerd_bench.cli import app

    teacher, student = json.loads(json.dumps(TEACHER)), json.loads(json.dumps(STUDENT))
    teacher["tasks"]["gonerd"]["buckets"] = {
        "< 512": {"n_examples": 60, "main_score": 90.0, "metrics": {}, "inputs": {}},
        ">= 4096": {"n_examples": 40, "main_score": 60.0, "metrics": {}, "inputs": {}},
    }
    student["tasks"]["gonerd"]["buckets"] = {
        "< 512": {"n_examples": 60, "main_score": 88.2, "metrics": {}, "inputs": {}},
        ">= 4096": {"n_examples": 40, "main_score": 42.0, "metrics": {}, "inputs": {}},
    }
    (tmp_path / "t.json").write_text(json.dumps(teacher))
    (tmp_path / "s.json").write_text(json.dumps(student))
    shown = CliRunner().invoke(
        app, ["compare", str(tmp_path / "t.json"), str(tmp_path / "s.json"), "--format", "md"]
    )
    assert shown.exit_code == 0, shown.output
    # 88.2 / 90 = 98 % on short documents; 42 / 60 = 70 % on the longest
    assert "gonerd < 512 tokens (n=60) | 90.00 | 88.20 (98.0%) |" in shown.stdout
    assert "gonerd >= 4096 tokens (n=40) | 60.00 | 42.00 (70.0%) |" in shown.stdout
