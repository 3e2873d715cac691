"""Masked Nyströmformer attention: equal to transformers where transformers works (unpadded,
exactly segment_means_seq_len tokens), exact where landmarks == length, and at any length
with padding a sequence's output does not depend on the padding around it."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
from transformers import (
    NystromformerConfig,
    NystromformerForMaskedLM,
    NystromformerForQuestionAnswering,
    NystromformerForSequenceClassification,
    NystromformerForTokenClassification,
    NystromformerModel,
)
from transformers.models.nystromformer.modeling_nystromformer import NystromformerSelfAttention

from benchmark.architectures.nystromformer_attention import (
    MaskedNystromformerSelfAttention,
    token_mask,
    use_masked_attention,
)
from tests.helpers import tiny_size

PAD = 1


def tiny_config(**overrides) -> NystromformerConfig:
    """Two layers of hidden 32; a wide initialiser so attention is far from uniform and a
    padding leak shows in the outputs."""
    values = tiny_size(
        vocab_size=64,
        max_position_embeddings=128,
        segment_means_seq_len=64,
        num_landmarks=16,
        conv_kernel_size=5,
        initializer_range=0.3,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        pad_token_id=PAD,
    )
    return NystromformerConfig(**(values | overrides))


def padded_batch(lengths: list[int], width: int, seed: int = 0):
    """Random token ids right-padded with PAD to ``width``, and the 0/1 attention mask."""
    generator = torch.Generator().manual_seed(seed)
    ids = torch.full((len(lengths), width), PAD)
    mask = torch.zeros(len(lengths), width, dtype=torch.long)
    for row, n in enumerate(lengths):
        ids[row, :n] = torch.randint(2, 64, (n,), generator=generator)
        mask[row, :n] = 1
    return ids, mask


def attention_pair(config: NystromformerConfig):
    """A transformers module and its masked twin holding the same weights, in eval mode."""
    torch.manual_seed(0)
    reference = NystromformerSelfAttention(config).eval()
    return reference, MaskedNystromformerSelfAttention.from_transformers(reference)


@pytest.mark.parametrize(("init_exact", "batch"), [(False, 1), (True, 3)])
def test_equals_transformers_on_unpadded_segment_means_seq_len(init_exact, batch):
    config = tiny_config(segment_means_seq_len=32, num_landmarks=8)
    reference, masked = attention_pair(config)
    if init_exact:  # transformers raises on inv_coeff_init_option=True; set its attribute
        reference.init_option = "exact"
        masked.init_option = "exact"
    hidden = torch.randn(batch, 32, 32, generator=torch.Generator().manual_seed(1)) * 2
    with torch.no_grad():
        expected = reference(hidden)[0]
        got = masked(hidden, None)[0]
    assert torch.allclose(got, expected, atol=1e-5)
    assert expected.std() > 0.1  # not a degenerate all-equal output


@pytest.mark.parametrize(("landmarks", "used"), [(8, 8), (16, 13)])
def test_any_length_equals_nystrom_over_real_token_segments(landmarks, used):
    """37 tokens: segments of ceil(37 / m) real tokens, the last one partial; with m = 16,
    segments of 3 give 13 landmarks and 3 all-padding segments that must add nothing. The
    expectation is built by hand from slices, with transformers' own pseudo-inverse."""
    config = tiny_config(segment_means_seq_len=64, num_landmarks=landmarks)
    reference, masked = attention_pair(config)
    hidden = torch.randn(1, 37, 32, generator=torch.Generator().manual_seed(6)) * 2
    with torch.no_grad():
        got = masked(hidden)[0]
        shape = (1, 37, 2, 16)
        q, k, v = (
            layer(hidden).view(shape).transpose(1, 2)
            for layer in (reference.query, reference.key, reference.value)
        )
        q, k = q / 16**0.25, k / 16**0.25
        size = math.ceil(37 / landmarks)
        starts = range(0, 37, size)
        assert len(starts) == used
        q_marks = torch.stack([q[:, :, i : i + size].mean(-2) for i in starts], dim=2)
        k_marks = torch.stack([k[:, :, i : i + size].mean(-2) for i in starts], dim=2)
        kernel_1 = (q @ k_marks.transpose(-1, -2)).softmax(-1)
        kernel_2 = (q_marks @ k_marks.transpose(-1, -2)).softmax(-1)
        kernel_3 = (q_marks @ k.transpose(-1, -2)).softmax(-1)
        expected = kernel_1 @ reference.iterative_inv(kernel_2) @ (kernel_3 @ v)
        expected = (expected + reference.conv(v)).transpose(1, 2).reshape(1, 37, 32)
    assert torch.allclose(got, expected, atol=1e-5)


