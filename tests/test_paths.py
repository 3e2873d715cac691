"""A result file names a model by what it is, not where it lies: no local path unless the
run asks (``--record-paths``), and then relative where it can be. Older files, which held
absolute paths, still load, and their tasks and speed block still count as done."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from benchmark import cost, runner
from benchmark.config import SCORE_SETTINGS, RunConfig
from benchmark.provenance import model_identity, recorded_path, shown_model
from benchmark.reuse import reusable_tasks, speed_is_current, task_is_current
from benchmark.run_result import parse_result, read_result
from tests.helpers import ROOT, bench

SETTINGS = {"data_dir": "bundled", "tasks": "sst2", "limit": 8, "epochs": 1.0, "speed": False}


def _strings(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


def _finished(tiny_bert, tmp_path, monkeypatch) -> tuple[RunConfig, Path, dict]:
    """A run of the tiny model from ``tmp_path``: its settings, result file and JSON."""
    monkeypatch.chdir(tmp_path)
    output = tmp_path / "tiny.json"
    config = RunConfig(model=str(tiny_bert), output=str(output), **SETTINGS)
    runner.run(config)
    return config, output, json.loads(output.read_text())


def test_record_paths_is_a_flag_that_changes_no_score():
    assert "record_paths" not in SCORE_SETTINGS
    assert "--record-paths" in bench("run", "--help").stdout


def test_a_run_writes_no_local_path_unless_asked(tiny_bert, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    output = tmp_path / "out" / "tiny.json"  # absolute, under the working directory
    runner.run(
        RunConfig(model=str(tiny_bert), output=str(output), save_predictions=True, **SETTINGS)
    )
    text = output.read_text()
    base = str(tiny_bert.parent.parent)  # pytest's temporary root: every folder of this test
    assert base not in text and str(tmp_path) not in text
    data = json.loads(text)
    assert not [s for s in _strings(data) if Path(s).is_absolute()]
    assert data["model"]["path"] is None and "path" not in data["provenance"]["model"]
    assert data["model"]["weights_sha256"] == model_identity(str(tiny_bert))["weights_sha256"]
    # the typed settings keep their meaning: the output relative to where the run started,
    # the model (outside it) by its folder's name, its predictions beside the result
    assert data["config"]["output"] == "out/tiny.json"
    assert data["config"]["model"] == data["model"]["name"] == tiny_bert.name
    assert data["tasks"]["sst2"]["predictions_file"] == "out/tiny.predictions/sst2.jsonl"
    assert Path(data["tasks"]["sst2"]["predictions_file"]).is_file()


def test_with_record_paths_the_folder_is_recorded_relative(tiny_bert, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = tmp_path / "models" / "tiny"
    shutil.copytree(tiny_bert, model)
    output = tmp_path / "tiny.json"
    config = RunConfig(model=str(model), output=str(output), record_paths=True, **SETTINGS)
    runner.run(config)
    data = json.loads(output.read_text())
    assert data["model"]["path"] == data["provenance"]["model"]["path"] == "models/tiny"
    assert data["config"]["model"] == "models/tiny" and data["config"]["record_paths"] is True
    assert str(tmp_path) not in output.read_text()


def test_recorded_paths_are_relative_to_the_working_folder_else_home(tmp_path, monkeypatch):
    home, work = tmp_path / "home", tmp_path / "home" / "work"
    work.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    assert recorded_path(str(work / "models" / "a")) == "models/a"
    assert recorded_path(str(home / "models" / "b")) == "~/models/b"
    assert recorded_path("/elsewhere/models/c") == "/elsewhere/models/c"
    assert recorded_path("models/d") == "models/d"  # as typed, relative already
    # without --record-paths a folder outside the working one is shown by its name alone,
    # a Hub id as it is, and the bundled model as the setting's default (None)
    assert shown_model(str(home / "models" / "b"), record=False) == "b"
    assert shown_model("org/model", record=False) == "org/model"
    from benchmark.defaults import default_model_path

    assert shown_model(str(default_model_path()), record=False) is None


def test_an_older_result_with_absolute_paths_loads_and_is_still_current(
    tiny_bert, tmp_path, monkeypatch
):
    config, output, old = _finished(tiny_bert, tmp_path, monkeypatch)
    # as an older suite wrote it: the folder's absolute path in every identity block, and
    # a speed block whose settings name the folder
    folder = str(tiny_bert.resolve())
    old["model"]["path"] = folder
    old["provenance"]["model"] = {"path": folder, **old["provenance"]["model"]}
    speed = RunConfig(**(config.model_dump() | {"speed": True, "device": "cpu"}))
    settings = cost.speed_settings(speed, speed.model, "cpu")
    settings["model"] = {"path": folder, **settings["model"]}
    old["speed"] = {"settings": settings, "measurements": []}
    output.write_text(json.dumps(old))

    result = read_result(output)
    assert result.model.path == folder  # read as it is
    assert result.model.same_weights(model_identity(str(tiny_bert)))
    assert task_is_current(result, "sst2", config)
    assert speed_is_current(result.speed, speed)
    identity = model_identity(str(tiny_bert))
    assert list(reusable_tasks(result, config, identity, "cpu", "bundled")) == ["sst2"]

    def must_not_run(*args, **kwargs):
        raise AssertionError("a task or a measurement ran again")

    monkeypatch.setattr(runner, "run_task", must_not_run)
    monkeypatch.setattr(cost, "measure_model", must_not_run)
    runner.run(speed)  # kept: the tasks and the speed block, written again without the path
    assert folder not in output.read_text()
    assert json.loads(output.read_text())["speed"]["settings"] == settings | {"model": identity}


def test_the_committed_results_name_no_local_path():
    files = [*(ROOT / "leaderboard" / "submissions").glob("*.json")]
    files += [*(ROOT / "leaderboard" / "submissions" / "study").glob("*.json")]
    files += [*(ROOT / "docs").glob("study*/data/results/*.json")]
    assert files
    for path in files:
        data = json.loads(path.read_text())
        parse_result(data, str(path))
        absolute = [s for s in _strings(data) if Path(s).is_absolute() or s.startswith("C:\\")]
        assert not absolute, path


@pytest.mark.parametrize(
    "name", ["format-1-bundled-minilm.json", "format-2-minilm-l3-student.json"]
)
def test_older_fixtures_still_load_with_their_paths(name):
    raw = json.loads((ROOT / "tests" / "fixtures" / "results" / name).read_text())
    # as written on the machine that made them: the model's folder as an absolute path
    raw["model"]["path"] = "/home/someone/models/all-MiniLM-L6-v2"
    if raw.get("speed"):
        raw["speed"]["settings"]["model"]["path"] = "/home/someone/models/all-MiniLM-L6-v2"
    result = parse_result(raw, name)
    assert result.model.same_weights({"weights_sha256": result.model.weights_sha256})
    if result.speed is not None:
        assert "path" not in result.speed.settings["model"]


def test_a_teacher_result_with_an_absolute_path_is_written_without_it(
    tiny_bert, tmp_path, monkeypatch
):
    config, output, teacher = _finished(tiny_bert, tmp_path, monkeypatch)
    folder = str(tiny_bert.resolve())
    teacher["model"] |= {"path": folder, "name": folder}  # an older file, named by its path
    (tmp_path / "teacher.json").write_text(json.dumps(teacher))
    runner.run(config.model_copy(update={"teacher": str(tmp_path / "teacher.json")}))
    text = output.read_text()
    assert folder not in text and str(tmp_path) not in text
    block = json.loads(text)["retention"]["teacher"]
    assert block["model"]["path"] is None and block["name"] == tiny_bert.name
    assert json.loads(text)["config"]["teacher"] == "teacher.json"
