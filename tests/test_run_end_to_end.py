"""`bench run` end to end on the bundled samples (real data in the Hub schemas) with a tiny
BERT built in the test: every family, resume after an interruption, predictions files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from benchmark import runner
from benchmark.config import RunConfig
from benchmark.errors import BenchError
from benchmark.provenance import model_identity
from benchmark.results import read_jsonl
from gonerd import load_dataset as gonerd_dataset
from gonerd import window_document
from tests.helpers import run_config

FAST = {"limit": 24, "batch_size": 8, "seed": 7, "save_predictions": False}


def run(tiny_bert, tmp_path, tasks: str, name: str = "result.json", **extra) -> dict:
    config = run_config(tiny_bert, tasks, tmp_path / name, **(FAST | extra))
    path = runner.run(config)
    return json.loads(path.read_text())


def strict_spans(tags: list[str]) -> set[tuple[int, int, str]]:
    """Entities in strict IOB2: B-X then any I-X; a stray I-X starts nothing."""
    spans, start, kind = set(), None, None
    for i, tag in enumerate([*tags, "O"]):
        if start is not None and tag != f"I-{kind}":
            spans.add((start, i, kind))
            start = None
        if tag.startswith("B-"):
            start, kind = i, tag[2:]
    return spans


def entity_f1(rows: list[dict]) -> float:
    """Micro entity F1 x 100, counted here from the predictions file."""
    correct = predicted = gold = 0
    for row in rows:
        p, g = strict_spans(row["prediction"]), strict_spans(row["reference"])
        correct, predicted, gold = correct + len(p & g), predicted + len(p), gold + len(g)
    if not correct:
        return 0.0
    precision, recall = correct / predicted, correct / gold
    return 100 * 2 * precision * recall / (precision + recall)


def answer_f1(rows: list[dict]) -> float:
    """SQuAD token F1 x 100, max over gold answers, counted here."""
    import re
    import string
    from collections import Counter

    def words(text: str) -> list[str]:
        text = "".join(c for c in text.lower() if c not in string.punctuation)
        return re.sub(r"\b(a|an|the)\b", " ", text).split()

    def f1(p: str, g: str) -> float:
        common = sum((Counter(words(p)) & Counter(words(g))).values())
        return 0.0 if not common else 2 * common / (len(words(p)) + len(words(g)))

    return 100 * sum(max(f1(r["prediction"], g) for g in r["reference"]) for r in rows) / len(rows)


@pytest.mark.slow
def test_each_family_runs_and_writes_a_complete_result(tiny_bert, tmp_path):
    import numpy as np

    result = run(tiny_bert, tmp_path, "stsb,conll2003,squad,gonerd", save_predictions=True)
    assert list(result["tasks"]) == ["stsb", "conll2003", "squad", "gonerd"]
    rows = {
        name: [json.loads(x) for x in Path(entry["predictions_file"]).read_text().splitlines()]
        for name, entry in result["tasks"].items()
    }
    # Every main score, worked out again here from the predictions alone
    stsb = np.array([[r["prediction"], r["reference"]] for r in rows["stsb"]])
    expected = {
        "stsb": 100 * np.corrcoef(stsb[:, 0], stsb[:, 1])[0, 1],
        "conll2003": entity_f1(rows["conll2003"]),
        "squad": answer_f1(rows["squad"]),
        "gonerd": entity_f1(rows["gonerd"]),
    }
    for name, entry in result["tasks"].items():
        assert entry["main_score"] == pytest.approx(expected[name], abs=1e-9), name
        assert entry["protocol"] == "finetune"
        assert entry["n_examples"] == {
            "original": entry["n_examples"]["original"],
            "evaluated": min(24, entry["n_examples"]["original"]),
        }
        assert entry["recipe"]["epochs"] == 1.0 and entry["recipe"]["seed"] == 7
        assert entry["data"]["source"] == "bundled sample"
        assert len(rows[name]) == entry["n_examples"]["evaluated"]
        # a task with length buckets names each row's bucket
        bucketed = {"bucket"} if name in ("conll2003", "gonerd") else set()
        assert set(rows[name][0]) == {"id", "prediction", "reference"} | bucketed
    gonerd = result["tasks"]["gonerd"]
    assert gonerd["n_examples"]["original"] == 5  # the sample's test split
    assert gonerd["inputs"]["max_length"] == 512  # the tiny model's limit, below the task's 4096
    assert gonerd["inputs"]["limit_applied"] == "position table"
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    documents = gonerd_dataset("gonerd", "sample", split="test")["tokens"]
    too_long = sum(
        len(tokenizer(d, is_split_into_words=True)["input_ids"]) > 512 for d in documents
    )
    assert too_long >= 1
    assert gonerd["inputs"]["windowed"] == too_long
    assert set(gonerd["metrics"]["per_type"]) <= {"FAC", "GPE", "LOC", "MISC", "ORG", "PER", "VEH"}
    squad_line = json.loads(
        Path(result["tasks"]["squad"]["predictions_file"]).read_text().splitlines()[0]
    )
    assert isinstance(squad_line["prediction"], str) and isinstance(squad_line["reference"], list)
    ner_line = json.loads(Path(gonerd["predictions_file"]).read_text().splitlines()[0])
    assert all(t == "O" or t[:2] in ("B-", "I-") for t in ner_line["prediction"])
    provenance = result["provenance"]
    assert provenance["libraries"]["transformers"] and provenance["hardware"]["device"] == "cpu"
    assert len(result["model"]["weights_sha256"]) == 64
    assert result["config"]["limit"] == 24


def _comparable(result: dict) -> dict:
    """A result without what legitimately differs between two runs: times."""
    result = json.loads(json.dumps(result))
    result.pop("provenance")
    for entry in result["tasks"].values():
        entry.pop("timings_s")
    return result


def test_interrupted_run_resumes_to_the_same_file(tiny_bert, tmp_path, monkeypatch):
    whole = run(tiny_bert, tmp_path, "sst2,conll2003", name="whole.json")
    real_run_task = runner.run_task

    def killed_on_conll(spec, *args, **kwargs):
        if spec.name == "conll2003":
            raise KeyboardInterrupt
        return real_run_task(spec, *args, **kwargs)

    monkeypatch.setattr(runner, "run_task", killed_on_conll)
    with pytest.raises(KeyboardInterrupt):
        run(tiny_bert, tmp_path, "sst2,conll2003", name="resumed.json")
    partial = json.loads((tmp_path / "resumed.json").read_text())
    assert list(partial["tasks"]) == ["sst2"]  # the interrupted task left no entry
    monkeypatch.setattr(runner, "run_task", real_run_task)
    resumed = run(tiny_bert, tmp_path, "sst2,conll2003", name="resumed.json")
    assert resumed["tasks"]["sst2"]["timings_s"] == partial["tasks"]["sst2"]["timings_s"]  # kept
    assert _comparable(resumed) | {"config": None} == _comparable(whole) | {"config": None}
    assert not list(tmp_path.glob(".*.tmp"))


def test_changed_configuration_recomputes_instead_of_reusing(tiny_bert, tmp_path):
    first = run(tiny_bert, tmp_path, "sst2")
    second = run(tiny_bert, tmp_path, "sst2", seed=8)
    assert first["tasks"]["sst2"]["task_key"] != second["tasks"]["sst2"]["task_key"]
    assert second["tasks"]["sst2"]["recipe"]["seed"] == 8


@pytest.mark.parametrize(("task", "short"), [("conll2003", 96), ("squad", 384)])
def test_whole_and_windowed_reading_agree_when_every_input_fits(tiny_bert, tmp_path, task, short):
    whole = run(tiny_bert, tmp_path, task, name="a.json", max_length=512, save_predictions=True)
    windowed_setting = run(
        tiny_bert, tmp_path, task, name="b.json", max_length=short, save_predictions=True
    )
    assert windowed_setting["tasks"][task]["inputs"]["windowed"] == 0  # every input fits
    assert whole["tasks"][task]["main_score"] == windowed_setting["tasks"][task]["main_score"]
    a = Path(whole["tasks"][task]["predictions_file"]).read_text()
    b = Path(windowed_setting["tasks"][task]["predictions_file"]).read_text()
    assert a == b


def test_windowed_reading_of_long_documents_gives_one_tag_per_word(tiny_bert, tmp_path):
    result = run(tiny_bert, tmp_path, "gonerd", max_length=64, save_predictions=True)
    entry = result["tasks"]["gonerd"]
    # the windows gonerd.window_document cuts, with the family's stride (64 - 2) // 2 = 31
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    documents = gonerd_dataset("gonerd", "sample", split="test")["tokens"]
    expected = [len(window_document(d, tokenizer, 64, 31)) for d in documents]
    assert entry["inputs"]["windowed"] == 5 == sum(n > 1 for n in expected)
    assert entry["inputs"]["windows"] == sum(expected)
    for line in Path(entry["predictions_file"]).read_text().splitlines():
        row = json.loads(line)
        assert len(row["prediction"]) == len(row["reference"])


def test_evaluate_protocol_matches_labels_by_name_and_refuses_a_mismatch(tiny_bert, tmp_path):
    from transformers import AutoModelForSequenceClassification

    folder = tmp_path / "sst2-head"
    model = AutoModelForSequenceClassification.from_pretrained(
        tiny_bert,
        num_labels=2,
        id2label={0: "POSITIVE", 1: "NEGATIVE"},
        label2id={"POSITIVE": 0, "NEGATIVE": 1},
    )
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_bert).save_pretrained(folder)
    result = run(folder, tmp_path, "sst2")
    entry = result["tasks"]["sst2"]
    assert entry["protocol"] == "evaluate" and entry["recipe"] is None
    assert entry["label_mapping"] == {"kind": "by name", "model_to_task": {"0": 1, "1": 0}}
    with pytest.raises(
        BenchError, match=r"task rte: checkpoint labels \['POSITIVE', 'NEGATIVE'\] do not match"
    ):
        run(folder, tmp_path, "rte", name="rte.json")


def test_local_data_dir_accepts_string_labels_and_tsv(tiny_bert, tmp_path):
    data = tmp_path / "data" / "rte"
    data.mkdir(parents=True)
    rows = [
        ("A man sleeps.", "A person sleeps.", "entailment"),
        ("A dog runs.", "A cat flies.", "not_entailment"),
    ] * 6
    text = "sentence1\tsentence2\tlabel\n" + "".join(f"{a}\t{b}\t{c}\n" for a, b, c in rows)
    (data / "train.tsv").write_text(text)
    (data / "validation.tsv").write_text(text)
    result = run(tiny_bert, tmp_path, "rte", data_dir=str(tmp_path / "data"), limit=None)
    entry = result["tasks"]["rte"]
    assert entry["n_examples"] == {"original": 12, "evaluated": 12}
    assert entry["data"]["file"] == "validation.tsv" and len(entry["data"]["sha256"]) == 64
    (data / "validation.tsv").write_text(text.replace("not_entailment", "contradiction"))
    with pytest.raises(BenchError, match="label 'contradiction' is not one of"):
        run(
            tiny_bert, tmp_path, "rte", name="bad.json", data_dir=str(tmp_path / "data"), limit=None
        )


def test_teacher_gives_retention_and_cost_changes(tiny_bert, tmp_path, monkeypatch, quick_profiles):
    """--teacher as a model: it runs with the student's settings into its default file;
    as a result file: it is read. Either way the student's file holds both raw scores."""
    monkeypatch.chdir(tmp_path)
    # the speed-up from the two speed blocks (the interleaved one: tests/test_time_ratio.py)
    speed = {"speed": True, "speed_seq_len": [48], "speed_batch_size": 2, "time_ratio": False}
    student = run(
        tiny_bert, tmp_path, "sst2,gonerd", name="student.json", teacher=str(tiny_bert), **speed
    )
    block = student["retention"]
    # keyed by the model and its weights: results/<model>/<sha256 prefix>/<name>.json
    key = model_identity(str(tiny_bert))["weights_sha256"][:12]
    folder = tmp_path / "results" / str(tiny_bert).strip("/").replace("/", "-")
    teacher_file = folder / key / f"{tiny_bert.name}.json"
    assert teacher_file.exists()
    teacher = json.loads(teacher_file.read_text())
    for name in ("sst2", "gonerd"):
        assert block["tasks"][name]["teacher"] == teacher["tasks"][name]["main_score"]
        assert block["tasks"][name]["student"] == student["tasks"][name]["main_score"]
    # Same model, same seed and settings: it keeps all of its own score.
    assert block["tasks"]["sst2"]["retained_percent"] == pytest.approx(100.0)
    (cost,) = block["cost"]
    (s_m,) = student["speed"]["measurements"]
    (t_m,) = teacher["speed"]["measurements"]
    assert cost["seq_len"] == 48 and cost["time_method"] == "separate runs"
    assert cost["speedup"] == t_m["latency_ms"]["median"] / s_m["latency_ms"]["median"]
    again = run(tiny_bert, tmp_path, "sst2", name="again.json", teacher=str(teacher_file))
    assert again["retention"]["tasks"]["sst2"]["teacher"] == teacher["tasks"]["sst2"]["main_score"]
    with pytest.raises(BenchError, match="teacher result file .*missing.json does not exist"):
        run(tiny_bert, tmp_path, "sst2", name="x.json", teacher=str(tmp_path / "missing.json"))
    # --teacher-output: the teacher's result goes where it is told, and the student reads it
    elsewhere = tmp_path / "runs" / "teacher.json"
    placed = run(
        tiny_bert,
        tmp_path,
        "sst2",
        name="placed.json",
        teacher=str(tiny_bert),
        teacher_output=str(elsewhere),
    )
    written = json.loads(elsewhere.read_text())
    assert placed["retention"]["tasks"]["sst2"]["teacher"] == written["tasks"]["sst2"]["main_score"]
    assert written["config"]["teacher_output"] is None  # the teacher's own config rebuilds
    # the student's default result file is not the teacher's to take
    default = str(teacher_file.relative_to(tmp_path))
    clash = RunConfig(model=str(tiny_bert), tasks="sst2", teacher="t", teacher_output=default)
    with pytest.raises(BenchError, match="is the student's result file too"):
        runner.run(clash)


