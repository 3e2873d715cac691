"""Reading both GONERD layouts: same entities either way, and one clear error per bad input."""

from __future__ import annotations

import pytest
from conftest import FIXTURES, read_tsv_sentences, write_jsonl

from gonerd import GonerdFormatError, load_dataset, read_documents
from gonerd.labels import tags_to_spans
from gonerd.records import split_words


def entity_surfaces(document) -> list[tuple[str, str]]:
    """(type, surface text) of each entity, the surface cut from the document text."""
    return [
        (label, document.text[document.offsets[s][0] : document.offsets[e - 1][1]])
        for s, e, label in tags_to_spans(document.tags)
    ]


def test_both_layouts_of_the_same_litbank_document_give_the_same_entities(tmp_path):
    sentences = read_tsv_sentences(FIXTURES / "litbank" / "1342_pride_and_prejudice_brat.tsv", 1)
    words = [w for sentence in sentences for w, _ in sentence]
    tags = [t for sentence in sentences for _, t in sentence]
    words_file = write_jsonl(tmp_path / "words.jsonl", [{"tokens": words, "ner_tags": tags}])
    _, (from_words,) = read_documents(words_file, "train")
    # The bundled sample holds the same document in the spans layout, built separately.
    _, sample_docs = read_documents(
        FIXTURES.parent.parent / "gonerd" / "data" / "sample" / "train.jsonl", "train"
    )
    from_spans = next(d for d in sample_docs if d.id == "litbank-1342_pride_and_prejudice")
    assert from_spans.tokens == from_words.tokens
    assert entity_surfaces(from_spans) == entity_surfaces(from_words)
    assert len(entity_surfaces(from_words)) == 123  # B- tags in the first tsv layer
    assert entity_surfaces(from_words)[0] == ("PER", "a single man in possession of a good fortune")


def test_spans_layout_cuts_words_at_entity_boundaries_glued_to_punctuation(tmp_path):
    text = "Obama, the president, met Merkel.\npre-Obama era"
    spans = [
        {"start": 0, "end": 5, "label": "PER"},
        {"start": 26, "end": 32, "type": "PER"},
        {"start": 38, "end": 43, "label": "PER"},
    ]
    path = write_jsonl(tmp_path / "train.jsonl", [{"id": 7, "text": text, "entities": spans}])
    layout, docs = read_documents(path, "train")
    (doc,) = list(docs)
    assert layout == "spans"
    assert doc.id == "7"
    assert doc.tokens == [
        "Obama",
        ",",
        "the",
        "president,",
        "met",
        "Merkel",
        ".",
        "pre-",
        "Obama",
        "era",
    ]
    assert entity_surfaces(doc) == [("PER", "Obama"), ("PER", "Merkel"), ("PER", "Obama")]
    assert all(doc.text[s:e] == tok for (s, e), tok in zip(doc.offsets, doc.tokens))


def test_split_words_keeps_every_character_of_each_word():
    assert split_words("a  bc\td", [3, 4]) == [(0, 1), (3, 4), (4, 5), (6, 7)]


def test_integer_tags_use_the_class_names_declared_beside_the_data(tmp_path):
    write_jsonl(
        tmp_path / "train.jsonl", [{"words": ["Ada", "Lovelace", "wrote"], "tags": [1, 2, 0]}]
    )
    (tmp_path / "labels.txt").write_text("O\nB-PER\nI-PER\n")
    ds = load_dataset("gonerd", data_dir=tmp_path, cache_dir=str(tmp_path / "cache"))
    row = ds["train"][0]
    assert row["id"] == "train-1"
    assert ds["train"].features["ner_tags"].feature.names == ["O", "B-PER", "I-PER"]
    assert row["ner_tags"] == [1, 2, 0]


