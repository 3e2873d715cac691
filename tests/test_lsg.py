"""The suite's LSG attention (benchmark/architectures/lsg.py): the blocked attention against a
dense reference built from its definition, BERT/RoBERTa weights mapping in, Auto-class round
trips, padding."""

from __future__ import annotations

import math

import pytest
import torch
from transformers import (
    AutoConfig,
    AutoModelForMaskedLM,
    AutoModelForQuestionAnswering,
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
    BertConfig,
    BertForTokenClassification,
    BertModel,
    DistilBertConfig,
    RobertaConfig,
    RobertaModel,
)

from benchmark.architectures import lsg
from tests.helpers import tiny_size

lsg.register()

TINY = tiny_size(num_attention_heads=4, vocab_size=99, max_position_embeddings=80)
SOURCES = {"bert": BertConfig, "roberta": RobertaConfig}


def tiny_config(
    kind: str = "bert", num_labels: int = 2, **lsg_fields
) -> lsg.LsgBertConfig | lsg.LsgRobertaConfig:
    fields = dict(block_size=8, sparse_block_size=2, sparsity_factor=2, cls_token_id=3)
    return lsg.lsg_config_from(
        SOURCES[kind](**TINY, num_labels=num_labels), **(fields | lsg_fields)
    )


def token_ids(batch: int, length: int, seed: int = 0) -> torch.Tensor:
    return torch.randint(
        5, TINY["vocab_size"], (batch, length), generator=torch.Generator().manual_seed(seed)
    )


