"""Reading GONERD data files in either of the two layouts found in the wild.

The Hub files of GONERD document no field layout, so each file is inspected and read as:

* ``words``: word tokens with one tag each (``tokens``/``words`` + ``ner_tags``/``tags``/
  ``labels``), tags as IOB2 strings or as integers into known class names;
* ``spans``: raw ``text`` with character-offset entities, turned into words and IOB2 tags.
  The common span exports are all read, without configuration: entities under
  ``entities``/``spans``/``label``/``labels`` (doccano's JSONL export puts
  ``[[start, end, type], ...]`` under ``label``; Label Studio's JSON-MIN export puts
  ``{start, end, labels: [type]}`` objects there), each entity a ``[start, end, type]`` list
  or an object with ``start``/``end`` (or doccano's ``start_offset``/``end_offset``) and its
  type under ``label``, ``type``, ``tag`` or ``labels``; and Label Studio's full JSON export
  (``data.text`` with ``annotations[0].result[].value``).

Both produce the same :class:`Document`, so everything downstream sees one shape. Every
problem names the file and the line, because these files are large and hand-edited.
"""

from __future__ import annotations

import bisect
import itertools
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from gonerd.errors import GonerdFormatError
from gonerd.labels import entity_type_of, spans_to_tags

LAYOUT_WORDS = "words"
LAYOUT_SPANS = "spans"

_TOKEN_KEYS = ("tokens", "words")
_TAG_KEYS = ("ner_tags", "tags", "labels")
_SPAN_KEYS = ("entities", "spans", "label", "labels")
_TYPE_KEYS = ("label", "type", "tag", "labels")
ACCEPTED = (
    "tokens + ner_tags (words); text + entities/spans/label/labels holding [start, end, type] "
    "lists or {start, end, label|type|tag|labels} objects (doccano, Label Studio JSON-MIN); "
    "or data.text + annotations (Label Studio JSON)"
)
_WORD_RE = re.compile(r"\S+")


@dataclass(frozen=True)
class Document:
    """One document as words with character offsets into ``text`` and IOB2 tags."""

    id: str
    text: str
    tokens: list[str]
    offsets: list[tuple[int, int]]
    tags: list[str]


def detect_layout(record: dict) -> str | None:
    """Which layout a parsed record is in, or None when it is in neither."""
    if any(k in record for k in _TOKEN_KEYS) and any(k in record for k in _TAG_KEYS):
        return LAYOUT_WORDS
    if "text" in record and any(k in record for k in _SPAN_KEYS):
        return LAYOUT_SPANS
    if isinstance(record.get("data"), dict) and "annotations" in record:
        return LAYOUT_SPANS  # Label Studio's full export
    return None


def _text_and_raw_spans(record: dict, fail) -> tuple[object, object]:
    """The text and the list of raw entities, wherever the export keeps them."""
    if "text" in record:
        return record["text"], next(record[k] for k in _SPAN_KEYS if k in record)
    annotations = record["annotations"]
    if not isinstance(annotations, list) or not annotations:
        return record["data"].get("text"), []
    results = annotations[0].get("result", []) if isinstance(annotations[0], dict) else None
    if not isinstance(results, list):
        fail("annotations[0].result must be a list of labelled regions")
    values = [r.get("value") if isinstance(r, dict) else r for r in results]
    return record["data"].get("text"), values


def _entity(span, fail) -> tuple[object, object, object]:
    """(start, end, type) of one raw entity in any of the accepted shapes."""
    if isinstance(span, (list, tuple)):
        if len(span) != 3:
            fail(f"entity {span!r} must be [start, end, type]")
        return span[0], span[1], span[2]
    if not isinstance(span, dict):
        fail(f"entity {span!r} is neither [start, end, type] nor an object")
    start = span.get("start", span.get("start_offset"))
    end = span.get("end", span.get("end_offset"))
    kind = next((span[k] for k in _TYPE_KEYS if k in span), None)
    if isinstance(kind, list):  # Label Studio: "labels": ["PER"]
        if len(kind) != 1:
            fail(f"entity {span!r} must have exactly one type, not {len(kind)}")
        kind = kind[0]
    return start, end, kind


def split_words(text: str, boundaries: Sequence[int] = ()) -> list[tuple[int, int]]:
    """Character ranges of the words of ``text``: whitespace-separated, and also cut at
    every offset in ``boundaries``, so that an entity glued to punctuation (``Obama,``)
    still starts and ends on word boundaries."""
    cuts = sorted(set(boundaries))
    words: list[tuple[int, int]] = []
    for match in _WORD_RE.finditer(text):
        start, end = match.span()
        for cut in cuts:
            if start < cut < end:
                words.append((start, cut))
                start = cut
        words.append((start, end))
    return words


