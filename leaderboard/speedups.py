"""A student's speed-ups over its teacher on the board: from the two entries' latencies, or
from interleaved time ratios, and where those ratios come from.

A speed-up taken from two latencies timed apart (each entry's ``speed`` list) carries
whatever the machine did between the two runs; a ratio timed in turns in one process
(:mod:`benchmark.time_ratio`) does not. So where a linked student holds an interleaved
ratio against that very teacher at a shape, the board uses it instead of the latencies'
ratio at that shape and device class, and says which it used (``method``).

A student's ratios come from its result (the retention block's interleaved cost entries,
with the device named by its speed block), and from a ratios file given at submit time
(``bench submit --time-ratios FILE``) for those timed on another machine, a GPU one for
instance. Such a file is JSON, the shape ``tests/perf/gpu_study_ratios.sh`` writes:
``{"device": "<name> (...)", "dtype": "float32", "weights": "random, ..." or "trained, ...",
"rows": [{"student": NAME, "seq_len", "batch_size", "device": "cuda", "status": "ok",
"ratio", "min", "max", "rounds", "agreed"}, ...]}``; the rows of the submitted model's name
are kept.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from benchmark.run_result import RunResult
from leaderboard.validation import SubmissionError

if TYPE_CHECKING:  # the entry module builds its fields with this one's from_result
    from leaderboard.entry import Entry, SpeedEntry

FILE_FIX = "give the file tests/perf/gpu_study_ratios.sh writes (see leaderboard/speedups.py)"


def from_result(result: RunResult) -> list[dict]:
    """The result's interleaved ratios against its teacher, each with the device name and
    dtype its speed block records at that shape (a ratio whose shape it lacks is left out:
    the board could not class its device)."""
    retention = result.retention
    if retention is None or result.speed is None:
        return []
    measured = {(m.seq_len, m.batch_size, m.device): m for m in result.speed.ok()}
    teacher_model = retention.teacher.get("model") or {}
    found = []
    for cost in retention.cost:
        if cost.time_method != "interleaved" or not cost.time_ratio:
            continue
        speed = measured.get((cost.seq_len, cost.batch_size, cost.device))
        if speed is None:
            continue
        found.append(
            {
                "seq_len": cost.seq_len,
                "batch_size": cost.batch_size,
                "device": speed.device,
                "device_name": speed.device_name,
                "dtype": speed.dtype,
                "ratio": cost.time_ratio,
                "range": list(cost.time_ratio_range) if cost.time_ratio_range else None,
                "rounds": cost.time_ratio_rounds,
                "agreed": cost.time_ratio_agreed,
                "teacher_sha256": teacher_model.get("weights_sha256"),
                "weights": "trained",
            }
        )
    return found


def from_file(path: Path, student: str) -> list[dict]:
    """The rows of ``student`` in a ratios file (module docstring), or one clear refusal."""
    where = f"--time-ratios {path}"
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except FileNotFoundError:
        raise SubmissionError(where, "no such file", FILE_FIX) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SubmissionError(where, f"not readable as JSON ({exc})", FILE_FIX) from None
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
        raise SubmissionError(where, "holds no list of rows", FILE_FIX)
    # "<name> (<device>, ...)": a CPU's own name may hold brackets, "Intel(R) Xeon(R) ..."
    device_name = str(data.get("device") or "").rsplit(" (", 1)[0].strip()
    weights = str(data.get("weights") or "").split(",")[0].strip()
    if not device_name or not data.get("dtype") or weights not in ("random", "trained"):
        raise SubmissionError(
            where, "does not say its device, dtype and whether the weights were random", FILE_FIX
        )
    found = []
    for row in data["rows"]:
        if not isinstance(row, dict) or row.get("student") != student:
            continue
        if row.get("status") != "ok":
            continue
        low, high = row.get("min"), row.get("max")
        found.append(
            {
                "seq_len": row.get("seq_len"),
                "batch_size": row.get("batch_size"),
                "device": row.get("device"),
                "device_name": device_name,
                "dtype": row.get("dtype", data["dtype"]),
                "ratio": row.get("ratio"),
                "range": [low, high] if low and high else None,
                "rounds": row.get("rounds"),
                "agreed": row.get("agreed"),
                "teacher_sha256": None,
                "weights": weights,
            }
        )
    if not found:
        raise SubmissionError(
            where,
            f"holds no timed row of {student}",
            "check the model's name against the file's rows, or leave --time-ratios out",
        )
    return found


def speedups(student: list[SpeedEntry], teacher: list[SpeedEntry]) -> list[dict]:
    """Teacher time / student time at each shape (length, batch, dtype) both measured on
    one kind of device."""
    by_shape = {(t.seq_len, t.batch_size, t.dtype, t.device_class()): t for t in teacher}
    found = []
    for s in student:
        t = by_shape.get((s.seq_len, s.batch_size, s.dtype, s.device_class()))
        if t is not None:
            found.append(
                {
                    "seq_len": s.seq_len,
                    "batch_size": s.batch_size,
                    "dtype": s.dtype,
                    "device": s.device_class(),
                    "speedup": t.latency_ms_median / s.latency_ms_median,
                }
            )
    return found


def interleaved_speedups(student: Entry, teacher: Entry) -> list[dict]:
    """Teacher time / student time from the student entry's ratios timed against this
    teacher entry's weights, or naming no teacher weights (a ratios file's: random weights
    time the same shapes, and a file of trained ones does not say which teacher's), which
    count against the teacher the student is linked to."""
    found = []
    for ratio in student.time_ratios:
        if ratio.teacher_sha256 not in (None, teacher.model.weights_sha256):
            continue
        found.append(
            {
                "seq_len": ratio.seq_len,
                "batch_size": ratio.batch_size,
                "dtype": ratio.dtype,
                "device": ratio.device_class(),
                "speedup": 1 / ratio.ratio,
                "method": "interleaved",
                "range": (
                    [1 / ratio.range[1], 1 / ratio.range[0]] if ratio.range is not None else None
                ),
            }
        )
    return found


def merged(separate: list[dict], interleaved: list[dict]) -> list[dict]:
    """The latencies' speed-ups with the interleaved one in place at each shape and device
    class both have."""
    shape = ("seq_len", "batch_size", "dtype", "device")
    taken = {tuple(s[k] for k in shape) for s in interleaved}
    kept = [
        s | {"method": "separate runs"} for s in separate if tuple(s[k] for k in shape) not in taken
    ]
    return kept + interleaved
