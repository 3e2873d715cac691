"""The official metrics of each task, all on a 0-100 scale.

GLUE: Matthews correlation (CoLA), accuracy, F1 of the positive class with accuracy (MRPC,
QQP), Pearson and Spearman correlation (STS-B). SQuAD-style QA: exact match and token F1
after the official answer normalisation (lower case, no punctuation, no English articles,
single spaces), each the maximum over the gold answers. NER: entity-level precision,
recall and F1 in strict IOB2 mode (seqeval's definition), overall and per entity type.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

import numpy as np

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD's official normalisation, as in its v1.1 evaluation script."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def token_f1(prediction: str, gold: str) -> float:
    predicted, expected = normalize_answer(prediction).split(), normalize_answer(gold).split()
    common = sum((Counter(predicted) & Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def squad_scores(predictions: Sequence[str], golds: Sequence[Sequence[str]]) -> dict[str, float]:
    """Exact match and F1, each the max over an example's gold answers, averaged, x100."""
    if not predictions:
        return {"exact_match": 0.0, "f1": 0.0}
    em = [max((exact_match(p, g) for g in gs), default=0.0) for p, gs in zip(predictions, golds)]
    f1 = [max((token_f1(p, g) for g in gs), default=0.0) for p, gs in zip(predictions, golds)]
    return {"exact_match": 100 * float(np.mean(em)), "f1": 100 * float(np.mean(f1))}


def classification_scores(metric: str, predictions, references) -> dict[str, float]:
    """GLUE's metric for one task (``mcc``, ``accuracy``, ``f1_accuracy``, ``pearson_spearman``)."""
    from scipy.stats import pearsonr, spearmanr
    from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

    predictions, references = np.asarray(predictions), np.asarray(references)
    if metric == "pearson_spearman":
        return {
            "pearson": 100 * float(pearsonr(predictions, references)[0]),
            "spearmanr": 100 * float(spearmanr(predictions, references)[0]),
        }
    if metric == "mcc":
        return {"matthews_correlation": 100 * float(matthews_corrcoef(references, predictions))}
    scores = {"accuracy": 100 * float(accuracy_score(references, predictions))}
    if metric == "f1_accuracy":
        scores["f1"] = 100 * float(f1_score(references, predictions, zero_division=0))
    return scores


def iob2_entities(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Entities ``(type, start, end)`` of one tag sequence in strict IOB2: an entity is a
    ``B-X`` followed by any run of ``I-X``; an ``I-X`` that continues nothing starts nothing
    (seqeval's strict mode; tests hold the two equal)."""
    entities, kind, start = [], None, 0
    for position, tag in enumerate(tags):
        if kind is not None and tag != "I-" + kind:
            entities.append((kind, start, position))
            kind = None
        if tag.startswith("B-"):
            kind, start = tag[2:], position
    if kind is not None:
        entities.append((kind, start, len(tags)))
    return entities


def _prf(correct: int, predicted: int, gold: int) -> dict[str, float]:
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": 100 * precision, "recall": 100 * recall, "f1": 100 * f1}


def entity_scores(
    predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]], strict: bool = True
) -> dict:
    """Entity-level precision/recall/F1 (x100) overall and per type, strict IOB2.

    Strict mode is counted here (:func:`iob2_entities`), equal to seqeval's strict IOB2
    report and about ten times faster, which keeps scoring a small share of evaluation.
    ``strict=False`` is seqeval's default (CoNLL-style) mode, kept for comparison: it reads
    a stray ``I-X`` as the start of an entity, which strict mode does not.
    """
    if not strict:
        return _lenient_entity_scores(predictions, references)
    correct, predicted, gold = Counter(), Counter(), Counter()
    for p_tags, g_tags in zip(predictions, references):
        p_entities, g_entities = iob2_entities(p_tags), iob2_entities(g_tags)
        predicted.update(kind for kind, _, _ in p_entities)
        gold.update(kind for kind, _, _ in g_entities)
        correct.update(kind for kind, _, _ in set(p_entities) & set(g_entities))
    totals = (sum(correct.values()), sum(predicted.values()), sum(gold.values()))
    return _prf(*totals) | {
        "per_type": {
            kind: _prf(correct[kind], predicted[kind], gold[kind]) | {"support": gold[kind]}
            for kind in sorted(predicted | gold)
        }
    }


def _lenient_entity_scores(
    predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]
) -> dict:
    from seqeval.metrics import classification_report

    report = classification_report(
        [list(r) for r in references],
        [list(p) for p in predictions],
        output_dict=True,
        zero_division=0,
    )
    micro = report.pop("micro avg")
    for key in ("macro avg", "weighted avg"):
        report.pop(key, None)
    return {
        "precision": 100 * float(micro["precision"]),
        "recall": 100 * float(micro["recall"]),
        "f1": 100 * float(micro["f1-score"]),
        "per_type": {
            entity: {
                "precision": 100 * float(row["precision"]),
                "recall": 100 * float(row["recall"]),
                "f1": 100 * float(row["f1-score"]),
                "support": int(row["support"]),
            }
            for entity, row in sorted(report.items())
        },
    }
