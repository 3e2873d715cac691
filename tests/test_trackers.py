"""`--report-to`: fine-tuning and the recipe's stages report to the user's tracker, and a
finished `bench run` sends its summary; TensorBoard is read back from its event files, the
other trackers' summaries through stand-ins of their modules (they are not installed here)."""

from __future__ import annotations

import importlib.util
import json
import sys
import types
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from benchmark import tracking
from benchmark.config import SCORE_SETTINGS
from benchmark.run_result import read_result
from tests.helpers import bench

FIXTURE = Path(__file__).parent / "fixtures" / "results" / "format-2-minilm-l3-student.json"


def scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar TensorBoard would draw from ``folder``: tag -> [(step, value)]."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder))
    events.Reload()
    return {
        tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]
    }


def event_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("events.out.tfevents.*"))


def tiny_run(model: Path, output: Path, *extra: str):
    return bench(
        "run",
        "--model",
        str(model),
        "--data-dir",
        "bundled",
        "--tasks",
        "sst2",
        "--limit",
        "16",
        "--batch-size",
        "4",
        "--epochs",
        "1",
        "--output",
        str(output),
        *extra,
    )


SPEED = (
    "--speed-seq-len",
    "32",
    "--speed-batch-size",
    "2",
    "--speed-min-repeats",
    "3",
    "--speed-min-seconds",
    "0.05",
)


def test_tensorboard_holds_the_fine_tuning_curve_and_the_files_numbers(
    tiny_bert, tmp_path, quick_profiles
):
    output = tmp_path / "tiny.json"
    done = tiny_run(tiny_bert, output, "--report-to", "tensorboard", *SPEED)
    assert done.returncode == 0, done.stderr
    result = read_result(output)
    assert result.config["report_to"] == "tensorboard"

    curve = scalars(tmp_path / "tiny.runs" / "sst2")
    loss = curve["train/loss"]
    assert len(loss) == 4 and [step for step, _ in loss] == [1, 2, 3, 4]  # 16 rows in 4s
    assert all(value > 0 for _, value in loss)
    assert "train/learning_rate" in curve

    summary = scalars(tmp_path / "tiny.runs" / "summary")
    ((_, score),) = summary["score/sst2"]
    assert score == pytest.approx(result.tasks["sst2"].main_score, rel=1e-6)
    (measured,) = result.speed.ok()
    shape = f"cost/{measured.seq_len}x{measured.batch_size}"
    assert summary[f"{shape}/latency_ms"][0][1] == pytest.approx(measured.latency_ms.median, 1e-6)
    if measured.peak_memory_mb is not None:
        assert summary[f"{shape}/peak_memory_mb"][0][1] == pytest.approx(measured.peak_memory_mb)
    assert not any(tag.startswith("retained_percent/") for tag in summary)  # no teacher

    # trained again (another seed): the folder holds the new curve only, as the file holds
    # the new score only
    again = tiny_run(tiny_bert, output, "--report-to", "tensorboard", "--seed", "7", *SPEED)
    assert again.returncode == 0, again.stderr
    assert len(event_files(tmp_path / "tiny.runs" / "sst2")) == 1
    assert len(event_files(tmp_path / "tiny.runs" / "summary")) == 1
    ((_, score),) = scalars(tmp_path / "tiny.runs" / "summary")["score/sst2"]
    assert score == pytest.approx(read_result(output).tasks["sst2"].main_score, rel=1e-6)


def test_reporting_changes_no_score_and_none_writes_nothing(tiny_bert, tmp_path):
    assert "report_to" not in SCORE_SETTINGS
    plain = tiny_run(tiny_bert, tmp_path / "plain.json", "--no-speed")
    tracked = tiny_run(
        tiny_bert, tmp_path / "tracked.json", "--no-speed", "--report-to", "tensorboard"
    )
    assert plain.returncode == tracked.returncode == 0, plain.stderr + tracked.stderr
    scores = [
        read_result(tmp_path / f"{n}.json").tasks["sst2"].metrics for n in ("plain", "tracked")
    ]
    assert scores[0] == scores[1]
    assert not (tmp_path / "plain.runs").exists()
    assert event_files(tmp_path / "tracked.runs" / "sst2")


def test_with_seeds_each_seed_has_its_own_folder(tiny_bert, tmp_path):
    done = tiny_run(
        tiny_bert, tmp_path / "s.json", "--no-speed", "--seeds", "1,2", "--report-to", "tensorboard"
    )
    assert done.returncode == 0, done.stderr
    runs = tmp_path / "s.runs"
    assert sorted(p.name for p in runs.iterdir()) == ["sst2-seed1", "sst2-seed2", "summary"]
    entry = read_result(tmp_path / "s.json").tasks["sst2"]
    summary = scalars(runs / "summary")
    assert summary["score/sst2"][0][1] == pytest.approx(entry.main_score, rel=1e-6)
    assert summary["score_std/sst2"][0][1] == pytest.approx(entry.main_score_std, rel=1e-6)


