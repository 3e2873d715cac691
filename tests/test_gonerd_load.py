"""load_dataset through both doors, the source order, and the offline message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import datasets
import pytest
from conftest import write_jsonl

import gonerd
from gonerd import GonerdSourceError

ROOT = Path(__file__).resolve().parents[1]


def test_sample_is_a_typed_datasetdict():
    ds = gonerd.load_dataset("gonerd", "sample")
    assert set(ds) == {"train", "validation", "test"}
    assert [ds[s].num_rows for s in ("train", "validation", "test")] == [13, 5, 5]
    features = ds["train"].features
    assert isinstance(features["ner_tags"].feature, datasets.ClassLabel)
    assert features["ner_tags"].feature.names[:3] == ["O", "B-FAC", "I-FAC"]
    first = ds["train"][0]
    assert first["id"] == "litbank-1342_pride_and_prejudice"
    assert (
        len(first["tokens"]) == len(first["ner_tags"]) == len(first["offsets"]) == 2021
    )  # token lines of the LitBank tsv


def test_plain_datasets_load_dataset_from_a_checkout_matches_the_builder():
    """`datasets.load_dataset("gonerd")` from the checkout root reads the dataset card."""
    code = (
        "import datasets, json; ds = datasets.load_dataset('gonerd', cache_dir=%r);"
        "print(json.dumps({s: ds[s].to_list() for s in ds}))"
    )
    cache = os.environ.get("PYTEST_TMP", "/tmp") + "/gonerd-plain-door-cache"
    out = subprocess.run(
        [sys.executable, "-c", code % cache], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    import json

    plain = json.loads(out.splitlines()[-1])
    ours = gonerd.load_dataset("gonerd", "sample")
    assert set(plain) == set(ours)
    for split in ours:
        assert plain[split] == ours[split].to_list()


def test_split_and_data_dir_work_as_in_datasets(tmp_path, cache_dir):
    write_jsonl(tmp_path / "test.jsonl", [{"tokens": ["Oslo"], "ner_tags": ["B-LOC"]}])
    ds = gonerd.load_dataset("gonerd", data_dir=tmp_path, split="test", cache_dir=cache_dir)
    assert isinstance(ds, datasets.Dataset)
    assert ds["tokens"] == [["Oslo"]]


def test_environment_variable_is_the_second_source(tmp_path, monkeypatch, cache_dir):
    write_jsonl(tmp_path / "val.jsonl", [{"tokens": ["Oslo"], "ner_tags": ["B-LOC"]}])
    monkeypatch.setenv("GONERD_DATA_DIR", str(tmp_path))
    ds = gonerd.load_dataset("gonerd", cache_dir=cache_dir)
    assert list(ds) == ["validation"]


def test_edited_local_file_is_not_served_from_a_stale_cache(tmp_path, cache_dir):
    path = write_jsonl(tmp_path / "train.jsonl", [{"tokens": ["Oslo"], "ner_tags": ["B-LOC"]}])
    assert gonerd.load_dataset("gonerd", data_dir=tmp_path, cache_dir=cache_dir)["train"][
        "tokens"
    ] == [["Oslo"]]
    write_jsonl(path, [{"tokens": ["Bergen", "x"], "ner_tags": ["B-LOC", "O"]}])
    assert gonerd.load_dataset("gonerd", data_dir=tmp_path, cache_dir=cache_dir)["train"][
        "tokens"
    ] == [["Bergen", "x"]]


def test_offline_without_a_local_copy_says_how_to_provide_one(monkeypatch, cache_dir):
    import huggingface_hub.constants

    monkeypatch.delenv("GONERD_DATA_DIR", raising=False)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(GonerdSourceError, match=r"data_dir=DIR.*GONERD_DATA_DIR=DIR.*--data-dir"):
        gonerd.load_dataset("gonerd", cache_dir=cache_dir)


def test_missing_data_dir_is_one_clear_error(tmp_path):
    with pytest.raises(GonerdSourceError, match="does not exist"):
        gonerd.load_dataset("gonerd", data_dir=tmp_path / "nowhere")
    with pytest.raises(GonerdSourceError, match="holds none of train.jsonl"):
        gonerd.load_dataset("gonerd", data_dir=tmp_path)


def test_other_datasets_are_handed_to_datasets(tmp_path):
    write_jsonl(tmp_path / "d" / "train.jsonl", [{"x": 1}])
    ds = gonerd.load_dataset("json", data_files=str(tmp_path / "d" / "train.jsonl"), split="train")
    assert ds["x"] == [1]
