"""Speed-ups on the board from interleaved time ratios: read from a real study result and
a real GPU ratios file, used in place of the latencies' ratio against the very teacher they
were timed with; and the submitter's data label and budget carried to the entry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from leaderboard_helpers import make_entry, sha

from benchmark.run_result import read_result
from leaderboard.board import build_rows
from leaderboard.entry import canonical_id
from leaderboard.speedups import from_file, from_result
from leaderboard.validation import SubmissionError

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "docs" / "study" / "data"


def test_a_results_interleaved_ratios_with_the_device_its_speed_block_names():
    result = read_result(STUDY / "results" / "longformer-convert-then-distill.json")
    ratios = from_result(result)
    assert [(r["seq_len"], r["batch_size"]) for r in ratios] == [(512, 1), (2048, 1), (4096, 1)]
    at_4096 = ratios[-1]
    # the retention block's interleaved cost at 4,096 tokens, as the result records it
    assert at_4096["ratio"] == pytest.approx(0.5113130259757659)
    assert at_4096["range"] == pytest.approx([0.5069922253218375, 0.5322312111070618])
    assert at_4096["rounds"] == 4 and at_4096["agreed"] is True
    # the device named is the one the speed block records at that shape
    (speed,) = [m for m in result.speed.ok() if (m.seq_len, m.batch_size) == (4096, 1)]
    assert (at_4096["device"], at_4096["device_name"]) == ("cpu", speed.device_name)
    assert speed.device_name  # a processor's name, not an empty one
    # timed against the teacher whose weights the result names
    teacher = read_result(STUDY / "results" / "longformer-teacher.json")
    assert at_4096["teacher_sha256"] == teacher.model.weights_sha256
    assert at_4096["weights"] == "trained"
    # a teacher's own result holds none
    assert from_result(teacher) == []


def test_a_gpu_ratios_files_rows_of_one_student():
    rows = from_file(STUDY / "ratios-gpu.json", "lsg-floor")
    assert {(r["seq_len"], r["batch_size"]) for r in rows} == {(512, 16), (2048, 16), (4096, 16)}
    assert {(r["device"], r["device_name"], r["dtype"], r["weights"]) for r in rows} == {
        ("cuda", "NVIDIA H200", "float32", "random")
    }
    assert all(r["teacher_sha256"] is None and 0 < r["ratio"] < 1.5 for r in rows)


def test_a_cpu_ratios_file_keeps_the_bracketed_name_of_its_processor(tmp_path):
    data = json.loads((STUDY / "ratios-gpu.json").read_text("utf-8"))
    data["device"] = "Intel(R) Xeon(R) Processor (cpu)"
    data["weights"] = "trained, the study's own models"
    for row in data["rows"]:
        row["device"] = "cpu"
    cpu = tmp_path / "ratios-cpu.json"
    cpu.write_text(json.dumps(data))
    rows = from_file(cpu, "lsg-floor")
    # the class the result's own CPU ratios are in, so the two meet at a shape
    assert {(r["device"], r["device_name"], r["weights"]) for r in rows} == {
        ("cpu", "Intel(R) Xeon(R) Processor", "trained")
    }


def test_a_ratios_file_that_cannot_be_used_is_refused_in_one_line(tmp_path):
    with pytest.raises(SubmissionError, match="no such file"):
        from_file(tmp_path / "missing.json", "x")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(SubmissionError, match="not readable as JSON"):
        from_file(broken, "x")
    undated = tmp_path / "undated.json"
    data = json.loads((STUDY / "ratios-gpu.json").read_text("utf-8"))
    undated.write_text(json.dumps({k: v for k, v in data.items() if k != "dtype"}))
    with pytest.raises(SubmissionError, match="dtype"):
        from_file(undated, "lsg-floor")
    with pytest.raises(SubmissionError, match="no timed row of nobody"):
        from_file(STUDY / "ratios-gpu.json", "nobody")


def ratio(value: float, teacher: str | None, device: tuple[str, str] = ("cpu", "Test CPU")):
    return {
        "seq_len": 4096,
        "batch_size": 16,
        "device": device[0],
        "device_name": device[1],
        "dtype": "float32",
        "ratio": value,
        "range": [value - 0.01, value + 0.02],
        "rounds": 4,
        "agreed": True,
        "teacher_sha256": sha(teacher) if teacher else None,
        "weights": "trained" if teacher else "random",
    }


TEACHER = make_entry("teacher", {"sst2": 90.0}, speed={512: 100.0, 4096: 1000.0})


def test_the_board_takes_the_interleaved_ratio_against_its_own_teacher():
    # latencies timed apart say 1000/500 = 2x at 4,096; timed in turns, 0.4: 2.5x
    student = make_entry(
        "student",
        {"sst2": 81.0},
        speed={512: 60.0, 4096: 500.0},
        teacher="teacher",
        extra={"time_ratios": [ratio(0.4, "teacher")]},
    )
    row = {r.name: r for r in build_rows([TEACHER, student], ["sst2"])}["student"]
    by_length = {s["seq_len"]: s for s in row.speedups}
    assert by_length[4096]["speedup"] == pytest.approx(2.5)
    assert by_length[4096]["method"] == "interleaved"
    assert by_length[4096]["range"] == pytest.approx([1 / 0.42, 1 / 0.39])
    assert by_length[512]["method"] == "separate runs"
    assert by_length[512]["speedup"] == pytest.approx(100 / 60)
    assert row.pareto["speedup"] == pytest.approx(2.5) and row.pareto["method"] == "interleaved"
    # a ratio timed against other teacher weights is not this teacher's: the latencies stand
    other = make_entry(
        "other",
        {"sst2": 81.0},
        speed={4096: 500.0},
        teacher="teacher",
        extra={"time_ratios": [ratio(0.4, "someone else")]},
    )
    row = {r.name: r for r in build_rows([TEACHER, other], ["sst2"])}["other"]
    assert [(s["speedup"], s["method"]) for s in row.speedups] == [(2.0, "separate runs")]


def test_a_ratio_timed_on_another_device_places_the_student_with_no_teacher_timing_there():
    student = make_entry(
        "student",
        {"sst2": 81.0},
        teacher="teacher",
        extra={"time_ratios": [ratio(0.5, None, device=("cuda", "NVIDIA H200"))]},
    )
    row = {r.name: r for r in build_rows([TEACHER, student], ["sst2"])}["student"]
    assert row.pareto["device"] == "cuda: NVIDIA H200" and row.pareto["speedup"] == 2.0
    assert row.pareto["retained"] == pytest.approx(90.0)


def test_a_file_ratio_takes_the_place_of_the_results_own_at_the_same_shape():
    from leaderboard.entry import _one_per_shape

    own = ratio(0.5, "teacher")
    again = ratio(0.4, None)
    elsewhere = ratio(0.6, None, device=("cuda", "NVIDIA H200"))
    assert _one_per_shape([own, again, elsewhere]) == [again, elsewhere]


def test_entries_made_before_the_new_fields_keep_their_ids():
    plain = make_entry("plain", {"sst2": 1.0})
    content = plain.model_dump(mode="json")
    assert content["data_label"] is None and content["time_ratios"] == []
    unset = {k: v for k, v in content.items() if k not in ("data_label", "budget", "time_ratios")}
    assert canonical_id(content) == canonical_id(unset) == plain.entry_id
    labelled = make_entry("plain", {"sst2": 1.0}, extra={"data_label": "study"})
    assert labelled.entry_id != plain.entry_id
    assert (labelled.data_name(), plain.data_name()) == ("study", "full")


def test_a_data_label_that_is_not_a_short_name_is_refused():
    with pytest.raises(ValueError, match="data_label"):
        make_entry("x", {"sst2": 1.0}, extra={"data_label": "<b>Study</b>"})


def test_bench_submit_labels_a_study_model_and_adds_its_gpu_ratios(tmp_path):
    from leaderboard.store import read_board
    from tests.helpers import bench

    board = tmp_path / "board.json"
    for name, options in (
        ("lsg-teacher", []),
        ("lsg-floor", ["--time-ratios", str(STUDY / "ratios-gpu.json")]),
    ):
        done = bench(
            "submit",
            str(STUDY / "results" / f"{name}.json"),
            "--leaderboard",
            str(board),
            "--data-label",
            "study",
            "--budget",
            "40 pretraining steps",
            *options,
        )
        assert done.returncode == 0, done.stderr
    teacher, floor = read_board(board).entries
    assert (teacher.data_label, floor.data_label, floor.budget) == (
        "study",
        "study",
        "40 pretraining steps",
    )
    # the CPU ratios its result holds, then the three GPU ones the file holds for it
    kinds = [(r.device, r.seq_len, r.batch_size, r.weights) for r in floor.time_ratios]
    assert kinds == [
        ("cpu", 512, 1, "trained"),
        ("cpu", 2048, 1, "trained"),
        ("cpu", 4096, 1, "trained"),
        ("cuda", 4096, 16, "random"),
        ("cuda", 2048, 16, "random"),
        ("cuda", 512, 16, "random"),
    ]
    # the board plots it at the longest shape: 4,096 tokens, batch 16, on the H200
    shown = bench("leaderboard", "--leaderboard", str(board), "--format", "csv").stdout
    assert "study" in shown
    rows = {r.name: r for r in build_rows(read_board(board).entries, ["conll2003"])}
    assert rows["lsg-floor"].pareto["device"] == "cuda: NVIDIA H200"
    assert rows["lsg-floor"].pareto["method"] == "interleaved"
    # a bad label is refused in one line before the board is touched
    before = board.read_bytes()
    floor_result = str(STUDY / "results" / "lsg-floor.json")
    done = bench(
        "submit", floor_result, "--leaderboard", str(board), "--data-label", "Study Models"
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "--data-label 'Study Models'" in done.stderr and board.read_bytes() == before
