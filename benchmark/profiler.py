"""Inference cost, measured the same way for every model: time and peak memory.

Method (after optimum-benchmark's trackers): every measurement runs in a fresh Python
process, so one model's allocations never colour another's numbers. Model load and the
first call are reported apart from the steady state; after warm-up, forward passes are
timed until both ``min_repeats`` and ``min_seconds`` are reached, and summarised as median,
p90, min and max. Memory is measured in a process of its own: on a GPU torch's peak
allocated and reserved bytes after a reset (and NVML's view of the process where pynvml is
installed); on a CPU the process's peak resident set (the kernel's high-water mark) and its
rise over the loaded model. Inputs are real tokenised text (the bundled GONERD sample) cut
to the length, synthetic ids only as a fallback; the model carries a token-classification
head, the head GONERD needs, never an MLM head whose vocabulary projection would hide the
encoder's cost.

Efficient-attention models are checked for silent fallbacks and the effective attention is
recorded: BigBird's block-sparse attention needs more than (5 + 2 x random blocks) x block
size tokens, Nystromformer is only approximate when ``segment_means_seq_len`` equals the
input length, and a full-attention model cannot go past its position table.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

N_LABELS = 15  # the GONERD sample's label set: a realistic token-classification head


@dataclass
class ProfileRequest:
    """One measurement: a model at one length and batch size on one device."""

    model: str
    seq_len: int
    batch_size: int = 16
    device: str = "cpu"
    dtype: str = "float32"
    pass_kind: str = "time"  # "time" or "memory"
    min_repeats: int = 5
    min_seconds: float = 2.0
    warmup: int = 2
    threads: int | None = None
    trust_remote_code: bool = False
    overrides: dict = field(default_factory=dict)  # config changes, e.g. segment_means_seq_len


def _vm_kb(field_name: str) -> float:
    """A field of /proc/self/status in kB (VmRSS: now, VmHWM: the peak so far)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return float(line.split()[1])
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def effective_attention(config, seq_len: int) -> tuple[str, str | None]:
    """What attention the model will really run at ``seq_len``, and why it is not what was
    asked for (None when it is)."""
    kind = config.model_type
    if kind == "big_bird" and getattr(config, "attention_type", "") == "block_sparse":
        needed = (5 + 2 * config.num_random_blocks) * config.block_size
        if seq_len <= needed:
            return (
                "full (block-sparse fallback)",
                f"BigBird block-sparse needs more than {needed} tokens",
            )
        return "block_sparse", None
    if kind == "nystromformer":
        segment = getattr(config, "segment_means_seq_len", None)
        if config.num_landmarks == segment:
            return (
                "exact O(n^2)",
                f"Nystromformer with as many landmarks as segment_means_seq_len ({segment}) "
                "runs exact attention",
            )
        if seq_len <= config.num_landmarks:
            return "exact O(n^2)", f"inputs of at most {config.num_landmarks} tokens run exact"
        return f"nystrom ({config.num_landmarks} landmarks, masked)", None
    if kind in ("lsg-bert", "lsg-roberta"):
        return (
            f"lsg (block {config.block_size}, sparse {config.sparse_block_size} x "
            f"{config.sparsity_factor} {config.sparsity_type}, {config.num_global_tokens} global)",
            None,
        )
    if kind == "longformer":
        return f"sliding window {config.attention_window}", None
    return "full", None


def _input_ids(
    tokenizer, seq_len: int, batch_size: int, vocab_size: int
) -> tuple[list[list[int]], str]:
    """``batch_size`` rows of real text ids, each cut to ``seq_len`` with special tokens."""
    try:
        from gonerd import load_dataset

        documents = load_dataset("gonerd", "sample", split="train")["tokens"]
        stream = tokenizer(
            " ".join(w for d in documents for w in d), add_special_tokens=False, verbose=False
        )["input_ids"]
    except Exception:  # the text is a nicety; timing must not depend on it
        stream = []
    body = seq_len - 2
    if tokenizer.cls_token_id is None or tokenizer.sep_token_id is None or len(stream) < body:
        import random

        rng = random.Random(0)
        return [
            [rng.randrange(5, vocab_size) for _ in range(seq_len)] for _ in range(batch_size)
        ], "synthetic"
    rows, source = [], "real text (bundled GONERD sample)"
    for row in range(batch_size):
        start = (row * body) % len(stream)
        piece = (stream[start:] + stream)[:body]
        if (row + 1) * body > len(stream):
            source = "real text (bundled GONERD sample, repeated to fill the batch)"
        rows.append([tokenizer.cls_token_id, *piece, tokenizer.sep_token_id])
    return rows, source