def _read_tags(raw_tags: list, label_names: Sequence[str] | None, fail) -> list[str]:
    """Tags as IOB2 strings, checked against the label set when one is known."""
    tags: list[str] = []
    for tag in raw_tags:
        if isinstance(tag, bool) or not isinstance(tag, (int, str)):
            fail(f"tag {tag!r} is neither a string nor an integer")
        if isinstance(tag, int):
            if label_names is None:
                fail(
                    "tags are integers but no class names are known: put a labels.txt (one "
                    "name per line, in id order) or labels.json beside the file, list them in "
                    "the directory's README.md dataset card, or pass label_names="
                )
            if not 0 <= tag < len(label_names):
                fail(f"tag {tag} is outside the label set (0..{len(label_names) - 1})")
            tag = label_names[tag]
        elif label_names is not None and tag not in label_names:
            fail(f"tag {tag!r} is outside the label set {list(label_names)}")
        try:
            entity_type_of(tag)
        except ValueError as exc:
            fail(f"tag {tag!r} is outside the label set: {exc}")
        tags.append(tag)
    return tags


def _words_document(record: dict, doc_id: str, label_names, fail) -> Document:
    tokens = next(record[k] for k in _TOKEN_KEYS if k in record)
    raw_tags = next(record[k] for k in _TAG_KEYS if k in record)
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        fail("tokens must be a list of strings")
    if not isinstance(raw_tags, list):
        fail("tags must be a list")
    if len(tokens) != len(raw_tags):
        fail(f"{len(tokens)} tokens but {len(raw_tags)} tags")
    tags = _read_tags(raw_tags, label_names, fail)
    offsets, position = [], 0
    for token in tokens:
        offsets.append((position, position + len(token)))
        position += len(token) + 1
    return Document(doc_id, " ".join(tokens), list(tokens), offsets, tags)


def _spans_document(record: dict, doc_id: str, label_names, fail) -> Document:
    text, raw_spans = _text_and_raw_spans(record, fail)
    if not isinstance(text, str):
        fail("text must be a string")
    if not isinstance(raw_spans, list):
        fail("entities must be a list of [start, end, type] or {start, end, label}")
    spans: list[tuple[int, int, str]] = []
    for span in raw_spans:
        start, end, label = _entity(span, fail)
        if (
            not isinstance(start, int)
            or not isinstance(end, int)
            or isinstance(start, bool)
            or isinstance(end, bool)
        ):
            fail(f"entity {span!r} needs integer start and end")
        if not isinstance(label, str) or not label:
            fail(f"entity {span!r} needs a type (label, type, tag or labels)")
        if not 0 <= start < end <= len(text):
            fail(f"entity {start}-{end} {label} lies outside the text (length {len(text)})")
        if label_names is not None and f"B-{label}" not in label_names:
            fail(f"entity type {label!r} is outside the label set {list(label_names)}")
        spans.append((start, end, label))
    spans.sort()
    for (s1, e1, l1), (s2, e2, l2) in zip(spans, spans[1:]):
        if s2 < e1:
            fail(f"entities {s1}-{e1} {l1} and {s2}-{e2} {l2} overlap")
    offsets = split_words(text, [b for s, e, _ in spans for b in (s, e)])
    word_ends = [e for _, e in offsets]
    word_starts = [s for s, _ in offsets]
    word_spans = []
    for start, end, label in spans:
        first = bisect.bisect_right(word_ends, start)
        last = bisect.bisect_left(word_starts, end)
        if first >= last:
            fail(f"entity {start}-{end} {label} covers no word (only whitespace)")
        word_spans.append((first, last, label))
    tokens = [text[s:e] for s, e in offsets]
    return Document(doc_id, text, tokens, offsets, spans_to_tags(len(tokens), word_spans))


def read_documents(
    path: str | Path, split: str, label_names: Sequence[str] | None = None
) -> tuple[str, Iterator[Document]]:
    """Detect the layout of a JSON-lines file and return it with a document iterator.

    The layout is taken from the first record; a later record in the other layout, or in
    neither, is an error, as is an empty file. Ids default to ``<split>-<line>``.
    """
    path = Path(path)
    lines = _numbered_records(path)
    try:
        first_line, first = next(lines)
    except StopIteration:
        raise GonerdFormatError(path, None, "the file is empty (no JSON records)") from None
    layout = detect_layout(first)
    if layout is None:
        _neither(path, first_line, first)

    def documents() -> Iterator[Document]:
        for line_no, record in itertools.chain([(first_line, first)], lines):

            def fail(problem: str, _line: int = line_no) -> None:
                raise GonerdFormatError(path, _line, problem)

            record_layout = detect_layout(record)
            if record_layout is None:
                _neither(path, line_no, record)
            if record_layout != layout:
                fail(f"record is in the {record_layout} layout but the file uses {layout}")
            doc_id = str(record["id"]) if record.get("id") is not None else f"{split}-{line_no}"
            build = _words_document if layout == LAYOUT_WORDS else _spans_document
            yield build(record, doc_id, label_names, fail)

    return layout, documents()


def _neither(path: Path, line_no: int, record: dict) -> None:
    keys = ", ".join(sorted(record)) or "none"
    raise GonerdFormatError(
        path,
        line_no,
        f"record is in none of the layouts read (keys: {keys}); accepted: {ACCEPTED}",
    )


def _numbered_records(path: Path) -> Iterator[tuple[int, dict]]:
    """Parsed JSON objects with their 1-based line numbers; blank lines are skipped."""
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise GonerdFormatError(path, line_no, f"not valid JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise GonerdFormatError(path, line_no, "a record must be a JSON object")
            yield line_no, record
