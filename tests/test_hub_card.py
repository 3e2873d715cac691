"""`bench card`: a result's scores in its model's card as the Hub reads them (model-index
and .eval_results), written by huggingface_hub's own card code and read back with it, and
sent to the Hub through a stand-in client that records the commit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from huggingface_hub import ModelCard, parse_eval_result_entries

from benchmark import hub_push
from benchmark.hub_card import EVAL_RESULTS_FILE, build_card
from benchmark.run_result import read_result
from benchmark.tasks import TASKS
from tests.helpers import ROOT, RecordingHub, bench

SUBMISSIONS = ROOT / "leaderboard" / "submissions"
STUDENT = "all-MiniLM-L6-v2-3-layers-0-2-4"


@pytest.fixture
def student_result(tmp_path) -> Path:
    """The sample board's student result (it has a teacher, a cost block and predictions)."""
    path = tmp_path / f"{STUDENT}.json"
    shutil.copy(SUBMISSIONS / f"{STUDENT}.json", path)
    shutil.copytree(SUBMISSIONS / f"{STUDENT}.predictions", tmp_path / f"{STUDENT}.predictions")
    return path


def card_metrics(card: ModelCard, task: str) -> dict[str, list[float]]:
    """A task's metrics in a card (metric type -> values), found by its Hub dataset."""
    spec = TASKS[task]
    found: dict[str, list[float]] = {}
    for e in card.data.eval_results:
        if (e.dataset_type, e.dataset_config) == (spec.hub_id, spec.hub_config):
            found.setdefault(e.metric_type, []).append(e.metric_value)
    return found


def test_every_headline_metric_retention_and_speed_up_read_back(student_result, tmp_path):
    folder = tmp_path / "model"
    done = bench("card", str(student_result), "--model-dir", str(folder))
    assert done.returncode == 0, done.stderr
    card = ModelCard.load(folder / "README.md")
    result = read_result(student_result)
    for task, entry in result.tasks.items():
        found = card_metrics(card, task)
        assert found[entry.main_score_name] == [entry.main_score]
        kept = result.retention.tasks.get(task)
        if kept is not None and kept.retained_percent is not None:
            assert found["retained_percent"] == [kept.retained_percent]
        assert sorted(found["speedup"]) == sorted(c.speedup for c in result.retention.cost)
    assert card_metrics(card, "mrpc").keys() >= {"f1", "accuracy"}  # both headline metrics
    assert card.data.base_model == "sentence-transformers/all-MiniLM-L6-v2"  # the bundled teacher
    assert all(e.verified is None for e in card.data.eval_results)
    # every task here is a bundled sample: nothing goes to .eval_results, and the card says why
    assert not (folder / EVAL_RESULTS_FILE).exists()
    assert "scored on the bundled sample" in card.text
    # and the command says so once per reason, naming every task
    said = [line for line in done.stdout.splitlines() if line.startswith("not in ")]
    assert len(said) == 1 and all(task in said[0] for task in result.tasks), done.stdout


def test_writing_twice_changes_nothing_and_keeps_the_cards_own_content(student_result, tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "README.md").write_text(
        "---\nlicense: mit\nmodel-index:\n- name: mine\n  results:\n"
        "  - task: {type: text-classification}\n"
        "    dataset: {type: nyu-mll/glue, name: GLUE rte, config: rte, split: validation}\n"
        "    metrics: [{type: accuracy, value: 71.5, name: my own evaluation}]\n"
        "    source: {name: Mine, url: 'https://example.org'}\n---\n# My model\n\nIts prose.\n"
    )
    bench("card", str(student_result), "--model-dir", str(folder), check=True)
    once = (folder / "README.md").read_text()
    bench("card", str(student_result), "--model-dir", str(folder), check=True)
    assert (folder / "README.md").read_text() == once
    card = ModelCard.load(folder / "README.md")
    assert card.data.license == "mit" and "# My model\n\nIts prose." in card.text
    rte = [e for e in card.data.eval_results if e.dataset_config == "rte"]
    assert [e.metric_value for e in rte if e.metric_name == "my own evaluation"] == [71.5]
    assert len([e for e in rte if e.metric_type == "accuracy"]) == 2  # theirs and ours, once
    assert card.text.count("GONERD Bench results") == 1


