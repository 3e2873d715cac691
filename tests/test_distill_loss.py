"""The distillation loss term by term on hand-made logits and hidden states: the T^2
scaling, the padding mask, the weights, the chunked vocabulary head, and a teacher that
gets no gradient."""

from __future__ import annotations

import math

import pytest
import torch
from transformers import BertConfig, BertForMaskedLM

from baselines.distill_loss import DistillationPair, LossWeights, cosine_loss, kl_loss
from baselines.student import cut


def _softmax(row: list[float]) -> list[float]:
    top = max(row)
    exps = [math.exp(x - top) for x in row]
    return [e / sum(exps) for e in exps]


def test_kl_matches_a_hand_computation_and_scales_with_t_squared():
    student = torch.tensor([[1.0, 0.0, -1.0], [0.5, 0.5, 2.0]])
    teacher = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
    for temperature in (1.0, 2.0, 4.0):
        expected = 0.0
        for s_row, t_row in zip(student.tolist(), teacher.tolist()):
            p = _softmax([x / temperature for x in t_row])
            q = _softmax([x / temperature for x in s_row])
            expected += sum(pi * math.log(pi / qi) for pi, qi in zip(p, q))
        expected = expected / 2 * temperature**2
        assert kl_loss(student, teacher, temperature).item() == pytest.approx(expected, rel=1e-5)
    assert kl_loss(teacher, teacher, 2.0).item() == pytest.approx(0.0, abs=1e-7)
    summed = kl_loss(student, teacher, 2.0, reduction="sum")
    assert summed.item() == pytest.approx(2 * kl_loss(student, teacher, 2.0).item())


def test_kl_gradient_equals_autograd_through_log_softmax_and_kl_div():
    torch.manual_seed(0)
    student = torch.randn(37, 101, requires_grad=True)  # rows not a multiple of the chunk
    teacher = torch.randn(37, 101)
    ours = kl_loss(student, teacher, 2.0)
    (grad,) = torch.autograd.grad(ours, student)
    plain = (
        torch.nn.functional.kl_div(
            torch.log_softmax(student / 2, -1),
            torch.log_softmax(teacher / 2, -1),
            log_target=True,
            reduction="batchmean",
        )
        * 4
    )
    (expected,) = torch.autograd.grad(plain, student)
    assert ours.item() == pytest.approx(plain.item(), rel=1e-5)
    assert torch.allclose(grad, expected, atol=1e-7)


def test_cosine_loss_counts_only_real_positions():
    student = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [5.0, 5.0]]])
    teacher = torch.tensor([[[1.0, 0.0], [1.0, 0.0], [-5.0, 1.0]]])
    mask = torch.tensor([[1, 1, 0]])
    # positions 0 and 1: cos 1 and cos 0 -> mean of (1 - cos) = 0.5; position 2 is padding
    assert cosine_loss(student, teacher, mask).item() == pytest.approx(0.5)
    assert cosine_loss(student, teacher, torch.ones_like(mask)).item() > 0.5


def _tiny_teacher(seed: int = 0) -> BertForMaskedLM:
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=50,
        hidden_size=16,
        num_hidden_layers=4,
        num_attention_heads=2,
        intermediate_size=32,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    return BertForMaskedLM(config).eval()


def _batch():
    torch.manual_seed(3)
    ids = torch.randint(5, 50, (2, 7))
    mask = torch.tensor([[1] * 7, [1] * 4 + [0] * 3])
    ids[1, 4:] = 0
    labels = torch.full_like(ids, -100)
    labels[0, 2], labels[1, 1] = ids[0, 2], ids[1, 1]
    return ids, mask, labels


def test_pair_loss_is_the_weighted_sum_of_its_terms_over_real_positions():
    teacher = _tiny_teacher()
    student = cut(teacher, [0, 2]).eval()
    pair = DistillationPair(student, teacher, LossWeights())
    ids, mask, labels = _batch()
    out = pair(ids, mask, labels)
    total = 5.0 * out["kl"] + 2.0 * out["mlm"] + 1.0 * out["cos"]
    assert out["loss"].item() == pytest.approx(total.item(), rel=1e-6)
    # each term worked out from the two models' outputs directly
    s_out = student(ids, attention_mask=mask, output_hidden_states=True)
    t_out = teacher(ids, attention_mask=mask, output_hidden_states=True)
    real = mask.bool()
    kl = kl_loss(s_out.logits[real], t_out.logits[real], 2.0)
    assert out["kl"].item() == pytest.approx(kl.item(), rel=1e-5)
    mlm = torch.nn.functional.cross_entropy(s_out.logits.flatten(0, 1), labels.flatten())
    assert out["mlm"].item() == pytest.approx(mlm.item(), rel=1e-5)
    cos = cosine_loss(s_out.hidden_states[-1], t_out.hidden_states[-1], mask)
    assert out["cos"].item() == pytest.approx(cos.item(), rel=1e-5)
    # what sits under the padding changes nothing
    noisy = ids.clone()
    noisy[1, 4:] = torch.tensor([11, 12, 13])
    assert pair(noisy, mask, labels)["loss"].item() == pytest.approx(out["loss"].item(), rel=1e-6)


def test_masked_only_kl_and_chunked_head_and_a_teacher_without_gradients():
    teacher = _tiny_teacher()
    ids, mask, labels = _batch()
    losses, grads = [], []
    for chunk in (1024, 3):
        student = cut(teacher, [1, 3])
        pair = DistillationPair(student, teacher, LossWeights(), chunk=chunk)
        loss = pair(ids, mask, labels)["loss"]
        loss.backward()
        losses.append(loss.item())
        grads.append(student.bert.encoder.layer[0].attention.self.query.weight.grad.clone())
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)
    assert torch.allclose(grads[0], grads[1], atol=1e-6)
    assert all(p.grad is None and not p.requires_grad for p in teacher.parameters())
    student = cut(teacher, [1, 3])
    masked = DistillationPair(student, teacher, LossWeights(kl_positions="masked"))
    picked = labels != -100
    with torch.no_grad():
        s_logits = student(ids, attention_mask=mask).logits[picked]
        t_logits = teacher(ids, attention_mask=mask).logits[picked]
    expected = kl_loss(s_logits, t_logits, 2.0)
    assert masked(ids, mask, labels)["kl"].item() == pytest.approx(expected.item(), rel=1e-5)
    with pytest.raises(ValueError, match="kl_positions"):
        LossWeights(kl_positions="some")
