"""Metric values on inputs checked by hand."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmark.metrics import (
    classification_scores,
    entity_scores,
    exact_match,
    normalize_answer,
    squad_scores,
    token_f1,
)


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("The Denver Broncos", "denver broncos"),
        ("  an  Apple, a day!  ", "apple day"),
        ("Theatre of the absurd", "theatre of absurd"),  # 'the' only as a whole word
        ("U.S.A.", "usa"),
        ("Santa Clara, California", "santa clara california"),
    ],
)
def test_squad_normalisation(text, normalized):
    assert normalize_answer(text) == normalized


def test_squad_em_and_f1_take_the_best_gold_answer():
    assert exact_match("the Broncos", "Broncos") == 1.0
    # prediction tokens {denver, broncos, won}, gold {denver, broncos}: P=2/3, R=1, F1=0.8
    assert token_f1("Denver Broncos won", "Denver Broncos") == pytest.approx(0.8)
    scores = squad_scores(
        ["Denver Broncos won", "Carolina"], [["Denver Broncos", "Broncos"], ["Panthers"]]
    )
    assert scores["exact_match"] == pytest.approx(0.0)
    assert scores["f1"] == pytest.approx(40.0)  # (0.8 + 0) / 2 x 100


def test_triviaqa_scores_against_every_alias():
    aliases = ["Sunset Blvd", "West Sunset Boulevard", "Sunset Boulevard", "sunset blvd"]
    assert squad_scores(["Sunset Boulevard"], [aliases]) == {"exact_match": 100.0, "f1": 100.0}
    # 'the sunset strip' vs best alias 'sunset blvd': 1 common of 2/2 tokens -> F1 0.5
    assert squad_scores(["the sunset strip"], [aliases])["f1"] == pytest.approx(50.0)


def test_seqeval_strict_differs_from_lenient_on_a_stray_inside_tag():
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    predicted = [["B-PER", "I-PER", "O", "I-LOC"]]
    strict = entity_scores(predicted, gold)
    lenient = entity_scores(predicted, gold, strict=False)
    assert strict["precision"] == 100.0 and strict["recall"] == 50.0
    assert strict["f1"] == pytest.approx(200 / 3)
    assert lenient["f1"] == 100.0
    assert strict["per_type"]["LOC"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}


def test_glue_metrics():
    # confusion: TP=2, TN=1, FP=1, FN=0 -> MCC = (2*1 - 1*0)/sqrt(3*2*1*2) = 2/sqrt(12)
    assert classification_scores("mcc", [1, 0, 1, 1], [1, 0, 0, 1])["matthews_correlation"] == (
        pytest.approx(100 * 2 / 12**0.5)
    )
    scores = classification_scores("f1_accuracy", [1, 0, 1, 1], [1, 0, 0, 1])
    assert scores == {"accuracy": 75.0, "f1": pytest.approx(80.0)}
    correlations = classification_scores("pearson_spearman", [1, 2, 3, 10], [1, 2, 3, 4])
    assert correlations["spearmanr"] == pytest.approx(100.0)
    assert correlations["pearson"] == pytest.approx(88.544, abs=0.01)


TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def _seqeval_strict(predictions, references) -> dict:
    """seqeval's own strict IOB2 report, in the suite's shape: the oracle."""
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    report = classification_report(
        references, predictions, output_dict=True, zero_division=0, mode="strict", scheme=IOB2
    )
    micro = report.pop("micro avg")
    for key in ("macro avg", "weighted avg"):
        report.pop(key)

    def scaled(row):
        return {
            "precision": 100 * row["precision"],
            "recall": 100 * row["recall"],
            "f1": 100 * row["f1-score"],
        }

    return scaled(micro) | {
        "per_type": {
            k: scaled(row) | {"support": int(row["support"])} for k, row in sorted(report.items())
        }
    }


def _approx_equal(ours: dict, theirs: dict) -> None:
    assert set(ours["per_type"]) == set(theirs["per_type"])
    for key in ("precision", "recall", "f1"):
        assert ours[key] == pytest.approx(theirs[key], abs=1e-9)
    for kind, row in theirs["per_type"].items():
        for key, value in row.items():
            assert ours["per_type"][kind][key] == pytest.approx(value, abs=1e-9), (kind, key)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # seqeval's macro mean of nothing
@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.integers(1, 12).flatmap(
            lambda n: st.tuples(
                st.lists(st.sampled_from(TAGS), min_size=n, max_size=n),
                st.lists(st.sampled_from(TAGS), min_size=n, max_size=n),
            )
        ),
        min_size=1,
        max_size=6,
    )
)
def test_strict_entity_scores_equal_seqevals_on_any_tag_sequences(pairs):
    predictions = [p for p, _ in pairs]
    references = [r for _, r in pairs]
    _approx_equal(entity_scores(predictions, references), _seqeval_strict(predictions, references))


def test_strict_entity_scores_equal_seqevals_on_real_conll_tags():
    import random

    from benchmark.results import read_jsonl
    from benchmark.task_data import SAMPLES_DIR
    from benchmark.tasks import TASKS

    names = TASKS["conll2003"].label_names
    rows = read_jsonl(SAMPLES_DIR / "conll2003" / "test.jsonl")
    references = [[names[t] for t in row["ner_tags"]] for row in rows]
    rng = random.Random(0)  # a noisy tagger: one tag in five replaced at random
    predictions = [[t if rng.random() < 0.8 else rng.choice(names) for t in r] for r in references]
    ours = entity_scores(predictions, references)
    _approx_equal(ours, _seqeval_strict(predictions, references))
    assert 0 < ours["f1"] < 100
