"""Scores over several seeds: mean and standard deviation worked out by hand, the spread of a
retained percentage, a real `bench run --seeds`, and a leaderboard that checks and shows it."""

from __future__ import annotations

import json
import math

import pytest

from benchmark.errors import BenchError
from benchmark.reuse import reusable_tasks
from benchmark.run_result import TaskResult, parse_result
from benchmark.seeds import aggregate_seeds, mean_std, ratio_spread
from tests.helpers import measure_here
from tests.test_retention import result, retention, task


def seeded(main: str, per_seed: dict[int, dict]) -> dict:
    """A task result run over the given seeds (seed -> metrics), as bench run writes it."""
    runs = {s: TaskResult.model_validate(task(main, m)) for s, m in per_seed.items()}
    return aggregate_seeds(runs, "key").model_dump(mode="json")


def test_mean_and_sample_deviation_by_hand():
    # 60, 62, 67: mean 63; deviations -3, -1, 4; squares 9 + 1 + 16 = 26; 26 / (3 - 1) = 13
    mean, std = mean_std([60.0, 62.0, 67.0])
    assert mean == 63.0 and std == pytest.approx(math.sqrt(13))
    assert mean_std([5.0]) == (5.0, None)


def test_a_task_over_seeds_is_the_mean_with_every_seed_kept():
    entry = seeded(
        "f1",
        {
            3: {"f1": 67.0, "precision": 70.0, "per_type": {"PER": 80.0, "LOC": 50.0}},
            1: {"f1": 60.0, "precision": 60.0, "per_type": {"PER": 70.0, "LOC": 40.0}},
            2: {"f1": 62.0, "precision": 65.0, "per_type": {"PER": 75.0}},
        },
    )
    assert entry["seeds"] == [1, 2, 3]
    assert entry["main_score"] == 63.0 == entry["metrics"]["f1"]
    assert entry["main_score_std"] == pytest.approx(math.sqrt(13))
    assert entry["metrics"]["precision"] == pytest.approx(65.0)
    # a breakdown is averaged where every seed has it
    assert entry["metrics"]["per_type"] == {"PER": 75.0}
    assert [entry["seed_runs"][s]["main_score"] for s in ("1", "2", "3")] == [60.0, 62.0, 67.0]
    assert entry["predictions_file"] is None


def test_the_gold_labels_over_seeds_are_those_the_mean_was_scored_on():
    def run(counts: dict | None) -> TaskResult:
        entry = TaskResult.model_validate(task("accuracy", {"accuracy": 70.0}))
        return entry.model_copy(update={"label_counts": counts})

    same = {"no": 63, "yes": 137}
    assert aggregate_seeds({1: run(same), 2: run(same)}, "k").label_counts == same
    # --limit scores a different subset per seed: the mean is held against their sum
    other = {"no": 70, "yes": 130}
    assert aggregate_seeds({1: run(same), 2: run(other)}, "k").label_counts == {
        "no": 133,
        "yes": 267,
    }
    assert aggregate_seeds({1: run(same), 2: run(None)}, "k").label_counts is None


def test_seeds_of_different_task_versions_are_refused():
    one = TaskResult.model_validate(task("f1", {"f1": 1.0}, version=1))
    two = TaskResult.model_validate(task("f1", {"f1": 1.0}, version=2))
    with pytest.raises(BenchError, match="seed 2 of this task has a different task version"):
        aggregate_seeds({1: one, 2: two}, "key")


def test_retained_percent_carries_the_spread_of_both_sides():
    student = result("s", {"conll2003": seeded("f1", {1: {"f1": 60.0}, 2: {"f1": 62.0}})})
    teacher = result("t", {"conll2003": seeded("f1", {1: {"f1": 78.0}, 2: {"f1": 82.0}})})
    block = retention(student, teacher)
    kept = block["tasks"]["conll2003"]
    # means 61 and 80; deviations sqrt(2) and sqrt(8)
    assert kept["retained_percent"] == pytest.approx(100 * 61 / 80)
    assert kept["student_std"] == pytest.approx(math.sqrt(2))
    assert kept["teacher_std"] == pytest.approx(math.sqrt(8))
    # 100 * sqrt(2 / 80^2 + 61^2 * 8 / 80^4) = 100 * sqrt(0.0003125 + 0.00072676) = 3.22375
    assert kept["retained_percent_std"] == pytest.approx(3.22375, abs=1e-4)
    assert kept["seeds"] == [1, 2]
    # one task: the macro's spread is that task's (headline metric = main score here)
    assert block["retained_percent_macro_std"] == pytest.approx(kept["retained_percent_std"])
    assert ratio_spread((1.0, None), (2.0, 0.1)) is None


