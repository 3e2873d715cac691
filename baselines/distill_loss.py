"""The DistilBERT distillation loss (Sanh et al. 2019), and the student/teacher pair that
computes it in one forward pass.

loss = w_kl * KL(teacher || student) on soft targets at temperature T, scaled by T^2
     + w_mlm * the student's masked-LM cross-entropy
     + w_cos * (1 - cosine) between the last hidden states.

The defaults are DistilBERT's published weights (KL 5.0, MLM 2.0, cosine 1.0, T 2.0),
which the paper gives as "alpha=2, beta=5, gamma=1, T=2". KL and cosine are taken over the
real (non-padding) positions, or KL over the masked positions only. The vocabulary head
runs only on the positions a term needs, and above ``chunk`` positions in chunks whose
logits are recomputed in the backward pass: at 4,096 tokens one sequence's full-vocabulary
logits take ~0.8 GB per model otherwise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint


@dataclass(frozen=True)
class LossWeights:
    """The weights and temperature of the loss; recorded with every distillation run."""

    kl: float = 5.0
    mlm: float = 2.0
    cos: float = 1.0
    temperature: float = 2.0
    kl_positions: str = "all"  # "all" real positions, or "masked" only

    def __post_init__(self) -> None:
        if self.kl_positions not in ("all", "masked"):
            raise ValueError("kl_positions is 'all' or 'masked'")
        if self.temperature <= 0:
            raise ValueError("the temperature must be positive")

    def to_dict(self) -> dict:
        return asdict(self)


class _SoftTargetKL(torch.autograd.Function):
    """Summed KL(softmax(t/T) || softmax(s/T)) over rows, with its gradient written out
    ((softmax(s/T) - softmax(t/T)) / T) and both passes run a few rows at a time, so
    each row's vocabulary-wide work stays in cache: about 2.5x faster on CPU than the
    same loss through autograd's log_softmax and kl_div (tests/perf/bench_distill_step.py
    measures the whole step)."""

    ROWS = 16  # on a CPU; see rows_at_once

    @staticmethod
    def rows_at_once(logits: torch.Tensor) -> int:
        """Rows per pass: on a CPU a few, so each row's vocabulary-wide work stays in cache;
        on a GPU enough for about 32M elements, since there every pass is a round of kernel
        launches (16 rows made a distillation step 3.6x its unavoidable work on an H100)."""
        if logits.device.type == "cpu":
            return _SoftTargetKL.ROWS
        return max(_SoftTargetKL.ROWS, 2**25 // max(logits.shape[1], 1))

    @staticmethod
    def forward(ctx, student_logits, teacher_logits, temperature):
        rows_at_once, vocabulary = (
            _SoftTargetKL.rows_at_once(student_logits),
            student_logits.shape[1],
        )
        teacher_probs = torch.empty_like(teacher_logits, dtype=torch.float32)
        student_lse = student_logits.new_empty(len(student_logits), dtype=torch.float32)
        # two chunk-sized work buffers, reused: no allocation per chunk
        teacher_work = student_logits.new_empty(rows_at_once, vocabulary, dtype=torch.float32)
        student_work = torch.empty_like(teacher_work)
        total = student_logits.new_zeros((), dtype=torch.float32)
        scale = 1.0 / temperature  # a product, not a quotient: division is slow on CPU
        for start in range(0, len(student_logits), rows_at_once):
            rows = slice(start, start + rows_at_once)
            n = len(student_logits[rows])
            teacher_log = torch.mul(teacher_logits[rows], scale, out=teacher_work[:n])
            teacher_log.sub_(torch.logsumexp(teacher_log, -1, keepdim=True))
            probs = torch.exp(teacher_log, out=teacher_probs[rows])
            student = torch.mul(student_logits[rows], scale, out=student_work[:n])
            lse = torch.logsumexp(student, -1)
            student_lse[rows] = lse
            # sum p_t (log p_t - log p_s), with log p_s = s/T - logsumexp(s/T)
            total += torch.linalg.vecdot(probs, teacher_log.sub_(student)).sum() + lse.sum()
        ctx.save_for_backward(student_logits, teacher_probs, student_lse)
        ctx.temperature = temperature
        return total

    @staticmethod
    def backward(ctx, grad):
        student_logits, teacher_probs, student_lse = ctx.saved_tensors
        temperature = ctx.temperature
        out = torch.empty_like(student_logits, dtype=torch.float32)
        scale = 1.0 / temperature
        rows_at_once = _SoftTargetKL.rows_at_once(student_logits)
        for start in range(0, len(student_logits), rows_at_once):
            rows = slice(start, start + rows_at_once)
            part = torch.mul(student_logits[rows].float(), scale, out=out[rows])
            part.sub_(student_lse[rows, None]).exp_().sub_(teacher_probs[rows])
            part.mul_(grad * scale)
        return out.to(student_logits.dtype), None, None


def kl_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    temperature: float,
    reduction: str = "mean",
) -> torch.Tensor:
    """KL(teacher || student) between the softened distributions of rows of logits, times
    T^2 (so its gradients keep their size as T changes); the mean or sum over rows."""
    total = _SoftTargetKL.apply(student_logits, teacher_logits.detach(), temperature)
    total = total * temperature**2
    return total / max(len(student_logits), 1) if reduction == "mean" else total


def cosine_loss(
    student_hidden: torch.Tensor, teacher_hidden: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Mean of 1 - cos(student, teacher) over the positions where ``mask`` is true."""
    similarity = F.cosine_similarity(student_hidden, teacher_hidden, dim=-1)
    return (1 - similarity)[mask.bool()].mean()  # masked after: no large index in backward


