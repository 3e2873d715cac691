"""Training inputs tokenised once: a second run reads them back and tokenises nothing, and
reads back exactly what tokenising gives; a changed tokenizer, length or data sample
misses; the same tokenizer in another folder hits; a damaged entry is built again."""

from __future__ import annotations

import json
import shutil

import pytest
from transformers import AutoTokenizer

from benchmark import feature_cache
from benchmark.families import TaskContext, family_for
from benchmark.task_data import load_task_split, seeded_subset
from benchmark.tasks import TASKS


class Counting:
    """A built-in family, its tokenisation counted."""

    def __init__(self, name: str):
        self.inner = family_for(name)
        self.name = self.inner.name
        self.calls = 0

    def training_features(self, context, dataset):
        self.calls += 1
        return self.inner.training_features(context, dataset)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    root = tmp_path / "features"
    monkeypatch.setenv(feature_cache.ENV, str(root))
    return root


def _inputs(task: str, tokenizer, max_length: int, limit: int | None = None, seed: int = 1):
    spec = TASKS[task]
    dataset, identity = load_task_split(spec, spec.train_split, "bundled")
    dataset = seeded_subset(dataset, limit, seed)
    labels = list(spec.label_names) if spec.label_names else None
    context = TaskContext(spec, tokenizer, max_length, labels, frozenset({"token_type_ids"}))
    return context, dataset, identity


@pytest.mark.parametrize(
    ("task", "family"), [("gonerd", "token_classification"), ("sst2", "sequence_classification")]
)
def test_the_second_run_tokenises_nothing_and_reads_back_the_same_rows(
    task, family, cache, minilm_tokenizer
):
    counting = Counting(family)
    context, dataset, identity = _inputs(task, minilm_tokenizer, 128)
    first = feature_cache.training_features(counting, context, dataset, identity)
    second = feature_cache.training_features(counting, context, dataset, identity)
    assert (first.source, second.source, counting.calls) == ("tokenised", "cache", 1)
    fresh_rows, fresh_counts = counting.inner.training_features(context, dataset)
    assert second.rows == first.rows == fresh_rows
    assert second.counts == first.counts == fresh_counts
    assert all(type(a) is type(b) for a, b in zip(second.rows[0].values(), fresh_rows[0].values()))
    entries = [p for p in cache.iterdir() if not p.name.startswith(".")]
    assert len(entries) == 1 and (entries[0] / "entry.json").is_file()


def test_a_changed_length_tokenizer_or_sample_misses(
    cache, minilm_path, minilm_tokenizer, tmp_path
):
    counting = Counting("token_classification")

    def run(tokenizer, max_length, limit=None, seed=1):
        context, dataset, identity = _inputs("conll2003", tokenizer, max_length, limit, seed)
        return feature_cache.training_features(counting, context, dataset, identity).source

    assert run(minilm_tokenizer, 128) == "tokenised"
    assert run(minilm_tokenizer, 64) == "tokenised"  # another length
    changed = AutoTokenizer.from_pretrained(minilm_path)
    changed.add_tokens(["zebrafish"])
    assert run(changed, 128) == "tokenised"  # another vocabulary
    assert run(minilm_tokenizer, 128, limit=20, seed=1) == "tokenised"  # another sample
    assert run(minilm_tokenizer, 128, limit=20, seed=2) == "tokenised"
    assert counting.calls == 5
    # the same tokenizer read from another folder (a teacher's, a student's) is a hit, and
    # so is the tokenizer after calls that changed its truncation state
    copy = tmp_path / "copy"
    shutil.copytree(minilm_path, copy)
    minilm_tokenizer(["a b c"], truncation=True, max_length=2)
    assert run(AutoTokenizer.from_pretrained(copy), 128) == "cache"
    assert run(minilm_tokenizer, 128) == "cache"
    assert run(minilm_tokenizer, 128, limit=20, seed=2) == "cache"
    assert counting.calls == 5


@pytest.mark.parametrize("damage", ["truncate rows", "garble entry", "drop rows"])
def test_a_damaged_entry_is_built_again_not_trusted(damage, cache, minilm_tokenizer):
    counting = Counting("sequence_classification")
    context, dataset, identity = _inputs("sst2", minilm_tokenizer, 128)
    first = feature_cache.training_features(counting, context, dataset, identity)
    (entry,) = [p for p in cache.iterdir() if not p.name.startswith(".")]
    arrow = next((entry / "rows").glob("*.arrow"))
    if damage == "truncate rows":
        arrow.write_bytes(arrow.read_bytes()[:-100])
    elif damage == "garble entry":
        (entry / "entry.json").write_text("{not json")
    else:
        meta = json.loads((entry / "entry.json").read_text())
        meta["rows"] += 1
        (entry / "entry.json").write_text(json.dumps(meta))
    again = feature_cache.training_features(counting, context, dataset, identity)
    assert again.source == "tokenised" and counting.calls == 2 and again.rows == first.rows
    third = feature_cache.training_features(counting, context, dataset, identity)
    assert third.source == "cache" and counting.calls == 2  # the rebuilt entry is whole


def test_off_turns_the_cache_off(monkeypatch, minilm_tokenizer):
    monkeypatch.setenv(feature_cache.ENV, "off")
    counting = Counting("sequence_classification")
    context, dataset, identity = _inputs("sst2", minilm_tokenizer, 128)
    for _ in range(2):
        found = feature_cache.training_features(counting, context, dataset, identity)
        assert found.source == "tokenised (cache off)"
    assert counting.calls == 2 and feature_cache.cache_root() is None


def test_seeds_of_a_run_share_the_tokenised_inputs(cache, tiny_bert, tmp_path, monkeypatch):
    """`bench run --seeds` tokenises the training split once: later seeds read it back."""
    from benchmark import runner
    from tests.helpers import run_config

    family = family_for("sequence_classification")
    calls = []
    real = family.training_features
    monkeypatch.setattr(family, "training_features", lambda *a: calls.append(1) or real(*a))
    config = run_config(tiny_bert, "sst2", tmp_path / "r.json", seeds=[1, 2], bootstrap=0)
    entry = json.loads(runner.run(config).read_text())["tasks"]["sst2"]
    assert sorted(entry["seed_runs"]) == ["1", "2"] and len(calls) == 1