def test_teacher_output_needs_a_teacher_model_and_its_own_file():
    from benchmark.config import build_config

    with pytest.raises(BenchError, match="give --teacher as a model"):
        build_config({"model": "m", "teacher_output": "t.json"})
    with pytest.raises(BenchError, match="give --teacher as a model"):
        build_config({"model": "m", "teacher": "t.json", "teacher_output": "u.json"})
    with pytest.raises(BenchError, match="must differ from output"):
        build_config(
            {"model": "m", "teacher": "t", "output": "a.json", "teacher_output": "./a.json"}
        )
    assert build_config({"model": "m", "teacher": "t", "teacher_output": "b.json"}).teacher_output


def _constant_head(tiny_bert, folder, head, labels: list[str], winner: str):
    """A checkpoint whose head answers ``winner`` for every input: zero weights, a bias."""
    import torch

    model = head.from_pretrained(
        tiny_bert,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={n: i for i, n in enumerate(labels)},
    )
    classifier = model.classifier.out_proj if hasattr(model.classifier, "out_proj") else None
    classifier = classifier or model.classifier
    with torch.no_grad():
        classifier.weight.zero_()
        classifier.bias.copy_(torch.tensor([float(n == winner) for n in labels]))
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_bert).save_pretrained(folder)
    return folder