def mlm_head(model):
    """The vocabulary head of a masked-LM model (BERT-style ``cls`` or RoBERTa-style
    ``lm_head``): it maps hidden states of any shape [..., hidden] to logits."""
    for name in ("cls", "lm_head"):
        if hasattr(model, name):
            return getattr(model, name)
    raise ValueError(f"{type(model).__name__} has no masked-LM head (cls or lm_head)")


def vocabulary_terms(
    student_hidden,
    teacher_hidden,
    labels,
    student_head,
    teacher_head,
    temperature: float,
    chunk: int,
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Over rows of hidden states (one per chosen position): the summed KL, the summed MLM
    cross-entropy over rows with a label, and how many rows had one."""

    def terms(s_hidden, t_hidden, row_labels):
        s_logits = student_head(s_hidden)
        with torch.no_grad():
            t_logits = teacher_head(t_hidden)
        kl = kl_loss(s_logits, t_logits, temperature, reduction="sum")
        labelled = row_labels != -100  # the MLM term needs only the masked rows
        mlm = F.cross_entropy(s_logits[labelled], row_labels[labelled], reduction="sum")
        return kl, mlm

    labelled = int((labels != -100).sum())
    if len(labels) <= chunk:
        kl, mlm = terms(student_hidden, teacher_hidden, labels)
        return kl, mlm, labelled
    kl = mlm = student_hidden.new_zeros(())
    for start in range(0, len(labels), chunk):
        part = slice(start, start + chunk)
        chunk_kl, chunk_mlm = checkpoint(
            terms, student_hidden[part], teacher_hidden[part], labels[part], use_reentrant=False
        )
        kl, mlm = kl + chunk_kl, mlm + chunk_mlm
    return kl, mlm, labelled


def head_chunk(device: torch.device, vocabulary: int) -> int:
    """Positions whose vocabulary logits are held at once. On a GPU, as many as fit ~2^28
    logits (8,192 positions of a 30k vocabulary, about 2.5 GB with the teacher's
    probabilities and the gradient): a batch of 16 x 512 or 2 x 4,096 then needs no
    recomputation of the heads in the backward; on a CPU, 1,024."""
    if device.type == "cpu":
        return 1024
    return min(8192, max(1024, 2**28 // max(vocabulary, 1)))


class DistillationPair(torch.nn.Module):
    """The student (trained, wrapped for gradient sync by the Trainer) and the teacher
    (frozen, in eval mode, run under no_grad, never registered as a submodule, so it is
    neither wrapped nor saved); ``forward`` returns the loss and its terms."""

    # The loss is a mean per batch: the Trainer must divide it for gradient accumulation.
    accepts_loss_kwargs = False

    def __init__(self, student, teacher, weights: LossWeights, chunk: int | None = None) -> None:
        super().__init__()
        if student.config.hidden_size != teacher.config.hidden_size:
            raise ValueError("the cosine loss needs the same hidden size in student and teacher")
        self.student = student
        self.weights = weights
        self.chunk = chunk
        teacher.eval().requires_grad_(False)
        self._teacher = [teacher]  # a list keeps it out of the module tree

    @property
    def teacher(self):
        return self._teacher[0]

    def forward(self, input_ids, attention_mask, labels, **model_inputs):
        if self.teacher.device != input_ids.device:  # the Trainer moves only the student
            self.teacher.to(input_ids.device)
        with torch.no_grad():
            teacher_hidden = self.teacher.base_model(
                input_ids=input_ids, attention_mask=attention_mask, **model_inputs
            ).last_hidden_state
        student_hidden = self.student.base_model(
            input_ids=input_ids, attention_mask=attention_mask, **model_inputs
        ).last_hidden_state
        real = attention_mask.bool()
        rows = real if self.weights.kl_positions == "all" else labels != -100
        # positions by index: the backward of index_select is a cheap index_add, that of a
        # boolean mask an index_put
        picked = rows.flatten().nonzero().squeeze(1)
        kl_sum, mlm_sum, labelled = vocabulary_terms(
            student_hidden.flatten(0, 1).index_select(0, picked),
            teacher_hidden.flatten(0, 1).index_select(0, picked),
            labels.flatten().index_select(0, picked),
            mlm_head(self.student),
            mlm_head(self.teacher),
            self.weights.temperature,
            self.chunk or head_chunk(input_ids.device, self.student.config.vocab_size),
        )
        kl = kl_sum / max(int(rows.sum()), 1)
        mlm = mlm_sum / max(labelled, 1)
        cos = cosine_loss(student_hidden, teacher_hidden, real)
        loss = self.weights.kl * kl + self.weights.mlm * mlm + self.weights.cos * cos
        return {"loss": loss, "kl": kl.detach(), "mlm": mlm.detach(), "cos": cos.detach()}
