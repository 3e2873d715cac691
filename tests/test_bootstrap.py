"""Intervals on hand-built predictions: the statistics path is the task's own metric (on the
whole set and on explicit resamples), an interval is reproducible and holds its score,
pairing narrows a ratio's interval, agreement and flips equal a hand count; and end to end,
`bench run --teacher` and `bench compare --paired` on the bundled samples."""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from benchmark import paired, runner
from benchmark.bootstrap import (
    SEED,
    UnitScores,
    interval_record,
    percentile_interval,
    resampled,
    score_interval,
    unit_scores_for,
)
from benchmark.config import build_config
from benchmark.errors import BenchError
from benchmark.families import family_for
from benchmark.paired import pair
from benchmark.run_result import TaskResult, read_result
from benchmark.seeds import aggregate_seeds
from benchmark.tasks import TASKS
from tests.helpers import bench, run_config

RNG = np.random.default_rng(7)


def labelled(task: str, n: int, right: float = 0.7) -> list[dict]:
    """``n`` predictions of a labelled task, about ``right`` of them the gold label."""
    names = TASKS[task].label_names
    rows = []
    for i in range(n):
        gold = names[RNG.integers(len(names))]
        guess = gold if RNG.random() < right else names[RNG.integers(len(names))]
        rows.append({"id": i, "prediction": guess, "reference": gold})
    return rows


def regression(n: int) -> list[dict]:
    gold = RNG.uniform(0, 5, n)
    return [
        {"id": i, "prediction": float(g + RNG.normal(0, 1.2)), "reference": float(g)}
        for i, g in enumerate(gold)
    ]


def answers(n: int) -> list[dict]:
    said = ["the cat", "A dog!", "cat", "blue whale", "", "dog house"]
    gold = [["cat"], ["dog", "a dog house"], ["whale"]]
    return [
        {"id": f"q{i}", "prediction": str(RNG.choice(said)), "reference": gold[i % 3]}
        for i in range(n)
    ]


