"""Which settings change a score is declared once: adding a teacher, or changing or
skipping the speed measurement, re-runs no finished task; a setting that changes scores
re-runs them, and so does asking for predictions of a task that saved none."""

from __future__ import annotations

import json

import pytest

from benchmark import runner
from benchmark.config import SCORE_SETTINGS, RunConfig
from benchmark.results import find_predictions, predictions_dir, sha256_file
from tests.helpers import run_config

BASE = {"limit": 8, "batch_size": 8, "save_predictions": False}
TASKS = "sst2,conll2003"


@pytest.fixture
def finished(tiny_bert, tmp_path, monkeypatch):
    """A finished two-task result; afterwards, running a task is a test failure."""
    monkeypatch.chdir(tmp_path)
    output = tmp_path / "student.json"
    runner.run(run_config(tiny_bert, TASKS, output, **BASE))
    first = json.loads(output.read_text())

    def must_not_run(spec, *args, **kwargs):
        raise AssertionError(f"task {spec.name} was run again")

    monkeypatch.setattr(runner, "run_task", must_not_run)
    return output, first


def _rerun(tiny_bert, output, **changes) -> dict:
    config = run_config(tiny_bert, TASKS, output, **(BASE | changes))
    return json.loads(runner.run(config).read_text())


def _same_tasks(a: dict, b: dict) -> None:
    assert a["tasks"] == b["tasks"]


def test_adding_a_teacher_result_reuses_every_task(finished, tiny_bert, tmp_path):
    output, first = finished
    teacher = tmp_path / "teacher.json"
    teacher.write_text(output.read_text())
    again = _rerun(tiny_bert, output, teacher=str(teacher))
    _same_tasks(first, again)
    assert again["retention"]["tasks"]["sst2"]["retained_percent"] == pytest.approx(100.0)


def test_measuring_speed_then_changing_or_skipping_it_reuses_every_task(
    finished, tiny_bert, quick_profiles
):
    output, first = finished
    measured = _rerun(tiny_bert, output, speed=True, speed_seq_len=[32], speed_batch_size=1)
    _same_tasks(first, measured)
    assert [m["seq_len"] for m in measured["speed"]["measurements"]] == [32]
    changed = _rerun(tiny_bert, output, speed=True, speed_seq_len=[48], speed_batch_size=1)
    _same_tasks(first, changed)
    assert [m["seq_len"] for m in changed["speed"]["measurements"]] == [48]
    skipped = _rerun(tiny_bert, output, speed=False)
    _same_tasks(first, skipped)
    assert skipped["speed"] == changed["speed"]  # still true of these weights: kept


def test_asking_for_predictions_runs_again_a_task_that_saved_none(finished, tiny_bert):
    output, _ = finished
    with pytest.raises(AssertionError, match="was run again"):
        _rerun(tiny_bert, output, save_predictions=True)


