"""The student/teacher time ratio measured in interleaved rounds: ABBA order, the median
over rounds, the two halves that must agree before it stops, and failures named."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from benchmark.profiler import ProfileRequest
from benchmark.time_ratio import halves_agree, interleaved_ratio


def _fake(latencies: dict[str, list[float]], calls: list[str]):
    """A measure function that hands out the given latencies per model, in call order."""

    def measure(request: ProfileRequest) -> dict:
        calls.append(request.model)
        return {"status": "ok", "latency_ms": {"median": latencies[request.model].pop(0)}}

    return measure


def test_rounds_alternate_and_stop_when_the_halves_agree():
    # ratios per round, and the halves' medians (even rounds / odd rounds) when checked:
    # 4 rounds 0.50 0.60 0.52 0.54 -> 0.51 / 0.57; 6 rounds (+0.50 0.56) -> 0.50 / 0.56;
    # 8 rounds (+0.52 0.53) -> 0.51 / 0.55; 10 rounds (+0.52 0.51) -> 0.52 / 0.54: agree
    student = [50, 60, 52, 54, 50, 56, 52, 53, 52, 51]
    calls: list[str] = []
    result = interleaved_ratio(
        ProfileRequest("student", 512),
        "teacher",
        tolerance=0.03,
        min_rounds=4,
        max_rounds=10,
        measure=_fake({"student": student, "teacher": [100.0] * 10}, calls),
    )
    assert calls[:4] == ["student", "teacher", "teacher", "student"]  # ABBA
    assert result["ratios"][:4] == [0.5, 0.6, 0.52, 0.54]
    assert result["rounds"] == 10 and result["agreed"]
    even, odd, agreed = halves_agree(result["ratios"], 0.03)
    assert (round(even, 3), round(odd, 3)) == (0.52, 0.54) and agreed
    assert result["ratio"] == pytest.approx(0.52)  # median of all ten
    assert (result["min"], result["max"]) == (0.5, 0.6)


def test_a_quiet_machine_stops_at_the_minimum_and_a_noisy_one_says_so():
    steady = interleaved_ratio(
        ProfileRequest("s", 64),
        "t",
        min_rounds=4,
        max_rounds=8,
        measure=_fake({"s": [50.0] * 8, "t": [100.0] * 8}, []),
    )
    assert steady["rounds"] == 4 and steady["agreed"] and steady["ratio"] == 0.5
    noisy = interleaved_ratio(
        ProfileRequest("s", 64),
        "t",
        min_rounds=4,
        max_rounds=6,
        measure=_fake({"s": [40.0, 70.0] * 3, "t": [100.0] * 6}, []),
    )
    assert noisy["rounds"] == 6 and not noisy["agreed"]


def test_a_failed_pass_is_named():
    def measure(request):
        if request.model == "t":
            return {"status": "failed", "reason": "out of memory"}
        return {"status": "ok", "latency_ms": {"median": 1.0}}

    result = interleaved_ratio(ProfileRequest("s", 64), "t", measure=measure)
    assert result["status"] == "failed" and result["reason"] == "teacher: out of memory"


def test_bench_speed_with_a_teacher_times_both_in_fresh_processes(tiny_bert, tmp_path):
    from baselines.student import cut_layers

    cut_layers(str(tiny_bert), tmp_path / "student", [0])
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmark",
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
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (measured,) = json.loads(done.stdout)["time_ratio"]
    assert measured["status"] == "ok" and measured["rounds"] == 2
    assert len(measured["ratios"]) == 2 and all(r > 0 for r in measured["ratios"])
    assert measured["min"] <= measured["ratio"] <= measured["max"]