def test_an_unknown_tracker_is_refused_in_one_line(tmp_path):
    done = bench("run", "--report-to", "tensorbored", "--output", str(tmp_path / "r.json"))
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 2 and len(errors) == 1, done.stderr
    assert "report_to" in errors[0] and "'tensorboard'" in errors[0]
    recipe = _recipe(tmp_path / "r.yaml", tmp_path / "no-teacher")
    out = tmp_path / "out"
    done = bench(
        "recipe", "run", str(recipe), "--output-dir", str(out), "--report-to", "tensorbored"
    )
    assert done.returncode == 2, done.stderr
    assert "error: --report-to 'tensorbored': choose one of none, tensorboard" in done.stderr
    assert not (tmp_path / "r.json").exists() and not out.exists()


@pytest.fixture
def not_installed(monkeypatch):
    """The trackers' packages missing, whether or not they are installed here."""
    find_spec = importlib.util.find_spec

    def without_trackers(name, *args, **kwargs):
        return None if name in ("wandb", "mlflow", "trackio") else find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", without_trackers)


@pytest.mark.parametrize("tracker", ["wandb", "mlflow", "trackio"])
def test_a_missing_package_fails_in_one_line_before_any_training(
    tracker, tiny_bert, tiny_mlm_teacher, tmp_path, not_installed
):
    done = tiny_run(tiny_bert, tmp_path / "r.json", "--report-to", tracker)
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 2 and len(errors) == 1, done.stderr
    assert (
        errors[0]
        == f"error: --report-to {tracker} needs the {tracker} package: pip install {tracker}"
    )
    assert "fine-tuning" not in done.stdout and not (tmp_path / "r.json").exists()
    recipe = _recipe(tmp_path / "r.yaml", tiny_mlm_teacher)
    out = tmp_path / "recipe"
    done = bench("recipe", "run", str(recipe), "--output-dir", str(out), "--report-to", tracker)
    assert done.returncode == 2 and f"pip install {tracker}" in done.stderr
    assert not out.exists()


def _recipe(path: Path, teacher: Path, **parts) -> Path:
    training = {"max_steps": 4, "batch_size": 4, "save_steps": 2, "logging_steps": 1}
    text = {"bundled": True, "max_documents": 4}
    distill = {"text": text, "max_length": 64, "training": training}
    recipe = {"name": "test", "teacher": str(teacher), "distill": distill}
    path.write_text(yaml.safe_dump(recipe | parts))
    return path


def test_a_recipes_stages_report_into_their_folders(tiny_mlm_teacher, tmp_path):
    run = {"tasks": "sst2", "data_dir": "bundled", "limit": 16, "epochs": 1, "speed": False}
    recipe = _recipe(tmp_path / "r.yaml", tiny_mlm_teacher, finetune={"run": run})
    out = tmp_path / "out"
    done = bench(
        "recipe", "run", str(recipe), "--output-dir", str(out), "--report-to", "tensorboard"
    )
    assert done.returncode == 0, done.stderr
    record = json.loads((out / "1-distill" / "stage.json").read_text())["record"]
    curve = scalars(out / "1-distill" / "runs")
    # the stage logs on its own schedule (every step here), and the tracker sees that curve
    assert [step for step, _ in curve["train/loss"]] == [p["step"] for p in record["loss_curve"]]
    assert [v for _, v in curve["train/loss"]] == pytest.approx(
        [p["loss"] for p in record["loss_curve"]], rel=1e-6
    )
    # the finetune stage's runs report too, the student's with its retention
    finetune = out / "2-finetune"
    assert "train/loss" in scalars(finetune / "teacher.runs" / "sst2")
    assert "train/loss" in scalars(finetune / "student.runs" / "sst2")
    student = read_result(finetune / "student.json")
    summary = scalars(finetune / "student.runs" / "summary")
    retained = student.retention.tasks["sst2"].retained_percent
    if retained is None:  # a score too near chance has no ratio, and none is sent
        assert "retained_percent/sst2" not in summary
    else:
        assert summary["retained_percent/sst2"][0][1] == pytest.approx(retained, rel=1e-6)
    assert summary["score/sst2"][0][1] == pytest.approx(student.tasks["sst2"].main_score, 1e-6)


def test_the_summary_holds_scores_spread_retention_and_cost_of_the_file(tmp_path):
    result = read_result(FIXTURE)
    result.tasks["sst2"].main_score_std = 1.25
    output = tmp_path / "student.json"
    tracking.log_summary(result, "tensorboard", output, Console(quiet=True))
    summary = {
        tag: values[0][1] for tag, values in scalars(tmp_path / "student.runs" / "summary").items()
    }
    for task, entry in result.tasks.items():
        assert summary[f"score/{task}"] == pytest.approx(entry.main_score, rel=1e-6, abs=1e-6)
    assert summary["score_std/sst2"] == pytest.approx(1.25)
    block = result.retention
    assert summary["retained_percent/macro"] == pytest.approx(block.retained_percent_macro, 1e-6)
    for task, kept in block.tasks.items():
        if kept.retained_percent is not None:
            assert summary[f"retained_percent/{task}"] == pytest.approx(kept.retained_percent, 1e-6)
    for change in block.cost:
        shape = f"cost/{change.seq_len}x{change.batch_size}"
        assert summary[f"{shape}/speedup"] == pytest.approx(change.speedup, 1e-6)
    for measured in result.speed.ok():
        shape = f"cost/{measured.seq_len}x{measured.batch_size}"
        assert summary[f"{shape}/latency_ms"] == pytest.approx(measured.latency_ms.median, 1e-6)
        assert summary[f"{shape}/peak_memory_mb"] == pytest.approx(measured.peak_memory_mb, 1e-6)


