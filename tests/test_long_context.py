"""The long-context gain and per-bucket intervals: on hand-built predictions the gain and its
paired interval equal a hand computation (entity counts summed over the same drawn
documents for both readings), rows are paired by id, a bucket's interval is drawn over its
units alone, and a run reading no more than 512 tokens says why it has no gain; over seeds,
the mean gain and its interval over seeds x examples; end to end, `bench run
--long-context-gain` on the bundled GONERD sample with a 1,024-position model, the reuse
rule, `bench run`'s table and `bench compare`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmark.bootstrap import SEED, unit_counts, unit_scores_for
from benchmark.buckets import with_intervals
from benchmark.families import TaskContext, family_for
from benchmark.long_context import aggregate_gain, gain_record, short_context, undefined
from benchmark.run_result import TaskResult, parse_result
from benchmark.seeds import aggregate_seeds
from benchmark.tasks import TASKS
from tests.helpers import bench, tiny_size

SPEC = TASKS["gonerd"]
FAMILY = family_for(SPEC.family)
GOLD = ["B-PER", "I-PER", "O", "B-LOC"]  # two entities per document
# what a reading may predict, and its (correct, predicted, gold) entity counts
SAID = {
    "right": (GOLD, (2, 2, 2)),
    "miss": (["B-PER", "I-PER", "O", "O"], (1, 1, 2)),
    "none": (["O", "O", "O", "O"], (0, 0, 2)),
    "wrong": (["B-ORG", "I-ORG", "O", "B-LOC"], (1, 2, 2)),
}
SHORT, LONG = "< 512", "512-2047"
# six short documents, read the same both ways; six long ones, which 512 tokens read worse
FULL = ["right", "right", "miss", "right", "wrong", "right"] * 2
FULL[6:] = ["right", "right", "right", "miss", "right", "wrong"]
TRUNCATED = FULL[:6] + ["none", "miss", "right", "none", "miss", "wrong"]
BUCKETS = [SHORT] * 6 + [LONG] * 6


def rows(said: list[str], order: list[int] | None = None) -> list[dict]:
    """Prediction rows as the family writes them, with each document's bucket."""
    made = [
        {"id": f"d{i}", "prediction": SAID[s][0], "reference": GOLD, "bucket": b}
        for i, (s, b) in enumerate(zip(said, BUCKETS))
    ]
    return [made[i] for i in order] if order else made


def f1(counts: np.ndarray, said: list[str]) -> np.ndarray:
    """Entity F1 of each resample (unit counts, one row per resample), by hand."""
    correct, predicted, gold = (counts @ np.array([SAID[s][1] for s in said], float)).T
    return 100 * 2 * correct / (predicted + gold)


def hand_interval(said_full: list[str], said_short: list[str], resamples: int) -> list[float]:
    """The paired interval of the difference: one set of drawn documents for both."""
    counts = np.concatenate(
        list(unit_counts(len(said_full), resamples, np.random.default_rng(SEED)))
    )
    difference = f1(counts, said_full) - f1(counts, said_short)
    return list(np.percentile(difference, [2.5, 97.5]))


