"""LSG attention (Local, Sparse, Global; Condevaux & Harispe, PAKDD 2023) for BERT and RoBERTa.

The authors' ``lsg-converter`` (ccdv-ai/convert_checkpoint_to_lsg) does not import with
transformers 5.x, and the LSG checkpoints on the Hub need ``trust_remote_code``. This module is
the suite's own small implementation: :func:`register` makes ``lsg-bert`` and ``lsg-roberta``
known to the Auto classes, so a saved LSG checkpoint loads with a plain
``AutoModelForXxx.from_pretrained(path)``. Parameter names are BERT's/RoBERTa's, plus one,
``<prefix>.embeddings.global_embeddings``, so a BERT/RoBERTa state dict maps in unchanged.

Attention, per head (``f`` = sparsity_factor, ``bs`` = block_size, ``sbs`` = sparse_block_size).
The ``T`` tokens are padded (masked) at the end to ``nb`` blocks of ``bs``; query block ``b``
covers tokens ``[b*bs, (b+1)*bs)`` and attends to, with scale ``1/sqrt(head_dim)``:

* the ``num_global_tokens`` global tokens;
* local context: tokens ``[(b-1)*bs, (b+2)*bs)`` (previous, current and next block);
* sparse context: the sequence reduced by ``f`` (reduced token ``r`` stands for tokens
  ``[r*f, (r+1)*f)``; requires ``bs % f == 0``), taking the ``sbs`` reduced tokens just outside
  the local context, i.e. reduced tokens ``[(b-1)*bs/f - sbs, (b-1)*bs/f)`` on the left and
  ``[(b+2)*bs/f, (b+2)*bs/f + sbs)`` on the right. These never overlap the local context, so no
  key is counted twice. "pooling": mean key/value of the group's unmasked tokens (masked when
  none is); "stride": one token per group, token ``r*f + (head % f)`` (heads take different
  offsets, as in the authors' code), masked with that token.

Positions outside ``[0, T)`` and padding keys are masked (score ``finfo.min``). Global tokens
attend to every token and to each other (full attention). Cross-attention, decoding and
attention-weight outputs are not supported.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from huggingface_hub.dataclasses import strict
from huggingface_hub.errors import StrictDataclassError
from torch import nn
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForMaskedLM,
    AutoModelForQuestionAnswering,
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
    BertConfig,
    PreTrainedConfig,
    RobertaConfig,
)
from transformers import initialization as init
from transformers.modeling_outputs import BaseModelOutputWithPoolingAndCrossAttentions
from transformers.models.bert import modeling_bert as mb
from transformers.models.roberta import modeling_roberta as mr
from transformers.utils.output_capturing import capture_outputs

SPARSITY_TYPES = ("pooling", "stride")


def _check_lsg_fields(config: PreTrainedConfig) -> None:
    if config.block_size < 1 or config.sparse_block_size < 0 or config.num_global_tokens < 0:
        raise ValueError("block_size must be >= 1, sparse_block_size and num_global_tokens >= 0")
    if config.sparsity_factor < 1 or config.block_size % config.sparsity_factor:
        raise ValueError("sparsity_factor must be >= 1 and divide block_size")
    if config.sparsity_type not in SPARSITY_TYPES:
        raise ValueError(f"sparsity_type must be one of {SPARSITY_TYPES}")
    if config.is_decoder or config.add_cross_attention:
        raise ValueError("LSG models here are encoders only (is_decoder/add_cross_attention)")


@strict
class LsgBertConfig(BertConfig):
    """BERT's configuration plus the LSG fields (see the module docstring).

    ``cls_token_id`` picks the word embedding the global tokens start from (falls back to
    ``bos_token_id``; BERT configs usually carry neither, so pass the tokenizer's)."""

    model_type = "lsg-bert"
    block_size: int = 128
    sparse_block_size: int = 128
    sparsity_factor: int = 2
    sparsity_type: str = "pooling"
    num_global_tokens: int = 1
    cls_token_id: int | None = None

    def validate_lsg(self) -> None:
        _check_lsg_fields(self)


@strict
class LsgRobertaConfig(RobertaConfig):
    """RoBERTa's configuration plus the LSG fields (see :class:`LsgBertConfig`)."""

    model_type = "lsg-roberta"
    block_size: int = 128
    sparse_block_size: int = 128
    sparsity_factor: int = 2
    sparsity_type: str = "pooling"
    num_global_tokens: int = 1
    cls_token_id: int | None = None

    def validate_lsg(self) -> None:
        _check_lsg_fields(self)


def _reduce(x: torch.Tensor, keep: torch.Tensor, factor: int, kind: str):
    """The sequence reduced by ``factor``: (B, h, T, d), (B, 1, T, 1) -> (B, h, T/f, d), mask."""
    if kind == "pooling":
        groups = x.unflatten(2, (-1, factor))
        weights = keep.unflatten(2, (-1, factor)).to(x.dtype)
        count = weights.sum(3)
        return (groups * weights).sum(3) / count.clamp(min=1), count > 0
    heads = x.shape[1]
    offset = torch.arange(heads, device=x.device) % factor
    index = torch.arange(0, x.shape[2], factor, device=x.device) + offset[:, None]  # (h, T/f)
    index = index[None, :, :, None].expand(x.shape[0], -1, -1, 1)
    picked = keep.expand(-1, heads, -1, -1).gather(2, index)
    return x.gather(2, index.expand(-1, -1, -1, x.shape[-1])), picked


def _local(x: torch.Tensor, block: int) -> torch.Tensor:
    """(B, h, nb*bs, d) -> (B, h, nb, 3*bs, d): previous, current and next block (zero-padded)."""
    x = F.pad(x, (0, 0, block, block)).unflatten(2, (-1, block))
    return torch.cat([x[:, :, :-2], x[:, :, 1:-1], x[:, :, 2:]], dim=3)


def lsg_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    keep: torch.Tensor,
    config: PreTrainedConfig,
    dropout: float = 0.0,
) -> torch.Tensor:
    """LSG attention over (B, h, G+T, d) tensors whose first G positions are the global tokens.

    ``keep`` (B, G+T) is True for tokens that may be attended to. Returns (B, h, G+T, d)."""
    g, block, factor = config.num_global_tokens, config.block_size, config.sparsity_factor
    batch, heads, length, dim = query.shape
    n = length - g
    scale = dim**-0.5
    keep = keep.bool()

    def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        scores = (q @ k.transpose(-1, -2) * scale).masked_fill(~m, torch.finfo(q.dtype).min)
        return F.dropout(scores.softmax(-1), p=dropout) @ v

    out_global = attend(query[:, :, :g], key, value, keep[:, None, None, :])
    nb = max(1, math.ceil(n / block))
    pad = nb * block - n
    q, k, v = (F.pad(t[:, :, g:], (0, 0, 0, pad)) for t in (query, key, value))
    m = F.pad(keep[:, g:], (0, pad), value=False)[:, None, :, None]  # (B, 1, T', 1)

    keys = [key[:, :, None, :g].expand(-1, -1, nb, -1, -1), _local(k, block)]
    values = [value[:, :, None, :g].expand(-1, -1, nb, -1, -1), _local(v, block)]
    masks = [keep[:, None, None, :g].expand(-1, heads, nb, -1), _local(m, block)[..., 0]]
    sbs = config.sparse_block_size
    if sbs > 0:
        k_red, m_red = _reduce(k, m, factor, config.sparsity_type)
        v_red, _ = _reduce(v, m, factor, config.sparsity_type)
        size = k_red.shape[2]
        reduced_block = block // factor
        starts = torch.arange(nb, device=q.device)[:, None] * reduced_block
        offsets = torch.arange(sbs, device=q.device)
        index = torch.cat(
            [starts - reduced_block - sbs + offsets, starts + 2 * reduced_block + offsets], 1
        )
        index = torch.where((index >= 0) & (index < size), index, size)  # `size`: a masked dummy
        k_red, v_red = (F.pad(t, (0, 0, 0, 1)) for t in (k_red, v_red))
        m_red = F.pad(m_red.expand(-1, heads, -1, -1)[..., 0], (0, 1), value=False)
        keys.append(k_red[:, :, index])
        values.append(v_red[:, :, index])
        masks.append(m_red[:, :, index])
    keys, values = torch.cat(keys, 3), torch.cat(values, 3)
    masks = torch.cat([mk.expand(batch, heads, nb, -1) for mk in masks], 3)
    out_local = attend(q.unflatten(2, (nb, block)), keys, values, masks[..., None, :])
    return torch.cat([out_global, out_local.flatten(2, 3)[:, :, :n]], dim=2)


