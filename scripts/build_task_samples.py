"""Rebuild the bundled task samples (benchmark/data/samples/<task>/<split>.jsonl) from
slices of the public datasets, converted to the columns of each task's Hub dataset.

These samples feed the offline demo (`bench run` with no --model) and the tests. Their train
splits are carved from development data, because that is what the slices hold: a sample
score says the pipeline works, never how good a model is. Provenance: SOURCES.md beside them.

The study's larger SQuAD and MRPC splits go to baselines/data/study/ (its README.md says
why and from what).

SOURCE is a folder holding the raw slices, in their original formats, laid out as below.
Each was copied from a public GitHub repository (at the commit given) and cut, never edited:
* ``glue/``: GLUE's development files. ``CoLA/dev.tsv`` and ``MRPC/dev.tsv`` with
  ``MRPC/raw/mrpc_dev_ids.tsv`` and the first 800 and 300 rows of
  ``MRPC/raw/msr_paraphrase_{train,test}.txt`` (as ``.first800.txt``/``.first300.txt``):
  ``Nstats/my_bert`` @ c4dc29457f224d7097338f68ff8f3ed4dcde87ff, ``data/``. ``SST-2/dev.tsv``:
  ``blueraft/distil-bilstm`` @ 44d3abb1ef7f54d000d95f2634b9b2a275cd4b01. ``STS-B/dev.tsv``:
  ``mieseung/Cutoff_with_Attribution`` @ 0ef7460ee83f01034891e92b4f405d2c14944daf,
  ``glue_data/STS-B/``. ``RTE/validation.hf_schema.tsv``: ``Ji-Yishan/MIEC-FYP`` @
  9a8973a53efd0f84567151e98de4d3885a655cdf, ``RTE/dev.tsv`` (an export in the Hub's
  columns). Each task keeps its own licence (MRPC: research use).
* ``squad_v1.1/dev-v1.1.first3articles.json``: the official SQuAD v1.1 ``dev-v1.1.json``
  (sha256 95aa6a52d5d6a735563366753ca50492a658031da74f301ac5238b03966972c9, in
  ``pulakdas1999/QnA_using_BERT`` @ 48925669ea5ebb270348b817d7463b809a381bb9,
  ``dev-v1.1.json.zip``), its first three articles whole. CC BY-SA 4.0.
* ``hotpotqa/hotpot_qa_distractor_validation.sample60.hf.jsonl``: rows of the Hub's
  ``hotpot_qa`` distractor validation split in its schema, from the 100-row sample in
  ``noahshinn/reflexion`` @ 218cf0ef1df84b05ce379dd4a8e47f17766733a0,
  ``hotpotqa_runs/data/hotpot-qa-distractor-sample.joblib`` (read without running the
  pickle's code). CC BY-SA 4.0.
* ``triviaqa/``: the TriviaQA rc layout (``qa/{wikipedia,web}-{train,dev}.json`` and their
  ``evidence/`` documents) of ``allennlp/tests/fixtures/data/triviaqa-sample.tgz`` in
  ``allenai/allennlp-models`` @ 59a0e5a86b6294c2b0d6d9e1e32c10bccacfa883. Apache-2.0.
* ``conll2003/iob2_hf_style/valid.first20docs.txt``: the first 20 documents of CoNLL-2003
  ``eng.testa`` (``aidamd/NER`` @ 5d32721e0abde2599c09351f4a5f1c7824f90904,
  ``data/eng.testa``), tags converted IOB1 to IOB2. Reuters RCV1 text: research use only.

Usage: python scripts/build_task_samples.py SOURCE
"""

from __future__ import annotations

import argparse
import csv
import json
from functools import partial
from pathlib import Path

import jsonlines

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmark" / "data" / "samples"
STUDY_OUT = ROOT / "baselines" / "data" / "study"  # the study's larger training splits
N_TRAIN, N_EVAL = 64, 64
UNICODE_JSON = partial(json.dumps, ensure_ascii=False)  # samples keep their characters
CONLL_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]


def write(task: str, split: str, rows: list[dict], out: Path = OUT) -> None:
    path = out / task / f"{split}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with jsonlines.open(path, "w", dumps=UNICODE_JSON) as writer:
        writer.write_all(rows)


