"""Masked Nyströmformer self-attention that runs at any input length and with padding.

Why this exists: transformers 5.x's ``NystromformerSelfAttention`` approximates attention
only for inputs of exactly ``config.segment_means_seq_len`` tokens with no padding: any
other length fails in the reshape that forms the landmark (segment) means, and a padding
mask fails with a size mismatch, because the port dropped the reference implementation's
masking of queries and keys before those means (Xiong et al. 2021, mlpen/Nystromformer).
When ``num_landmarks == segment_means_seq_len`` it silently runs exact O(n^2) attention.

``use_masked_attention(model)`` swaps every such module of a Nyströmformer model, in place,
for ``MaskedNystromformerSelfAttention``: same parameter names (query, key, value, conv),
so any transformers checkpoint loads unchanged and ``save_pretrained`` output is unchanged.

Design (see the class docstring): each sequence is split into landmark segments by its own
real tokens only, so a sequence's output is the same whatever padding the batch gives it.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import torch
from torch import nn
from transformers import NystromformerConfig
from transformers.models.nystromformer.modeling_nystromformer import NystromformerSelfAttention


class MaskedNystromformerSelfAttention(nn.Module):
    """Nyström self-attention with padding masks, at any length, per sequence.

    For a sequence with ``n`` real tokens and ``m = num_landmarks``:

    * ``n <= m`` (it pads to exactly ``m`` tokens, landmarks == length): exact masked
      softmax attention, as the reference does when landmarks equal the length.
    * ``n > m``: the sequence is treated as padded at its end to ``m * s`` tokens with
      ``s = ceil(n / m)`` (padding masked), cut into ``m`` segments of ``s`` tokens, and
      each landmark is the mean of the real queries/keys of its segment, divided by the
      number of real tokens in it. Segments made only of padding give no landmark: they
      are masked out of the query-landmark softmaxes and get an identity block in the
      landmark kernel, so they contribute nothing.

    The padding is virtual (segment ids, not a copy of the input), and segments follow the
    rank of real tokens, so left, right or batch padding never moves a real token to another
    segment. The reference instead divides by the full segment size and keeps all-padding
    landmarks as zero vectors that still take softmax weight, so its output depends on how
    much padding a sequence carries; a benchmark must not score a document differently
    depending on its batch, hence real-token means. For an unpadded input whose length is a
    multiple of ``m`` (e.g. ``segment_means_seq_len``) both coincide with transformers.

    Queries, keys and values are multiplied by the 0/1 mask, the depthwise convolution skip
    runs on the masked values, and q and k are scaled by ``1/sqrt(sqrt(head_dim))`` each.
    As in transformers, no dropout is applied to attention probabilities.
    """

    def __init__(self, config: NystromformerConfig) -> None:
        super().__init__()
        if config.hidden_size % config.num_attention_heads != 0:
            raise ValueError(
                f"hidden size {config.hidden_size} is not a multiple of the "
                f"{config.num_attention_heads} attention heads"
            )
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = config.hidden_size // config.num_attention_heads
        self.all_head_size = self.num_attention_heads * self.attention_head_size
        self.num_landmarks = config.num_landmarks
        # transformers reads config["inv_init_coeff_option"] here, which raises; True means
        # the exact 1/||K||_1 coefficient, as in the reference.
        self.init_option = "exact" if config.inv_coeff_init_option else "original"
        # None: no convolution skip (transformers 5.x's config always holds an int).
        self.conv_kernel_size = config.conv_kernel_size

        self.query = nn.Linear(config.hidden_size, self.all_head_size)
        self.key = nn.Linear(config.hidden_size, self.all_head_size)
        self.value = nn.Linear(config.hidden_size, self.all_head_size)
        if self.conv_kernel_size is not None:
            self.conv = nn.Conv2d(
                in_channels=self.num_attention_heads,
                out_channels=self.num_attention_heads,
                kernel_size=(self.conv_kernel_size, 1),
                padding=(self.conv_kernel_size // 2, 0),
                bias=False,
                groups=self.num_attention_heads,
            )

    def extra_repr(self) -> str:
        return f"num_landmarks={self.num_landmarks}, init_option={self.init_option}"

    @classmethod
    def from_transformers(
        cls, module: NystromformerSelfAttention
    ) -> MaskedNystromformerSelfAttention:
        """The masked twin of a transformers module, with its weights, device, dtype and mode
        (built from the module itself so it works whatever holds it)."""
        settings = SimpleNamespace(
            hidden_size=module.query.in_features,
            num_attention_heads=module.num_attention_heads,
            num_landmarks=module.num_landmarks,
            conv_kernel_size=module.conv_kernel_size,
            inv_coeff_init_option=module.init_option != "original",
        )
        masked = cls(settings)  # type: ignore[arg-type]
        masked.to(device=module.query.weight.device, dtype=module.query.weight.dtype)
        masked.load_state_dict(module.state_dict(), strict=True)
        masked.train(module.training)
        return masked

    def iterative_inv(self, mat: torch.Tensor, n_iter: int = 6) -> torch.Tensor:
        """Moore-Penrose pseudo-inverse by the reference's iteration (6 steps).

        Computed in float32 (an m x m matrix, cheap) so half precision stays usable.
        "original" scales Z_0 by the largest column sum of the whole sequence (all heads);
        the reference and transformers take it over the whole batch, letting one sequence change
        another's output, so it is taken per sequence here (same for a batch of one).
        "exact" uses the per-head 1/||K||_1 coefficient, as transformers does.
        """
        key = mat.float()
        identity = torch.eye(key.size(-1), device=key.device, dtype=key.dtype)
        column_sums = key.sum(dim=-2)  # [B, H, m]
        if self.init_option == "original":
            scale = column_sums.flatten(1).max(dim=-1).values[:, None, None, None]
        else:
            scale = column_sums.max(dim=-1).values[:, :, None, None]
        value = key.transpose(-1, -2) / scale
        for _ in range(n_iter):
            key_value = key @ value
            value = (0.25 * value) @ (
                13 * identity - key_value @ (15 * identity - key_value @ (7 * identity - key_value))
            )
        return value.to(mat.dtype)

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, ...]:
        """Same call and return as transformers' module: ``(context,)`` or, with
        ``output_attentions``, ``(context, probs)`` where ``probs`` is the dense [B, H, L, L]
        (approximate) attention matrix without the convolution term."""
        batch, length = hidden_states.shape[:2]
        keep = token_mask(attention_mask, batch, length).to(hidden_states.device)
        weight = keep[:, None, :, None].to(hidden_states.dtype)
        shape = (batch, length, self.num_attention_heads, self.attention_head_size)
        scale = math.sqrt(math.sqrt(self.attention_head_size))
        query = self.query(hidden_states).view(shape).transpose(1, 2) * weight / scale
        key = self.key(hidden_states).view(shape).transpose(1, 2) * weight / scale
        value = self.value(hidden_states).view(shape).transpose(1, 2) * weight

        real = keep.sum(dim=-1)
        short = real <= self.num_landmarks
        context = torch.empty_like(value)
        probs = None
        if output_attentions:
            probs = value.new_zeros(batch, self.num_attention_heads, length, length)
        for rows, attend in ((short, self._exact), (~short, self._nystrom)):
            if rows.all():
                context, row_probs = attend(query, key, value, keep, output_attentions)
                probs = row_probs
            elif rows.any():
                row_context, row_probs = attend(
                    query[rows], key[rows], value[rows], keep[rows], output_attentions
                )
                context[rows] = row_context
                if probs is not None:
                    probs[rows] = row_probs

        if self.conv_kernel_size is not None:
            context = context + self.conv(value)
        context = context.transpose(1, 2).reshape(batch, length, self.all_head_size)
        return (context, probs) if output_attentions else (context,)

    def _exact(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        keep: torch.Tensor,
        output_attentions: bool,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Exact masked softmax attention for sequences of at most m real tokens, over
        their real keys only (gathered first, in order), so it costs O(L * m)."""
        width = min(self.num_landmarks, keep.size(-1))
        order = torch.argsort((~keep).to(torch.int8), dim=-1, stable=True)[:, :width]
        gather = order[:, None, :, None].expand(-1, key.size(1), -1, key.size(-1))
        real_key, real_value = key.gather(2, gather), value.gather(2, gather)
        real_keep = keep.gather(1, order)
        scores = (query @ real_key.transpose(-1, -2)).masked_fill(
            ~real_keep[:, None, None, :], torch.finfo(query.dtype).min
        )
        attention = scores.softmax(dim=-1)
        dense = None
        if output_attentions:
            dense = attention.new_zeros(*attention.shape[:-1], keep.size(-1))
            index = order[:, None, None, :].expand_as(attention)
            dense.scatter_(-1, index, attention * real_keep[:, None, None, :])
        return attention @ real_value, dense

    def _nystrom(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        keep: torch.Tensor,
        output_attentions: bool,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Nyström approximation with masked segment-mean landmarks (see the class doc)."""
        m = self.num_landmarks
        lowest = torch.finfo(query.dtype).min
        real = keep.sum(dim=-1)
        segment_size = (real + m - 1) // m  # ceil(n / m): the row padded to m * size tokens
        rank = (keep.long().cumsum(dim=-1) - 1).clamp(min=0)  # position among real tokens
        segment = (rank // segment_size[:, None]).clamp(max=m - 1)
        members = nn.functional.one_hot(segment, m).transpose(1, 2)
        members = (members * keep[:, None, :]).to(query.dtype)  # [B, m, L]
        counts = members.sum(dim=-1)  # real tokens per segment
        landmark = counts > 0
        members = (members / counts.clamp(min=1)[..., None])[:, None]  # means, [B, 1, m, L]
        query_landmarks = members @ query
        key_landmarks = members @ key

        no_landmark = ~landmark[:, None, None, :]
        kernel_1 = (query @ key_landmarks.transpose(-1, -2)).masked_fill(no_landmark, lowest)
        kernel_1 = kernel_1.softmax(dim=-1)
        kernel_2 = (query_landmarks @ key_landmarks.transpose(-1, -2)).masked_fill(
            no_landmark, lowest
        )
        identity = torch.eye(m, device=query.device, dtype=query.dtype)
        kernel_2 = torch.where(landmark[:, None, :, None], kernel_2.softmax(dim=-1), identity)
        kernel_3 = (query_landmarks @ key.transpose(-1, -2)).masked_fill(
            ~keep[:, None, None, :], lowest
        )
        kernel_3 = kernel_3.softmax(dim=-1)
        left = kernel_1 @ self.iterative_inv(kernel_2)
        dense = left @ kernel_3 if output_attentions else None
        return left @ (kernel_3 @ value), dense


def token_mask(attention_mask: torch.Tensor | None, batch: int, length: int) -> torch.Tensor:
    """The [B, L] boolean mask of real tokens, from whatever the model passes down.

    NystromformerModel passes None (no padding) or an additive float mask [B, 1, L, L]
    (0 to attend, the dtype's minimum to mask); a bool mask (True = attend), a [B, L] 0/1
    mask and [B, 1, 1, L] additive masks are accepted too. Additive values below -1 mean
    masked. A key is real if any query may attend to it.
    """
    if attention_mask is None:
        return torch.ones(batch, length, dtype=torch.bool)
    mask = attention_mask
    if mask.dtype == torch.bool:
        keep = mask
    elif mask.dim() == 2:
        keep = mask != 0
    else:
        keep = mask > -1
    if keep.dim() > 2:
        keep = keep.reshape(keep.size(0), -1, keep.size(-1)).any(dim=1)
    if keep.shape != (batch, length):
        keep = keep.expand(batch, length)
    return keep


def use_masked_attention(model: nn.Module) -> int:
    """Replace, in place, every transformers ``NystromformerSelfAttention`` inside ``model``
    by ``MaskedNystromformerSelfAttention`` with the same weights; return how many were
    replaced (0 for a model already patched)."""
    replaced = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, NystromformerSelfAttention):
                setattr(parent, name, MaskedNystromformerSelfAttention.from_transformers(child))
                replaced += 1
    return replaced
