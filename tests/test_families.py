"""Family dispatch: a family defined and registered here, and a task spec naming it, run
end to end through `bench run` without the runner knowing either name."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from transformers import AutoModelForSequenceClassification, DataCollatorWithPadding

from benchmark import runner, tasks
from benchmark.config import RunConfig
from benchmark.errors import BenchError
from benchmark.families import EvalOutput, Family, family_for, register, registered
from benchmark.inference import predict
from benchmark.metrics import classification_scores
from benchmark.task_data import SAMPLES_DIR


class SentenceLength:
    """Regress a sentence's length in words from the encoder: the labels are derived from
    the text itself, so any text sample is training data."""

    name = "sentence_length"
    head = AutoModelForSequenceClassification
    head_suffix = "ForSequenceClassification"

    def __init__(self):
        self.calls = Counter()

    def label_names(self, spec, dataset):
        self.calls["label_names"] += 1
        return None

    def fresh_head(self, label_names):
        self.calls["fresh_head"] += 1
        return {"num_labels": 1, "problem_type": "regression"}

    def label_mapping(self, model_labels, label_names, task):
        return {}, "regression"

    def collator(self, tokenizer):
        return DataCollatorWithPadding(tokenizer)

    def _rows(self, context, dataset):
        texts = list(dataset[context.spec.text_columns[0]])
        encoded = context.tokenizer(texts, truncation=True, max_length=context.max_length)
        lengths = [len(t.split()) / 10 for t in texts]
        rows = [{"input_ids": ids} for ids in encoded["input_ids"]]
        return rows, lengths

    def training_features(self, context, dataset):
        self.calls["training_features"] += 1
        rows, lengths = self._rows(context, dataset)
        return [r | {"labels": y} for r, y in zip(rows, lengths)], {}

    def evaluate(self, context, dataset, model, label_map, batch_size, on_batch=None):
        self.calls["evaluate"] += 1
        rows, lengths = self._rows(context, dataset)
        outputs = predict(model, rows, pad_id=0, batch_size=batch_size, on_batch=on_batch)
        predicted = [float(o[0][0]) for o in outputs]
        metrics = classification_scores("pearson_spearman", predicted, lengths)
        records = [
            {"id": i, "prediction": p, "reference": y}
            for i, (p, y) in enumerate(zip(predicted, lengths))
        ]
        return EvalOutput(metrics, records, {"examples": len(rows)})

    def rescore(self, spec, rows):
        self.calls["rescore"] += 1
        predicted, lengths = [r["prediction"] for r in rows], [r["reference"] for r in rows]
        return classification_scores("pearson_spearman", predicted, lengths)

    def near_chance(self, result):
        return result.main_score < 0


def test_a_family_registered_here_runs_end_to_end(tiny_bert, tmp_path, monkeypatch):
    from benchmark import families

    registered()  # the built-in families first, so the undo below keeps them
    monkeypatch.setattr(families, "_FAMILIES", dict(families._FAMILIES))  # undone after
    family = register(SentenceLength())
    assert isinstance(family, Family) and registered()["sentence_length"] is family
    spec = tasks.TaskSpec(
        name="sentence_length",
        version=1,
        family="sentence_length",
        description="length of an SST-2 sentence in words / 10",
        hub_id="local/sentence-length",
        text_columns=("sentence",),
        metric="pearson_spearman",
        main_score="pearson",
    )
    monkeypatch.setitem(tasks.TASKS, spec.name, spec)
    data = tmp_path / "data" / spec.name
    data.mkdir(parents=True)
    for split in ("train", "validation"):
        (data / f"{split}.jsonl").write_text((SAMPLES_DIR / "sst2" / f"{split}.jsonl").read_text())
    config = RunConfig(
        model=str(tiny_bert),
        tasks=spec.name,
        data_dir=str(tmp_path / "data"),
        epochs=1.0,
        speed=False,
        save_predictions=True,
        output=str(tmp_path / "result.json"),
    )
    entry = json.loads(runner.run(config).read_text())["tasks"]["sentence_length"]
    # without statistics of its own, the family's rescore scores each bootstrap resample
    assert family.calls.pop("rescore") == config.bootstrap
    low, high = entry["main_score_ci95"]
    assert low < entry["main_score"] < high and entry["bootstrap"]["unit"] == "example"
    assert family.calls == {
        "label_names": 1,
        "fresh_head": 1,
        "training_features": 1,
        "evaluate": 1,
    }
    assert entry["family"] == "sentence_length" and entry["inputs"]["examples"] == 64
    rows = [json.loads(x) for x in Path(entry["predictions_file"]).read_text().splitlines()]
    # Pearson's r worked out independently of the suite's metric code
    predicted = np.array([r["prediction"] for r in rows])
    reference = np.array([r["reference"] for r in rows])
    assert entry["main_score"] == pytest.approx(100 * np.corrcoef(predicted, reference)[0, 1])
    # the board scores a submission again through the family the task names
    from leaderboard.rescoring import rescore

    assert rescore(spec, rows)["pearson"] == pytest.approx(entry["main_score"])
    assert family.calls["rescore"] == 1


def test_an_unknown_family_is_one_clear_error():
    with pytest.raises(BenchError, match="unknown task family 'nosuch': registered are"):
        family_for("nosuch")
    with pytest.raises(TypeError, match="does not implement the Family protocol"):
        register(object())


def test_arrow_reads_equal_datasets_rows_on_every_bundled_sample():
    from benchmark.families.base import column, records
    from benchmark.task_data import bundled_tasks, load_task_split

    for name in bundled_tasks():
        spec = tasks.TASKS[name]
        dataset, _ = load_task_split(spec, spec.eval_split, "bundled")
        assert records(dataset) == [dict(row) for row in dataset], name
        first = dataset.column_names[0]
        assert column(dataset, first) == list(dataset[first]), name