def dense_reference(
    module: lsg.LsgSelfAttention, hidden: torch.Tensor, keep: torch.Tensor
) -> torch.Tensor:
    """LSG attention query by query, from the explicit set of keys the definition allows."""
    cfg = module.config
    g, bs, sbs, f = (
        cfg.num_global_tokens,
        cfg.block_size,
        cfg.sparse_block_size,
        cfg.sparsity_factor,
    )
    batch, length, _ = hidden.shape
    heads, d = module.num_attention_heads, module.attention_head_size
    q, k, v = (
        p(hidden).view(batch, length, heads, d) for p in (module.query, module.key, module.value)
    )
    n = length - g
    out = torch.zeros(batch, length, heads, d)
    for b in range(batch):
        real = [j for j in range(n) if keep[b, g + j]]
        for h in range(heads):
            reduced = {}  # reduced index -> (key, value)
            for r in range(math.ceil(n / f)):
                if cfg.sparsity_type == "pooling":
                    members = [g + j for j in range(r * f, (r + 1) * f) if j in real]
                    if members:
                        reduced[r] = (k[b, members, h].mean(0), v[b, members, h].mean(0))
                elif (j := r * f + h % f) in real:
                    reduced[r] = (k[b, g + j, h], v[b, g + j, h])
            for i in range(length):
                if i < g:  # a global query: every real token and every global token
                    idx = list(range(g)) + [g + j for j in real]
                    keys, values = k[b, idx, h], v[b, idx, h]
                else:
                    blk = (i - g) // bs
                    idx = list(range(g)) + [g + j for j in real if blk - 1 <= j // bs <= blk + 1]
                    lo, hi = (blk - 1) * bs // f, (blk + 2) * bs // f
                    sparse = [
                        r for r in [*range(lo - sbs, lo), *range(hi, hi + sbs)] if r in reduced
                    ]
                    keys = torch.stack([*k[b, idx, h], *(reduced[r][0] for r in sparse)])
                    values = torch.stack([*v[b, idx, h], *(reduced[r][1] for r in sparse)])
                weights = (keys @ q[b, i, h] / math.sqrt(d)).softmax(-1)
                out[b, i, h] = weights @ values
    return out.reshape(batch, length, heads * d)


def full_attention(
    module: lsg.LsgSelfAttention, hidden: torch.Tensor, keep: torch.Tensor
) -> torch.Tensor:
    batch, length, _ = hidden.shape
    heads, d = module.num_attention_heads, module.attention_head_size
    q, k, v = (
        p(hidden).view(batch, length, heads, d).transpose(1, 2)
        for p in (module.query, module.key, module.value)
    )
    scores = (q @ k.transpose(-1, -2) / math.sqrt(d)).masked_fill(~keep[:, None, None, :], -1e9)
    return (scores.softmax(-1) @ v).transpose(1, 2).reshape(batch, length, -1)


def attention_inputs(cfg, n: int, padded: bool, seed: int = 0):
    torch.manual_seed(seed)
    module = lsg.LsgSelfAttention(cfg).eval()
    g = cfg.num_global_tokens
    hidden = torch.randn(2, g + n, cfg.hidden_size)
    keep = torch.ones(2, g + n, dtype=torch.bool)
    if padded:
        keep[1, g + n - 7 :] = False  # padding at the end of the second row
        keep[1, g + 4] = False  # and a masked token inside a pooled pair
    return module, hidden, keep


@pytest.mark.parametrize("padded", [False, True])
@pytest.mark.parametrize("sparsity_type", ["pooling", "stride"])
def test_blocked_attention_matches_dense_reference(sparsity_type, padded):
    cfg = tiny_config(block_size=4, sparse_block_size=2, sparsity_factor=2, num_global_tokens=2,
                      sparsity_type=sparsity_type)  # fmt: skip
    module, hidden, keep = attention_inputs(cfg, n=22, padded=padded)  # 22: not a multiple of 4
    with torch.no_grad():
        got = module(hidden, attention_mask=keep)[0]
        want = dense_reference(module, hidden, keep)
        full = full_attention(module, hidden, keep)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    g = cfg.num_global_tokens
    torch.testing.assert_close(got[:, :g], full[:, :g], atol=1e-5, rtol=1e-5)  # globals see all
    assert (got[:, g:] - full[:, g:]).abs().max() > 1e-3  # the reference is not full attention


def test_sequence_within_one_block_is_full_attention():
    cfg = tiny_config(block_size=16, num_global_tokens=2)
    module, hidden, keep = attention_inputs(cfg, n=12, padded=True)
    with torch.no_grad():
        torch.testing.assert_close(
            module(hidden, attention_mask=keep)[0],
            full_attention(module, hidden, keep),
            atol=1e-5,
            rtol=1e-5,
        )


def test_short_input_model_equals_stock_encoder_over_globals_and_tokens():
    """Whole model: inside one block, LSG = the stock BERT encoder run on [globals; tokens]."""
    cfg = tiny_config(block_size=32, num_global_tokens=2)
    torch.manual_seed(0)
    model = lsg.LsgBertModel(cfg).eval()
    stock = BertModel(
        BertConfig(**TINY, attn_implementation="eager"), add_pooling_layer=False
    ).eval()
    stock.load_state_dict(model.state_dict(), strict=False)
    ids, mask = token_ids(2, 20), torch.ones(2, 20, dtype=torch.long)
    mask[1, 13:] = 0
    with torch.no_grad():
        emb = model.embeddings
        glob = emb.LayerNorm(emb.global_embeddings).expand(2, -1, -1)
        hidden = torch.cat([glob, stock.embeddings(input_ids=ids)], 1)
        keep = torch.cat([torch.ones(2, 2), mask.float()], 1)
        additive = (1 - keep)[:, None, None, :] * torch.finfo(torch.float32).min
        want = stock.encoder(hidden, attention_mask=additive).last_hidden_state[:, 2:]
        got = model(ids, attention_mask=mask).last_hidden_state
    torch.testing.assert_close(got[mask.bool()], want[mask.bool()], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", ["bert", "roberta"])
def test_stock_state_dict_maps_in_with_only_global_tokens_missing(kind, tmp_path):
    stock_cls, lsg_cls = {
        "bert": (BertModel, lsg.LsgBertModel),
        "roberta": (RobertaModel, lsg.LsgRobertaModel),
    }[kind]
    torch.manual_seed(0)
    stock = stock_cls(SOURCES[kind](**TINY))
    result = lsg_cls(tiny_config(kind)).load_state_dict(stock.state_dict(), strict=False)
    assert list(result.missing_keys) == ["embeddings.global_embeddings"]
    assert list(result.unexpected_keys) == []
    # Through from_pretrained the global token starts from the *loaded* [CLS] embedding.
    stock.save_pretrained(tmp_path)
    model, info = lsg_cls.from_pretrained(
        tmp_path, config=tiny_config(kind), output_loading_info=True
    )
    assert set(info["missing_keys"]) == {"embeddings.global_embeddings"}
    assert not info["unexpected_keys"]
    emb = stock.embeddings
    first = 0 if kind == "bert" else stock.config.pad_token_id + 1
    want = (
        emb.word_embeddings.weight[3]
        + emb.position_embeddings.weight[first]
        + emb.token_type_embeddings.weight[0]
    )
    torch.testing.assert_close(model.embeddings.global_embeddings[0], want)
    torch.testing.assert_close(model.embeddings.word_embeddings.weight, emb.word_embeddings.weight)


def test_head_state_dict_maps_in():
    torch.manual_seed(0)
    stock = BertForTokenClassification(BertConfig(**TINY, num_labels=3))
    model = lsg.LsgBertForTokenClassification(tiny_config(num_labels=3))
    result = model.load_state_dict(stock.state_dict(), strict=False)
    assert list(result.missing_keys) == ["bert.embeddings.global_embeddings"]
    assert list(result.unexpected_keys) == []


@pytest.mark.parametrize("kind", ["bert", "roberta"])
def test_save_and_auto_load_round_trip(kind, tmp_path):
    lsg.register()  # idempotent: already called at import
    cfg = tiny_config(kind, num_labels=5, sparsity_type="stride")
    torch.manual_seed(0)
    model = (
        lsg.LsgBertForTokenClassification(cfg)
        if kind == "bert"
        else lsg.LsgRobertaForTokenClassification(cfg)
    )
    model.eval().save_pretrained(tmp_path)
    loaded, info = AutoModelForTokenClassification.from_pretrained(
        tmp_path, output_loading_info=True
    )
    assert type(loaded) is type(model)
    assert not any(info[key] for key in ("missing_keys", "unexpected_keys", "mismatched_keys"))
    saved = AutoConfig.from_pretrained(tmp_path).to_dict()
    assert saved | {"_name_or_path": ""} == cfg.to_dict() | {
        "architectures": [type(model).__name__]
    }
    ids = token_ids(2, 30)
    with torch.no_grad():
        torch.testing.assert_close(loaded.eval()(ids).logits, model(ids).logits)
    prefix = "bert" if kind == "bert" else "roberta"
    for auto, head in [
        (AutoModelForMaskedLM, "ForMaskedLM"),
        (AutoModelForQuestionAnswering, "ForQuestionAnswering"),
        (AutoModelForSequenceClassification, "ForSequenceClassification"),
    ]:
        built = auto.from_config(tiny_config(kind))
        assert type(built).__name__ == f"Lsg{prefix.capitalize()}{head}"
        assert type(getattr(built, prefix)).__name__ == f"Lsg{prefix.capitalize()}Model"
        assert built.eval()(ids)[0].shape[0] == 2


@pytest.mark.parametrize(("kind", "sparsity_type"), [("bert", "pooling"), ("roberta", "stride")])
def test_padded_row_equals_row_alone(kind, sparsity_type):
    cfg = tiny_config(kind, sparsity_type=sparsity_type, num_global_tokens=2)
    torch.manual_seed(0)
    model = (lsg.LsgBertModel if kind == "bert" else lsg.LsgRobertaModel)(cfg).eval()
    ids = token_ids(2, 50)
    ids[1, 29:] = cfg.pad_token_id
    mask = (ids != cfg.pad_token_id).long()
    with torch.no_grad():
        batch = model(ids, attention_mask=mask).last_hidden_state
        alone = model(ids[1:, :29]).last_hidden_state
        first = model(ids[:1]).last_hidden_state
    torch.testing.assert_close(batch[1, :29], alone[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(batch[0], first[0], atol=1e-5, rtol=1e-5)


def test_long_input_keeps_length_and_trains():
    cfg = tiny_config(block_size=8, sparse_block_size=4, sparsity_factor=4)
    model = lsg.LsgBertForMaskedLM(cfg).train()
    ids = token_ids(2, 50)
    out = model(ids, labels=ids, output_hidden_states=True)
    assert out.logits.shape == (2, 50, TINY["vocab_size"])
    assert [h.shape[1] for h in out.hidden_states] == [50] * (TINY["num_hidden_layers"] + 1)
    out.loss.backward()
    assert model.bert.embeddings.global_embeddings.grad.abs().sum() > 0
    tuple_out = model.bert.eval()(ids, return_dict=False)
    assert tuple_out[0].shape == (2, 50, TINY["hidden_size"])


def test_lsg_config_from():
    source = RobertaConfig(**TINY, id2label={0: "O", 1: "B-PER"})
    cfg = lsg.lsg_config_from(
        source, block_size=16, sparsity_type="stride", max_position_embeddings=1026
    )
    assert isinstance(cfg, lsg.LsgRobertaConfig) and cfg.model_type == "lsg-roberta"
    assert (cfg.hidden_size, cfg.vocab_size, cfg.pad_token_id, cfg.id2label) == (
        32,
        99,
        1,
        source.id2label,
    )
    assert (cfg.block_size, cfg.sparsity_type, cfg.max_position_embeddings) == (16, "stride", 1026)
    assert isinstance(lsg.lsg_config_from(BertConfig(**TINY)), lsg.LsgBertConfig)
    with pytest.raises(ValueError, match="model type"):
        lsg.lsg_config_from(DistilBertConfig())
    with pytest.raises(ValueError, match="divide block_size"):
        lsg.lsg_config_from(BertConfig(**TINY), block_size=6, sparsity_factor=4)


def test_lsg_is_registered_by_register_not_by_an_import():
    """Importing the module registers nothing; ``register()`` does, and again is harmless."""
    import subprocess
    import sys

    probe = (
        "from transformers import AutoConfig\n"
        "from transformers.models.auto.configuration_auto import CONFIG_MAPPING\n"
        "import benchmark.architectures.lsg\n"
        "before = 'lsg-bert' in CONFIG_MAPPING\n"
        "from benchmark.architectures import register\n"
        "register(); register()\n"
        "print(before, type(AutoConfig.for_model('lsg-bert')).__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "LsgBertConfig"]
