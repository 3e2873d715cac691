"""The student/teacher time ratio measured in interleaved rounds: ABBA order, the median
over rounds, the two halves that must agree before it stops, and failures named."""

from __future__ import annotations

import json

import pytest

from benchmark.profiler import ProfileRequest
from benchmark.time_ratio import halves_agree, interleaved_ratio
from tests.helpers import bench


def _fake(ratios: list[float], calls: list[str] | None = None):
    """A measure function that hands out the given per-round ratios, in call order."""

    def measure(request: ProfileRequest, teacher: str) -> dict:
        if calls is not None:
            calls.append((request.model, teacher))
        ratio = ratios.pop(0)
        return {
            "status": "ok",
            "ratio": ratio,
            "pairs": 5,
            "student_ms": 100 * ratio,
            "teacher_ms": 100.0,
        }

    return measure


def test_rounds_repeat_until_the_halves_agree():
    # ratios per round, and the halves' medians (even rounds / odd rounds) when checked:
    # 4 rounds 0.50 0.60 0.52 0.54 -> 0.51 / 0.57; 6 rounds (+0.50 0.56) -> 0.50 / 0.56;
    # 8 rounds (+0.52 0.53) -> 0.51 / 0.55; 10 rounds (+0.52 0.51) -> 0.52 / 0.54: agree
    ratios = [0.50, 0.60, 0.52, 0.54, 0.50, 0.56, 0.52, 0.53, 0.52, 0.51, 0.9, 0.9]
    calls: list = []
    result = interleaved_ratio(
        ProfileRequest("student", 512),
        "teacher",
        tolerance=0.03,
        min_rounds=4,
        max_rounds=12,
        measure=_fake(ratios, calls),
    )
    assert calls[0] == ("student", "teacher")
    assert result["rounds"] == 10 and result["agreed"]
    even, odd, agreed = halves_agree(result["ratios"], 0.03)
    assert (round(even, 3), round(odd, 3)) == (0.52, 0.54) and agreed
    assert result["halves"] == [0.52, 0.54]
    assert result["ratio"] == pytest.approx(0.52)  # median of all ten
    assert (result["min"], result["max"]) == (0.5, 0.6)
    assert result["student_ms"] == pytest.approx(52.0)


def test_a_quiet_machine_stops_at_the_minimum_and_a_noisy_one_says_so():
    steady = interleaved_ratio(
        ProfileRequest("s", 64), "t", min_rounds=4, max_rounds=8, measure=_fake([0.5] * 8)
    )
    assert steady["rounds"] == 4 and steady["agreed"] and steady["ratio"] == 0.5
    noisy = interleaved_ratio(
        ProfileRequest("s", 64),
        "t",
        min_rounds=4,
        max_rounds=6,
        measure=_fake([0.4, 0.7] * 3),
    )
    assert noisy["rounds"] == 6 and not noisy["agreed"]
    with pytest.raises(ValueError, match="min_rounds"):
        interleaved_ratio(ProfileRequest("s", 64), "t", min_rounds=1, measure=_fake([]))


def test_a_failed_round_is_named():
    def measure(request, teacher):
        return {"status": "unsupported", "reason": "teacher: 4096 tokens exceed 512 positions"}

    result = interleaved_ratio(ProfileRequest("s", 4096), "t", measure=measure)
    assert result["status"] == "failed" and result["reason"].startswith("teacher: 4096")


@pytest.mark.slow
def test_bench_speed_with_a_teacher_times_both_in_fresh_processes(tiny_bert, tmp_path):
    from baselines.student import cut_layers

    cut_layers(str(tiny_bert), tmp_path / "student", [0])
    done = bench(
        "speed",
        "--model",
        str(tmp_path / "student"),
        "--teacher",
        str(tiny_bert),
        "--seq-len",
        "64",
        "--batch-size",
        "2",
        "--device",
        "cpu",
        "--min-repeats",
        "3",
        "--min-seconds",
        "0.05",
        "--min-rounds",
        "2",
        "--max-rounds",
        "2",
        "--tolerance",
        "0.5",
        "--json",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (measured,) = json.loads(done.stdout)["time_ratio"]
    assert measured["status"] == "ok" and measured["rounds"] == 2
    assert len(measured["ratios"]) == 2 and all(r > 0 for r in measured["ratios"])
    assert measured["min"] <= measured["ratio"] <= measured["max"]
    assert all(n >= 3 for n in measured["calls_per_round"])  # --min-repeats pairs per round


def test_bench_run_with_a_teacher_takes_its_speed_up_from_interleaved_rounds(
    tiny_bert, tmp_path, monkeypatch, quick_profiles
):
    """`bench run --teacher MODEL`: the cost change comes from the paired rounds (here a
    stand-in measurement with known ratios), is kept when run again with the same two
    models, and `bench compare` shows it."""
    import benchmark.time_ratio as time_ratio
    from benchmark import runner
    from benchmark.compare import as_markdown, comparison
    from benchmark.config import build_config
    from benchmark.provenance import model_identity
    from benchmark.results import default_result_path

    measured: list = []
    ratios = [0.50, 0.52, 0.51, 0.53]

    def paired(request, teacher):
        measured.append((request.model, request.seq_len, teacher))
        return _fake(ratios)(request, teacher)

    monkeypatch.setattr(time_ratio, "_paired", paired)
    monkeypatch.chdir(tmp_path)  # the teacher's own result goes to results/ under it
    settings = {
        "model": str(tiny_bert),
        "teacher": str(tiny_bert),
        "tasks": "sst2",
        "data_dir": "bundled",
        "limit": 8,
        "epochs": 1.0,
        "speed_seq_len": [32],
        "speed_batch_size": 2,
        "speed_min_repeats": 3,
        "speed_min_seconds": 0.05,
        "output": str(tmp_path / "student.json"),
    }
    path = runner.run(build_config(settings))
    change = json.loads(path.read_text())["retention"]["cost"][0]
    assert measured == [(str(tiny_bert), 32, str(tiny_bert))] * 4
    assert change["time_method"] == "interleaved" and change["time_ratio_rounds"] == 4
    assert change["time_ratio"] == pytest.approx(0.515)  # median of 0.50 0.52 0.51 0.53
    assert change["time_ratio_range"] == [0.50, 0.53] and change["time_ratio_agreed"]
    assert change["speedup"] == pytest.approx(1 / 0.515)
    assert change["latency_change_percent"] == pytest.approx(-48.5)

    runner.run(build_config(settings))  # the same two models again: nothing re-measured
    assert len(measured) == 4

    identity = model_identity(str(tiny_bert))
    teacher_result = tmp_path / default_result_path(str(tiny_bert), identity)
    data = comparison([teacher_result, path])
    cost = data["results"][1]["cost"][0]
    assert cost["time_method"] == "interleaved" and cost["time_ratio"] == pytest.approx(0.515)
    assert "ratio 0.515 [0.500-0.530] over 4 interleaved rounds" in as_markdown(data)
    # the speed-up is the interleaved one, not the quotient of the two separate runs
    assert "ms alone; in turns with the reference: 1.94x, -48.5%" in as_markdown(data)
