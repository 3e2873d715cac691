"""Any encoder means any: tiny random checkpoints of thirteen architectures, all sharing the
tiny BERT's WordPiece tokenizer, run every family (sst2, squad, conll2003, gonerd) from the
bundled samples. Among them the two the suite adds or repairs: LSG (registered with the
Auto classes, no remote code) and Nyströmformer with approximate attention (fewer landmarks
than its segment length), which transformers alone runs only on unpadded inputs of exactly
one length."""

from __future__ import annotations

import json
import shutil

import pytest
import transformers
from transformers import AutoModel, AutoTokenizer

from benchmark import runner
from benchmark.models import word_tokenizer
from benchmark.results import read_jsonl
from benchmark.task_data import load_task_split, seeded_subset
from benchmark.tasks import TASKS
from tests.helpers import run_config, tiny_size

SIZE = tiny_size()
ARCHITECTURES = {
    "bert": ("BertConfig", {"max_position_embeddings": 512}),
    "roberta": ("RobertaConfig", {"max_position_embeddings": 514, "type_vocab_size": 2}),
    "xlm-roberta": ("XLMRobertaConfig", {"max_position_embeddings": 514, "type_vocab_size": 2}),
    "distilbert": (
        "DistilBertConfig",
        {"dim": 32, "n_layers": 2, "n_heads": 2, "hidden_dim": 64, "max_position_embeddings": 512},
    ),
    "electra": ("ElectraConfig", {"embedding_size": 32, "max_position_embeddings": 512}),
    "albert": ("AlbertConfig", {"embedding_size": 16, "max_position_embeddings": 512}),
    "deberta-v2": (
        "DebertaV2Config",
        {"relative_attention": True, "position_biased_input": False, "pooler_hidden_size": 32},
    ),
    "modernbert": ("ModernBertConfig", {"max_position_embeddings": 512, "local_attention": 16}),
    "longformer": (
        "LongformerConfig",
        {"max_position_embeddings": 514, "attention_window": 16, "type_vocab_size": 2},
    ),
    "bigbird": (
        "BigBirdConfig",
        {"max_position_embeddings": 512, "block_size": 8, "num_random_blocks": 2},
    ),
    "nystromformer": (
        "NystromformerConfig",
        {"max_position_embeddings": 512, "segment_means_seq_len": 64, "num_landmarks": 64},
    ),
    "nystromformer-approximate": (
        "NystromformerConfig",
        {"max_position_embeddings": 512, "segment_means_seq_len": 512, "num_landmarks": 8},
    ),
    "lsg-bert": (
        "LsgBertConfig",
        {"max_position_embeddings": 512, "block_size": 16, "sparse_block_size": 8},
    ),
}


def make_checkpoint(tokenizer_dir, folder, config_class: str, options: dict):
    """A random checkpoint of one architecture with the tokenizer saved in ``tokenizer_dir``."""
    import torch

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    special = {
        "pad_token_id": tokenizer.pad_token_id,
        "cls_token_id": tokenizer.cls_token_id,
        "sep_token_id": tokenizer.sep_token_id,
        "bos_token_id": tokenizer.cls_token_id,
        "eos_token_id": tokenizer.sep_token_id,
    }
    size = {} if config_class == "DistilBertConfig" else SIZE
    from benchmark.architectures import lsg

    config = getattr(transformers, config_class, None) or getattr(lsg, config_class)
    config = config(vocab_size=tokenizer.vocab_size, **size, **special, **options)
    torch.manual_seed(0)
    AutoModel.from_config(config).save_pretrained(folder)
    for name in (
        "tokenizer.json",
        "tokenizer_config.json",
        "vocab.txt",
        "vocab.json",
        "merges.txt",
    ):
        if (tokenizer_dir / name).exists():
            shutil.copy(tokenizer_dir / name, folder / name)
    return folder


@pytest.mark.parametrize("architecture", [*ARCHITECTURES, "roberta-bpe"])
def test_every_family_runs_on_every_architecture(
    architecture, tiny_bert, bpe_tokenizer_dir, tmp_path
):
    """Every architecture shares the tiny BERT's WordPiece tokenizer; ``roberta-bpe`` is
    RoBERTa as shipped: byte-level BPE, <pad> = 1, so positions start at 2 and words need
    their prefix spaces. Longformer's QA passes only with the family's global attention
    mask: from BERT's [SEP] tokens it would find two separators, not three, and stop."""
    if architecture == "roberta-bpe":
        config_class, options = ARCHITECTURES["roberta"]
        tokenizer_dir = bpe_tokenizer_dir
    else:
        config_class, options = ARCHITECTURES[architecture]
        tokenizer_dir = tiny_bert
    model = make_checkpoint(tokenizer_dir, tmp_path / architecture, config_class, options)
    tasks = "sst2,squad,conll2003,gonerd"
    config = run_config(model, tasks, tmp_path / "result.json", limit=6, batch_size=6)
    result = json.loads(runner.run(config).read_text())
    assert list(result["tasks"]) == ["sst2", "squad", "conll2003", "gonerd"]
    for name, entry in result["tasks"].items():
        assert entry["protocol"] == "finetune", name
        predictions = read_jsonl(entry["predictions_file"])
        assert (
            len(predictions)
            == entry["n_examples"]["evaluated"]
            == min(6, entry["n_examples"]["original"])
        )
    gonerd = result["tasks"]["gonerd"]
    # the evaluated documents longer than the model's 512 tokens are read in windows
    limit = gonerd["inputs"]["max_length"]
    assert limit == 512 and gonerd["inputs"]["limit_applied"] in ("position table", "tokenizer")
    tokenizer = word_tokenizer(AutoTokenizer.from_pretrained(model), str(model))
    spec = TASKS["gonerd"]
    documents = seeded_subset(load_task_split(spec, "test", "bundled")[0], 6, config.seed)
    lengths = [
        len(tokenizer(d, is_split_into_words=True)["input_ids"]) for d in documents["tokens"]
    ]
    assert gonerd["inputs"]["windowed"] == sum(n > limit for n in lengths) > 0
    for row in read_jsonl(gonerd["predictions_file"]):
        assert len(row["prediction"]) == len(row["reference"])