def test_original_init_is_per_sequence_not_per_batch():
    """transformers scales the "original" Z_0 by a max over the whole batch, so a row's
    output depends on its batch mates; here each row equals itself run alone."""
    _, masked = attention_pair(tiny_config(segment_means_seq_len=32, num_landmarks=8))
    hidden = torch.randn(3, 32, 32, generator=torch.Generator().manual_seed(2)) * 2
    hidden[2] *= 3  # a row with a much peakier kernel
    with torch.no_grad():
        together = masked(hidden)[0]
        alone = torch.cat([masked(hidden[i : i + 1])[0] for i in range(3)])
    assert torch.allclose(together, alone, atol=1e-5)


@pytest.mark.parametrize("conv", [None, 3])
@pytest.mark.parametrize("length", [16, 11])
def test_exact_softmax_when_landmarks_equal_padded_length(conv, length):
    # transformers 5.24's config refuses conv_kernel_size=None; the module takes any object
    # with the config's fields
    config = SimpleNamespace(
        **(tiny_config(num_landmarks=16).to_dict() | {"conv_kernel_size": conv})
    )
    torch.manual_seed(0)
    masked = MaskedNystromformerSelfAttention(config).eval()
    hidden = torch.randn(2, length, 32, generator=torch.Generator().manual_seed(3)) * 2
    keep = torch.ones(2, length, dtype=torch.bool)
    keep[1, length - 4 :] = False  # second row padded
    additive = (~keep).float()[:, None, None, :] * torch.finfo(torch.float32).min
    with torch.no_grad():
        got = masked(hidden, additive)[0]
        heads, size = 2, 16
        shape = (2, length, heads, size)
        q = masked.query(hidden).view(shape).transpose(1, 2) * keep[:, None, :, None]
        k = masked.key(hidden).view(shape).transpose(1, 2) * keep[:, None, :, None]
        v = masked.value(hidden).view(shape).transpose(1, 2) * keep[:, None, :, None]
        scores = q @ k.transpose(-1, -2) / math.sqrt(size)
        scores = scores.masked_fill(~keep[:, None, None, :], float("-inf"))
        expected = scores.softmax(-1) @ v
        if conv:
            expected = expected + torch.nn.functional.conv2d(
                v, masked.conv.weight, padding=(conv // 2, 0), groups=heads
            )
        expected = expected.transpose(1, 2).reshape(2, length, 32)
    assert (conv is None) == (not hasattr(masked, "conv"))
    real = keep[..., None].expand_as(got)
    assert torch.allclose(got[real], expected[real], atol=1e-5)


def test_mask_formats_and_left_padding_give_the_unpadded_result():
    _, masked = attention_pair(tiny_config(num_landmarks=8))
    hidden = torch.randn(1, 37, 32, generator=torch.Generator().manual_seed(4)) * 2
    with torch.no_grad():
        alone = masked(hidden)[0]
        filler = torch.randn(1, 13, 32)
        right = torch.cat([hidden, filler], dim=1)
        left = torch.cat([filler, hidden], dim=1)
        keep = torch.cat([torch.ones(1, 37), torch.zeros(1, 13)], dim=1)
        additive = (1 - keep)[:, None, None, :] * -1e4
        for mask in (keep.long(), keep.bool(), additive):
            assert torch.allclose(masked(right, mask)[0][:, :37], alone, atol=1e-5)
        left_keep = keep.flip(-1).bool()
        assert torch.allclose(masked(left, left_keep)[0][:, 13:], alone, atol=1e-5)
        assert not torch.allclose(masked(right)[0][:, :37], alone, atol=1e-3)  # leak shows
    square = additive.expand(1, 1, 50, 50)
    assert torch.equal(token_mask(square, 1, 50), keep.bool())
    assert token_mask(None, 2, 5).all()


def test_padded_rows_equal_the_rows_run_unpadded():
    """Lengths 9 (exact path), 37 and 50 (Nyström, 16 landmarks: not multiples of 16), in a
    batch padded to 70; each row's real positions equal the row run alone, unpadded."""
    torch.manual_seed(0)
    model = NystromformerModel(tiny_config()).eval()
    assert use_masked_attention(model) == 2
    lengths = [9, 37, 50]
    ids, mask = padded_batch(lengths, 70)
    with torch.no_grad():
        batch = model(ids, attention_mask=mask).last_hidden_state
        leaky = model(ids).last_hidden_state  # padding treated as real tokens
        for row, n in enumerate(lengths):
            alone = model(ids[row : row + 1, :n]).last_hidden_state[0]
            assert torch.allclose(batch[row, :n], alone, atol=1e-5), n
            assert (leaky[row, :n] - alone).abs().max() > 1e-2  # the check is sensitive


@pytest.mark.parametrize(
    "model_class",
    [
        NystromformerModel,
        NystromformerForMaskedLM,
        NystromformerForTokenClassification,
        NystromformerForQuestionAnswering,
    ],
)
def test_patch_counts_layers_and_is_idempotent(model_class):
    model = model_class(tiny_config())
    assert use_masked_attention(model) == 2
    assert use_masked_attention(model) == 0
    kinds = {type(m) for m in model.modules()}
    assert MaskedNystromformerSelfAttention in kinds and NystromformerSelfAttention not in kinds


def test_sequence_classification_runs_at_any_length_with_padding():
    torch.manual_seed(0)
    model = NystromformerForSequenceClassification(tiny_config(num_labels=3)).eval()
    assert use_masked_attention(model) == 2
    assert use_masked_attention(model) == 0
    for width in (37, 64, 100):
        lengths = [width, width - 5, max(3, width // 3)]
        ids, mask = padded_batch(lengths, width, seed=width)
        with torch.no_grad():
            logits = model(ids, attention_mask=mask).logits
            assert logits.shape == (3, 3) and torch.isfinite(logits).all()
            for row, n in enumerate(lengths):
                alone = model(ids[row : row + 1, :n]).logits[0]
                assert torch.allclose(logits[row], alone, atol=1e-5), (width, n)


def test_output_attentions_is_the_dense_matrix_behind_the_context():
    model = NystromformerModel(tiny_config()).eval()
    use_masked_attention(model)
    layer = model.encoder.layer[0].attention.self
    hidden = torch.randn(2, 40, 32, generator=torch.Generator().manual_seed(5))
    keep = torch.ones(2, 40, dtype=torch.bool)
    keep[1, 12:] = False  # 12 real tokens: exact path; row 0: Nyström
    with torch.no_grad():
        context, probs = layer(hidden, keep, output_attentions=True)
        v = (layer.value(hidden) * keep[..., None]).view(2, 40, 2, 16).transpose(1, 2)
        attended = (probs @ v + layer.conv(v)).transpose(1, 2).reshape(2, 40, 32)
    assert probs.shape == (2, 2, 40, 40)
    assert torch.allclose(context, attended, atol=1e-5)
    assert probs[1][..., 12:].abs().max() == 0
    assert torch.allclose(probs[1, :, :12].sum(-1), torch.ones(2, 12), atol=1e-6)


def test_save_and_reload_then_patch_gives_the_same_outputs(tmp_path):
    torch.manual_seed(0)
    model = NystromformerForSequenceClassification(tiny_config(num_labels=2)).eval()
    names = set(model.state_dict())
    model.save_pretrained(tmp_path / "plain")
    use_masked_attention(model)
    assert set(model.state_dict()) == names  # same parameter names as transformers
    model.save_pretrained(tmp_path / "patched")
    ids, mask = padded_batch([45, 30], 45, seed=7)
    with torch.no_grad():
        expected = model(ids, attention_mask=mask).logits
    for folder in ("plain", "patched"):
        loaded, info = NystromformerForSequenceClassification.from_pretrained(
            tmp_path / folder, output_loading_info=True
        )
        assert not info["missing_keys"] and not info["unexpected_keys"]
        assert use_masked_attention(loaded.eval()) == 2
        with torch.no_grad():
            assert torch.allclose(loaded(ids, attention_mask=mask).logits, expected, atol=1e-6)