class LsgSelfAttention(nn.Module):
    """Drop-in for BERT/RoBERTa self-attention (same ``query``/``key``/``value`` names).

    ``attention_mask`` is a boolean (B, G+T) mask, True for real tokens (global tokens first)."""

    def __init__(self, config: PreTrainedConfig) -> None:
        super().__init__()
        self.config = config
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = config.hidden_size // config.num_attention_heads
        self.all_head_size = self.num_attention_heads * self.attention_head_size
        self.query = nn.Linear(config.hidden_size, self.all_head_size)
        self.key = nn.Linear(config.hidden_size, self.all_head_size)
        self.value = nn.Linear(config.hidden_size, self.all_head_size)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)

    def forward(
        self, hidden_states: torch.Tensor, attention_mask: torch.Tensor | None = None, **kwargs
    ) -> tuple[torch.Tensor, None]:
        batch, length, _ = hidden_states.shape
        shape = (batch, length, self.num_attention_heads, self.attention_head_size)
        q, k, v = (
            p(hidden_states).view(shape).transpose(1, 2) for p in (self.query, self.key, self.value)
        )
        if attention_mask is None:
            attention_mask = torch.ones(
                batch, length, dtype=torch.bool, device=hidden_states.device
            )
        dropout = self.dropout.p if self.training else 0.0
        out = lsg_attention(q, k, v, attention_mask, self.config, dropout)
        return out.transpose(1, 2).reshape(batch, length, self.all_head_size), None


