"""The one rule for a model's longest input, which limit applied and why, model paths
that do not exist, and warm-up as whole steps."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from transformers import (
    BertConfig,
    BigBirdConfig,
    Data2VecTextConfig,
    DebertaV2Config,
    LongformerConfig,
    RobertaConfig,
)

from benchmark.errors import BenchError
from benchmark.model_setup import (
    check_model_path,
    input_limit,
    position_limit,
)
from benchmark.training import optimizer_steps, warmup_steps


@pytest.mark.parametrize(
    ("config", "limit"),
    [
        (BertConfig(max_position_embeddings=512), 512),
        # RoBERTa: positions start at pad + 1 = 2, so a 514-row table takes 512 tokens
        (RobertaConfig(max_position_embeddings=514, pad_token_id=1), 512),
        # a RoBERTa-style model re-tokenised with BERT's vocabulary (pad 0): offset 1
        (RobertaConfig(max_position_embeddings=514, pad_token_id=0), 513),
        (LongformerConfig(max_position_embeddings=4098, pad_token_id=1), 4096),
        (Data2VecTextConfig(max_position_embeddings=514, pad_token_id=1), 512),
        (BigBirdConfig(max_position_embeddings=4096), 4096),
        (DebertaV2Config(position_biased_input=False, relative_attention=True), None),
    ],
)
def test_position_limit_per_embedding_style(config, limit):
    assert position_limit(config) == limit


def _tokenizer(limit):
    return SimpleNamespace(model_max_length=limit)


def test_the_smallest_limit_applies_and_says_which():
    bigbird = BigBirdConfig(max_position_embeddings=4096)
    # GONERD (4096) on a 4096-position model whose tokenizer still says 512
    limit = input_limit(bigbird, _tokenizer(512), 4096, None)
    assert (limit.max_length, limit.applied) == (512, "tokenizer")
    assert "--max-length up to 4096 lifts it" in limit.warning
    # --max-length lifts the tokenizer's limit, up to the position table and no further
    assert input_limit(bigbird, _tokenizer(512), 4096, 4096).max_length == 4096
    lifted = input_limit(bigbird, _tokenizer(512), 4096, 8192)
    assert (lifted.max_length, lifted.applied, lifted.warning) == (4096, "position table", None)
    # the task's own length when it is the smallest; a tokenizer with no limit is ignored
    short = input_limit(bigbird, _tokenizer(int(1e30)), 128, None)
    assert (short.max_length, short.applied, short.tokenizer_limit) == (128, "task", None)
    # relative positions only (DeBERTa-v2): the tokenizer's limit applies, and is said
    deberta = DebertaV2Config(position_biased_input=False, relative_attention=True)
    relative = input_limit(deberta, _tokenizer(512), 4096, None)
    assert (relative.max_length, relative.applied) == (512, "tokenizer")
    assert "no position table" in relative.warning
    assert input_limit(deberta, _tokenizer(512), 4096, 2048).max_length == 2048
    record = input_limit(BertConfig(), _tokenizer(512), 4096, None).record()
    assert record["max_length"] == 512 and record["limit_applied"] == "position table"


def test_a_missing_model_folder_says_so(tmp_path):
    for name in ("/nowhere/model", "./not-here", "~/not-here-either", "a/b/c"):
        with pytest.raises(BenchError, match="no such folder"):
            check_model_path(name)
    check_model_path(str(tmp_path))  # exists
    check_model_path("org/name")  # a Hub id: left to the Hub


def test_warmup_ratio_becomes_whole_steps():
    # 100 rows, batch 16 -> 7 steps per epoch; 3 epochs = 21 steps; 10% -> ceil(2.1) = 3
    assert optimizer_steps(100, 16, 3.0) == 21
    assert warmup_steps(optimizer_steps(100, 16, 3.0), 0.1) == 3
    # 0.5 epochs of 7 steps -> ceil(3.5) = 4 steps; 10% -> ceil(0.4) = 1
    assert warmup_steps(optimizer_steps(100, 16, 0.5), 0.1) == 1
    assert warmup_steps(21, 0.0) == 0


def test_a_recipe_stage_warms_up_over_the_same_kind_of_steps():
    # a stage's max_steps is the run: 6 % of 40 steps -> ceil(2.4) = 3
    assert warmup_steps(optimizer_steps(10_000, 8, 1.0, max_steps=40), 0.06) == 3
    # 7 batches of 16, two a step -> 4 steps an epoch; 2 epochs = 8 steps
    assert optimizer_steps(100, 16, 2.0, accumulation=2) == 8
