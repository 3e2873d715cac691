"""Results that leave the machine, end to end through `bench` on the bundled model: a
teacher and its 3-layer student are run (reporting to TensorBoard), both get model cards,
the student's card is pushed (to a stand-in that records the commit), and the board they are
submitted to is exported as a dataset that `datasets.load_dataset` reads."""

from __future__ import annotations

import json

import pytest
from huggingface_hub import ModelCard

from benchmark import hub_push
from benchmark.run_result import read_result
from tests.helpers import RecordingHub, bench

pytestmark = pytest.mark.slow


def card_metric(card: ModelCard, task: str, metric: str) -> list[float]:
    from benchmark.tasks import TASKS

    spec = TASKS[task]
    return [
        e.metric_value
        for e in card.data.eval_results
        if (e.dataset_type, e.dataset_config, e.metric_type)
        == (spec.hub_id, spec.hub_config, metric)
    ]


def test_scores_reach_cards_the_hub_a_tracker_and_a_loadable_board(
    minilm_path, tmp_path, monkeypatch, quick_profiles
):
    from baselines.student import cut_layers

    monkeypatch.chdir(tmp_path)
    student_dir = tmp_path / "student"
    cut_layers(str(minilm_path), student_dir, [0, 2, 4])
    student_file, teacher_file = tmp_path / "student.json", tmp_path / "teacher.json"
    done = bench(
        "run",
        "--model", str(student_dir),
        "--name", "minilm-l3",
        "--teacher", str(minilm_path),
        "--teacher-output", str(teacher_file),
        "--tasks", "sst2,conll2003",
        "--data-dir", "bundled",
        "--max-length", "64",
        "--epochs", "1",
        "--speed-seq-len", "64",
        "--speed-batch-size", "2",
        "--bootstrap", "200",
        "--save-predictions",
        "--report-to", "tensorboard",
        "--output", str(student_file),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    student, teacher = read_result(student_file), read_result(teacher_file)

    # the cards: every task's headline metric as in its result file, the teacher linked
    bench("card", str(teacher_file), "--model-dir", str(tmp_path / "teacher-card"), check=True)
    bench("card", str(student_file), "--model-dir", str(student_dir), check=True)
    cards = {
        "teacher": (ModelCard.load(tmp_path / "teacher-card" / "README.md"), teacher),
        "student": (ModelCard.load(student_dir / "README.md"), student),
    }
    for card, result in cards.values():
        for task, entry in result.tasks.items():
            assert card_metric(card, task, entry.main_score_name) == [entry.main_score]
    student_card = cards["student"][0]
    assert student_card.data.base_model == "sentence-transformers/all-MiniLM-L6-v2"
    assert cards["teacher"][0].data.base_model is None  # a teacher has no teacher
    kept = student.retention.tasks["sst2"].retained_percent
    assert card_metric(student_card, "sst2", "retained_percent") == [kept]

    # the push: one commit holding the card written here and the result
    hub = RecordingHub(tmp_path)
    monkeypatch.setattr(hub_push, "hub_client", lambda: hub)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    pushed = bench(
        "card", str(student_file), "--model-dir", str(student_dir),
        "--repo-id", "me/minilm-l3", "--push", "--with-results",
    )  # fmt: skip
    assert pushed.returncode == 0, pushed.stderr
    (commit,) = hub.commits
    assert commit["repo"] == "me/minilm-l3"
    assert commit["files"]["README.md"] == (student_dir / "README.md").read_bytes()
    assert commit["files"]["gonerd-bench/student.json"] == student_file.read_bytes()
    assert "gonerd-bench/student.predictions/sst2.jsonl" in commit["files"]
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    # the tracker: the fine-tuning curve and the file's own scores, read back from the events
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    runs = tmp_path / "student.runs"
    curve = EventAccumulator(str(runs / "sst2"))
    curve.Reload()
    assert any("loss" in tag for tag in curve.Tags()["scalars"])
    summary = EventAccumulator(str(runs / "summary"))
    summary.Reload()
    for task, entry in student.tasks.items():
        (event,) = summary.Scalars(f"score/{task}")
        assert event.value == pytest.approx(entry.main_score, rel=1e-6)

    # the board as a dataset: one row per entry, the board's own retention
    board = tmp_path / "board.json"
    for result in (teacher_file, student_file):
        bench("submit", str(result), "--leaderboard", str(board), "--recompute", check=True)
    exported = tmp_path / "board-data"
    bench("leaderboard", "export", str(exported), "--leaderboard", str(board), check=True)
    import datasets

    # a cache of its own, so that nothing another test prepared is read
    cache = str(tmp_path / "datasets-cache")
    rows = datasets.load_dataset(str(exported), split="train", cache_dir=cache)
    assert rows.num_rows == 2
    (row,) = [r for r in rows if r["model"] == "minilm-l3"]
    from leaderboard.board import build_rows
    from leaderboard.store import read_board

    entries = read_board(board).entries
    (ours,) = [r for r in build_rows(entries, ["sst2", "conll2003"]) if r.name == "minilm-l3"]
    assert row["retained:sst2"] == pytest.approx(ours.retained["sst2"])
    assert row["retained:sst2"] == pytest.approx(kept)
    assert json.loads(student_file.read_text())["retention"]["teacher"]["name"]
