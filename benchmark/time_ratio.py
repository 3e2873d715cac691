"""A student/teacher inference-time ratio that reproduces on a noisy machine.

Timing the two models in separate runs lets the machine's drift (other processes, heat,
frequency scaling) land on one side of the ratio. Here both are loaded in one fresh
process and called in turn, ABBA (:func:`benchmark.profiler.measure_pair`), so drift lands
on both; each such process is one round and gives the median of its per-call ratios.
Rounds repeat until the two independent halves of them (even and odd rounds) give median
ratios within ``tolerance`` (default ±0.03) of each other, or ``max_rounds`` is reached,
which the result then says. The reported ratio is the median over all rounds, with its
spread.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import replace

from benchmark.profiler import ProfileRequest, profile
from benchmark.provenance import library_versions, model_identity, now

Measure = Callable[[ProfileRequest, str], dict]


def _paired(request: ProfileRequest, teacher: str) -> dict:
    return profile(request, teacher=teacher)


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
    measure: Measure | None = None,
    on_round: Callable[[int, float], None] | None = None,
) -> dict:
    """Student/teacher time at ``student``'s length, batch and device (module docstring).
    A failed round (out of memory, an unsupported length) ends it with the reason."""
    if min_rounds < 2 or max_rounds < min_rounds:
        raise ValueError("need min_rounds >= 2 and max_rounds >= min_rounds")
    measure = measure or _paired
    rounds: list[dict] = []
    agreed, halves = False, None
    while len(rounds) < max_rounds:
        record = measure(student, teacher_model)
        if record.get("status") != "ok":
            return {
                "seq_len": student.seq_len,
                "batch_size": student.batch_size,
                "status": "failed",
                "reason": record.get("reason", "failed"),
            }
        rounds.append(record)
        ratios = [r["ratio"] for r in rounds]
        if on_round is not None:
            on_round(len(rounds), ratios[-1])
        if len(ratios) >= min_rounds and len(ratios) % 2 == 0:
            *halves, agreed = halves_agree(ratios, tolerance)
            if agreed:
                break
    ratios = [r["ratio"] for r in rounds]
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
        "calls_per_round": [r["pairs"] for r in rounds],
        "ratios": [round(r, 4) for r in ratios],
        "student_ms": statistics.median(r["student_ms"] for r in rounds),
        "teacher_ms": statistics.median(r["teacher_ms"] for r in rounds),
    }


def ratios_at_lengths(
    student: ProfileRequest,
    teacher_model: str,
    lengths: Iterable[int],
    tolerance: float = 0.03,
    min_rounds: int = 4,
    max_rounds: int = 16,
    *,
    earlier: Callable[[int], dict | None] | None = None,
    on_ratio: Callable[[dict, bool], None] | None = None,
) -> list[dict]:
    """The interleaved ratio at each length, ``student`` giving every other setting. Where
    ``earlier(seq_len)`` holds a ratio measured before for the same two models and
    settings it is kept, not measured again; ``on_ratio(record, kept)`` hears of each."""
    ratios = []
    for seq_len in lengths:
        kept = earlier(seq_len) if earlier is not None else None
        record = kept or interleaved_ratio(
            replace(student, seq_len=seq_len), teacher_model, tolerance, min_rounds, max_rounds
        )
        if on_ratio is not None:
            on_ratio(record, kept is not None)
        ratios.append(record)
    return ratios


def time_ratio_report(
    name: str, student: ProfileRequest, teacher_model: str, lengths: list[int], **options
) -> dict:
    """``bench speed --teacher``'s report: both models, the ratio at each length
    (:func:`ratios_at_lengths`, which ``options`` go to) and the libraries that ran them."""
    started = now()
    ratios = ratios_at_lengths(student, teacher_model, lengths, **options)
    return {
        "model": {"name": name, **model_identity(student.model)},
        "teacher": {"name": teacher_model, **model_identity(teacher_model)},
        "started_at": started,
        "time_ratio": ratios,
        "libraries": library_versions(),
        "finished_at": now(),
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
