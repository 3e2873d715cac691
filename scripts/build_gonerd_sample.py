"""Rebuild the bundled GONERD-format sample from slices of two public NER datasets.

The sample is *not* GONERD data: it is three LitBank documents (CC BY 4.0; outermost entity
layer only, so spans never overlap) and the first twenty CoNLL-2003 eng.testa documents
(joined at their -DOCSTART- boundaries), written in GONERD's raw layout (text + character
spans) so that the loader's span path is what the demo and the tests exercise.

SOURCE is a folder holding the raw slices, laid out as
* ``litbank_entities/tsv/<document>_brat.tsv``: LitBank's entity files as published in
  ``dbamman/litbank`` on GitHub (commit 3e50db0ffc033d7ccbb94f4d88f6b99210328ed8,
  ``entities/tsv/``), copied as they are: Pride and Prejudice, Alice's Adventures in
  Wonderland and Moby Dick are used. Annotations CC BY 4.0; the texts are public-domain
  Project Gutenberg books.
* ``conll2003/iob2_hf_style/valid.first20docs.txt``: the first 20 documents of CoNLL-2003
  ``eng.testa`` (as held in ``aidamd/NER`` on GitHub, commit
  5d32721e0abde2599c09351f4a5f1c7824f90904, ``data/eng.testa``), line endings made LF and
  IOB1 tags converted to IOB2 (the layout of the ``conll2003.zip`` the Hub's
  ``eriktks/conll2003`` loader parses). The text is Reuters RCV1: research use only, so only
  a small slice is bundled.

Usage: python scripts/build_gonerd_sample.py SOURCE
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import partial
from pathlib import Path

import jsonlines

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gonerd.labels import bio_label_names, tags_to_spans  # noqa: E402
from gonerd.load import load_dataset  # noqa: E402

OUT = ROOT / "gonerd" / "data" / "sample"
WORDS_OUT = ROOT / "gonerd" / "data" / "sample-words"
LITBANK = {
    "train": "1342_pride_and_prejudice_brat",
    "validation": "11_alices_adventures_in_wonderland_brat",
    "test": "2489_moby_dick_brat",
}
CONLL_DOCS = {"train": range(0, 12), "validation": range(12, 16), "test": range(16, 20)}
SPLIT_FILES = {"train": "train.jsonl", "validation": "val.jsonl", "test": "test.jsonl"}
UNICODE_JSON = partial(json.dumps, ensure_ascii=False)  # samples keep their characters


def sentences_to_record(doc_id: str, sentences: list[list[tuple[str, str]]]) -> dict:
    """Words joined by spaces, sentences by newlines; IOB2 tags become character spans."""
    text_parts, offsets, tags = [], [], []
    position = 0
    for s_index, sentence in enumerate(sentences):
        if s_index:
            text_parts.append("\n")
            position += 1
        for w_index, (word, tag) in enumerate(sentence):
            if w_index:
                text_parts.append(" ")
                position += 1
            text_parts.append(word)
            offsets.append((position, position + len(word)))
            tags.append(tag)
            position += len(word)
    entities = [
        {"start": offsets[first][0], "end": offsets[last - 1][1], "label": label}
        for first, last, label in tags_to_spans(tags)
    ]
    return {"id": doc_id, "text": "".join(text_parts), "entities": entities}


def read_columns(lines: list[str], tag_column: int) -> list[list[tuple[str, str]]]:
    sentences, current = [], []
    for line in lines:
        if not line.strip():
            if current:
                sentences.append(current)
            current = []
            continue
        columns = line.rstrip("\n").split("\t" if "\t" in line else " ")
        current.append((columns[0], columns[tag_column]))
    if current:
        sentences.append(current)
    return sentences


def conll_documents(path: Path) -> list[list[str]]:
    documents: list[list[str]] = []
    for line in path.read_text("utf-8").splitlines():
        if line.startswith("-DOCSTART-"):
            documents.append([])
        else:
            documents[-1].append(line)
    return documents


def main(shared: Path) -> None:
    conll = conll_documents(shared / "conll2003" / "iob2_hf_style" / "valid.first20docs.txt")
    records: dict[str, list[dict]] = {split: [] for split in SPLIT_FILES}
    entity_types: set[str] = set()
    for split in SPLIT_FILES:
        tsv = shared / "litbank_entities" / "tsv" / f"{LITBANK[split]}.tsv"
        doc_id = "litbank-" + LITBANK[split].removesuffix("_brat")
        records[split].append(
            sentences_to_record(doc_id, read_columns(tsv.read_text("utf-8").splitlines(), 1))
        )
        for index in CONLL_DOCS[split]:
            doc_id = f"conll2003-testa-doc{index + 1:02d}"
            records[split].append(sentences_to_record(doc_id, read_columns(conll[index], 3)))
    OUT.mkdir(parents=True, exist_ok=True)
    for split, name in SPLIT_FILES.items():
        with jsonlines.open(OUT / name, "w", dumps=UNICODE_JSON) as writer:
            for record in records[split]:
                entity_types.update(e["label"] for e in record["entities"])
                writer.write(record)
    (OUT / "labels.txt").write_text("\n".join(bio_label_names(entity_types)) + "\n", "utf-8")
    # The words-layout copy that the dataset card points plain `datasets.load_dataset` at.
    WORDS_OUT.mkdir(parents=True, exist_ok=True)
    dataset = load_dataset("gonerd", "sample")
    for split in SPLIT_FILES:
        names = dataset[split].features["ner_tags"].feature.names
        with jsonlines.open(WORDS_OUT / f"{split}.jsonl", "w", dumps=UNICODE_JSON) as writer:
            for row in dataset[split]:
                row["ner_tags"] = [names[t] for t in row["ner_tags"]]
                writer.write(row)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="the folder of raw slices (see the docstring)")
    main(parser.parse_args().source)