class _LsgModelMixin:
    """The LSG base model: stock embeddings/encoder/pooler, LSG self-attention in every layer,
    and ``num_global_tokens`` learned global embeddings prepended inside ``forward``.

    The global tokens go through the embeddings' LayerNorm and dropout. Global token ``i``
    starts as the embedding the [CLS]/<s> token gets at the first position (token type 0):
    word[cls] + position[first + i] + type[0] (``i`` shifts the position so that several global
    tokens differ), so a converted model starts sensibly."""

    _first_position = 0  # RoBERTa's positions start at padding_idx + 1

    def _build(self, config, embeddings, encoder, pooler) -> None:
        if not hasattr(config, "block_size"):
            raise ValueError(
                f"{type(self).__name__} needs an LSG config, got {type(config).__name__}"
            )
        _check_lsg_fields(config)
        self.config = config
        self.gradient_checkpointing = False
        self.embeddings = embeddings(config)
        self.embeddings.global_embeddings = nn.Parameter(
            torch.zeros(config.num_global_tokens, config.hidden_size)
        )
        self.encoder = encoder(config)
        for layer in self.encoder.layer:
            layer.attention.self = LsgSelfAttention(config)
        self.pooler = pooler(config) if pooler is not None else None
        self.post_init()

    def global_tokens_init(self) -> torch.Tensor:
        """The starting value of the global embeddings (see the class docstring)."""
        emb, config = self.embeddings, self.config
        first = self._first_position
        positions = (
            torch.arange(config.num_global_tokens, device=emb.global_embeddings.device) + first
        )
        value = emb.position_embeddings.weight[
            positions.clamp(max=config.max_position_embeddings - 1)
        ]
        value = value + emb.token_type_embeddings.weight[0]
        token = config.cls_token_id if config.cls_token_id is not None else config.bos_token_id
        return value + emb.word_embeddings.weight[token] if token is not None else value

    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if module is self.embeddings:
            init.copy_(module.global_embeddings, self.global_tokens_init())

    @capture_outputs
    def _encode(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        **kwargs,
    ) -> BaseModelOutputWithPoolingAndCrossAttentions:
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("You must specify exactly one of input_ids or inputs_embeds")
        if kwargs.pop("encoder_hidden_states", None) is not None:
            raise ValueError("LSG models have no cross-attention")
        for unused in ("encoder_attention_mask", "cache", "past_key_values", "use_cache"):
            kwargs.pop(unused, None)
        hidden = self.embeddings(
            input_ids=input_ids,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
        )
        batch, length = hidden.shape[:2]
        emb = self.embeddings
        globals_ = emb.LayerNorm(emb.global_embeddings).to(hidden.dtype).expand(batch, -1, -1)
        hidden = torch.cat([emb.dropout(globals_), hidden], dim=1)
        keep = torch.ones(hidden.shape[:2], dtype=torch.bool, device=hidden.device)
        if attention_mask is not None:
            keep[:, self.config.num_global_tokens :] = attention_mask.bool()
        hidden = self.encoder(hidden, attention_mask=keep, **kwargs).last_hidden_state
        hidden = hidden[:, self.config.num_global_tokens :]
        pooled = self.pooler(hidden) if self.pooler is not None else None
        return BaseModelOutputWithPoolingAndCrossAttentions(
            last_hidden_state=hidden, pooler_output=pooled
        )

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ):
        """As BERT's; every returned hidden state has the input's length (globals stripped)."""
        out = self._encode(
            input_ids, attention_mask, token_type_ids, position_ids, inputs_embeds,
            return_dict=True, **kwargs,
        )  # fmt: skip
        if out.hidden_states:
            length = out.last_hidden_state.shape[1]
            out.hidden_states = tuple(h[:, h.shape[1] - length :] for h in out.hidden_states)
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        return out if return_dict else out.to_tuple()


