"""QA rows in each Hub schema become one shape, with the training span found in context."""

from __future__ import annotations

import json
from pathlib import Path

from benchmark.families.qa_examples import hotpotqa_example, squad_example, triviaqa_example

SAMPLES = Path(__file__).resolve().parents[1] / "benchmark" / "data" / "samples"


def rows(task: str, split: str) -> list[dict]:
    return [
        json.loads(line) for line in (SAMPLES / task / f"{split}.jsonl").read_text().splitlines()
    ]


def test_squad_rows_keep_the_first_gold_answer_for_training():
    example = squad_example(rows("squad", "validation")[0])
    assert example.context[example.answer_start :].startswith(example.answer_text)
    assert example.answer_text == example.answers[0] == "Denver Broncos"


def test_hotpotqa_yes_no_answers_are_spans_of_the_prefix():
    row = next(
        r
        for r in rows("hotpotqa", "train") + rows("hotpotqa", "validation")
        if r["answer"] in ("yes", "no")
    )
    example = hotpotqa_example(row)
    assert example.context.startswith("yes no\n\n")
    assert (
        example.context[example.answer_start : example.answer_start + len(row["answer"])]
        == row["answer"]
    )


def test_hotpotqa_span_answers_are_found_in_supporting_sentences_first():
    row = rows("hotpotqa", "train")[0]
    example = hotpotqa_example(row)
    assert example.answer_text == "World War II"
    # 'World War II' first appears in the first (supporting) sentence of the first paragraph
    sentence = row["context"]["sentences"][0][0]
    start = example.context.index(sentence)
    assert start <= example.answer_start < start + len(sentence)
    assert len(example.context) > 4000  # ten paragraphs: a long context


def test_triviaqa_answer_is_the_earliest_alias_in_the_evidence():
    row = rows("triviaqa", "validation")[0]
    example = triviaqa_example(row)
    assert example.answers[0] == row["answer"]["aliases"][0]
    if example.answer_start is not None:
        found = example.context[
            example.answer_start : example.answer_start + len(example.answer_text)
        ]
        assert found.lower() in {a.lower() for a in example.answers}
    assert len(example.context.split()) <= 4096