def test_scores_on_the_official_split_go_to_eval_results(tmp_path):
    """A task scored on the whole Hub split is in .eval_results with the same number; the
    file parses with huggingface_hub's own reader."""
    data = json.loads((SUBMISSIONS / f"{STUDENT}.json").read_text())
    conll = data["tasks"]["conll2003"]
    conll["data"] = {"source": "eriktks/conll2003", "config": None, "revision": "abc123"}
    conll["n_examples"] = {"original": 3453, "evaluated": 3453}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    contents = build_card(read_result(path), None, None, "https://example.org/gonerd-bench")
    entries = parse_eval_result_entries(yaml.safe_load(contents.eval_results_yaml()))
    assert [(e.dataset_id, e.task_id, e.value) for e in entries] == [
        ("eriktks/conll2003", "conll2003", conll["main_score"])
    ]
    assert entries[0].dataset_revision == "abc123" and entries[0].source_name == "GONERD Bench"
    assert "conll2003" not in contents.left_out and "gonerd" in contents.left_out
    card = ModelCard(str(contents.card))
    ours = [e for e in card.data.eval_results if e.dataset_type == "eriktks/conll2003"]
    assert {e.source_url for e in ours} == {"https://example.org/gonerd-bench"}
    assert {e.dataset_revision for e in ours} == {"abc123"}


def test_push_sends_the_card_and_the_result_in_one_commit(student_result, tmp_path, monkeypatch):
    hub = RecordingHub(tmp_path, "---\nlicense: apache-2.0\n---\n# On the Hub\n")
    monkeypatch.setattr(hub_push, "hub_client", lambda: hub)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    args = ("card", str(student_result), "--repo-id", "me/student", "--push", "--with-results")
    done = bench(*args)
    assert done.returncode == 0, done.stderr
    assert "pushed: https://hub.test/me/student/commit/1" in done.stdout
    (commit,) = hub.commits
    assert commit["repo"] == "me/student" and STUDENT in commit["message"]
    predictions = sorted((student_result.parent / f"{STUDENT}.predictions").glob("*.jsonl"))
    assert set(commit["files"]) == {
        "README.md",
        f"gonerd-bench/{STUDENT}.json",
        *(f"gonerd-bench/{STUDENT}.predictions/{p.name}" for p in predictions),
    }
    assert commit["files"][f"gonerd-bench/{STUDENT}.json"] == student_result.read_bytes()
    sent = ModelCard(commit["files"]["README.md"].decode())
    assert sent.data.license == "apache-2.0" and "# On the Hub" in sent.text  # the Hub's card
    assert sent.data.base_model == "sentence-transformers/all-MiniLM-L6-v2"
    # the card sent is the one written beside the result
    local = student_result.with_name(f"{STUDENT}.card") / "README.md"
    assert local.read_bytes() == commit["files"]["README.md"]
    # --dry-run: the card and the commit it would make, nothing written or sent
    local.unlink()
    shown = bench(*args, "--dry-run")
    assert "would send to me/student: README.md" in shown.stdout and not local.exists()
    assert len(hub.commits) == 1


def test_offline_and_missing_targets_fail_in_one_line(student_result, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    done = bench("card", str(student_result), "--repo-id", "me/student", "--push")
    assert done.returncode == 2
    assert done.stderr.startswith("error: HF_HUB_OFFLINE is set") and done.stderr.count("\n") == 1
    missing = bench("card", str(tmp_path / "nope.json"), "--model-dir", str(tmp_path))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    nowhere = bench("card", str(student_result))  # no recorded folder or Hub id
    assert nowhere.returncode == 2 and "--model-dir DIR or --repo-id" in nowhere.stderr
    no_repo = bench("card", str(student_result), "--model-dir", str(tmp_path / "m"), "--push")
    assert no_repo.returncode == 2 and "--push needs a repository" in no_repo.stderr
    alone = bench("card", str(student_result), "--model-dir", str(tmp_path / "m"), "--with-results")
    assert alone.returncode == 2 and "--with-results sends the result file" in alone.stderr
    assert not (tmp_path / "m").exists()