def test_none_sends_nothing(tmp_path):
    tracking.log_summary(read_result(FIXTURE), "none", tmp_path / "r.json", Console(quiet=True))
    assert list(tmp_path.iterdir()) == []


class _Recorder(types.ModuleType):
    """A stand-in for a tracker's module, recording the calls made to it."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.calls: list[tuple[str, object]] = []

    def record(self, what: str, value: object = None):
        self.calls.append((what, value))


def _fake_wandb() -> _Recorder:
    module = _Recorder("wandb")

    class Run:
        summary = types.SimpleNamespace(update=lambda metrics: module.record("summary", metrics))

        def finish(self):
            module.record("finish")

    def init(**kwargs):
        module.record("init", kwargs)
        return Run()

    module.init = init
    return module


def _fake_mlflow() -> _Recorder:
    import contextlib

    module = _Recorder("mlflow")
    module.set_experiment = lambda name: module.record("experiment", name)
    module.log_metrics = lambda metrics: module.record("metrics", metrics)

    @contextlib.contextmanager
    def start_run(run_name=None):
        module.record("start", run_name)
        yield
        module.record("end")

    module.start_run = start_run
    return module


def _fake_trackio() -> _Recorder:
    module = _Recorder("trackio")
    module.init = lambda **kwargs: module.record("init", kwargs)
    module.log = lambda metrics: module.record("log", metrics)
    module.finish = lambda: module.record("finish")
    return module


def test_wandb_mlflow_and_trackio_each_get_one_run_with_the_summary(monkeypatch, tmp_path):
    result = read_result(FIXTURE)
    expected = tracking.summary_metrics(result)
    assert expected["score/sst2"] == result.tasks["sst2"].main_score
    monkeypatch.delenv("WANDB_PROJECT", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "mine")
    fakes = {"wandb": _fake_wandb(), "mlflow": _fake_mlflow(), "trackio": _fake_trackio()}
    for name, module in fakes.items():
        monkeypatch.setitem(sys.modules, name, module)
        tracking.log_summary(result, name, tmp_path / "r.json", Console(quiet=True))
    name = f"{result.model.name} summary"
    wandb = fakes["wandb"].calls
    assert [what for what, _ in wandb] == ["init", "summary", "finish"]
    assert wandb[0][1]["project"] == tracking.PROJECT and wandb[0][1]["name"] == name
    assert wandb[1][1] == expected
    assert fakes["mlflow"].calls == [
        ("experiment", "mine"),  # the user's experiment, not the default
        ("start", name),
        ("metrics", expected),
        ("end", None),
    ]
    trackio = fakes["trackio"].calls
    assert [what for what, _ in trackio] == ["init", "log", "finish"] and trackio[1][1] == expected
    assert trackio[0][1]["project"] == tracking.PROJECT


def test_a_tracker_failing_after_the_run_is_a_warning(monkeypatch, tmp_path):
    module = _fake_wandb()

    def refuse(**kwargs):
        raise ConnectionError("no route to api.wandb.ai")

    module.init = refuse
    monkeypatch.setitem(sys.modules, "wandb", module)
    console = Console(record=True, width=200)
    tracking.log_summary(read_result(FIXTURE), "wandb", tmp_path / "r.json", console)
    assert "summary could not be sent to wandb: no route to api.wandb.ai" in console.export_text()


def test_the_training_environment_is_set_for_the_training_only(monkeypatch, tmp_path):
    monkeypatch.delenv("TENSORBOARD_LOGGING_DIR", raising=False)
    monkeypatch.setenv("WANDB_PROJECT", "theirs")
    report = tracking.Reporting("tensorboard", "m sst2 seed 1", tmp_path / "runs")
    with tracking.training_environment(report):
        assert Path(tracking.os.environ["TENSORBOARD_LOGGING_DIR"]) == tmp_path / "runs"
    assert "TENSORBOARD_LOGGING_DIR" not in tracking.os.environ
    with tracking.training_environment(tracking.Reporting("wandb", "x", tmp_path)):
        assert tracking.os.environ["WANDB_PROJECT"] == "theirs"  # the user's project stands


def test_a_wandb_run_is_closed_after_each_training(monkeypatch, tmp_path):
    """W&B's integration leaves its run open for the next Trainer: without closing it,
    every task would log into the first task's run."""
    module = _fake_wandb()
    module.run = object()
    module.finish = lambda: module.record("finish")
    monkeypatch.setitem(sys.modules, "wandb", module)
    tracking.end_training(tracking.Reporting("wandb", "m sst2 seed 1", tmp_path))
    tracking.end_training(tracking.Reporting("tensorboard", "m sst2 seed 1", tmp_path))
    assert module.calls == [("finish", None)]
