"""The profiler on tiny models: positive, consistent numbers with their metadata, honest
reports of lengths a model cannot take or silently runs with full attention, and a peak
memory that agrees with the kernel's own account of the same process."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import asdict

import pytest

from benchmark.profiler import ProfileRequest, effective_attention, measure_model

QUICK = {"min_repeats": 3, "min_seconds": 0.05, "warmup": 1}


@pytest.mark.slow
def test_every_number_is_positive_consistent_and_labelled(tiny_bert):
    measurements = measure_model(str(tiny_bert), [48], 2, "cpu", "float32", **QUICK)
    assert [m["seq_len"] for m in measurements] == [48]
    for m in measurements:
        assert m["status"] == "ok", m
        latency = m["latency_ms"]
        assert 0 < latency["min"] <= latency["median"] <= latency["p90"] <= latency["max"]
        assert m["repeats"] >= 3 and m["first_call_ms"] > 0 and m["load_s"] > 0
        assert m["throughput_tokens_per_s"] == pytest.approx(
            2 * m["seq_len"] / (latency["median"] / 1000)
        )
        assert m["peak_memory_mb"] > m["memory_rise_mb"] >= 0 and m["model_rss_mb"] > 0
        assert m["device"] == "cpu" and m["dtype"] == "float32" and m["batch_size"] == 2
        assert m["threads"] >= 1 and m["libraries"]["torch"] and m["libraries"]["transformers"]
        assert m["input_source"].startswith("real text")
        assert m["effective_attention"].startswith("full")


def test_a_length_past_the_position_table_is_reported_not_run(tiny_bert):
    (m,) = measure_model(str(tiny_bert), [1024], 2, "cpu", "float32", **QUICK)
    assert m["status"] == "unsupported"
    assert m["reason"] == "1024 tokens exceed the model's 512 positions"
    assert "latency_ms" not in m


def test_silent_full_attention_fallbacks_are_named():
    from transformers import BigBirdConfig, NystromformerConfig

    bigbird = BigBirdConfig(attention_type="block_sparse", block_size=64, num_random_blocks=3)
    assert effective_attention(bigbird, 512)[0] == "full (block-sparse fallback)"
    assert "more than 704 tokens" in effective_attention(bigbird, 512)[1]
    assert effective_attention(bigbird, 1024) == ("block_sparse", None)
    nystrom = NystromformerConfig(segment_means_seq_len=4096, num_landmarks=64)
    assert effective_attention(nystrom, 2048) == ("nystrom (64 landmarks, masked)", None)
    assert effective_attention(nystrom, 64)[0] == "exact O(n^2)"
    exact = NystromformerConfig(segment_means_seq_len=64, num_landmarks=64)
    assert effective_attention(exact, 4096)[0] == "exact O(n^2)"


def test_cpu_peak_memory_agrees_with_an_independent_reading(tiny_bert):
    """The kernel's maximum resident set size of the same process, read by /usr/bin/time."""
    request = ProfileRequest(str(tiny_bert), 128, 8, pass_kind="memory")
    command = [
        "/usr/bin/time",
        "-v",
        sys.executable,
        "-m",
        "benchmark.profiler",
        json.dumps(asdict(request)),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    reported = json.loads(done.stdout.strip().splitlines()[-1])["peak_memory_mb"]
    max_rss_kb = int(
        re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1)
    )
    assert reported == pytest.approx(max_rss_kb / 1024, rel=0.10)
