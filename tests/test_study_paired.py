"""The study page's floor and orders verdicts by the paired interval of the difference:
hand-made results of a one-architecture study over three seeds, each with its predictions
files, where which units each model gets right is chosen, so the paired interval's verdict
is known in advance; and the same results without predictions, judged by the seed spread."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from baselines.report import make_report
from baselines.report.load import load
from baselines.report.pairs import PairedComparison, StudyPairs, Unpaired
from baselines.report.stats import summary_points
from baselines.report.verdicts import floor_comparison, orders_comparison
from baselines.study import load_study
from benchmark.results import write_atomic, write_jsonl_atomic
from benchmark.retention import retention
from benchmark.run_result import Counts, RunResult, TaskResult, read_result
from benchmark.seeds import mean_std
from benchmark.tasks import TASKS

FIXTURE = Path(__file__).parent / "fixtures" / "results" / "study-seed1" / "bigbird-teacher.json"
UNITS = 100
SEEDS = (1, 2, 3)
# how many of the 100 units each model gets right, per task and seed (the first that
# many): a model right on more units is right on every unit the other is
RIGHT = {
    "teacher": {"sst2": (90, 90, 90), "rte": (90, 90, 90)},
    # far above the floor on sst2, the same predictions on rte
    "distill-then-convert": {"sst2": (88, 88, 88), "rte": (70, 70, 70)},
    # one or two units above the floor on sst2: seeds that agree give a spread far below
    # the gap, but a unit or two of 100 is what resampling the examples can take away
    "convert-then-distill": {"sst2": (61, 62, 61), "rte": (70, 70, 70)},
    "floor": {"sst2": (60, 60, 60), "rte": (70, 70, 70)},
}
ROLES = ("teacher", "convert-then-distill", "distill-then-convert", "floor")


def _study(tmp_path: Path) -> Path:
    content = {
        "name": "paired-study",
        "teacher": "bundled",
        "architectures": [{"to": "longformer", "max_length": 4096}],
        "distill": {"text": {"bundled": True}, "max_length": 64, "training": {"max_steps": 2}},
        "evaluation": {"tasks": "sst2,rte", "seeds": list(SEEDS)},
        "speed": {"seq_lens": [4096]},
    }
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(content))
    return path


def _task(task: str, right: dict[int, int], folder: Path | None, key: str) -> TaskResult:
    """``task`` scored at each seed, right on the first ``right[seed]`` units (labels
    alternate), its predictions written under ``folder`` (None: not saved)."""
    base = read_result(FIXTURE).tasks["sst2"]
    labels = TASKS[task].label_names
    counts = Counts(original=UNITS, evaluated=UNITS)
    runs = {}
    for seed, k in right.items():
        score = 100 * k / UNITS
        run = base.model_copy(
            update={"main_score": score, "metrics": {"accuracy": score}, "n_examples": counts}
        )
        run = run.model_copy(update={"seeds": None, "seed_runs": None})
        if folder is not None:
            rows = [
                {"id": i, "prediction": labels[(i + (i >= k)) % 2], "reference": labels[i % 2]}
                for i in range(UNITS)
            ]
            path = folder / f"{key}.predictions" / f"{task}.seed{seed}.jsonl"
            sha = write_jsonl_atomic(path, rows)
            run = run.model_copy(update={"predictions_file": str(path), "predictions_sha256": sha})
        runs[str(seed)] = run
    mean, std = mean_std(r.main_score for r in runs.values())
    return base.model_copy(
        update={
            "main_score": mean,
            "metrics": {"accuracy": mean},
            "main_score_std": std,
            "n_examples": counts,
            "seeds": list(right),
            "seed_runs": runs,
        }
    )


def _runs(tmp_path: Path, right=RIGHT, saved: bool = True) -> Path:
    """A study folder of merged results (and each student's time ratio at 4,096 tokens)."""
    runs = tmp_path / "runs"
    results = runs / "results"
    kept = runs / "elsewhere"  # where the sweep wrote them, not beside the merged files
    base = read_result(FIXTURE)
    made: dict[str, RunResult] = {}
    for role in ROLES:
        key = f"longformer-{role}"
        tasks = {
            task: _task(task, dict(zip(SEEDS, right[role][task])), kept if saved else None, key)
            for task in right[role]
        }
        made[key] = base.model_copy(update={"tasks": tasks, "retention": None}, deep=True)
    teacher = made["longformer-teacher"]
    for key, result in made.items():
        if key != "longformer-teacher":
            result.retention = retention(result, teacher, key, "longformer-teacher")
            ratio = {"seq_len": 4096, "status": "ok", "ratio": 0.5, "min": 0.49, "max": 0.51}
            ratio |= {"rounds": 4, "agreed": True, "batch_size": 1, "device": "cpu"}
            found = {"teacher": "longformer-teacher", "ratios": [ratio]}
            (runs / "time-ratios").mkdir(parents=True, exist_ok=True)
            (runs / "time-ratios" / f"{key}.json").write_text(json.dumps(found))
        write_atomic(results / f"{key}.json", result.to_json())
    return runs


def test_a_student_is_above_its_floor_by_the_paired_interval_and_the_page_says_why(tmp_path):
    study = load_study(_study(tmp_path))
    loaded = load(_runs(tmp_path), study)
    points = summary_points(loaded)
    pairs = StudyPairs(loaded)
    floors = floor_comparison(points, pairs)
    assert floors.compared == ("longformer-convert-then-distill", "longformer-distill-then-convert")
    clear = floors.differences["longformer-distill-then-convert"]
    assert clear.method == "paired" and clear.outcome == "above"
    assert isinstance(clear.paired, PairedComparison)
    # (88 + 70) / 2 - (60 + 70) / 2 = 14 of the teacher's 90: 15.6 points, all of it sst2's
    assert clear.paired.macro.value == pytest.approx(100 * 14 / 90)
    assert clear.paired.macro.interval[0] > 0
    assert clear.paired.driving == ("sst2",)
    # the same predictions on rte: a difference of 0 on every resample, driving nothing
    assert clear.paired.tasks["rte"].interval == (0.0, 0.0)
    assert clear.paired.tasks["sst2"].value == pytest.approx(100 * 28 / 90)
    assert clear.paired.seeds == SEEDS and clear.paired.teacher == "longformer-teacher"

    # the seed spread says convert-then-distill is above its floor: its seeds agree, so
    # the spread of the difference (0.3) is far below the gap (0.7); the paired interval
    # resamples the one or two units it is ahead on away, includes 0 and decides
    close = floors.differences["longformer-convert-then-distill"]
    assert close.spread is not None and close.gap > close.spread > 0
    assert close.method == "paired" and close.outcome == "within"
    low, high = close.paired.macro.interval
    assert low <= 0 < high and close.paired.driving == ()
    assert floors.above == ("longformer-distill-then-convert",) and floors.below == ()
    # without the pairs, the seed-spread rule would have had both above
    assert floor_comparison(points).above == floors.compared

    # the orders: distill-then-convert keeps more, by sst2
    (orders,) = orders_comparison(points, pairs)
    assert orders.method == "paired" and orders.outcome == "distill-then-convert"
    assert orders.difference.paired.driving == ("sst2",)

    page = make_report(study, tmp_path / "runs", tmp_path / "page").read_text()
    assert (
        "by the paired 95 % interval of the difference, 1 of 2 distilled students are above "
        "their floor (longformer-convert-then-distill within, +0.7 points [0.0, " in page
    )
    low = clear.paired.macro.interval[0]
    assert f"longformer-distill-then-convert above, +15.6 points [+{low:.1f}, " in page
    assert (
        f"gap in the tables +{clear.gap:.1f}, seed spread {clear.spread:.1f}, driven by sst2)"
        in page
    )
    assert "no task apart" in page
    assert (
        "distill-then-convert keeps more of the teacher's macro score on longformer (paired +"
        in page
    )
    assert "**How two models are compared**" in page and "seed spread alone" not in page
    # the page's data/ keeps each seed's predictions, so the page is made again from it
    copied = tmp_path / "page" / "data" / "results" / "longformer-floor.predictions"
    assert sorted(p.name for p in copied.iterdir()) == [
        f"{t}.seed{s}.jsonl" for t in ("rte", "sst2") for s in SEEDS
    ]
    (tmp_path / "runs" / "elsewhere").rename(tmp_path / "gone")
    again = make_report(study, tmp_path / "page" / "data", tmp_path / "page").read_text()
    assert again == page


def test_a_paired_interval_finds_what_the_seed_spread_cannot(tmp_path):
    # the floor and the student rise and fall together over the seeds (seed noise they
    # share), the student right on 5 more units at every seed: the two spreads, combined as
    # if independent, hide a gap the paired interval shows
    right = {role: dict(found) for role, found in RIGHT.items()}
    right["floor"] = {"sst2": (40, 60, 80), "rte": (50, 70, 90)}
    right["distill-then-convert"] = {"sst2": (45, 65, 85), "rte": (50, 70, 90)}
    right["convert-then-distill"] = right["floor"]
    study = load_study(_study(tmp_path))
    loaded = load(_runs(tmp_path, right), study)
    points = summary_points(loaded)
    judged = floor_comparison(points, StudyPairs(loaded)).differences
    shared = judged["longformer-distill-then-convert"]
    assert abs(shared.gap) < shared.spread  # the seed spread: within
    assert floor_comparison(points).above == ()
    assert shared.method == "paired" and shared.outcome == "above"
    assert shared.paired.driving == ("sst2",)
    # identical predictions: a difference of exactly 0, within
    same = judged["longformer-convert-then-distill"]
    assert same.outcome == "within" and same.paired.macro.interval == (0.0, 0.0)


def test_without_predictions_the_verdicts_fall_back_to_the_seed_spread_and_say_so(tmp_path):
    study = load_study(_study(tmp_path))
    loaded = load(_runs(tmp_path, saved=False), study)
    points = summary_points(loaded)
    pairs = StudyPairs(loaded)
    floors = floor_comparison(points, pairs)
    for d in floors.differences.values():
        assert d.method == "seed spread" and d.paired is None
        trio = (d.student.key, d.other.key, "longformer-teacher")
        assert d.unpaired == Unpaired(unsaved=trio)  # none of the three saved them
    # the seed spread's verdict, as without any pairs
    assert floors.above == floor_comparison(points).above == floors.compared
    (orders,) = orders_comparison(points, pairs)
    assert orders.method == "seed spread" and orders.outcome == "distill-then-convert"
    page = make_report(study, tmp_path / "runs", tmp_path / "page").read_text()
    assert page.count("the paired intervals need the study scored again") == 1
    assert (
        "Here no model's result file holds its predictions, so every comparison above is "
        "judged by the seed spread alone" in page
    )
    assert "2 of 2 distilled students are above their floor by more than the spread" in page
    assert "by the paired 95 % interval of the difference," not in page


def test_a_missing_predictions_file_leaves_only_its_comparisons_to_the_seed_spread(tmp_path):
    study = load_study(_study(tmp_path))
    runs = _runs(tmp_path)
    gone = runs / "elsewhere" / "longformer-convert-then-distill.predictions" / "rte.seed2.jsonl"
    gone.unlink()
    loaded = load(runs, study)
    points = summary_points(loaded)
    pairs = StudyPairs(loaded)
    floors = floor_comparison(points, pairs)
    kept = floors.differences["longformer-distill-then-convert"]
    assert kept.method == "paired" and kept.outcome == "above"
    lost = floors.differences["longformer-convert-then-distill"]
    assert lost.method == "seed spread" and lost.outcome == "above"  # as the spread says
    assert lost.unpaired.unsaved == () and "rte.seed2.jsonl is missing" in lost.unpaired.reason
    (orders,) = orders_comparison(points, pairs)
    assert orders.method == "seed spread"
    page = make_report(study, runs, tmp_path / "page").read_text()
    assert "; of the others, by the seed spread, 1 of 1 distilled students are above" in page
    assert "so 2 of the 3 comparisons above are judged by the seed spread alone." in page
    assert (
        "rte.seed2.jsonl is missing (longformer-convert-then-distill against longformer-floor; "
        "longformer-distill-then-convert against longformer-convert-then-distill), so 2 of" in page
    )
    assert "the paired intervals need" not in page  # they were saved: one is missing