def load_for_timing(request: ProfileRequest):
    """The model of ``request`` loaded with its input batch: its record so far and a
    ``forward`` callable, or the record of why it cannot run (``forward`` None)."""
    import torch
    from transformers import AutoConfig, AutoModelForTokenClassification, AutoTokenizer

    from benchmark.architectures import prepare, register
    from benchmark.model_setup import position_limit

    if request.threads:
        torch.set_num_threads(request.threads)
    register()  # an LSG checkpoint's config is the suite's own
    device = torch.device(request.device)
    config = AutoConfig.from_pretrained(request.model, trust_remote_code=request.trust_remote_code)
    for key, value in request.overrides.items():
        setattr(config, key, value)
    attention, fallback = effective_attention(config, request.seq_len)
    record = {
        "seq_len": request.seq_len,
        "batch_size": request.batch_size,
        "device": device.type,
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else _cpu_name(),
        "dtype": request.dtype,
        "threads": torch.get_num_threads(),
        "model_type": config.model_type,
        "effective_attention": attention,
        "fallback": fallback,
    }
    limit = position_limit(config)
    if limit is not None and request.seq_len > limit:
        return record | {
            "status": "unsupported",
            "reason": f"{request.seq_len} tokens exceed the model's {limit} positions",
        }, None
    config.num_labels = N_LABELS
    rss_before_load_kb = _vm_kb("VmRSS")
    started = time.perf_counter()
    model = (
        prepare(
            AutoModelForTokenClassification.from_pretrained(
                request.model,
                config=config,
                trust_remote_code=request.trust_remote_code,
                dtype=getattr(torch, request.dtype),
            )
        )
        .to(device)
        .eval()
    )
    load_s = time.perf_counter() - started
    if record["effective_attention"] in ("full", None):
        record["effective_attention"] = f"full ({model.config._attn_implementation})"
    tokenizer = AutoTokenizer.from_pretrained(request.model)
    rows, input_source = _input_ids(
        tokenizer, request.seq_len, request.batch_size, config.vocab_size
    )
    batch = {
        "input_ids": torch.tensor(rows, device=device),
        "attention_mask": torch.ones(len(rows), request.seq_len, dtype=torch.long, device=device),
    }
    record |= {"input_source": input_source, "load_s": round(load_s, 4)}
    record["rss_before_load_kb"] = rss_before_load_kb

    def forward() -> None:
        with torch.inference_mode():
            model(**batch)

    return record, forward


def _timer(device, forward):
    """One timed call of ``forward`` in milliseconds (CUDA events on a GPU)."""
    import torch

    def timed_call() -> float:
        if device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            forward()
            end.record()
            torch.cuda.synchronize()
            return start.elapsed_time(end)
        t0 = time.perf_counter()
        forward()
        return (time.perf_counter() - t0) * 1000

    return timed_call


def measure(request: ProfileRequest) -> dict:
    """The measurement itself; call it in a fresh process (see :func:`profile`)."""
    import torch

    record, forward = load_for_timing(request)
    if forward is None:
        return record
    device = torch.device(request.device)
    rss_before_load_kb = record.pop("rss_before_load_kb")

    if request.pass_kind == "memory":
        rss_loaded_kb = _vm_kb("VmRSS")
        if device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats(device)
        forward()
        if device.type == "cuda":
            torch.cuda.synchronize()
            record |= {
                "peak_memory_mb": torch.cuda.max_memory_allocated(device) / 2**20,
                "peak_reserved_mb": torch.cuda.max_memory_reserved(device) / 2**20,
                "nvml_process_mb": _nvml_process_mb(),
            }
        else:
            peak_kb = _vm_kb("VmHWM")
            record |= {
                "peak_memory_mb": peak_kb / 1024,
                "memory_rise_mb": max(0.0, peak_kb - rss_loaded_kb) / 1024,
                "model_rss_mb": (rss_loaded_kb - rss_before_load_kb) / 1024,
            }
        return record | {"status": "ok"}

    timed_call = _timer(device, forward)
    first_call_ms = timed_call()
    for _ in range(request.warmup):
        timed_call()
    latencies: list[float] = []
    began = time.perf_counter()
    while len(latencies) < request.min_repeats or time.perf_counter() - began < request.min_seconds:
        latencies.append(timed_call())
    latencies.sort()
    median = statistics.median(latencies)
    p90 = latencies[min(len(latencies) - 1, int(round(0.9 * (len(latencies) - 1))))]
    return record | {
        "status": "ok",
        "first_call_ms": round(first_call_ms, 3),
        "repeats": len(latencies),
        "latency_ms": {"median": median, "p90": p90, "min": latencies[0], "max": latencies[-1]},
        "throughput_tokens_per_s": request.batch_size * request.seq_len / (median / 1000),
    }


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def _nvml_process_mb() -> float | None:
    try:
        import pynvml
    except ImportError:
        return None
    pynvml.nvmlInit()
    handle = pynvml.nvmlDeviceGetHandleByIndex(0)
    for process in pynvml.nvmlDeviceGetComputeRunningProcesses(handle):
        if process.pid == os.getpid():
            return process.usedGpuMemory / 2**20
    return None