def test_the_gain_and_its_paired_interval_are_a_hand_computation():
    full = unit_scores_for(FAMILY, SPEC, rows(FULL))
    shuffled = list(np.random.default_rng(3).permutation(12))
    truncated = unit_scores_for(FAMILY, SPEC, rows(TRUNCATED, shuffled))
    record = gain_record([full], [truncated], 1024, 1000, [SHORT, LONG, ">= 4096"])
    # all: 20 of 22 predicted right, 24 gold; at 512 tokens 15 of 17, 24 gold
    assert record.full == pytest.approx(100 * 40 / 46)
    assert record.truncated_512 == pytest.approx(100 * 30 / 41)
    assert record.gain == pytest.approx(100 * (40 / 46 - 30 / 41))
    assert record.gain_ci95 == pytest.approx(hand_interval(FULL, TRUNCATED, 1000))
    low, high = record.gain_ci95
    assert 0 < low < record.gain < high  # paired: the shared short documents cancel
    assert record.unit == "document" and record.over == "examples" and record.reason is None
    # the same predictions, the same interval; rows paired by id, not by position
    again = gain_record([full], [unit_scores_for(FAMILY, SPEC, rows(TRUNCATED))], 1024, 1000)
    assert again.gain_ci95 == record.gain_ci95

    # per bucket: an empty bucket is left out; the short one read the same both ways
    assert list(record.buckets) == [SHORT, LONG]
    short = record.buckets[SHORT]
    assert short.n_examples == 6 and short.gain == 0 and short.gain_ci95 == [0.0, 0.0]
    long = record.buckets[LONG]
    # long: 10 of 11 right, 12 gold; at 512 tokens 5 of 6, 12 gold
    assert long.full == pytest.approx(100 * 20 / 23)
    assert long.truncated_512 == pytest.approx(100 * 10 / 18)
    assert long.gain_ci95 == pytest.approx(hand_interval(FULL[6:], TRUNCATED[6:], 1000))


def test_a_buckets_interval_is_drawn_over_its_units_alone():
    full = unit_scores_for(FAMILY, SPEC, rows(FULL))
    buckets = {SHORT: {"main_score": 0.0}, LONG: {"main_score": 0.0}}
    found = with_intervals(buckets, [full], 1000)
    for label, said in ((SHORT, FULL[:6]), (LONG, FULL[6:])):
        counts = np.concatenate(list(unit_counts(6, 1000, np.random.default_rng(SEED))))
        expected = list(np.percentile(f1(counts, said), [2.5, 97.5]))
        assert found[label]["ci95"] == pytest.approx(expected)
    assert full.in_bucket(LONG).full() == pytest.approx(100 * 20 / 23)
    assert with_intervals(buckets, [full], 0) is buckets  # --bootstrap 0: no intervals
    # predictions written before rows named their bucket: no interval, never a wrong one
    older = unit_scores_for(
        FAMILY, SPEC, [{k: v for k, v in r.items() if k != "bucket"} for r in rows(FULL)]
    )
    assert with_intervals(buckets, [older], 100)[LONG]["ci95"] is None


def test_a_run_reading_512_tokens_or_fewer_has_no_gain_and_says_why():
    context = TaskContext(SPEC, None, 512, None)
    assert short_context(context) is None
    assert short_context(TaskContext(SPEC, None, 1024, None)).max_length == 512
    record = undefined(71.5, 512)
    assert record.gain is None and record.truncated_512 is None and record.full == 71.5
    assert "at most 512 tokens" in record.reason


def _seed(record, main: float) -> TaskResult:
    return TaskResult(
        task_version=3,
        spec_hash="h",
        task_key="k",
        family="token_classification",
        protocol="finetune",
        split="test",
        main_score_name="f1",
        main_score=main,
        metrics={"f1": main},
        n_examples={"original": 12, "evaluated": 12},
        long_context=record,
    )


def test_over_seeds_the_gain_is_the_mean_with_an_interval_over_seeds_and_examples():
    said = {1: (FULL, TRUNCATED), 2: (FULL, FULL)}  # seed 2 gains nothing
    full = {s: unit_scores_for(FAMILY, SPEC, rows(f)) for s, (f, _) in said.items()}
    short = {s: unit_scores_for(FAMILY, SPEC, rows(t)) for s, (_, t) in said.items()}
    records = {s: gain_record([full[s]], [short[s]], 1024, 400, [SHORT, LONG]) for s in said}
    runs = {s: _seed(records[s], full[s].full()) for s in said}
    merged = aggregate_seeds(runs, "k", full, 400, short)
    gain = merged.long_context
    assert gain.gain == pytest.approx((records[1].gain + 0) / 2)
    assert gain.gain_std == pytest.approx(abs(records[1].gain) / np.sqrt(2))
    assert gain.over == "seeds x examples" and gain.seeds == [1, 2]
    low, high = gain.gain_ci95
    assert low <= 0 < gain.gain < high  # drawing seed 2 twice gains nothing
    assert gain.buckets[LONG].gain == pytest.approx(records[1].buckets[LONG].gain / 2)
    # without the 512-token readings at hand: the means, and why there is no interval
    blind = aggregate_gain(list(runs.values()), [1, 2], full, None, 400)
    assert blind.gain == pytest.approx(gain.gain) and blind.gain_ci95 is None
    assert "seed_runs" in blind.reason
    assert blind.buckets[LONG].gain == pytest.approx(gain.buckets[LONG].gain)