def tagged(n: int, length: int = 14) -> list[dict]:
    tags = ["O", "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "I-ORG"]
    rows = []
    for i in range(n):
        gold = [str(t) for t in RNG.choice(tags, length)]
        guess = gold if RNG.random() < 0.4 else [str(t) for t in RNG.choice(tags, length)]
        rows.append({"id": f"d{i}", "prediction": guess, "reference": gold})
    return rows


CASES = {
    "cola": lambda: labelled("cola", 90),
    "sst2": lambda: labelled("sst2", 90),
    "mrpc": lambda: labelled("mrpc", 90, right=0.6),
    "mnli_matched": lambda: labelled("mnli_matched", 90),
    "stsb": lambda: regression(90),
    "squad": lambda: answers(90),
    "conll2003": lambda: tagged(60),
    "gonerd": lambda: tagged(30, length=80),
}
# specs whose metric has no additive form, or one only a confusion matrix of 3 labels gives
VARIANTS = {
    "stsb spearman": (TASKS["stsb"].model_copy(update={"main_score": "spearmanr"}), "stsb"),
    "mnli mcc": (
        TASKS["mnli_matched"].model_copy(
            update={"metric": "mcc", "main_score": "matthews_correlation"}
        ),
        "mnli_matched",
    ),
    "squad exact match": (TASKS["squad"].model_copy(update={"main_score": "exact_match"}), "squad"),
}
SPECS = {name: (TASKS[name], name) for name in CASES} | VARIANTS


def explicit_resamples(n: int) -> list[np.ndarray]:
    """Rows repeated and left out by hand, then drawn: what a resample is."""
    first = np.zeros(n, dtype=np.int64)
    first[0], first[1] = n - 3, 3  # two units only, one of them many times
    second = np.ones(n, dtype=np.int64)
    second[::2], second[1::2] = 2, 0
    second[-1] += n - second.sum()
    drawn = list(np.random.default_rng(3).multinomial(n, np.full(n, 1 / n), size=3))
    return [first, second, *drawn]


@pytest.mark.filterwarnings("ignore:A single label was found")  # sklearn, on two units
@pytest.mark.parametrize("name", list(SPECS))
def test_the_statistics_are_the_tasks_own_metric_on_the_set_and_on_resamples(name):
    spec, case = SPECS[name]
    rows = CASES[case]()
    family = family_for(spec.family)
    scores = family.unit_scores(spec, rows)
    assert scores.full() == pytest.approx(family.rescore(spec, rows)[spec.main_score], abs=1e-9)
    for counts in explicit_resamples(len(rows)):
        repeated = [rows[i] for i in np.repeat(np.arange(len(rows)), counts)]
        expected = family.rescore(spec, repeated)[spec.main_score]
        got = scores.score(counts[None, :])[0]
        assert got == pytest.approx(expected, abs=1e-9, nan_ok=True), (name, counts)


def test_units_are_what_each_metric_is_defined_on():
    units = {n: family_for(TASKS[n].family).unit_scores(TASKS[n], CASES[n]()) for n in CASES}
    assert {n: u.unit for n, u in units.items()} == {
        "cola": "sentence",
        "sst2": "sentence",
        "mrpc": "pair",
        "mnli_matched": "pair",
        "stsb": "pair",
        "squad": "question",
        "conll2003": "sentence",  # a CoNLL-2003 row is a sentence
        "gonerd": "document",  # a GONERD row is a document
    }


def test_an_interval_holds_its_score_has_width_and_reproduces():
    rows = labelled("sst2", 80)
    scores = unit_scores_for(family_for("sequence_classification"), TASKS["sst2"], rows)
    interval, info = interval_record([scores], 1000)
    low, high = interval
    assert low < scores.full() < high and high - low > 5  # 80 sentences: several points
    assert interval_record([scores], 1000) == (interval, info)  # same predictions, same interval
    assert score_interval([scores], 1000, seed=SEED + 1) != interval  # the seed is what fixes it
    assert info.model_dump() == {
        "resamples": 1000,
        "seed": SEED,
        "unit": "sentence",
        "over": "examples",
        "reason": None,
    }
    # 95 % of resamples fall inside, by construction of a percentile interval
    values = resampled([[scores]], 1000)[0]
    assert np.mean((values >= low) & (values <= high)) >= 0.95


def test_the_rows_order_does_not_matter_once_aligned():
    rows = tagged(40)
    family, spec = family_for("token_classification"), TASKS["conll2003"]
    scores = family.unit_scores(spec, rows)
    shuffled = family.unit_scores(spec, rows[::-1]).aligned(scores.ids)
    counts = np.random.default_rng(0).multinomial(40, np.full(40, 1 / 40), size=5)
    assert np.allclose(shuffled.score(counts), scores.score(counts))
    assert shuffled.answers == scores.answers and (shuffled.correct == scores.correct).all()


def _agreeing_pair(n: int = 200, differ: int = 10) -> tuple[UnitScores, UnitScores]:
    """A teacher right on about 3/4 of the units and a student that says what it says but
    for ``differ`` units."""
    names = TASKS["sst2"].label_names
    gold = RNG.integers(2, size=n)
    teacher = np.where(RNG.random(n) < 0.75, gold, 1 - gold)
    student = teacher.copy()
    student[:differ] = 1 - student[:differ]
    family, spec = family_for("sequence_classification"), TASKS["sst2"]

    def rows(said):
        return [
            {"id": i, "prediction": names[p], "reference": names[g]}
            for i, (p, g) in enumerate(zip(said, gold))
        ]

    return family.unit_scores(spec, rows(student)), family.unit_scores(spec, rows(teacher))


def test_a_paired_interval_is_narrower_when_the_two_mostly_agree():
    student, teacher = _agreeing_pair()
    paired = pair([student], [teacher], 1000)
    s_alone = resampled([[student]], 1000, seed=1)[0]
    t_alone = resampled([[teacher]], 1000, seed=2)[0]
    unpaired = percentile_interval(100 * s_alone / t_alone)
    low, high = paired.retained_percent_ci95
    assert low < 100 * student.full() / teacher.full() < high
    assert high - low < 0.5 * (unpaired[1] - unpaired[0])
    assert paired.agreement == pytest.approx(95.0)  # 190 of 200 units


def _rows(ids, said, gold):
    return [{"id": i, "prediction": p, "reference": g} for i, p, g in zip(ids, said, gold)]


def _pair(task: str, student: list[dict], teacher: list[dict]):
    spec = TASKS[task]
    family = family_for(spec.family)
    return pair([family.unit_scores(spec, student)], [family.unit_scores(spec, teacher)], 200)


def test_agreement_and_flips_of_labels_are_a_hand_count():
    gold = ["positive", "negative", "positive", "positive", "negative", "negative"]
    teacher = ["positive", "negative", "negative", "positive", "positive", "negative"]
    student = ["positive", "positive", "positive", "negative", "positive", "negative"]
    # unit by unit: same, T right->S wrong, T wrong->S right, T right->S wrong, same, same
    ids = list(range(6))
    found = _pair("sst2", _rows(ids, student, gold), _rows(ids, teacher, gold)[::-1])
    assert found.agreement == pytest.approx(100 * 3 / 6)
    assert found.flips.model_dump() == {"correct_to_wrong": 2, "wrong_to_correct": 1}


def test_agreement_and_flips_of_answers_are_a_hand_count():
    gold = [["the Cat"], ["dog"], ["red fox", "fox"], ["owl"]]
    teacher = ["cat", "a dog", "fox!", "bird"]
    student = ["The cat.", "dogs", "wolf", "owl"]
    # normalised: same (both right); differ (T right, S wrong); differ (T right, S wrong);
    # differ (T wrong, S right)
    ids = ["a", "b", "c", "d"]
    found = _pair("squad", _rows(ids, student, gold), _rows(ids, teacher, gold))
    assert found.agreement == pytest.approx(25.0)
    assert found.flips.model_dump() == {"correct_to_wrong": 2, "wrong_to_correct": 1}


def test_agreement_and_flips_of_entities_are_a_hand_count():
    gold = [["B-PER", "I-PER", "O"], ["B-LOC", "O", "O"], ["O", "O", "O"]]
    teacher = [["B-PER", "I-PER", "O"], ["B-LOC", "O", "B-PER"], ["O", "O", "O"]]
    # a stray I-PER starts nothing in strict IOB2: the same entity set as the teacher's
    student = [["B-PER", "O", "O"], ["B-LOC", "O", "B-PER"], ["I-PER", "O", "O"]]
    ids = ["x", "y", "z"]
    found = _pair("conll2003", _rows(ids, student, gold), _rows(ids, teacher, gold))
    assert found.agreement == pytest.approx(100 * 2 / 3)
    assert found.flips.model_dump() == {"correct_to_wrong": 1, "wrong_to_correct": 0}


def test_agreement_and_flips_in_documents_count_entities_by_hand():
    """A GONERD document holds too many entities for two models to tag it alike whole, so
    agreement and flips count entities there: the ones either predicts that both predict,
    and gold ones one finds and the other misses."""
    gold = [["B-PER", "O", "B-ORG", "I-ORG", "O", "B-GPE"], ["B-DATE", "O", "O", "B-PER"]]
    teacher = [["B-PER", "O", "B-ORG", "I-ORG", "O", "O"], ["B-DATE", "O", "O", "B-GPE"]]
    student = [["B-PER", "O", "B-ORG", "O", "O", "B-GPE"], ["B-DATE", "O", "O", "O"]]
    # doc 1: both PER; T ORG(2-3), S ORG(2), S GPE: 1 shared of 4 either predicts
    # doc 2: both DATE; T GPE(3): 1 shared of 2; no document is tagged alike whole
    # gold found: T {PER, ORG} + {DATE}, S {PER, GPE} + {DATE}: T finds ORG alone, S GPE
    ids = ["d1", "d2"]
    found = _pair("gonerd", _rows(ids, student, gold), _rows(ids, teacher, gold))
    assert found.agreement == pytest.approx(100 * 2 / 6)
    assert found.flips.model_dump() == {"correct_to_wrong": 1, "wrong_to_correct": 1}
    assert found.agreement_unit == "entity" and found.bootstrap.unit == "document"
    sentences = _pair("conll2003", _rows(ids, student, gold), _rows(ids, teacher, gold))
    assert sentences.agreement == 0.0 and sentences.agreement_unit == "sentence"
    # neither tags anything: they agree on there being no entity
    empty = [["O"] * 6, ["O"] * 4]
    none = _pair("gonerd", _rows(ids, empty, gold), _rows(ids, empty, gold))
    assert none.agreement == 100.0 and none.flips.model_dump() == {
        "correct_to_wrong": 0,
        "wrong_to_correct": 0,
    }
    # two seeds: the entities of both seeds' documents counted together, not averaged
    spec, family = TASKS["gonerd"], family_for("token_classification")
    later = [["O"] * 6, ["B-DATE", "O", "O", "B-PER"]]  # a student's seed 2
    seeds = pair(
        [family.unit_scores(spec, _rows(ids, s, gold)) for s in (student, later)],
        [family.unit_scores(spec, _rows(ids, teacher, gold)) for _ in range(2)],
        200,
    )
    # seed 2: doc 1 shares none of T's 2, doc 2 DATE of DATE, GPE(3), PER(3): 1 of 5
    assert seeds.agreement == pytest.approx(100 * (2 + 1) / (6 + 5))
    # seed 2: T finds PER, ORG and DATE, S DATE and PER(3): T's PER and ORG lost, PER(3) gained
    assert seeds.flips.model_dump() == {"correct_to_wrong": 1 + 2, "wrong_to_correct": 1 + 1}
    nothing = family.unit_scores(spec, [])
    assert pair([nothing], [nothing], 0).agreement is None


def test_different_examples_are_not_paired_and_a_regression_has_no_flips():
    rows = regression(20)
    spec = TASKS["stsb"]
    family = family_for(spec.family)
    scores = family.unit_scores(spec, rows)
    other = family.unit_scores(spec, [r | {"id": r["id"] + 100} for r in rows])
    assert "did not score the same examples" in pair([scores], [other], 100)
    same = pair([scores], [scores], 100)
    assert same.agreement is None and same.flips is None
    assert same.retained_percent_ci95 == pytest.approx([100.0, 100.0])


def _seed_result(rows: list[dict], seed: int) -> TaskResult:
    scores = unit_scores_for(family_for("sequence_classification"), TASKS["sst2"], rows)
    interval, info = interval_record([scores], 500)
    return TaskResult(
        task_version=1,
        spec_hash="h",
        task_key="k",
        family="sequence_classification",
        protocol="finetune",
        split="validation",
        main_score_name="accuracy",
        main_score=scores.full(),
        metrics={"accuracy": scores.full()},
        n_examples={"original": len(rows), "evaluated": len(rows)},
        main_score_ci95=interval,
        bootstrap=info,
    )


def test_over_seeds_the_interval_is_over_seeds_and_examples_or_says_what_it_lacks():
    by_seed = {1: labelled("sst2", 60, right=0.2), 2: labelled("sst2", 60, right=1.0)}
    runs = {seed: _seed_result(rows, seed) for seed, rows in by_seed.items()}
    family, spec = family_for("sequence_classification"), TASKS["sst2"]
    scores = {seed: family.unit_scores(spec, rows) for seed, rows in by_seed.items()}
    merged = aggregate_seeds(runs, "k", scores)
    low, high = merged.main_score_ci95
    assert low < merged.main_score < high
    assert merged.bootstrap.over == "seeds x examples" and merged.bootstrap.resamples == 500
    # drawing the seeds too: wider than the examples alone give either seed
    assert high - low > max(b - a for a, b in (r.main_score_ci95 for r in runs.values()))
    blind = aggregate_seeds(runs, "k")
    assert blind.main_score_ci95 is None and "seed_runs" in blind.bootstrap.reason
    assert blind.seed_runs["1"].main_score_ci95 == runs[1].main_score_ci95


def test_an_older_result_without_intervals_still_reads():
    folder = Path(__file__).parent / "fixtures" / "results"
    for path in sorted(folder.glob("format-*.json")):
        result = read_result(path)
        for entry in result.tasks.values():
            assert entry.main_score_ci95 is None and entry.bootstrap is None
        if result.retention:
            assert all(t.agreement is None for t in result.retention.tasks.values())


def test_the_result_schema_holds_the_new_fields():
    schema = json.loads(bench("schema", "result", check=True).stdout)
    assert {"main_score_ci95", "bootstrap"} <= set(schema["$defs"]["TaskResult"]["properties"])
    retention = schema["$defs"]["TaskRetention"]["properties"]
    assert {"retained_percent_ci95", "agreement", "flips", "unpaired_reason"} <= set(retention)
    assert set(schema["$defs"]["Flips"]["required"]) == {"correct_to_wrong", "wrong_to_correct"}


def _read_rows(path: str) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_run_with_a_teacher_writes_intervals_agreement_and_flips(
    tiny_bert, tiny_mlm_teacher, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    settings = {"limit": 32, "batch_size": 8, "teacher": str(tiny_mlm_teacher)}
    settings["teacher_output"] = str(tmp_path / "teacher.json")
    path = runner.run(
        run_config(tiny_bert, "sst2,conll2003", tmp_path / "student.json", **settings)
    )
    student = json.loads(path.read_text())
    teacher = json.loads((tmp_path / "teacher.json").read_text())
    for result in (student, teacher):
        for name, entry in result["tasks"].items():
            low, high = entry["main_score_ci95"]
            assert low <= entry["main_score"] <= high, name
            assert entry["bootstrap"] == {
                "resamples": 1000,
                "seed": SEED,
                "unit": "sentence",
                "over": "examples",
                "reason": None,
            }
    for name in ("sst2", "conll2003"):
        kept = student["retention"]["tasks"][name]
        s_rows = {r["id"]: r for r in _read_rows(student["tasks"][name]["predictions_file"])}
        t_rows = {r["id"]: r for r in _read_rows(teacher["tasks"][name]["predictions_file"])}
        spec = TASKS[name]
        said = family_for(spec.family).unit_scores  # what a prediction says, per family
        s_units = said(spec, list(s_rows.values())).aligned([str(i) for i in t_rows])
        t_units = said(spec, list(t_rows.values()))
        same = sum(a == b for a, b in zip(s_units.answers, t_units.answers))
        assert kept["agreement"] == pytest.approx(100 * same / len(t_rows))
        lost = int((t_units.correct & ~s_units.correct).sum())
        gained = int((~t_units.correct & s_units.correct).sum())
        assert kept["flips"] == {"correct_to_wrong": lost, "wrong_to_correct": gained}
    sst2 = student["retention"]["tasks"]["sst2"]  # accuracy never reaches 0: a ratio
    low, high = sst2["retained_percent_ci95"]
    assert low <= sst2["retained_percent"] <= high
    assert sst2["bootstrap"]["unit"] == "sentence" and sst2["unpaired_reason"] is None

    # compare --paired, as a fresh process would: from both predictions files alone
    monkeypatch.setattr(paired, "_KEPT", OrderedDict())
    shown = bench(
        "compare", "teacher.json", "student.json", "--paired", "--format", "json", cwd=tmp_path
    )
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)["results"][1]
    difference = data["paired_difference"]["sst2"]
    assert difference["difference"] == pytest.approx(sst2["student"] - sst2["teacher"])
    assert difference["ci95"][0] <= difference["difference"] <= difference["ci95"][1]
    assert data["retained_percent_ci95"]["sst2"] == sst2["retained_percent_ci95"]
    table = bench("compare", "teacher.json", "student.json", "--format", "md", cwd=tmp_path)
    assert "agreement, flips" in table.stdout and "right to wrong" in table.stdout
    # without the student's predictions: one error naming the file
    Path(student["tasks"]["sst2"]["predictions_file"]).unlink()
    refused = bench("compare", "teacher.json", "student.json", "--paired", cwd=tmp_path)
    assert refused.returncode == 2
    assert "cannot pair sst2" in refused.stderr and "student.predictions" in refused.stderr


def test_over_seeds_the_run_pairs_seed_by_seed_and_a_new_count_reuses(
    tiny_bert, tiny_mlm_teacher, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    settings = {"limit": 16, "batch_size": 8, "seeds": [1, 2], "bootstrap": 300}
    settings |= {"teacher": str(tiny_mlm_teacher), "teacher_output": "teacher.json"}
    settings["save_predictions"] = False  # pairing from what the run holds in memory
    output = tmp_path / "student.json"
    student = json.loads(runner.run(run_config(tiny_bert, "sst2", output, **settings)).read_text())
    entry = student["tasks"]["sst2"]
    assert entry["bootstrap"]["over"] == "seeds x examples"
    assert entry["bootstrap"]["resamples"] == 300
    low, high = entry["main_score_ci95"]
    assert low <= entry["main_score"] <= high
    assert all(run["main_score_ci95"] for run in entry["seed_runs"].values())
    kept = student["retention"]["tasks"]["sst2"]
    assert kept["bootstrap"]["over"] == "seeds x examples"
    assert kept["flips"] is not None and 0 <= kept["agreement"] <= 100

    # another resample count changes no score: every task is kept, and so is its interval;
    # the teacher file alone, without predictions, says why nothing is paired
    def must_not_run(spec, *args, **kwargs):
        raise AssertionError(f"task {spec.name} was run again")

    monkeypatch.setattr(runner, "run_task", must_not_run)
    monkeypatch.setattr(paired, "_KEPT", OrderedDict())  # as in a fresh process
    settings |= {"bootstrap": 50, "teacher": "teacher.json", "teacher_output": None}
    again = json.loads(runner.run(run_config(tiny_bert, "sst2", output, **settings)).read_text())
    assert again["tasks"] == student["tasks"]
    reason = again["retention"]["tasks"]["sst2"]["unpaired_reason"]
    assert "were not saved" in reason
    with pytest.raises(BenchError, match="bootstrap: must be 0"):
        build_config({"model": "m", "bootstrap": -1})