def read_tsv(path: Path, header: bool = True) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return rows[1:] if header else rows


def split_rows(task: str, rows: list[dict]) -> None:
    write(task, "train", rows[:N_TRAIN])
    write(task, "validation", rows[N_TRAIN : N_TRAIN + N_EVAL])


def mrpc_rows(tsv: list[list[str]]) -> list[dict]:
    """MRPC rows of a GLUE/MSR file (quality, #1 ID, #2 ID, #1 string, #2 string) in the
    Hub's columns, ``idx`` counting along the file."""
    return [
        {"sentence1": r[3], "sentence2": r[4], "label": int(r[0]), "idx": i}
        for i, r in enumerate(tsv)
    ]


def glue(shared: Path) -> None:
    glue_dir = shared / "glue"
    cola = read_tsv(glue_dir / "CoLA" / "dev.tsv", header=False)
    split_rows(
        "cola", [{"sentence": r[3], "label": int(r[1]), "idx": i} for i, r in enumerate(cola)]
    )
    sst2 = read_tsv(glue_dir / "SST-2" / "dev.tsv")
    split_rows(
        "sst2", [{"sentence": r[0], "label": int(r[1]), "idx": i} for i, r in enumerate(sst2)]
    )
    split_rows("mrpc", mrpc_rows(read_tsv(glue_dir / "MRPC" / "dev.tsv")))
    stsb = read_tsv(glue_dir / "STS-B" / "dev.tsv")
    split_rows(
        "stsb",
        [
            {"sentence1": r[7], "sentence2": r[8], "label": float(r[9]), "idx": i}
            for i, r in enumerate(stsb)
        ],
    )
    rte = read_tsv(glue_dir / "RTE" / "validation.hf_schema.tsv")
    split_rows(
        "rte",
        [{"sentence1": r[0], "sentence2": r[1], "label": int(r[2]), "idx": int(r[3])} for r in rte],
    )


def squad_questions(shared: Path) -> dict[str, list[dict]]:
    """Every question of the SQuAD slice in the Hub's columns, by article title."""
    data = json.loads((shared / "squad_v1.1" / "dev-v1.1.first3articles.json").read_text("utf-8"))
    by_title = {}
    for article in data["data"]:
        rows = []
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                rows.append(
                    {
                        "id": qa["id"],
                        "title": article["title"],
                        "context": paragraph["context"],
                        "question": qa["question"],
                        "answers": {
                            "text": [a["text"] for a in qa["answers"]],
                            "answer_start": [a["answer_start"] for a in qa["answers"]],
                        },
                    }
                )
        by_title[article["title"]] = rows
    return by_title


def squad(shared: Path) -> None:
    by_title = squad_questions(shared)
    write("squad", "train", by_title["Normans"][:N_TRAIN])
    write("squad", "validation", by_title["Super_Bowl_50"][:N_EVAL])


def study_squad(shared: Path, out: Path = STUDY_OUT) -> None:
    """The study's SQuAD: every question of the two articles the sample does not evaluate
    (Normans and Warsaw, 359) to train on, scored on the sample's own 64 validation
    questions. 64 training questions leave the teacher near an F1 of 10 however long it
    trains (see baselines/data/study/README.md)."""
    by_title = squad_questions(shared)
    write("squad", "train", by_title["Normans"] + by_title["Warsaw"], out)
    write("squad", "validation", by_title["Super_Bowl_50"][:N_EVAL], out)


def study_mrpc(shared: Path, out: Path = STUDY_OUT) -> None:
    """The study's MRPC: the 713 GLUE training pairs of the slice (the first 800 rows of
    the MSR training file less the 87 that GLUE moved to its development set, in GLUE's
    order, so their ``idx`` is the Hub's) to train on, scored on 500 labelled pairs no
    model trains on: the slice's 200 development pairs, then the first 300 of GLUE's test
    split, whose labels the MSR test file carries (``idx`` counts along that file). The
    bundled sample's 64 training pairs leave the teacher at the majority guess, and on
    200 pairs alone two standard errors above that guess are 6.6 points wide."""
    base = shared / "glue" / "MRPC"
    dev_ids = {tuple(r) for r in read_tsv(base / "raw" / "mrpc_dev_ids.tsv", header=False)}
    msr_train = read_tsv(base / "raw" / "msr_paraphrase_train.first800.txt")
    train = [r for r in msr_train if (r[1], r[2]) not in dev_ids]
    scored = read_tsv(base / "dev.tsv") + read_tsv(
        base / "raw" / "msr_paraphrase_test.first300.txt"
    )

    write("mrpc", "train", mrpc_rows(train), out)
    write("mrpc", "validation", mrpc_rows(scored), out)


