"""Turning each QA dataset's Hub rows into one shape: id, question, context, gold answers,
and the character start of the answer used for training (None when it is not in the
context; such examples are still evaluated, never trained on).

* SQuAD: as given; the first gold answer trains.
* HotpotQA (distractor): the ten paragraphs joined as ``title: sentences`` with blank lines
  between them, after a ``yes no`` prefix. Yes/no answers are spans of that prefix, so one
  extractive head answers every question type and EM/F1 treat them like any other answer.
  A span answer is located first inside the supporting-fact sentences, then anywhere.
* TriviaQA (rc): Wikipedia evidence then web evidence, joined with blank lines and cut to
  ``TRIVIAQA_MAX_CONTEXT_WORDS`` words (counted as truncated). The training span is the
  earliest case-insensitive whole-word match of any alias; EM/F1 are the max over aliases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from benchmark.families.base import records

YES_NO_PREFIX = "yes no"
TRIVIAQA_MAX_CONTEXT_WORDS = 4096


@dataclass(frozen=True)
class QAExample:
    """One question; ``answer_start``/``answer_text`` locate the span used for training."""

    id: str
    question: str
    context: str
    answers: tuple[str, ...]
    answer_start: int | None
    answer_text: str = ""
    truncated: bool = False


def _example(id_, question, context, answers, start, text, truncated=False) -> QAExample:
    return QAExample(str(id_), question, context, tuple(answers), start, text or "", truncated)


def squad_example(row: dict) -> QAExample:
    texts, starts = row["answers"]["text"], row["answers"]["answer_start"]
    start = starts[0] if starts else None
    return _example(
        row["id"], row["question"], row["context"], texts, start, texts[0] if texts else ""
    )


def _find_whole_word(text: str, answer: str, start: int = 0, end: int | None = None) -> int | None:
    pattern = re.compile(r"(?<!\w)" + re.escape(answer) + r"(?!\w)", re.IGNORECASE)
    match = pattern.search(text, start, len(text) if end is None else end)
    return match.start() if match else None


def hotpotqa_example(row: dict) -> QAExample:
    parts, support_ranges = [YES_NO_PREFIX], []
    supporting = set(zip(row["supporting_facts"]["title"], row["supporting_facts"]["sent_id"]))
    position = len(YES_NO_PREFIX)
    for title, sentences in zip(row["context"]["title"], row["context"]["sentences"]):
        header = f"\n\n{title}: "
        position += len(header)
        parts.append(header)
        for index, sentence in enumerate(sentences):
            if (title, index) in supporting:
                support_ranges.append((position, position + len(sentence)))
            parts.append(sentence)
            position += len(sentence)
    context = "".join(parts)
    answer = row["answer"]
    if answer.strip().lower() in ("yes", "no"):
        start = 0 if answer.strip().lower() == "yes" else 4
        return _example(
            row["id"],
            row["question"],
            context,
            [answer],
            start,
            context[start : start + len(answer.strip())],
        )
    start = None
    for s, e in support_ranges:
        start = _find_whole_word(context, answer, s, e)
        if start is not None:
            break
    if start is None:
        start = _find_whole_word(context, answer, len(YES_NO_PREFIX))
    text = context[start : start + len(answer)] if start is not None else ""
    return _example(row["id"], row["question"], context, [answer], start, text)


def triviaqa_example(row: dict) -> QAExample:
    documents = list(row["entity_pages"]["wiki_context"]) + list(
        row["search_results"]["search_context"]
    )
    context = "\n\n".join(documents)
    words = list(re.finditer(r"\S+", context))
    truncated = len(words) > TRIVIAQA_MAX_CONTEXT_WORDS
    if truncated:
        context = context[: words[TRIVIAQA_MAX_CONTEXT_WORDS - 1].end()]
    aliases = list(dict.fromkeys([*row["answer"]["aliases"], *row["answer"]["normalized_aliases"]]))
    found = [(s, a) for a in aliases if (s := _find_whole_word(context, a)) is not None]
    start, alias = min(found) if found else (None, "")
    text = context[start : start + len(alias)] if start is not None else ""
    return _example(row["question_id"], row["question"], context, aliases, start, text, truncated)


BUILDERS = {"squad": squad_example, "hotpotqa": hotpotqa_example, "triviaqa": triviaqa_example}


def qa_examples(layout: str, dataset) -> list[QAExample]:
    build = BUILDERS[layout]
    return [build(row) for row in records(dataset)]
