"""`bench sweep`: a 2-model x 2-task x 2-seed sweep run whole, split into two shards, and with
one shard killed (kill -9) and resumed, must write the same merged result files; the
manifest's and the shard's mistakes are named."""

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
import yaml
from rich.console import Console
from typer.testing import CliRunner

from benchmark.errors import BenchError
from benchmark.results import sha256_file
from benchmark.sweep import Sweep, load_manifest, parse_shard, run_sweep
from gonerd_bench.cli import app
from tests.helpers import bench

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def student_bert(tiny_bert, tmp_path_factory) -> Path:
    """Another tiny BERT with the same tokenizer (other random weights): the student."""
    import torch
    from transformers import BertConfig, BertModel

    folder = tmp_path_factory.mktemp("tiny-student")
    for name in tiny_bert.iterdir():
        if name.suffix != ".safetensors":
            shutil.copy(name, folder / name.name)
    torch.manual_seed(1)
    config = BertConfig.from_pretrained(tiny_bert)
    config.num_hidden_layers = 1
    BertModel(config).save_pretrained(folder)
    return folder


@pytest.fixture
def manifest(tiny_bert, student_bert, tmp_path) -> Path:
    path = tmp_path / "sweep.yaml"
    content = {
        "models": [
            {"model": str(student_bert), "name": "student", "teacher": str(tiny_bert)},
            {"model": str(tiny_bert), "name": "teacher"},
        ],
        "tasks": "sst2,conll2003",
        "seeds": [1, 2],
        "settings": {
            "data_dir": "bundled",
            "limit": 8,
            "epochs": 1,
            "batch_size": 8,
            "max_length": 64,
            "speed": False,
            "save_predictions": True,
        },
        "task_settings": {"conll2003": {"epochs": 2}},
    }
    path.write_text(yaml.safe_dump(content))
    return path


def stable(path: Path) -> dict:
    """A merged result less what differs between two runs of the same work: wall-clock
    times, timestamps and where the files were written."""
    data = json.loads(path.read_text())

    def strip(value):
        if isinstance(value, dict):
            return {
                k: strip(v)
                for k, v in value.items()
                if k not in ("timings_s", "started_at", "finished_at", "output")
                and k != "predictions_file"
            }
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    data = strip(data)
    if data.get("retention"):
        data["retention"]["teacher"]["model"].pop("path", None)
    return data


def test_units_come_seed_by_seed_teachers_first_and_shards_split_them(manifest, tmp_path):
    sweep = Sweep(load_manifest(manifest), tmp_path / "out")
    labels = [u.label for u in sweep.units()]
    assert labels[:5] == [
        "teacher sst2 seed 1",
        "teacher conll2003 seed 1",
        "student sst2 seed 1",
        "student conll2003 seed 1",
        "teacher sst2 seed 2",
    ]
    assert len(labels) == 8
    first, second = sweep.shard(0, 2), sweep.shard(1, 2)
    assert sorted(first + second, key=sweep.units().index) == sweep.units()
    assert not set(first) & set(second) and len(first) == 4