class _LsgHeadMixin:
    """A stock head whose base model is swapped for the LSG one (same attribute name)."""

    _lsg_model: type

    def __init__(self, config: PreTrainedConfig) -> None:
        super().__init__(config)
        stock = getattr(self, self.base_model_prefix)
        lsg = self._lsg_model(config, add_pooling_layer=stock.pooler is not None)
        setattr(self, self.base_model_prefix, lsg)
        self.post_init()


class LsgBertModel(_LsgModelMixin, mb.BertModel):
    config_class = LsgBertConfig

    def __init__(self, config: LsgBertConfig, add_pooling_layer: bool = True) -> None:
        mb.BertPreTrainedModel.__init__(self, config)
        pooler = mb.BertPooler if add_pooling_layer else None
        self._build(config, mb.BertEmbeddings, mb.BertEncoder, pooler)


class LsgRobertaModel(_LsgModelMixin, mr.RobertaModel):
    config_class = LsgRobertaConfig

    def __init__(self, config: LsgRobertaConfig, add_pooling_layer: bool = True) -> None:
        mr.RobertaPreTrainedModel.__init__(self, config)
        self._first_position = config.pad_token_id + 1
        pooler = mr.RobertaPooler if add_pooling_layer else None
        self._build(config, mr.RobertaEmbeddings, mr.RobertaEncoder, pooler)


# The task heads: each stock head of BERT and RoBERTa with the LSG base model in its place,
# named as a saved checkpoint's ``architectures`` names it (LsgBertForMaskedLM, ...).
_HEADS = {
    "ForMaskedLM": AutoModelForMaskedLM,
    "ForSequenceClassification": AutoModelForSequenceClassification,
    "ForTokenClassification": AutoModelForTokenClassification,
    "ForQuestionAnswering": AutoModelForQuestionAnswering,
}


