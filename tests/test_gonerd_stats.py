"""Statistics of the bundled sample, checked against counts taken straight from the source
files (LitBank tsv token lines and CoNLL-2003 lines, B- tags per type)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from gonerd import load_dataset
from gonerd.stats import dataset_stats
from gonerd_bench.cli import app
from tests.helpers import bench

EXPECTED = {
    "train": (13, 4658, {"FAC": 11, "GPE": 1, "LOC": 129, "MISC": 27, "ORG": 119, "PER": 237}),
    "validation": (5, 3465, {"FAC": 18, "GPE": 3, "LOC": 33, "MISC": 28, "ORG": 72, "PER": 84}),
    "test": (5, 3165, {"FAC": 17, "GPE": 4, "LOC": 66, "MISC": 27, "ORG": 4, "PER": 146, "VEH": 8}),
}


def test_sample_stats_match_the_source_files(minilm_tokenizer):
    stats = dataset_stats(load_dataset("gonerd", "sample"), minilm_tokenizer)
    for split, (documents, words, entities) in EXPECTED.items():
        assert stats[split]["documents"] == documents
        assert stats[split]["words"] == words
        assert stats[split]["entities"] == entities
    lengths = stats["test"]["subword_tokens"]
    assert lengths["max"] == 2434  # Moby Dick, 2,267 words, with [CLS] and [SEP]
    assert lengths["share_over_512"] == 0.4 and lengths["share_over_4096"] == 0.0
    assert lengths["p50"] <= lengths["p90"] <= lengths["max"]


def test_cli_json_is_keyed_by_split():
    result = CliRunner().invoke(
        app, ["data", "stats", "gonerd", "--name", "sample", "--split", "test", "--json"]
    )
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    assert list(stats) == ["test"]
    assert stats["test"]["documents"] == 5
    assert stats["test"]["entities"]["VEH"] == 8


def test_cli_errors_are_one_line(tmp_path):

    for args, message in [
        (["data", "stats", "nosuch"], "unknown dataset 'nosuch'"),
        (["data", "stats", "gonerd", "--data-dir", str(tmp_path / "missing")], "does not exist"),
        (["data", "stats", "gonerd", "--name", "sample", "--split", "dev"], "split 'dev'"),
        (["data", "stats", "gonerd", "--name", "bogus"], "unknown GONERD configuration 'bogus'"),
    ]:
        proc = bench(*args)
        assert proc.returncode == 2
        lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        assert len(lines) == 1 and message in lines[0], proc.stderr
        assert "Traceback" not in proc.stderr


def test_a_windowed_configuration_without_a_tokenizer_is_refused_before_any_work():
    from gonerd import load_dataset
    from gonerd.errors import GonerdError

    with pytest.raises(GonerdError, match="needs a tokenizer: pass tokenizer="):
        load_dataset("gonerd", "sample-windowed")


def test_length_plot_is_drawn_from_the_same_lengths(tmp_path, minilm_tokenizer):
    from gonerd import load_dataset
    from gonerd.stats import document_lengths, split_stats

    test = load_dataset("gonerd", "sample", split="test")
    lengths = document_lengths(test, minilm_tokenizer)
    stats = split_stats(test, minilm_tokenizer)["subword_tokens"]
    assert max(lengths) == stats["max"] and sum(lengths) == stats["total"]
    plot = tmp_path / "lengths.png"
    done = bench("data", "stats", "gonerd", "--name", "sample", "--plot", str(plot))
    assert done.returncode == 0, done.stderr
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 10_000
    bad = bench("data", "stats", "gonerd", "--name", "sample", "--plot", str(tmp_path / "x.gif"))
    assert bad.returncode == 2 and "must end in .png or .svg" in bad.stderr
