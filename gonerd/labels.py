"""The BIO label set and conversions between entity spans and per-word tags.

Strict IOB2 is the scheme throughout: an entity always opens with ``B-``. ``I-X`` after
anything but ``B-X``/``I-X`` is read as the start of a new entity, as seqeval's strict mode
does, so conversions in both directions agree with the scorer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

OUTSIDE = "O"


def bio_label_names(entity_types: Iterable[str]) -> list[str]:
    """``O`` first, then ``B-``/``I-`` pairs for each type in sorted order (stable ids)."""
    names = [OUTSIDE]
    for entity_type in sorted(set(entity_types)):
        names += [f"B-{entity_type}", f"I-{entity_type}"]
    return names


def entity_type_of(tag: str) -> str | None:
    """The type a tag names (``B-PER`` -> ``PER``), or None for ``O``."""
    if tag == OUTSIDE:
        return None
    prefix, sep, entity_type = tag.partition("-")
    if not sep or prefix not in {"B", "I"} or not entity_type:
        raise ValueError(f"tag {tag!r} is not O, B-<type> or I-<type>")
    return entity_type


def tags_to_spans(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """Entities as ``(first_word, end_word_exclusive, type)`` read from IOB2 tags."""
    spans: list[tuple[int, int, str]] = []
    start: int | None = None
    current: str | None = None
    for i, tag in enumerate(tags):
        entity_type = entity_type_of(tag)
        continues = tag.startswith("I-") and entity_type == current and start is not None
        if continues:
            continue
        if start is not None:
            spans.append((start, i, current))  # type: ignore[arg-type]
            start, current = None, None
        if entity_type is not None:
            start, current = i, entity_type
    if start is not None:
        spans.append((start, len(tags), current))  # type: ignore[arg-type]
    return spans


def spans_to_tags(n_words: int, spans: Iterable[tuple[int, int, str]]) -> list[str]:
    """IOB2 tags for ``n_words`` words from non-overlapping word spans."""
    tags = [OUTSIDE] * n_words
    for start, end, entity_type in spans:
        tags[start] = f"B-{entity_type}"
        for i in range(start + 1, end):
            tags[i] = f"I-{entity_type}"
    return tags
