"""`bench run` and `bench tasks` from the command line: one-line errors, config files."""

from __future__ import annotations

import json

import pytest

from benchmark.config import load_config
from benchmark.errors import BenchError
from tests.helpers import bench, launch


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--tasks", "nosuch"], "unknown task 'nosuch'"),
        (
            ["run", "--model", "/nowhere/model", "--data-dir", "bundled", "--tasks", "sst2"],
            "model '/nowhere/model': no such folder",
        ),
        (["run", "--tasks", "qqp"], "task qqp has no bundled sample"),
        (["run", "--protocol", "guess"], "bad run configuration: protocol"),
        (["run", "--config", "/nowhere.yaml"], "cannot read config file /nowhere.yaml"),
    ],
)
def test_bad_input_is_one_line(args, message, tmp_path):
    proc = bench(*args, "--output", str(tmp_path / "r.json"))
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "r.json").exists()


def test_a_teacher_that_is_not_there_fails_before_the_students_run(tmp_path):
    """A mistyped --teacher is named before any fine-tuning, not after the student's run."""
    (tmp_path / "notes.json").write_text("not json")
    cases = [
        (tmp_path / "missing.json", "teacher result file"),
        (tmp_path / "notes.json", "is not a readable result file"),
        (tmp_path / "no-model", "no such folder"),
    ]
    for teacher, message in cases:
        proc = bench(
            "run",
            "--tasks",
            "sst2",
            "--teacher",
            str(teacher),
            "--output",
            str(tmp_path / "r.json"),
        )
        assert proc.returncode == 2, proc.stderr
        errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and message in errors[0] and "--output" not in errors[0], errors
        assert "fine-tuning" not in proc.stdout + proc.stderr
        assert not (tmp_path / "r.json").exists()


def test_the_installed_command_ends_a_bad_input_in_one_line_too(tmp_path):
    """The console script in its own process (the other tests run the command in-process)."""
    proc = launch("run", "--tasks", "nosuch", "--output", str(tmp_path / "r.json"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("error: unknown task 'nosuch'")


def test_config_file_and_flags_build_one_config(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("model: some/model\ntasks: glue\nepochs: 2\nlimit: 10\n")
    config = load_config(path, {"limit": 5, "seed": None})
    assert (config.model, config.tasks, config.epochs, config.limit, config.seed) == (
        "some/model",
        "glue",
        2.0,
        5,
        42,
    )
    (tmp_path / "bad.yaml").write_text("epochs: [1, 2\n")
    with pytest.raises(BenchError, match="does not parse"):
        load_config(tmp_path / "bad.yaml", {})
    (tmp_path / "unknown.json").write_text(json.dumps({"epochz": 1}))
    with pytest.raises(BenchError, match="epochz: Extra inputs are not permitted"):
        load_config(tmp_path / "unknown.json", {})


def test_tasks_json_lists_every_spec_with_its_hash():
    proc = bench("tasks", "--json")
    assert proc.returncode == 0
    listing = json.loads(proc.stdout)
    assert listing["tasks"]["gonerd"]["long_context"] is True
    assert listing["tasks"]["mrpc"]["metric"] == "f1_accuracy"
    assert len(listing["tasks"]["squad"]["spec_hash"]) == 16
    assert "glue" in listing["groups"]


def test_the_console_shows_bars_scores_and_the_table_not_raw_dicts(tiny_bert, tmp_path):
    proc = bench(
        "run",
        "--model",
        str(tiny_bert),
        "--data-dir",
        "bundled",
        "--tasks",
        "sst2,conll2003",
        "--limit",
        "8",
        "--epochs",
        "1",
        "--no-speed",
        "--output",
        str(tmp_path / "r.json"),
    )
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert "train_runtime" not in proc.stdout and "{" not in proc.stdout
    assert lines[0] == "sst2 (sequence classification)"
    assert lines[1] == "  fine-tuning on 8 inputs (1 epochs)"
    assert lines[2].startswith("  accuracy = ")
    assert lines[3] == "conll2003 (token classification)"
    assert lines[-1] == f"results: {tmp_path / 'r.json'}"


def test_every_run_flag_has_its_help_text():
    """`--config` included: its help sits on the command's own parameter, which the generated
    signature must keep as an option, not as an annotation typer cannot read."""
    import typer.main

    from gonerd_bench.cli import app

    command = typer.main.get_command(app).commands["run"]
    missing = [p.name for p in command.params if p.name != "help" and not getattr(p, "help", "")]
    assert missing == []
    config = next(p for p in command.params if p.name == "config")
    assert config.help == "YAML or JSON file with these settings; flags win."