def hotpotqa(shared: Path) -> None:
    path = shared / "hotpotqa" / "hotpot_qa_distractor_validation.sample60.hf.jsonl"
    with jsonlines.open(path) as reader:
        rows = list(reader.iter(skip_empty=True))
    write("hotpotqa", "train", rows[:16])
    write("hotpotqa", "validation", rows[16:32])


def triviaqa(shared: Path) -> None:
    base = shared / "triviaqa"

    def convert(record: dict, domain: str) -> dict:
        pages = [
            p
            for p in record.get("EntityPages", [])
            if (base / "evidence" / "wikipedia" / p["Filename"]).is_file()
        ]
        results = [
            r
            for r in record.get("SearchResults", [])
            if (base / "evidence" / "web" / r["Filename"]).is_file()
        ]
        answer = record["Answer"]
        return {
            "question": record["Question"],
            "question_id": record["QuestionId"],
            "question_source": record["QuestionSource"],
            "entity_pages": {
                "doc_source": [p["DocSource"] for p in pages],
                "filename": [p["Filename"] for p in pages],
                "title": [p["Title"] for p in pages],
                "wiki_context": [
                    (base / "evidence" / "wikipedia" / p["Filename"]).read_text("utf-8")
                    for p in pages
                ],
            },
            "search_results": {
                "description": [r.get("Description", "") for r in results],
                "filename": [r["Filename"] for r in results],
                "rank": [r["Rank"] for r in results],
                "title": [r["Title"] for r in results],
                "url": [r["Url"] for r in results],
                "search_context": [
                    (base / "evidence" / "web" / r["Filename"]).read_text("utf-8") for r in results
                ],
            },
            "answer": {
                "aliases": answer["Aliases"],
                "normalized_aliases": answer["NormalizedAliases"],
                "matched_wiki_entity_name": "",
                "normalized_matched_wiki_entity_name": "",
                "normalized_value": answer["NormalizedValue"],
                "type": answer["Type"],
                "value": answer["Value"],
            },
        }

    for split, source in (("train", "train"), ("validation", "dev")):
        rows = []
        for domain in ("web", "wikipedia"):
            records = json.loads((base / "qa" / f"{domain}-{source}.json").read_text("utf-8"))[
                "Data"
            ]
            rows += [convert(r, domain) for r in records]
        write("triviaqa", split, rows)


def conll2003(shared: Path) -> None:
    documents: list[list[list[tuple[str, ...]]]] = []
    sentence: list[tuple[str, ...]] = []
    for line in (
        (shared / "conll2003" / "iob2_hf_style" / "valid.first20docs.txt")
        .read_text("utf-8")
        .splitlines()
    ):
        if line.startswith("-DOCSTART-"):
            documents.append([])
            continue
        if not line.strip():
            if sentence:
                documents[-1].append(sentence)
            sentence = []
            continue
        sentence.append(tuple(line.split(" ")))
    if sentence:
        documents[-1].append(sentence)

    def rows(doc_range: range, split: str) -> list[dict]:
        out = []
        for d in doc_range:
            for s in documents[d]:
                out.append(
                    {
                        "id": str(len(out)),
                        "tokens": [w[0] for w in s],
                        "pos_tags": [w[1] for w in s],
                        "chunk_tags": [w[2] for w in s],
                        "ner_tags": [CONLL_LABELS.index(w[3]) for w in s],
                    }
                )
        return out

    write("conll2003", "train", rows(range(0, 10), "train"))
    write("conll2003", "validation", rows(range(10, 14), "validation"))
    write("conll2003", "test", rows(range(14, 20), "test"))


def main(shared: Path) -> None:
    glue(shared)
    squad(shared)
    study_squad(shared)
    study_mrpc(shared)
    hotpotqa(shared)
    triviaqa(shared)
    conll2003(shared)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="the folder of raw slices (see the docstring)")
    main(parser.parse_args().source)