def profile(request: ProfileRequest, timeout_s: float = 1800, teacher: str | None = None) -> dict:
    """Run one measurement in a fresh process and return its record; with ``teacher``,
    the paired student/teacher time ratio (:func:`measure_pair`)."""
    command = [sys.executable, "-m", "benchmark.profiler", json.dumps(asdict(request))]
    command += [teacher] if teacher else []
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return failed(request, f"timed out after {timeout_s:.0f} s")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        if "out of memory" in done.stderr.lower():
            tail = "out of memory"
        return failed(request, tail)
    return json.loads(lines[-1])


def failed(request: ProfileRequest, reason: str) -> dict:
    """The record of a measurement that could not be made, and why."""
    return {
        "seq_len": request.seq_len,
        "batch_size": request.batch_size,
        "status": "failed",
        "reason": reason,
    }


def measure_model(
    model: str,
    seq_lens: list[int],
    batch_size: int,
    device: str,
    dtype: str,
    on_result=None,
    **options,
) -> list[dict]:
    """Time and memory at each length, each pass in its own process, merged per length."""
    from benchmark.provenance import library_versions

    measurements = []
    for seq_len in seq_lens:
        timing = profile(
            ProfileRequest(model, seq_len, batch_size, device, dtype, "time", **options)
        )
        if timing.get("status") == "ok":
            memory = profile(
                ProfileRequest(model, seq_len, batch_size, device, dtype, "memory", **options)
            )
            keys = (
                "peak_memory_mb",
                "peak_reserved_mb",
                "nvml_process_mb",
                "memory_rise_mb",
                "model_rss_mb",
            )
            timing |= {k: memory[k] for k in keys if k in memory}
            if memory.get("status") != "ok":
                timing["memory_status"] = memory.get("reason", "failed")
        timing["libraries"] = library_versions()
        measurements.append(timing)
        if on_result is not None:
            on_result(timing)
    return measurements


def measure_pair(request: ProfileRequest, teacher: str) -> dict:
    """Student (``request.model``) and ``teacher`` loaded side by side in one process and
    called in turn, ABBA, so drift in the machine lands on both: the median of the
    per-pair time ratios. Call it in a fresh process (see :func:`profile`)."""
    import torch

    device = torch.device(request.device)
    timers = {}
    for name, model in (("student", request.model), ("teacher", teacher)):
        record, forward = load_for_timing(replace(request, model=model))
        if forward is None:
            return record | {"reason": f"{name}: {record['reason']}"}
        timers[name] = _timer(device, forward)
    for _ in range(request.warmup + 1):
        for timed_call in timers.values():
            timed_call()
    times: dict[str, list[float]] = {"student": [], "teacher": []}
    began = time.perf_counter()
    while len(times["student"]) < request.min_repeats or time.perf_counter() - began < (
        request.min_seconds
    ):
        order = ["student", "teacher"] if len(times["student"]) % 2 == 0 else ["teacher", "student"]
        for name in order:
            times[name].append(timers[name]())
    ratios = [s / t for s, t in zip(times["student"], times["teacher"])]
    return {
        "seq_len": request.seq_len,
        "batch_size": request.batch_size,
        "status": "ok",
        "pairs": len(ratios),
        "ratio": statistics.median(ratios),
        "student_ms": statistics.median(times["student"]),
        "teacher_ms": statistics.median(times["teacher"]),
    }


if __name__ == "__main__":
    request = ProfileRequest(**json.loads(sys.argv[1]))
    if len(sys.argv) > 2:  # a teacher: the paired time ratio
        print(json.dumps(measure_pair(request, sys.argv[2])), flush=True)
    else:
        print(json.dumps(measure(request)), flush=True)
