"""A student cut from its teacher: layer i of the student is teacher layer map[i], the
embeddings are the teacher's, nothing is left random."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModel

from baselines.student import cut_layers, every_other_layer
from benchmark.errors import BenchError


def test_student_layers_equal_the_chosen_teacher_layers(minilm_path, tmp_path):
    done = cut_layers(str(minilm_path), tmp_path / "student")
    assert done["layer_map"] == [0, 2, 4] == every_other_layer(6)
    teacher = AutoModel.from_pretrained(minilm_path).state_dict()
    student = AutoModel.from_pretrained(tmp_path / "student").state_dict()
    assert AutoModel.from_pretrained(tmp_path / "student").config.num_hidden_layers == 3
    for i, t in enumerate([0, 2, 4]):
        for suffix in ("attention.self.query.weight", "output.dense.bias"):
            assert torch.equal(
                student[f"encoder.layer.{i}.{suffix}"], teacher[f"encoder.layer.{t}.{suffix}"]
            )
    assert torch.equal(
        student["embeddings.word_embeddings.weight"], teacher["embeddings.word_embeddings.weight"]
    )
    # 3 fewer layers of hidden 384, intermediate 1536: q, k, v, output 4 x (384^2 + 384)
    # + 1536 x 384 + 1536 + 384 x 1536 + 384 + two LayerNorms 2 x 768 = 1,774,464 each
    layer = 4 * (384 * 384 + 384) + (384 * 1536 + 1536) + (1536 * 384 + 384) + 2 * 768
    assert layer == 1_774_464
    assert done["teacher_parameters"] - done["student_parameters"] == 3 * layer
    with pytest.raises(BenchError, match="choose layers between 0 and 5"):
        cut_layers(str(minilm_path), tmp_path / "bad", [0, 6])