def test_tasks_that_saved_predictions_are_kept_whether_or_not_a_run_asks(
    tiny_bert, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    output = tmp_path / "saved.json"
    runner.run(run_config(tiny_bert, TASKS, output, **(BASE | {"save_predictions": True})))
    first = json.loads(output.read_text())
    assert all(t["predictions_file"] for t in first["tasks"].values())
    monkeypatch.setattr(runner, "run_task", lambda spec, *a, **k: pytest.fail(spec.name))
    _same_tasks(first, _rerun(tiny_bert, output, save_predictions=True, eval_batch_size=4))
    _same_tasks(first, _rerun(tiny_bert, output, save_predictions=False))


def test_a_moved_result_keeps_tasks_whose_predictions_moved_beside_it(
    tiny_bert, tmp_path, monkeypatch
):
    # the recorded predictions path no longer leads anywhere; the copy beside the moved
    # result is where pairing and the board read them, so the run keeps the tasks too
    monkeypatch.chdir(tmp_path)
    output = tmp_path / "saved.json"
    runner.run(run_config(tiny_bert, TASKS, output, **(BASE | {"save_predictions": True})))
    moved = tmp_path / "elsewhere" / "saved.json"
    moved.parent.mkdir()
    output.rename(moved)
    (tmp_path / "saved.predictions").rename(moved.parent / "saved.predictions")
    first = json.loads(moved.read_text())
    monkeypatch.setattr(runner, "run_task", lambda spec, *a, **k: pytest.fail(spec.name))
    _same_tasks(first, _rerun(tiny_bert, moved, save_predictions=True))
    # a predictions file changed since it was scored is not the task's: the task runs again
    beside = moved.parent / "saved.predictions" / "sst2.jsonl"
    beside.write_text(beside.read_text() + "\n")
    with pytest.raises(pytest.fail.Exception, match="sst2"):
        _rerun(tiny_bert, moved, save_predictions=True)


def test_a_stale_file_beside_a_result_does_not_hide_the_recorded_one(tmp_path):
    recorded, result = tmp_path / "run" / "sst2.jsonl", tmp_path / "copy" / "r.json"
    beside = predictions_dir(result) / "sst2.jsonl"
    for path, text in ((recorded, '{"id": 1}\n'), (beside, '{"id": 2}\n')):
        path.parent.mkdir(parents=True)
        path.write_text(text)
    assert find_predictions(str(recorded), result) == beside  # beside first, unchecked
    assert find_predictions(str(recorded), result, sha256_file(recorded)) == recorded
    assert find_predictions(str(recorded), result, "0" * 64) == beside  # the caller refuses it
    assert find_predictions(str(tmp_path / "gone.jsonl"), None) is None


def test_a_score_setting_runs_the_tasks_again(finished, tiny_bert):
    output, _ = finished
    with pytest.raises(AssertionError, match="was run again"):
        _rerun(tiny_bert, output, learning_rate=1e-3)


def test_score_settings_are_read_off_the_declarations():
    assert {
        "model",
        "protocol",
        "data_dir",
        "limit",
        "epochs",
        "batch_size",
        "learning_rate",
        "max_length",
        "device",
        "dtype",
        "seed",
        "seeds",
        "length_grouping",
        "trust_remote_code",
    } == SCORE_SETTINGS
    base = RunConfig(model="m")
    for name, value in {"teacher": "t", "speed": False, "speed_seq_len": [512]}.items():
        assert base.model_copy(update={name: value}).task_key("h") == base.task_key("h")
    assert base.model_copy(update={"seed": 1}).task_key("h") != base.task_key("h")
    assert base.task_key("h") != base.task_key("other spec")


def test_old_setting_names_still_load():
    config = RunConfig(model="m", measure_speed=False, speed_seq_lens="512,1024")
    assert (config.speed, config.speed_seq_len) == (False, [512, 1024])


def test_adding_a_teacher_model_reuses_the_students_and_the_teachers_tasks(
    finished, tiny_bert, tmp_path
):
    output, first = finished
    # the teacher's own result, where `--teacher MODEL` keeps it: already finished
    teacher_file = tmp_path / "results" / (str(tiny_bert).strip("/").replace("/", "-") + ".json")
    teacher_file.parent.mkdir()
    teacher_file.write_text(output.read_text())
    again = _rerun(tiny_bert, output, teacher=str(tiny_bert))
    _same_tasks(first, again)
    assert set(again["retention"]["tasks"]) == {"sst2", "conll2003"}


def test_new_weights_in_the_same_folder_run_every_task_again(finished, tiny_bert):
    output, _ = finished
    weights = next(tiny_bert.glob("*.safetensors"))
    original = weights.read_bytes()
    try:
        # in place, in this process: what was remembered of the old weights is not used
        weights.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
        with pytest.raises(AssertionError, match="was run again"):
            _rerun(tiny_bert, output)
    finally:
        weights.write_bytes(original)


def test_edited_data_runs_that_task_again(tiny_bert, tmp_path, monkeypatch):
    from benchmark.task_data import SAMPLES_DIR

    data = tmp_path / "data" / "sst2"
    data.mkdir(parents=True)
    for split in ("train", "validation"):
        (data / f"{split}.jsonl").write_text((SAMPLES_DIR / "sst2" / f"{split}.jsonl").read_text())
    settings = BASE | {"data_dir": str(tmp_path / "data")}
    output = tmp_path / "r.json"
    runner.run(run_config(tiny_bert, "sst2", output, **settings))
    calls = []
    real = runner.run_task
    monkeypatch.setattr(
        runner, "run_task", lambda spec, *a: calls.append(spec.name) or real(spec, *a)
    )
    runner.run(run_config(tiny_bert, "sst2", output, **settings))
    assert calls == []  # unchanged: kept
    lines = (data / "validation.jsonl").read_text().splitlines()
    (data / "validation.jsonl").write_text("\n".join(lines[:-1]) + "\n")  # one example fewer
    result = json.loads(runner.run(run_config(tiny_bert, "sst2", output, **settings)).read_text())
    assert calls == ["sst2"] and result["tasks"]["sst2"]["n_examples"]["original"] == len(lines) - 1


def test_the_resolved_device_is_what_a_task_key_holds():
    config = RunConfig(model="m", device="auto")
    assert config.task_key("h", "cpu") != config.task_key("h", "cuda")
    assert config.task_key("h", "cpu") == RunConfig(model="m", device="cpu").task_key("h", "cpu")
