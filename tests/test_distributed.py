"""`bench run` in two CPU processes (torchrun, gloo): evaluating a fixed checkpoint gives
exactly the scores and predictions of one process; fine-tuning (DDP through the Trainer,
the same global batch) gives scores within the stated tolerance; only the main process
writes, and the result records the world and every process's device."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmark.distributed import World
from tests.helpers import launch

ROOT = Path(__file__).resolve().parents[1]
# Fine-tuning in two processes sees the rows in another order (each process draws its half
# of every global batch), so its scores differ from one process's; on the bundled samples
# with the tiny model they stay within this many points (README, "More than one process").
FINETUNE_TOLERANCE = 10.0


def bench(
    *args: str, processes: int = 1, launcher: str = "torchrun"
) -> subprocess.CompletedProcess:
    start = None
    if processes > 1 and launcher == "torchrun":
        start = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
        start += [f"--nproc-per-node={processes}"]
    elif processes > 1:  # accelerate's multi-process launch; --device cpu makes it gloo on CPUs
        start = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu"]
        start += ["--num_processes", str(processes), "--num_machines", "1"]
        start += ["--mixed_precision", "no", "--dynamo_backend", "no"]
    done = launch(
        "run", *args, module="benchmark", launcher=start, env={"OMP_NUM_THREADS": "1"}, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def sst2_checkpoint(tiny_bert, tmp_path_factory) -> Path:
    """The tiny BERT with a (random, seeded) SST-2 head, saved: a fixed checkpoint."""
    from benchmark.config import RunConfig
    from benchmark.families import family_for
    from benchmark.model_setup import model_for_task

    folder = tmp_path_factory.mktemp("sst2-head")
    family = family_for("sequence_classification")
    model, _, _ = model_for_task(
        family, "finetune", str(tiny_bert), "sst2", ["negative", "positive"], RunConfig(seed=3)
    )
    model.save_pretrained(folder)
    for name in tiny_bert.iterdir():
        if name.suffix != ".safetensors" and name.name != "config.json":
            shutil.copy(name, folder / name.name)
    return folder


def test_batches_are_shared_out_every_nth():
    assert World(rank=1, size=3).share(list(range(8))) == [1, 4, 7]
    assert World().share([1, 2]) == [1, 2] and World().gather({0: "a"}) == {0: "a"}


@pytest.mark.slow
@pytest.mark.distributed
@pytest.mark.parametrize("launcher", ["torchrun", "accelerate"])
def test_two_processes_evaluate_a_checkpoint_exactly_as_one(sst2_checkpoint, tmp_path, launcher):
    common = ["--model", str(sst2_checkpoint), "--protocol", "evaluate", "--tasks", "sst2"]
    common += ["--data-dir", "bundled", "--eval-batch-size", "8", "--no-speed"]
    common += ["--save-predictions", "--device", "cpu"]
    bench(*common, "--output", str(tmp_path / "one.json"))
    two = bench(*common, "--output", str(tmp_path / "two.json"), processes=2, launcher=launcher)
    assert two.stdout.count("results:") == 1  # one process reports
    one_result = json.loads((tmp_path / "one.json").read_text())
    two_result = json.loads((tmp_path / "two.json").read_text())
    one_task, two_task = one_result["tasks"]["sst2"], two_result["tasks"]["sst2"]
    assert two_task["metrics"] == one_task["metrics"]
    assert two_task["predictions_sha256"] == one_task["predictions_sha256"]
    assert (tmp_path / "two.predictions" / "sst2.jsonl").read_bytes() == (
        tmp_path / "one.predictions" / "sst2.jsonl"
    ).read_bytes()
    record = two_result["provenance"]["distributed"]
    assert record["world_size"] == 2 and record["backend"] == "gloo"
    assert record["devices"] == [{"device": "cpu", "name": "cpu"}] * 2
    assert one_result["provenance"].get("distributed") is None
    # the main process alone wrote: no stray temporary files of another process
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "one.json",
        "one.predictions",
        "two.json",
        "two.predictions",
    ]


@pytest.mark.slow
@pytest.mark.distributed
def test_two_processes_fine_tune_within_the_tolerance(tiny_bert, tmp_path):
    common = ["--model", str(tiny_bert), "--tasks", "sst2,conll2003", "--data-dir", "bundled"]
    common += ["--epochs", "2", "--batch-size", "8", "--max-length", "64", "--no-speed"]
    common += ["--device", "cpu"]
    bench(*common, "--output", str(tmp_path / "one.json"))
    bench(*common, "--output", str(tmp_path / "two.json"), processes=2)
    one = json.loads((tmp_path / "one.json").read_text())["tasks"]
    two = json.loads((tmp_path / "two.json").read_text())["tasks"]
    for task in ("sst2", "conll2003"):
        # the global batch as in one process, so the same optimiser steps
        assert two[task]["recipe"]["batch_size"] == 8 and two[task]["recipe"]["processes"] == 2
        steps = one[task]["training_inputs"]["optimizer_steps"]
        assert two[task]["training_inputs"]["optimizer_steps"] == steps > 0
        gap = abs(two[task]["main_score"] - one[task]["main_score"])
        assert gap <= FINETUNE_TOLERANCE, (task, one[task]["main_score"], two[task]["main_score"])


@pytest.mark.slow
@pytest.mark.distributed
def test_a_batch_that_does_not_split_is_refused(tiny_bert, tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", OMP_NUM_THREADS="1")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += ["--nproc-per-node=2", "-m", "benchmark", "run", "--model", str(tiny_bert)]
    command += ["--tasks", "sst2", "--data-dir", "bundled", "--limit", "8", "--batch-size", "7"]
    command += ["--no-speed", "--device", "cpu", "--output", str(tmp_path / "r.json")]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "the batch size 7 does not split over 2 processes" in done.stderr + done.stdout
