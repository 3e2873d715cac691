"""Every common span export reads to the same entities as the words layout: doccano's
JSONL (`label: [[start, end, type]]`, and `entities` with `start_offset`/`end_offset`),
Label Studio's JSON-MIN and full JSON exports, entities as lists or objects, and the type
under `label`, `type`, `tag` or `labels`. The records are the bundled sample's own test
documents (LitBank and CoNLL-2003 text), rewritten in each layout here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import write_jsonl

from gonerd.errors import GonerdFormatError
from gonerd.labels import tags_to_spans
from gonerd.records import read_documents

SAMPLE = Path(__file__).resolve().parents[1] / "gonerd" / "data" / "sample" / "test.jsonl"


def sample_records() -> list[dict]:
    return [json.loads(line) for line in SAMPLE.read_text("utf-8").splitlines()][:3]


def as_words(record: dict, tmp_path) -> list[tuple[str, str]]:
    """The entities of the record read through the words layout, as (surface, type)."""
    (document,) = list(read_documents(write_jsonl(tmp_path / "s.jsonl", [record]), "t")[1])
    words = write_jsonl(
        tmp_path / "w.jsonl", [{"tokens": document.tokens, "ner_tags": document.tags}]
    )
    (from_words,) = list(read_documents(words, "t")[1])
    return entities(from_words)


def entities(document) -> list[tuple[str, str]]:
    return [(" ".join(document.tokens[s:e]), label) for s, e, label in tags_to_spans(document.tags)]


def spans_of(record: dict) -> list[tuple[int, int, str]]:
    return [(e["start"], e["end"], e["label"]) for e in record["entities"]]


LAYOUTS = {
    "doccano label lists": lambda r: {"id": r["id"], "text": r["text"], "label": spans_of(r)},
    "entities as lists": lambda r: {"text": r["text"], "entities": spans_of(r)},
    "doccano entities with offsets": lambda r: {
        "text": r["text"],
        "entities": [
            {"id": i, "label": t, "start_offset": s, "end_offset": e}
            for i, (s, e, t) in enumerate(spans_of(r))
        ],
        "relations": [],
    },
    "label studio json-min": lambda r: {
        "text": r["text"],
        "label": [
            {"start": s, "end": e, "text": r["text"][s:e], "labels": [t]} for s, e, t in spans_of(r)
        ],
    },
    "label studio json": lambda r: {
        "id": 1,
        "data": {"text": r["text"]},
        "annotations": [
            {
                "result": [
                    {
                        "value": {"start": s, "end": e, "text": r["text"][s:e], "labels": [t]},
                        "from_name": "label",
                        "to_name": "text",
                        "type": "labels",
                    }
                    for s, e, t in spans_of(r)
                ]
            }
        ],
    },
    "type under tag": lambda r: {
        "text": r["text"],
        "spans": [{"start": s, "end": e, "tag": t} for s, e, t in spans_of(r)],
    },
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_each_span_export_reads_to_the_words_layouts_entities(layout, tmp_path):
    for record in sample_records():
        expected = as_words(record, tmp_path)
        assert expected, "the sample documents have entities"
        path = write_jsonl(tmp_path / f"{layout}.jsonl", [LAYOUTS[layout](record)])
        found, documents = read_documents(path, "test")
        assert found == "spans"
        (document,) = list(documents)
        assert entities(document) == expected


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"text": "Ada", "label": [[0, 3]]}, "must be [start, end, type]"),
        ({"text": "Ada", "label": [{"start": 0, "end": 3, "labels": []}]}, "exactly one type"),
        ({"text": "Ada", "label": [{"start": 0, "end": 3}]}, "needs a type"),
        ({"text": "Ada", "label": ["0-3 PER"]}, "neither [start, end, type] nor an object"),
        ({"body": "Ada"}, "accepted: tokens + ner_tags (words); text + entities"),
    ],
)
def test_a_record_in_no_accepted_shape_names_file_line_and_layouts(record, message, tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", [record])
    with pytest.raises(GonerdFormatError, match="bad.jsonl") as error:
        list(read_documents(path, "train")[1])
    assert message in str(error.value) and "line 1" in str(error.value)
