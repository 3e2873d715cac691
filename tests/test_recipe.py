"""The recipe end to end: the chain runs, resumes, refuses to overwrite, survives kill -9
in the middle of distillation, and distils the same in two processes as in one."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from huggingface_hub import ModelCard
from safetensors.torch import load_file

from baselines.recipe import plan, read_recipe, run_recipe
from baselines.study import load_study
from benchmark.config import build_config
from benchmark.errors import BenchError

ROOT = Path(__file__).resolve().parents[1]


def _recipe(path: Path, teacher: Path, **parts) -> Path:
    values = {
        "name": "test",
        "teacher": str(teacher),
        "distill": {
            "text": {"bundled": True, "max_documents": 6},
            "max_length": 64,
            "training": {
                "max_steps": 6,
                "batch_size": 4,
                "save_steps": 3,
                "logging_steps": 1,
                "learning_rate": 1e-3,
                "warmup_ratio": 0.0,
            },
        },
    } | parts
    path.write_text(yaml.safe_dump(values))
    return path


def _env() -> dict:
    return os.environ | {
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": str(ROOT),
    }


def test_the_chain_runs_and_the_student_is_scored_against_its_teacher(tiny_mlm_teacher, tmp_path):
    recipe_file = _recipe(
        tmp_path / "r.yaml",
        tiny_mlm_teacher,
        convert={"to": "longformer", "max_length": 1024, "settings": {"attention_window": 32}},
        pretrain={
            "text": {"bundled": True, "max_documents": 6},
            "max_length": 64,
            "training": {"max_steps": 3, "batch_size": 4, "save_steps": 10},
        },
        finetune={
            "run": {
                "tasks": "sst2",
                "data_dir": "bundled",
                "limit": 16,
                "epochs": 1,
                "max_length": 64,
                "speed": False,
            }
        },
    )
    recipe = read_recipe(recipe_file)
    out = tmp_path / "run"
    stages = run_recipe(recipe, out)
    assert [s.kind for s in stages] == ["convert", "pretrain", "distill", "finetune"]
    for stage in stages[:3]:
        record = json.loads((Path(stage.folder) / "stage.json").read_text())
        assert record["settings"]["stage"] == stage.kind and record["seconds"] > 0
        card = (Path(stage.folder) / "README.md").read_text()
        assert card.startswith("---\n") and "gonerd-bench" in card and stage.kind in card
    distilled = json.loads((out / "3-distill" / "stage.json").read_text())["record"]
    assert distilled["loss_weights"] == {
        "kl": 5.0,
        "mlm": 2.0,
        "cos": 1.0,
        "temperature": 2.0,
        "kl_positions": "all",
    }
    assert distilled["layer_map"] == [0, 2] and distilled["student_layers"] == 2
    assert all({"kl", "mlm", "cos"} <= set(p) for p in distilled["loss_curve"])
    student = json.loads((out / "4-finetune" / "student.json").read_text())
    assert student["model"]["name"] == "test student"
    retained = student["retention"]["tasks"]["sst2"]["retained_percent"]
    teacher = json.loads((out / "4-finetune" / "teacher.json").read_text())
    expected = 100 * student["tasks"]["sst2"]["main_score"] / teacher["tasks"]["sst2"]["main_score"]
    assert retained == pytest.approx(expected, abs=0.01)
    # the teacher it is scored against is the converted, pretrained one
    assert stages[3].teacher == str(out / "2-pretrain")
    # each model's card, in its own folder, holds its scores beside the stage's own text
    for folder, result in (("3-distill", student), ("2-pretrain", teacher)):
        card = ModelCard.load(out / folder / "README.md")
        (sst2,) = [e for e in card.data.eval_results if e.metric_type == "accuracy"]
        assert sst2.metric_value == result["tasks"]["sst2"]["main_score"]
        assert card.data.base_model is None  # a local teacher: nothing on the Hub to link
        assert "recipe-" in " ".join(card.data.tags) and "GONERD Bench results" in card.text
    student_card = ModelCard.load(out / "3-distill" / "README.md")
    assert [
        e.metric_value
        for e in student_card.data.eval_results
        if e.metric_type == "retained_percent"
    ] == [retained]
    # run again: every stage is kept; changed settings are refused, not overwritten
    before = (out / "3-distill" / "model.safetensors").stat().st_mtime_ns
    run_recipe(recipe, out)
    assert (out / "3-distill" / "model.safetensors").stat().st_mtime_ns == before
    changed = recipe.model_copy(deep=True)
    changed.distill.loss = changed.distill.loss.__class__(kl=1.0)
    with pytest.raises(BenchError, match="made with other settings"):
        run_recipe(changed, out)


def test_distill_then_convert_order_and_shipped_configs(tiny_mlm_teacher, tmp_path):
    recipe = read_recipe(
        _recipe(
            tmp_path / "r.yaml",
            tiny_mlm_teacher,
            order="distill-then-convert",
            convert={"to": "bigbird", "max_length": 512},
            finetune={"run": {}},
        )
    )
    stages = plan(recipe, tmp_path)
    assert [s.kind for s in stages] == ["distill", "convert", "finetune"]
    assert stages[1].source == stages[0].folder
    assert stages[2].teacher == str(tiny_mlm_teacher)  # compared with the plain teacher
    for config in sorted((ROOT / "baselines" / "configs").glob("*.yaml")):
        # study files hold the same stages, for every architecture and order
        shipped = (load_study if config.name.startswith("study") else read_recipe)(config)
        assert shipped.distill.loss.kl == 5.0, config
        if getattr(shipped, "finetune", None) is not None:  # its bench run settings are valid
            build_config(shipped.finetune.run | {"model": "m", "teacher": "t"}, what=config.name)
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ndistill: {text: {bundled: true, files: [a.txt]}}\n")
    with pytest.raises(BenchError, match="exactly one text source"):
        read_recipe(bad)


def test_a_distillation_longer_than_its_source_reads_is_refused_before_any_stage(
    tiny_mlm_teacher, tmp_path
):
    converted = read_recipe(
        _recipe(
            tmp_path / "r.yaml",
            tiny_mlm_teacher,
            convert={"to": "bigbird", "max_length": 1024},
            pretrain={"text": {"bundled": True}, "max_length": 64},
        )
    )
    longer = converted.distill.model_copy(update={"max_length": 2048})
    with pytest.raises(BenchError, match="is 2048, but the converted teacher .* at most 1024"):
        run_recipe(converted.model_copy(update={"distill": longer}), tmp_path / "a")
    plain_first = converted.model_copy(
        update={
            "order": "distill-then-convert",
            "distill": longer.model_copy(update={"max_length": 1024}),
        }
    )
    with pytest.raises(BenchError, match="plain teacher .* at most 512 tokens: set distill"):
        run_recipe(plain_first, tmp_path / "b")
    # pretraining too: after conversion against its length, without one against the table
    long_pretrain = converted.pretrain.model_copy(update={"max_length": 2048})
    with pytest.raises(BenchError, match="pretrain.max_length is 2048, but the converted"):
        run_recipe(converted.model_copy(update={"pretrain": long_pretrain}), tmp_path / "c")
    unconverted = converted.model_copy(update={"convert": None, "pretrain": long_pretrain})
    with pytest.raises(BenchError, match="pretrain.max_length is 2048, but the plain teacher"):
        run_recipe(unconverted, tmp_path / "d")
    assert not any((tmp_path / name).exists() for name in "abcd")


def _student_weights(folder: Path) -> dict:
    return load_file(folder / "model.safetensors")


def _complete(state: Path) -> bool:
    try:
        return "global_step" in json.loads(state.read_text())
    except (OSError, ValueError):
        return False


def test_an_unfinished_checkpoint_is_not_resumed_from(tmp_path):
    from baselines.training_stage import latest_checkpoint

    for step in (5, 10, 15):
        (tmp_path / f"checkpoint-{step}").mkdir()
    for step in (5, 10):
        (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text("{}")
    assert latest_checkpoint(tmp_path).name == "checkpoint-10"
    assert latest_checkpoint(tmp_path / "none") is None


@pytest.mark.slow
def test_distillation_resumes_after_kill_9(tiny_mlm_teacher, tmp_path):
    steps = {
        "max_steps": 120,
        "save_steps": 20,
        "batch_size": 8,
        "logging_steps": 20,
        "learning_rate": 1e-3,
        "warmup_ratio": 0.0,
    }
    distill = {"text": {"bundled": True, "max_documents": 12}, "max_length": 128, "training": steps}
    recipe_file = _recipe(tmp_path / "r.yaml", tiny_mlm_teacher, distill=distill)
    command = [sys.executable, "-m", "gonerd_bench", "recipe", "run", str(recipe_file)]
    killed_dir = tmp_path / "killed"
    process = subprocess.Popen(
        command + ["--output-dir", str(killed_dir)],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    first = killed_dir / "1-distill" / "checkpoints" / "checkpoint-20" / "trainer_state.json"
    deadline = time.time() + 240
    while not _complete(first) and process.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert first.exists(), "no checkpoint was written before the kill"
    assert not (killed_dir / "1-distill" / "stage.json").exists(), "finished before the kill"
    done = subprocess.run(
        command + ["--output-dir", str(killed_dir)], env=_env(), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    record = json.loads((killed_dir / "1-distill" / "stage.json").read_text())["record"]
    assert record["resumed_from"].startswith("checkpoint-") and record["steps"] == 120
    whole = subprocess.run(
        command + ["--output-dir", str(tmp_path / "whole")],
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert whole.returncode == 0, whole.stderr[-2000:]
    resumed = _student_weights(killed_dir / "1-distill")
    straight = _student_weights(tmp_path / "whole" / "1-distill")
    for name, tensor in straight.items():
        assert torch.allclose(resumed[name], tensor, atol=1e-5), name


@pytest.mark.skipif(
    shutil.which("torchrun") is None and not (Path(sys.executable).parent / "torchrun").exists(),
    reason="torchrun is not installed",
)
@pytest.mark.slow
@pytest.mark.distributed
def test_two_processes_distil_like_one_with_the_same_global_batch(tiny_mlm_teacher, tmp_path):
    """DDP over gloo on 2 CPU processes with 2 rows each against 1 process with 4 rows:
    the same masked rows make the same global batch, so losses and weights agree up to
    float summation order (and the mean of two half-batch means, where rows differ in
    length)."""

    def distill(batch_size: int, fsdp: str = "") -> dict:
        steps = {
            "max_steps": 6,
            "save_steps": 3 if fsdp else 100,
            "batch_size": batch_size,
            "logging_steps": 1,
            "learning_rate": 5e-4,
            "warmup_ratio": 0.0,
            "fsdp": fsdp,
        }
        return {"text": {"bundled": True, "max_documents": 4}, "max_length": 64, "training": steps}

    one = _recipe(tmp_path / "one.yaml", tiny_mlm_teacher, distill=distill(4))
    two = _recipe(tmp_path / "two.yaml", tiny_mlm_teacher, distill=distill(2))
    sharded = distill(2, fsdp="full_shard auto_wrap")
    fsdp = _recipe(tmp_path / "fsdp.yaml", tiny_mlm_teacher, distill=sharded)
    torchrun = [str(Path(sys.executable).parent / "torchrun"), "--standalone"]
    torchrun += ["--nproc_per_node", "2", "-m", "gonerd_bench", "recipe", "run"]
    runs = {
        "one": [sys.executable, "-m", "gonerd_bench", "recipe", "run", str(one)],
        "two": [*torchrun, str(two)],
        "fsdp": [*torchrun, str(fsdp)],
    }

    def run(name: str) -> None:
        done = subprocess.run(
            runs[name] + ["--output-dir", str(tmp_path / name)],
            env=_env(),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-3000:]

    for name in runs:
        run(name)
    records = {
        name: json.loads((tmp_path / name / "1-distill" / "stage.json").read_text())["record"]
        for name in runs
    }
    assert records["two"]["world_size"] == 2 and records["one"]["world_size"] == 1
    assert records["fsdp"]["world_size"] == 2 and records["fsdp"]["sharding"] == "fsdp"
    assert records["two"]["sharding"] == "ddp" and records["one"]["sharding"] is None
    checkpoint = tmp_path / "fsdp" / "1-distill" / "checkpoints" / "checkpoint-3"
    assert list(checkpoint.glob("pytorch_model_fsdp*")), "no FSDP state in the checkpoint"
    curves = {name: [p["loss"] for p in r["loss_curve"]] for name, r in records.items()}
    assert len(curves["one"]) == len(curves["two"]) == len(curves["fsdp"]) == 6
    for a, b, c in zip(curves["one"], curves["two"], curves["fsdp"]):
        assert a == pytest.approx(b, rel=0.02) and a == pytest.approx(c, rel=0.02)
    for term in ("kl", "mlm", "cos"):  # the terms, too, are means over both ranks
        for other in ("two", "fsdp"):
            pairs = zip(records["one"]["loss_curve"], records[other]["loss_curve"])
            assert all(x[term] == pytest.approx(y[term], rel=0.05, abs=1e-3) for x, y in pairs)
    # each run's change from the student's starting weights (every other teacher layer)
    from transformers import AutoModelForMaskedLM

    from baselines.student import cut

    start = cut(AutoModelForMaskedLM.from_pretrained(tiny_mlm_teacher)).state_dict()
    one_w = _student_weights(tmp_path / "one" / "1-distill")
    moved = torch.cat([(one_w[n] - start[n]).flatten() for n in one_w])
    assert moved.norm() > 0.02  # training did move the weights
    for other in ("two", "fsdp"):  # FSDP saves the student whole, with every weight
        other_w = _student_weights(tmp_path / other / "1-distill")
        assert set(other_w) == set(one_w), other
        apart = torch.cat([(other_w[n] - one_w[n]).flatten() for n in one_w])
        assert apart.norm() < 0.05 * moved.norm(), other
    # FSDP resumes from its sharded checkpoint: the last 3 steps again give the same student
    stage = tmp_path / "fsdp" / "1-distill"
    straight = _student_weights(stage)
    shutil.rmtree(stage / "checkpoints" / "checkpoint-6")
    (stage / "stage.json").unlink()
    (stage / "model.safetensors").unlink()
    run("fsdp")
    resumed = json.loads((stage / "stage.json").read_text())["record"]
    assert resumed["resumed_from"] == "checkpoint-3" and resumed["steps"] == 6
    for name, tensor in _student_weights(stage).items():
        assert torch.allclose(tensor, straight[name], atol=1e-6), name


@pytest.mark.skipif(
    shutil.which("torchrun") is None and not (Path(sys.executable).parent / "torchrun").exists(),
    reason="torchrun is not installed",
)
@pytest.mark.slow
@pytest.mark.distributed
def test_fsdp_is_a_stage_setting(tiny_mlm_teacher, tmp_path):
    """A pretraining stage sharded with FSDP saves its model whole; the distillation after
    it in the same processes, without fsdp, runs DDP (accelerate's FSDP switch, left in the
    environment by the first stage, does not carry over); one process refuses FSDP."""
    steps = {"max_steps": 2, "batch_size": 2, "save_steps": 10, "logging_steps": 1}
    text = {"bundled": True, "max_documents": 4}
    recipe_file = _recipe(
        tmp_path / "r.yaml",
        tiny_mlm_teacher,
        convert={"to": "longformer", "max_length": 256, "settings": {"attention_window": 16}},
        pretrain={"text": text, "max_length": 64, "training": steps | {"fsdp": "full_shard"}},
        distill={"text": text, "max_length": 64, "training": steps},
    )
    torchrun = str(Path(sys.executable).parent / "torchrun")
    command = [torchrun, "--standalone", "--nproc_per_node", "2", "-m", "gonerd_bench", "recipe"]
    out = tmp_path / "run"
    done = subprocess.run(
        command + ["run", str(recipe_file), "--output-dir", str(out)],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    records = {
        kind: json.loads((out / f"{n}-{kind}" / "stage.json").read_text())["record"]
        for n, kind in ((2, "pretrain"), (3, "distill"))
    }
    assert records["pretrain"]["sharding"] == "fsdp" and records["distill"]["sharding"] == "ddp"
    # the converted Longformer was pretrained sharded and saved whole: every weight it had
    assert set(_student_weights(out / "2-pretrain")) == set(_student_weights(out / "1-convert"))
    alone = subprocess.run(
        [sys.executable, "-m", "gonerd_bench", "recipe", "run", str(recipe_file)]
        + ["--output-dir", str(tmp_path / "alone")],
        env=_env(),
        capture_output=True,
        text=True,
    )
    said = " ".join((alone.stdout + alone.stderr).split())
    assert alone.returncode != 0 and "shards over processes: start the recipe with" in said
