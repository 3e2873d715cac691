"""Shared fixtures: paths to real data samples and helpers to write GONERD-format files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import measure_here, run_config, tiny_size

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


@pytest.fixture(scope="session", autouse=True)
def private_feature_cache(tmp_path_factory):
    """Tokenised training inputs (benchmark.feature_cache) go to a folder of this session's
    own, which processes the tests start inherit: no test reads what another session or the
    user's runs stored."""
    import os

    from benchmark.feature_cache import ENV

    before = os.environ.get(ENV)
    os.environ[ENV] = str(tmp_path_factory.mktemp("feature-cache"))
    yield
    if before is None:
        os.environ.pop(ENV, None)
    else:
        os.environ[ENV] = before


@pytest.fixture
def quick_profiles(monkeypatch):
    """Speed measured in the test's own process, briefly (tests.helpers.profile_here)."""
    measure_here(monkeypatch)


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


def _sample_texts() -> list[str]:
    """Real text from the bundled samples, to train a small tokenizer on."""
    root = Path(__file__).resolve().parents[1]
    texts = []
    for path in sorted((root / "benchmark" / "data" / "samples").glob("*/*.jsonl")):
        texts += path.read_text("utf-8").splitlines()[:40]
    return texts


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    """A tiny BERT (hidden 32, 2 layers) with a WordPiece tokenizer trained here, saved as a
    Hugging Face model folder: fast enough to fine-tune on every task in seconds."""
    import torch
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert")
    trainer = BertWordPieceTokenizer(lowercase=True)
    trainer.train_from_iterator(_sample_texts(), vocab_size=1500, min_frequency=1)
    trainer.save_model(str(folder))
    tokenizer = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), model_max_length=512)
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=tokenizer.vocab_size, **tiny_size(max_position_embeddings=512))
    BertModel(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def bpe_tokenizer_dir(tmp_path_factory) -> Path:
    """A byte-level BPE tokenizer (RoBERTa's kind and specials, <pad> = 1) trained here and
    saved as shipped checkpoints save it: without ``add_prefix_space``."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaTokenizer

    folder = tmp_path_factory.mktemp("bpe")
    trainer = ByteLevelBPETokenizer()
    trainer.train_from_iterator(
        _sample_texts(), vocab_size=800, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    )
    trainer.save_model(str(folder))
    tokenizer = RobertaTokenizer(
        vocab=str(folder / "vocab.json"), merges=str(folder / "merges.txt"), model_max_length=512
    )
    assert tokenizer.vocab_size > 500 and tokenizer.pad_token_id == 1
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_result(tiny_bert, tmp_path_factory) -> Path:
    """A real result of `bench run` on two whole bundled samples (no --limit), with its
    predictions and a speed block: what a submitter would send."""
    from benchmark import runner

    folder = tmp_path_factory.mktemp("result")
    config = run_config(
        tiny_bert,
        "sst2,conll2003",
        folder / "tiny-bert.json",
        name="tiny-bert",
        batch_size=16,
        speed=True,
        speed_seq_len=[32],
        speed_batch_size=2,
    )
    return runner.run(config)


@pytest.fixture(scope="session")
def tiny_mlm_teacher(tiny_bert, tmp_path_factory) -> Path:
    """A tiny 4-layer BERT with its masked-LM head and no dropout (so runs on one and on
    two processes can be compared step by step): a teacher to distil in seconds."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

    folder = tmp_path_factory.mktemp("tiny-mlm-teacher")
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    torch.manual_seed(1)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        **tiny_size(num_hidden_layers=4, max_position_embeddings=512),
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    BertForMaskedLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