def test_results_over_different_seeds_are_not_compared():
    student = result("s", {"conll2003": seeded("f1", {1: {"f1": 60.0}, 2: {"f1": 62.0}})})
    teacher = result("t", {"conll2003": seeded("f1", {1: {"f1": 78.0}, 3: {"f1": 82.0}})})
    with pytest.raises(BenchError, match=r"different list of seeds \(\[1, 2\] vs \[1, 3\]\)"):
        retention(student, teacher)


@pytest.fixture(scope="module")
def seeded_run(tiny_bert, tmp_path_factory):
    """A real `bench run --seeds 1,2` of the tiny BERT on a whole bundled sample."""
    from benchmark import runner
    from benchmark.config import build_config

    folder = tmp_path_factory.mktemp("seeds")
    config = build_config(
        {
            "model": str(tiny_bert),
            "name": "tiny-bert-seeds",
            "tasks": "sst2",
            "data_dir": "bundled",
            "epochs": 1.0,
            "batch_size": 16,
            "seeds": "1,2",
            "save_predictions": True,
            "speed_seq_len": [32],
            "speed_batch_size": 2,
            "output": str(folder / "tiny-bert-seeds.json"),
        }
    )
    with pytest.MonkeyPatch.context() as patch:
        measure_here(patch)  # its speed block is not what these tests check
        return runner.run(config)


def test_bench_run_with_seeds_writes_each_seed_and_their_mean(seeded_run, tiny_bert):
    from benchmark.config import build_config

    data = json.loads(seeded_run.read_text())
    entry = data["tasks"]["sst2"]
    scores = [entry["seed_runs"][s]["main_score"] for s in ("1", "2")]
    assert entry["seeds"] == [1, 2] and data["config"]["seed"] == 1
    assert entry["main_score"] == pytest.approx(sum(scores) / 2)
    assert entry["main_score_std"] == pytest.approx(abs(scores[0] - scores[1]) / math.sqrt(2))
    for seed in ("1", "2"):
        run = entry["seed_runs"][seed]
        assert run["recipe"]["seed"] == int(seed)
        assert (
            seeded_run.parent / "tiny-bert-seeds.predictions" / f"sst2.seed{seed}.jsonl"
        ).is_file()
    # the same settings again reuse the task; the seeds as a single seed do not (the file
    # names the model's folder by its name only, so the run gives its path again)
    assert data["config"]["model"] == tiny_bert.name
    model = {"model": str(tiny_bert)}
    again = build_config(data["config"] | model | {"seeds": [1, 2]})
    assert parse_result(data).tasks["sst2"].task_key == again.task_key(
        parse_result(data).tasks["sst2"].spec_hash, "cpu"
    )
    assert reusable_tasks(
        parse_result(data), again, data["model"] | {}, _cpu(), "bundled"
    ).keys() == {"sst2"}
    single = build_config(data["config"] | model | {"seeds": None, "seed": 1})
    assert not reusable_tasks(parse_result(data), single, data["model"], _cpu(), "bundled")


def _cpu() -> str:
    return "cpu"


def test_a_seeded_result_goes_on_the_board_with_its_spread(seeded_run, tmp_path):
    from leaderboard.board import build_rows
    from leaderboard.entry import Entry
    from leaderboard.render import cells
    from leaderboard.validation import SubmissionError

    parsed = parse_result(json.loads(seeded_run.read_text()))
    entry = Entry.from_result(parsed, seeded_run, "2026-11-26T00:00:00+00:00", recompute=True)
    task_entry = entry.tasks["sst2"]
    assert task_entry.seeds == [1, 2]
    assert task_entry.main_score_std == pytest.approx(parsed.tasks["sst2"].main_score_std)
    assert task_entry.seed_scores == [r.main_score for r in parsed.tasks["sst2"].seed_runs.values()]
    _, body = cells(build_rows([entry], ["sst2"]), ["sst2"], "name")
    assert f"{task_entry.main_score:.2f} ± {task_entry.main_score_std:.2f}" in body[0]

    # a mean that is not the mean of its seeds is refused, naming the field
    data = json.loads(seeded_run.read_text())
    data["tasks"]["sst2"]["main_score"] += 1
    data["tasks"]["sst2"]["metrics"]["accuracy"] += 1
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(data))
    with pytest.raises(SubmissionError, match=r"tasks\.sst2\.main_score: .* not the main score"):
        Entry.from_result(parse_result(data), seeded_run, "2026-11-26T00:00:00+00:00")