def test_a_known_model_scores_what_its_answers_earn(tiny_bert, tmp_path):
    """Heads that always answer the same: the right scores follow from the data alone."""
    from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification

    from benchmark.task_data import SAMPLES_DIR
    from benchmark.tasks import TASKS

    labels = list(TASKS["conll2003"].label_names)
    ner = _constant_head(
        tiny_bert, tmp_path / "ner", AutoModelForTokenClassification, labels, "B-PER"
    )
    entry = run(ner, tmp_path, "conll2003", name="ner.json", limit=None)["tasks"]["conll2003"]
    # Every word is tagged B-PER: each word is a one-word PER entity, so the right ones
    # are the gold one-word PER entities.
    rows = read_jsonl(SAMPLES_DIR / "conll2003" / "test.jsonl")
    tags = [[labels[t] for t in row["ner_tags"]] for row in rows]
    gold = [span for row in tags for span in strict_spans(row)]
    words = sum(len(row) for row in tags)
    correct = sum(1 for s, e, kind in gold if kind == "PER" and e - s == 1)
    precision, recall = correct / words, correct / len(gold)
    assert entry["protocol"] == "evaluate" and entry["n_examples"]["evaluated"] == len(rows)
    assert entry["metrics"]["precision"] == pytest.approx(100 * precision)
    assert entry["main_score"] == pytest.approx(200 * precision * recall / (precision + recall))

    sst2 = _constant_head(
        tiny_bert,
        tmp_path / "sst2",
        AutoModelForSequenceClassification,
        ["negative", "positive"],
        "positive",
    )
    entry = run(sst2, tmp_path, "sst2", name="sst2.json", limit=None)["tasks"]["sst2"]
    rows = read_jsonl(SAMPLES_DIR / "sst2" / "validation.jsonl")
    assert entry["main_score"] == pytest.approx(100 * sum(r["label"] for r in rows) / len(rows))