def test_an_older_result_reads_without_the_new_fields():
    folder = Path(__file__).parent / "fixtures" / "results"
    for path in sorted(folder.glob("format-*.json")):
        result = parse_result(json.loads(path.read_text()))
        for entry in result.tasks.values():
            assert entry.long_context is None
            assert all("ci95" not in b for b in (entry.buckets or {}).values())


@pytest.fixture(scope="module")
def long_bert(tiny_bert, tmp_path_factory) -> Path:
    """The tiny test BERT (its tokenizer) with 1,024 positions: longer than 512, so the
    gain is defined."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    folder = tmp_path_factory.mktemp("tiny-long-bert")
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert, model_max_length=1024)
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=tokenizer.vocab_size, **tiny_size(max_position_embeddings=1024))
    BertModel(config).save_pretrained(folder)
    return folder


def test_a_run_records_the_gain_its_buckets_and_intervals(long_bert, tmp_path, monkeypatch):
    from benchmark import runner
    from benchmark.bootstrap import score_interval
    from benchmark.cli.output import console
    from benchmark.results import read_jsonl

    read = []  # every evaluation of the task: its input length and what it gave
    evaluate = type(FAMILY).evaluate

    def spy(self, context, *args, **kwargs):
        output = evaluate(self, context, *args, **kwargs)
        read.append((context.max_length, output))
        return output

    monkeypatch.setattr(type(FAMILY), "evaluate", spy)
    monkeypatch.setattr(console, "_width", 220)  # the table on one line per task
    output = tmp_path / "long.json"
    args = ["run", "--model", str(long_bert), "--tasks", "gonerd", "--data-dir", "bundled"]
    args += ["--max-length", "1024", "--long-context-gain", "--epochs", "1", "--seed", "1"]
    args += ["--no-speed"]
    args += ["--save-predictions", "--bootstrap", "300", "--output", str(output)]
    shown = bench(*args, check=True)
    assert [length for length, _ in read] == [1024, 512]
    (_, full), (_, short) = read
    assert short.counts["windows"] > full.counts["windows"]  # the long documents, cut finer
    assert [r["id"] for r in short.predictions] == [r["id"] for r in full.predictions]
    entry = json.loads(output.read_text())["tasks"]["gonerd"]
    gain = entry["long_context"]
    assert gain["max_length_full"] == 1024 and gain["max_length_truncated"] == 512
    assert gain["full"] == pytest.approx(entry["main_score"]) == full.metrics["f1"]
    assert gain["truncated_512"] == pytest.approx(short.metrics["f1"])
    assert gain["gain"] == pytest.approx(gain["full"] - gain["truncated_512"])
    low, high = gain["gain_ci95"]
    assert low <= gain["gain"] <= high and gain["resamples"] == 300
    assert "evaluate_512" in entry["timings_s"]
    # documents under 512 tokens are read whole either way: nothing to gain there
    assert gain["buckets"]["< 512"]["gain"] == 0 and gain["buckets"]["< 512"]["gain_ci95"] == [0, 0]
    assert set(gain["buckets"]) == set(entry["buckets"])

    # each row names its bucket; a bucket's interval is the one over its rows alone
    predictions = read_jsonl(entry["predictions_file"])
    for label, bucket in entry["buckets"].items():
        members = [r for r in predictions if r["bucket"] == label]
        assert len(members) == bucket["n_examples"] == gain["buckets"][label]["n_examples"]
        alone = unit_scores_for(FAMILY, SPEC, members)
        assert alone.full() == pytest.approx(bucket["main_score"])
        whole = unit_scores_for(FAMILY, SPEC, predictions)
        assert bucket["ci95"] == pytest.approx(score_interval([whole.in_bucket(label)], 300))

    # the table shows the intervals and the gain, and per bucket below it
    assert "95% interval" in shown.stdout and "long-context gain" in shown.stdout
    assert f"{gain['gain']:+.2f} [{low:+.2f}, {high:+.2f}]" in shown.stdout
    n_short = entry["buckets"]["< 512"]["n_examples"]
    assert f"gonerd < 512 tokens (n={n_short}): " in shown.stdout
    assert "long-context gain +0.00 [+0.00, +0.00]" in shown.stdout

    # compare shows each file's gain
    compared = bench("compare", str(output), str(output), "--format", "md", check=True)
    cell = f"{gain['gain']:+.2f} [{low:+.2f}, {high:+.2f}] "
    cell += f"({gain['full']:.2f} vs {gain['truncated_512']:.2f})"
    assert f"|   long-context gain (full - 512) | {cell} | {cell} |" in compared.stdout

    # reuse: the flag on keeps a task holding the gain; a task without it runs again,
    # unless the flag is off
    def must_not_run(spec, *args, **kwargs):
        raise AssertionError(f"task {spec.name} was run again")

    monkeypatch.setattr(runner, "run_task", must_not_run)
    bench(*args, check=True)
    data = json.loads(output.read_text())
    del data["tasks"]["gonerd"]["long_context"]
    output.write_text(json.dumps(data))
    bench(*[a for a in args if a != "--long-context-gain"], check=True)
    assert json.loads(output.read_text())["tasks"]["gonerd"]["long_context"] is None
    with pytest.raises(AssertionError, match="gonerd was run again"):
        bench(*args)


def test_a_model_of_512_tokens_records_why_it_has_no_gain(tiny_bert, tmp_path):
    output = tmp_path / "short.json"
    bench(
        "run", "--model", str(tiny_bert), "--tasks", "gonerd", "--data-dir", "bundled",
        "--long-context-gain", "--epochs", "1", "--no-speed", "--limit", "3",
        "--output", str(output), check=True,
    )  # fmt: skip
    gain = json.loads(output.read_text())["tasks"]["gonerd"]["long_context"]
    assert gain["gain"] is None and gain["max_length_full"] == 512 and gain["reason"]


def test_the_run_summary_shows_retention_with_its_paired_interval_and_an_undefined_gain():
    from benchmark.cli.run import _gain, _retained
    from benchmark.run_result import Flips, TaskRetention

    kept = TaskRetention(
        main_score_name="f1",
        student=45.0,
        teacher=50.0,
        retained_percent=90.0,
        student_combined=45.0,
        teacher_combined=50.0,
        retained_percent_combined=90.0,
        retained_percent_ci95=[81.3, 97.5],
        agreement=88.0,
        flips=Flips(correct_to_wrong=3, wrong_to_correct=1),
    )
    assert _retained(kept) == (
        "90.0% retained [81.3, 97.5] (paired), 88.0% agree, 3 right to wrong, 1 wrong to right"
    )
    unpaired = kept.model_copy(
        update={"retained_percent_ci95": None, "agreement": None, "flips": None}
    )
    unpaired.unpaired_reason = "the two were run over different seeds"
    assert _retained(unpaired) == "90.0% retained (unpaired: the two were run over different seeds)"
    assert _gain(undefined(50.0, 512)) == "undefined (reads 512 tokens)"
    assert _gain(None) == "-"
