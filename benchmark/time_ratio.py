"""A student/teacher inference-time ratio that reproduces on a noisy machine.

Timing the two models in separate runs lets the machine's drift (other processes, heat,
frequency scaling) land on one side of the ratio. Here they alternate within each round,
in ABBA order (student first in even rounds, teacher first in odd ones), each pass in a
fresh process (:func:`benchmark.profiler.profile`), and every round gives one ratio of
median latencies. The rounds are split into two independent halves (even and odd
rounds); measuring stops once both halves' median ratios agree within ``tolerance``
(default ±0.03), or at ``max_rounds``, which the result then says. The reported ratio is
the median over all rounds, with its spread.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import replace

from benchmark.profiler import ProfileRequest, profile

Measure = Callable[[ProfileRequest], dict]


def halves_agree(ratios: list[float], tolerance: float) -> tuple[float, float, bool]:
    """The median ratio of the even and the odd rounds, and whether they agree."""
    even, odd = statistics.median(ratios[0::2]), statistics.median(ratios[1::2])
    return even, odd, abs(even - odd) <= tolerance


def interleaved_ratio(
    student: ProfileRequest,
    teacher_model: str,
    tolerance: float = 0.03,
    min_rounds: int = 4,
    max_rounds: int = 16,
    measure: Measure = profile,
    on_round: Callable[[int, float], None] | None = None,
) -> dict:
    """Student/teacher time at ``student``'s length, batch and device (module docstring).
    A failed pass (out of memory, an unsupported length) ends it with the reason."""
    if min_rounds < 2 or max_rounds < min_rounds:
        raise ValueError("need min_rounds >= 2 and max_rounds >= min_rounds")
    teacher = replace(student, model=teacher_model)
    ratios: list[float] = []
    times: dict[str, list[float]] = {"student": [], "teacher": []}
    agreed, halves = False, None
    while len(ratios) < max_rounds:
        order = [("student", student), ("teacher", teacher)]
        if len(ratios) % 2:
            order.reverse()
        latency = {}
        for name, request in order:
            record = measure(request)
            if record.get("status") != "ok":
                return {
                    "seq_len": student.seq_len,
                    "batch_size": student.batch_size,
                    "status": "failed",
                    "reason": f"{name}: {record.get('reason', 'failed')}",
                }
            latency[name] = record["latency_ms"]["median"]
            times[name].append(latency[name])
        ratios.append(latency["student"] / latency["teacher"])
        if on_round is not None:
            on_round(len(ratios), ratios[-1])
        if len(ratios) >= min_rounds and len(ratios) % 2 == 0:
            *halves, agreed = halves_agree(ratios, tolerance)
            if agreed:
                break
    if halves is None:
        *halves, agreed = halves_agree(ratios, tolerance)
    return {
        "seq_len": student.seq_len,
        "batch_size": student.batch_size,
        "device": student.device,
        "status": "ok",
        "ratio": statistics.median(ratios),
        "min": min(ratios),
        "max": max(ratios),
        "halves": [round(h, 4) for h in halves],
        "agreed": agreed,
        "tolerance": tolerance,
        "rounds": len(ratios),
        "ratios": [round(r, 4) for r in ratios],
        "student_ms": statistics.median(times["student"]),
        "teacher_ms": statistics.median(times["teacher"]),
    }


def describe_ratio(r: dict) -> str:
    """One console line for a ratio measurement."""
    if r["status"] != "ok":
        return f"{r['seq_len']} x {r['batch_size']}: failed ({r['reason']})"
    verdict = (
        f"halves {r['halves'][0]:.3f} / {r['halves'][1]:.3f} agree within "
        f"±{r['tolerance']} after {r['rounds']} rounds"
        if r["agreed"]
        else f"halves {r['halves'][0]:.3f} / {r['halves'][1]:.3f} still differ by more than "
        f"±{r['tolerance']} after {r['rounds']} rounds: not reproducible here yet"
    )
    return (
        f"{r['seq_len']} x {r['batch_size']}: student/teacher time {r['ratio']:.3f} "
        f"(min {r['min']:.3f}, max {r['max']:.3f}; {r['student_ms']:.1f} / "
        f"{r['teacher_ms']:.1f} ms); {verdict}"
    )