@pytest.mark.slow
@pytest.mark.distributed
def test_sharded_killed_and_resumed_sweeps_write_what_one_run_writes(manifest, tmp_path):
    whole = run_sweep(manifest, output=tmp_path / "whole")
    assert sorted(p.name for p in whole) == ["student.json", "teacher.json"]
    student = json.loads((tmp_path / "whole" / "student.json").read_text())
    assert student["tasks"]["sst2"]["seeds"] == [1, 2]
    kept = student["retention"]["tasks"]["conll2003"]
    assert kept["seeds"] == [1, 2] and "retained_percent_std" in kept
    # a task's own settings win over the shared ones, in every seed's run
    for seed_run in student["tasks"]["conll2003"]["seed_runs"].values():
        assert seed_run["recipe"]["epochs"] == 2.0
    assert student["tasks"]["sst2"]["recipe"]["epochs"] == 1.0
    # every seed's predictions lie beside the merged file under a name of its own, so the
    # two merged files and their folders, moved elsewhere alone, pair as they stand (each
    # seed's file is found beside its result and checked against its sha256)
    for task in ("sst2", "conll2003"):
        for seed, run in student["tasks"][task]["seed_runs"].items():
            copy = Path(run["predictions_file"])
            assert copy == tmp_path / "whole" / "student.predictions" / f"{task}.seed{seed}.jsonl"
            assert sha256_file(copy) == run["predictions_sha256"]
    moved = tmp_path / "moved"
    for name in ("teacher", "student"):
        shutil.copytree(tmp_path / "whole" / f"{name}.predictions", moved / f"{name}.predictions")
        shutil.copy(tmp_path / "whole" / f"{name}.json", moved)
    (tmp_path / "whole").rename(tmp_path / "away")
    compared = bench(
        "compare",
        str(moved / "teacher.json"),
        str(moved / "student.json"),
        "--paired",
        "--bootstrap",
        "50",
        "--format",
        "json",
    )
    # the sweep folder moved whole: its units still count as done, and merging there again
    # pairs the student with its teacher from the units' predictions where they now are
    away = tmp_path / "away"
    (away / "student.json").unlink()
    shutil.rmtree(away / "student.predictions")
    Sweep(load_manifest(manifest), away).merge_all(Console(quiet=True))
    again = json.loads((away / "student.json").read_text())
    assert again["retention"]["tasks"]["sst2"]["unpaired_reason"] is None
    assert again["retention"]["tasks"]["sst2"]["agreement"] is not None
    assert Path(again["tasks"]["sst2"]["seed_runs"]["1"]["predictions_file"]).parent == (
        away / "student.predictions"
    )
    (tmp_path / "away").rename(tmp_path / "whole")
    assert compared.returncode == 0, compared.stderr
    paired = json.loads(compared.stdout)["results"][1]
    assert paired["model"] == "student" and set(paired["agreement"]) == {"sst2", "conll2003"}
    # a worker that merges while the teacher looks unfinished to it keeps the file another
    # worker merged with retention (here: the teacher's unit is moved away, then back)
    teacher_unit = tmp_path / "whole" / "units" / "teacher" / "sst2.seed1.json"
    hidden = teacher_unit.with_suffix(".away")
    teacher_unit.rename(hidden)
    Sweep(load_manifest(manifest), tmp_path / "whole").merge_all(Console(quiet=True))
    assert json.loads((tmp_path / "whole" / "student.json").read_text())["retention"]
    hidden.rename(teacher_unit)

    # two shards: the first merges nothing (the student's units are the second's too)
    sharded = tmp_path / "sharded"
    run_sweep(manifest, shard="0/2", output=sharded)
    assert not (sharded / "student.json").exists()
    run_sweep(manifest, shard="1/2", output=sharded)
    for name in ("teacher.json", "student.json"):
        assert stable(sharded / name) == stable(tmp_path / "whole" / name), name

    # shard 0 killed (kill -9) once its first unit is written, then the other shard and
    # shard 0 again: what was written before the kill is kept, not run again
    killed = tmp_path / "killed"
    first_unit = killed / "units" / "teacher" / "sst2.seed1.json"
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    worker = subprocess.Popen(
        [sys.executable, "-m", "benchmark", "sweep", str(manifest), "--shard", "0/2"]
        + ["--output-dir", str(killed)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 180
    while not first_unit.exists() and worker.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert first_unit.exists()
    before = first_unit.read_bytes()
    run_sweep(manifest, shard="1/2", output=killed)
    run_sweep(manifest, shard="0/2", output=killed)
    assert first_unit.read_bytes() == before  # done before the kill: not run again
    for name in ("teacher.json", "student.json"):
        assert stable(killed / name) == stable(tmp_path / "whole" / name), name

    # two local worker processes pulling units from one queue: the same files, and each
    # worker's output in its log
    pooled = tmp_path / "pooled"
    run_sweep(manifest, output=pooled, workers=2)
    for name in ("teacher.json", "student.json"):
        mine, whole = stable(pooled / name), stable(tmp_path / "whole" / name)
        # each worker has its share of the cores, and says so
        assert mine["provenance"]["hardware"].pop("torch_threads") == max(
            1, whole["provenance"]["hardware"].pop("torch_threads") // 2
        )
        assert mine == whole, name
    logs = sorted(p.name for p in (pooled / "logs").iterdir())
    assert logs == ["worker-0.log", "worker-1.log"]
    assert "seed" in (pooled / "logs" / "worker-0.log").read_text()


@pytest.mark.distributed
def test_a_failing_unit_in_a_worker_is_named_with_its_log(manifest, tmp_path):
    content = yaml.safe_load(manifest.read_text())
    content["models"] = [{"model": str(tmp_path / "not-there"), "name": "missing"}]
    content |= {"tasks": "sst2", "task_settings": {}}  # two units, one for each worker
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(content))
    with pytest.raises(BenchError, match=r"missing sst2 seed \d failed: (?s:.*)worker-\d\.log"):
        run_sweep(broken, output=tmp_path / "out", workers=2)
    with pytest.raises(BenchError, match="--workers 0: give 1 or more"):
        run_sweep(manifest, output=tmp_path / "out", workers=0)


def test_dry_run_lists_units_shards_and_what_is_done(manifest, tmp_path):
    out = tmp_path / "dry"
    runner = CliRunner()
    listed = runner.invoke(
        app, ["sweep", str(manifest), "--dry-run", "--shard", "1/2", "--output-dir", str(out)]
    )
    assert listed.exit_code == 0, listed.output
    assert "8 units" in listed.output and listed.output.count("to do") == 8
    assert not out.exists()  # a dry run writes nothing


def test_manifest_and_shard_mistakes_are_named(manifest, tmp_path):
    with pytest.raises(BenchError, match=r"--shard '2/2': give I/N with 0 <= I < N"):
        parse_shard("2/2")
    assert parse_shard("3/4") == (3, 4) and parse_shard(None) == (0, 1)
    content = yaml.safe_load(manifest.read_text())
    for change, message in (
        ({"settings": {"model": "x"}}, r"settings: .*model belong at the manifest's top level"),
        ({"settings": {"limit": 0}}, r"settings: limit: .*at least 1"),
        ({"seeds": "1,1"}, r"seeds: .*distinct"),
        ({"colour": "red"}, r"colour: Extra inputs are not permitted"),
        ({"task_settings": {"squad": {"epochs": 2}}}, r"names 'squad', which is not among"),
        ({"task_settings": {"sst2": {"seed": 3}}}, r"seed belong at .* not under task_settings"),
    ):
        bad = tmp_path / "bad.yaml"
        bad.write_text(yaml.safe_dump(content | change))
        with pytest.raises(BenchError, match=message):
            load_manifest(bad)
    bad.write_text(yaml.safe_dump(content | {"tasks": "sst2,nope"}))
    with pytest.raises(BenchError, match="unknown task 'nope'"):
        run_sweep(bad, dry_run=True, output=tmp_path / "x")
    same = content | {"models": [{"model": "a", "name": "m"}, {"model": "b", "name": "m"}]}
    bad.write_text(yaml.safe_dump(same))
    with pytest.raises(BenchError, match="would share the files of 'm'"):
        run_sweep(bad, dry_run=True, output=tmp_path / "x")


def test_a_teacher_spelt_two_ways_is_one_model(manifest, tmp_path):
    content = yaml.safe_load(manifest.read_text())
    student, teacher = content["models"]
    student["teacher"] = teacher["model"] + "/"  # the same folder with a trailing slash
    changed = tmp_path / "slash.yaml"
    changed.write_text(yaml.safe_dump(content))
    sweep = Sweep(load_manifest(changed), tmp_path / "out")
    assert list(sweep.models) == ["teacher", "student"]
    assert sweep.slug_of(student["teacher"]) == "teacher"


def test_a_unit_whose_data_changed_is_not_done(manifest, tmp_path):
    """A unit is done only on the data it was scored on: the files as they are now."""
    data = tmp_path / "data"
    shutil.copytree(ROOT / "benchmark" / "data" / "samples" / "sst2", data / "sst2")
    content = yaml.safe_load(manifest.read_text())
    content["tasks"], content["task_settings"] = "sst2", {}
    content["settings"] |= {"data_dir": str(data), "save_predictions": False}
    manifest.write_text(yaml.safe_dump(content))
    sweep = Sweep(load_manifest(manifest), tmp_path / "out")
    unit = sweep.units()[0]
    assert unit.label == "teacher sst2 seed 1" and not sweep.is_done(unit)
    sweep.run_unit(unit, Console(quiet=True))
    assert sweep.is_done(unit)
    validation = data / "sst2" / "validation.jsonl"
    rows = validation.read_text().splitlines()
    validation.write_text("\n".join(rows[1:] + rows[:1]) + "\n")  # the same rows, reordered
    assert not sweep.is_done(unit)
    validation.write_text("\n".join(rows) + "\n")
    assert sweep.is_done(unit)
    (data / "sst2" / "train.jsonl").write_text("\n".join(rows) + "\n")  # other training data
    assert not sweep.is_done(unit)


def test_a_models_weights_are_read_once_until_they_change(manifest, tmp_path):
    """Every unit of a model asks for its identity: its weights are read once, and again
    once a weight file changed in place, which makes its units not done."""
    from benchmark.provenance import _folder_identity

    content = yaml.safe_load(manifest.read_text())
    weights = tmp_path / "teacher"
    shutil.copytree(content["models"][1]["model"], weights)
    content["models"] = [{"model": str(weights), "name": "teacher"}]
    content["tasks"], content["task_settings"] = "sst2", {}
    content["settings"]["save_predictions"] = False
    manifest.write_text(yaml.safe_dump(content))
    sweep = Sweep(load_manifest(manifest), tmp_path / "out")
    first, second = sweep.units()
    read = _folder_identity.cache_info().misses
    sweep.run_unit(first, Console(quiet=True))  # reads the weights once
    assert sweep.is_done(first) and not sweep.is_done(second) and sweep.is_done(first)
    assert _folder_identity.cache_info().misses == read + 1
    (safetensors,) = weights.glob("*.safetensors")
    data = bytearray(safetensors.read_bytes())
    data[-1] ^= 1  # one bit of one weight, rewritten in place a moment later
    stat = safetensors.stat()
    safetensors.write_bytes(bytes(data))
    os.utime(safetensors, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert not sweep.is_done(first)
    assert _folder_identity.cache_info().misses == read + 2
