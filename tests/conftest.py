"""Shared fixtures: paths to real data samples and helpers to write GONERD-format files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def write_jsonl(path: Path, records: list) -> Path:
    """Write records one per line; strings are written as raw lines (for malformed input)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def read_tsv_sentences(path: Path, tag_column: int) -> list[list[tuple[str, str]]]:
    """Sentences of (word, tag) from a column file (LitBank tsv or CoNLL), skipping DOCSTART."""
    sentences, current = [], []
    for line in path.read_text("utf-8").splitlines():
        if line.startswith("-DOCSTART-"):
            continue
        if not line.strip():
            if current:
                sentences.append(current)
            current = []
            continue
        columns = line.split("\t") if "\t" in line else line.split(" ")
        current.append((columns[0], columns[tag_column]))
    if current:
        sentences.append(current)
    return sentences


@pytest.fixture(scope="session")
def minilm_path() -> Path:
    """The bundled real pretrained checkpoint (all-MiniLM-L6-v2, BERT, 512 positions)."""
    from benchmark.defaults import default_model_path

    return default_model_path()


@pytest.fixture(scope="session")
def minilm_tokenizer(minilm_path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(minilm_path)


@pytest.fixture
def cache_dir(tmp_path) -> str:
    """A private datasets cache, so tests never read each other's prepared Arrow files."""
    return str(tmp_path / "hf-cache")