def test_integer_tags_read_names_from_a_dataset_card(tmp_path):
    write_jsonl(tmp_path / "test.jsonl", [{"tokens": ["Paris"], "ner_tags": [1]}])
    (tmp_path / "README.md").write_text(
        "---\ndataset_info:\n  features:\n  - name: ner_tags\n    sequence:\n      class_label:\n"
        "        names:\n          '0': O\n          '1': B-LOC\n          '2': I-LOC\n---\n"
    )
    ds = load_dataset("gonerd", data_dir=tmp_path, cache_dir=str(tmp_path / "cache"))
    assert ds["test"].features["ner_tags"].feature.int2str(ds["test"][0]["ner_tags"]) == ["B-LOC"]


def test_layout_is_detected_per_file_and_recorded(tmp_path):
    write_jsonl(tmp_path / "train.jsonl", [{"tokens": ["Rome"], "ner_tags": ["B-LOC"]}])
    write_jsonl(
        tmp_path / "validation.jsonl",
        [{"text": "in Rome", "spans": [{"start": 3, "end": 7, "label": "LOC"}]}],
    )
    ds = load_dataset("gonerd", data_dir=tmp_path, cache_dir=str(tmp_path / "cache"))
    assert ds["validation"]["tokens"] == [["in", "Rome"]]
    description = ds["train"].info.description
    assert "train=train.jsonl:words" in description
    assert "validation=validation.jsonl:spans" in description


GOOD_SPANS = {"text": "Ada Lovelace", "entities": [{"start": 0, "end": 12, "label": "PER"}]}
BAD_INPUTS = [
    pytest.param([GOOD_SPANS, "{not json"], 2, "not valid JSON", id="not-json"),
    pytest.param([GOOD_SPANS, {"body": "x"}], 2, "none of the layouts read", id="neither-layout"),
    pytest.param(
        [{"tokens": ["a", "b"], "ner_tags": ["O"]}], 1, "2 tokens but 1 tags", id="length"
    ),
    pytest.param(
        [{"tokens": ["a"], "ner_tags": ["B-PER"]}, {"tokens": ["a"], "ner_tags": ["PER"]}],
        2,
        "outside the label set",
        id="bad-tag",
    ),
    pytest.param([{"tokens": ["a"], "ner_tags": [3]}], 1, "labels.txt", id="int-tags-no-names"),
    pytest.param(
        [{"text": "short", "entities": [{"start": 2, "end": 9, "label": "PER"}]}],
        1,
        "outside the text",
        id="span-outside",
    ),
    pytest.param(
        [
            {
                "text": "Ada Lovelace",
                "entities": [
                    {"start": 0, "end": 7, "label": "PER"},
                    {"start": 4, "end": 12, "label": "PER"},
                ],
            }
        ],
        1,
        "overlap",
        id="overlap",
    ),
    pytest.param(
        [GOOD_SPANS, {"tokens": ["a"], "ner_tags": ["O"]}], 2, "file uses spans", id="mixed-layouts"
    ),
    pytest.param([], None, "empty", id="empty-file"),
]


@pytest.mark.parametrize(("records", "line", "message"), BAD_INPUTS)
def test_bad_input_names_the_file_the_line_and_the_problem(tmp_path, records, line, message):
    path = write_jsonl(tmp_path / "train.jsonl", records) if records else tmp_path / "train.jsonl"
    path.touch()
    with pytest.raises(GonerdFormatError) as caught:
        load_dataset("gonerd", data_dir=tmp_path, cache_dir=str(tmp_path / "cache"))
    error = caught.value
    assert error.path == str(path)
    assert error.line == line
    assert message in str(error)
    assert str(error).startswith(f"{path}, line {line}:" if line else f"{path}:")


def test_a_tag_outside_given_label_names_is_rejected(tmp_path):
    path = write_jsonl(tmp_path / "train.jsonl", [{"tokens": ["Rome"], "ner_tags": ["B-LOC"]}])
    with pytest.raises(GonerdFormatError, match=r"line 1: tag 'B-LOC' is outside the label set"):
        load_dataset(
            "gonerd",
            data_dir=tmp_path,
            label_names=["O", "B-PER", "I-PER"],
            cache_dir=str(tmp_path / "c"),
        )
    assert path.exists()
