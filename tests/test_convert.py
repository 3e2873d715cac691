"""Conversion to efficient attention: weights mapped explicitly (nothing left random that
the source had), positions tiled with RoBERTa's padding offset kept, outputs kept on short
inputs where the new attention must equal full attention, and what could not be mapped
listed."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import AutoModel, AutoModelForMaskedLM, RobertaConfig, RobertaForMaskedLM

from baselines.convert import convert, tile_positions
from benchmark.errors import BenchError
from tests.helpers import bench, tiny_size


@pytest.mark.parametrize("target", ["longformer", "bigbird", "nystromformer", "lsg"])
def test_minilm_converts_with_every_source_weight_copied(target, minilm_path, tmp_path):
    settings = {
        "longformer": {"attention_window": 64},
        "bigbird": {"block_size": 16, "num_random_blocks": 2},
        "nystromformer": {"num_landmarks": 32},
        "lsg": {"block_size": 32, "sparse_block_size": 16},
    }[target]
    out = tmp_path / target
    report = convert(str(minilm_path), target, out, max_length=1024, overrides=settings)
    check = report.short_input_check
    assert check["tokens"] <= 32
    if target == "lsg":  # the global token joins the attention: outputs differ, and it says so
        assert not check["must_match"] and check["max_abs_difference"] > 1e-2
        assert any(n.endswith("global_embeddings") for n in report.initialised)
    else:
        assert check["must_match"] and check["max_abs_difference"] < 1e-4
    # MiniLM ships without an MLM head: the head is new and listed, the encoder all copied
    new_in_layers = [n for n in report.initialised if "encoder.layer" in n]
    if target == "nystromformer":  # its depthwise convolution has no source
        assert len(new_in_layers) == 6 and all(n.endswith("conv.weight") for n in new_in_layers)
    else:
        assert new_in_layers == []
    assert any("predictions" in n or "lm_head" in n for n in report.initialised)
    saved = json.loads((out / "conversion.json").read_text())
    assert saved["target"] == target and saved["initialised"] == report.initialised
    converted = AutoModelForMaskedLM.from_pretrained(out)
    source = AutoModel.from_pretrained(minilm_path)
    layer = converted.base_model.encoder.layer[5].attention.self
    assert torch.equal(layer.query.weight, source.encoder.layer[5].attention.self.query.weight)
    if target == "longformer":  # global projections start as the local ones
        assert torch.equal(layer.query_global.weight, layer.query.weight)
        assert converted.config.max_position_embeddings == 1024 + 1  # BERT's pad id is 0
    if target == "nystromformer":
        assert layer.conv.weight.abs().sum() == 0  # the new convolution starts silent
    table = converted.base_model.embeddings.position_embeddings.weight
    learned = source.embeddings.position_embeddings.weight
    offset = {"longformer": 1, "nystromformer": 2}.get(target, 0)
    assert torch.equal(table[offset + 700], learned[700 - 512])
    from transformers import AutoTokenizer

    assert AutoTokenizer.from_pretrained(out).model_max_length == 1024


def test_roberta_positions_keep_their_padding_offset(bpe_tokenizer_dir, tmp_path):
    from transformers import AutoTokenizer

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(bpe_tokenizer_dir)
    config = RobertaConfig(
        vocab_size=len(tokenizer),
        **tiny_size(max_position_embeddings=66),
        pad_token_id=1,
    )
    source = tmp_path / "roberta"
    RobertaForMaskedLM(config).save_pretrained(source)
    tokenizer.save_pretrained(source)
    report = convert(
        str(source),
        "longformer",
        tmp_path / "out",
        max_length=256,
        overrides={"attention_window": 64},
    )
    assert report.short_input_check["max_abs_difference"] < 1e-4
    assert report.initialised == []  # an MLM checkpoint: every weight had a source
    table = AutoModel.from_pretrained(tmp_path / "out").embeddings.position_embeddings.weight
    learned = RobertaForMaskedLM.from_pretrained(source).roberta.embeddings
    learned = learned.position_embeddings.weight
    assert table.shape[0] == 256 + 2
    assert torch.equal(table[2 + 70], learned[2 + 70 - 64])  # 64 learned rows, tiled


def test_tiling_by_hand():
    source = torch.arange(6.0).unsqueeze(1)  # 2 offset rows, then positions 2..5
    table = tile_positions(source, source_offset=2, target_rows=11, target_offset=1)
    assert table.squeeze(1).tolist() == [0, 2, 3, 4, 5, 2, 3, 4, 5, 2, 3]


def test_bad_requests_say_what_to_do(minilm_path, tiny_bert, tmp_path):
    with pytest.raises(BenchError, match="unknown target 'reformer'"):
        convert(str(minilm_path), "reformer", tmp_path / "x")
    with pytest.raises(BenchError, match="longformer has no setting of that name"):
        convert(str(minilm_path), "longformer", tmp_path / "x", overrides={"windw": 3})
    distil = tmp_path / "distil"
    from transformers import DistilBertConfig, DistilBertModel

    DistilBertModel(DistilBertConfig(dim=32, n_layers=1, n_heads=2, hidden_dim=64)).save_pretrained(
        distil
    )
    with pytest.raises(BenchError, match="converts bert and roberta"):
        convert(str(distil), "longformer", tmp_path / "x")


def test_a_wrong_mapping_is_caught_by_the_short_input_check(minilm_path, tmp_path, monkeypatch):
    import baselines.convert as module

    real = module._source_key

    def swapped(name, *args):  # query and key of every layer exchanged
        origin = real(name, *args)
        if ".query." in origin:
            return origin.replace(".query.", ".key.")
        return origin.replace(".key.", ".query.") if ".key." in origin else origin

    monkeypatch.setattr(module, "_source_key", swapped)
    with pytest.raises(BenchError, match="differ from the source's"):
        convert(str(minilm_path), "bigbird", tmp_path / "bad", max_length=512)


def test_cli_reports_what_it_did(minilm_path, tmp_path):
    from typer.testing import CliRunner

    from gonerd_bench.cli import app

    result = CliRunner().invoke(
        app,
        [
            "recipe",
            "convert",
            "--model",
            str(minilm_path),
            "--to",
            "longformer",
            "--output",
            str(tmp_path / "lf"),
            "--max-length",
            "1024",
            "--set",
            "attention_window=64",
        ],
    )
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "must match, and does" in output and "new (initialised): lm_head" in output


def test_an_output_that_is_a_file_is_one_line_before_any_work(minilm_path, tmp_path):
    in_the_way = tmp_path / "teacher.json"
    in_the_way.write_text("{}")
    done = bench(
        "recipe", "convert", "--model", str(minilm_path), "--to", "longformer",
        "--output", str(in_the_way),
    )  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip() == (
        f"error: {in_the_way} is a file: name a folder for the converted checkpoint"
    )
    assert in_the_way.read_text() == "{}"
    nowhere = bench("recipe", "convert", "--model", str(tmp_path / "no-model"), "--to", "lsg",
                    "--output", str(tmp_path / "out"))  # fmt: skip
    assert (
        nowhere.stderr.strip()
        == f"error: model '{tmp_path / 'no-model'}': no such folder; check the path"
    )
