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


def test_student_layer_i_is_teacher_layer_map_i_with_embeddings_and_head():
    from transformers import LongformerConfig, LongformerForMaskedLM

    from baselines.student import cut

    torch.manual_seed(0)
    config = LongformerConfig(
        vocab_size=60,
        hidden_size=16,
        num_hidden_layers=6,
        num_attention_heads=2,
        intermediate_size=32,
        attention_window=[2, 4, 6, 8, 10, 12],
        max_position_embeddings=64,
    )
    teacher = LongformerForMaskedLM(config)
    layer_map = [0, 3, 5]
    student = cut(teacher, layer_map)
    assert student.config.num_hidden_layers == 3
    assert student.config.attention_window == [2, 8, 12]  # per-layer settings follow the map
    teacher_layers = teacher.longformer.encoder.layer
    for i, j in enumerate(layer_map):
        own = student.longformer.encoder.layer[i].state_dict()
        for name, tensor in teacher_layers[j].state_dict().items():
            assert torch.equal(own[name], tensor), (i, j, name)
    assert torch.equal(
        student.longformer.embeddings.word_embeddings.weight,
        teacher.longformer.embeddings.word_embeddings.weight,
    )
    assert torch.equal(student.lm_head.dense.weight, teacher.lm_head.dense.weight)
    with pytest.raises(BenchError, match="between 0 and 5"):
        cut(teacher, [1, 9])