def _lsg_head(family: str, suffix: str) -> type:
    """``Lsg<family><suffix>``: the stock head (from transformers' BERT or RoBERTa module)
    with :class:`_LsgHeadMixin` putting the LSG base model in."""
    stock_module, config_class, model_class = {
        "Bert": (mb, LsgBertConfig, LsgBertModel),
        "Roberta": (mr, LsgRobertaConfig, LsgRobertaModel),
    }[family]
    name = f"Lsg{family}{suffix}"
    attributes = {"config_class": config_class, "_lsg_model": model_class}
    attributes |= {"__module__": __name__, "__qualname__": name}
    return type(name, (_LsgHeadMixin, getattr(stock_module, family + suffix)), attributes)


LsgBertForMaskedLM = _lsg_head("Bert", "ForMaskedLM")
LsgBertForSequenceClassification = _lsg_head("Bert", "ForSequenceClassification")
LsgBertForTokenClassification = _lsg_head("Bert", "ForTokenClassification")
LsgBertForQuestionAnswering = _lsg_head("Bert", "ForQuestionAnswering")
LsgRobertaForMaskedLM = _lsg_head("Roberta", "ForMaskedLM")
LsgRobertaForSequenceClassification = _lsg_head("Roberta", "ForSequenceClassification")
LsgRobertaForTokenClassification = _lsg_head("Roberta", "ForTokenClassification")
LsgRobertaForQuestionAnswering = _lsg_head("Roberta", "ForQuestionAnswering")

_AUTO = {AutoModel: (LsgBertModel, LsgRobertaModel)} | {
    auto: (globals()[f"LsgBert{suffix}"], globals()[f"LsgRoberta{suffix}"])
    for suffix, auto in _HEADS.items()
}


def register() -> None:
    """Make ``lsg-bert``/``lsg-roberta`` checkpoints load through the Auto classes (idempotent)."""
    for config in (LsgBertConfig, LsgRobertaConfig):
        AutoConfig.register(config.model_type, config, exist_ok=True)
    for auto, (bert, roberta) in _AUTO.items():
        auto.register(LsgBertConfig, bert, exist_ok=True)
        auto.register(LsgRobertaConfig, roberta, exist_ok=True)


def lsg_config_from(
    source_config: PreTrainedConfig,
    *,
    block_size: int = 128,
    sparse_block_size: int = 128,
    sparsity_factor: int = 2,
    sparsity_type: str = "pooling",
    num_global_tokens: int = 1,
    max_position_embeddings: int | None = None,
    cls_token_id: int | None = None,
) -> LsgBertConfig | LsgRobertaConfig:
    """The LSG configuration for a BERT or RoBERTa (or LSG) configuration, every field carried
    over. ``max_position_embeddings`` is the raw config value (RoBERTa's counts its
    padding_idx + 1 offset); ``cls_token_id`` is the token the global embeddings start from."""
    classes = {"bert": LsgBertConfig, "roberta": LsgRobertaConfig}
    classes |= {cls.model_type: cls for cls in classes.values()}
    target = classes.get(source_config.model_type)
    if target is None:
        raise ValueError(
            f"no LSG variant of model type {source_config.model_type!r} (bert, roberta)"
        )
    fields = source_config.to_dict()
    for key in ("model_type", "architectures", "transformers_version", "auto_map"):
        fields.pop(key, None)
    fields |= {
        "block_size": block_size,
        "sparse_block_size": sparse_block_size,
        "sparsity_factor": sparsity_factor,
        "sparsity_type": sparsity_type,
        "num_global_tokens": num_global_tokens,
    }
    if max_position_embeddings is not None:
        fields["max_position_embeddings"] = max_position_embeddings
    if cls_token_id is not None:
        fields["cls_token_id"] = cls_token_id
    try:
        return target(**fields)
    except StrictDataclassError as error:  # an invalid LSG setting: report it as a ValueError
        raise ValueError(str(error)) from error
