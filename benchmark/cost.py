"""The speed block of a run (inference cost at the configured lengths, reused when its
settings are unchanged) and how one measurement reads on the console."""

from __future__ import annotations

from rich.console import Console

from benchmark.config import RunConfig
from benchmark.precision import resolve_dtype
from benchmark.profiler import measure_model
from benchmark.provenance import model_identity, now


def speed_settings(config: RunConfig, model_path: str, device: str) -> dict:
    """What a speed block was measured with (``device`` a type, e.g. ``cpu``): equal
    settings, equal measurement."""
    return {
        "seq_lens": config.speed_seq_len,
        "batch_size": config.speed_batch_size,
        "device": device,
        "dtype": resolve_dtype(config.dtype, device),
        "model": model_identity(model_path),
    }


def speed_block(
    config: RunConfig, model_path: str, device, previous: dict | None, console: Console
) -> dict:
    """Cost at the configured lengths, or the previous block when measured the same way."""
    settings = speed_settings(config, model_path, device.type)
    if previous and previous.get("settings") == settings:
        console.print("[dim]speed: already measured with these settings, kept[/]")
        return previous
    console.print(
        f"[bold]speed[/] at {settings['seq_lens']} tokens, batch {settings['batch_size']}"
    )
    measurements = measure_model(
        model_path,
        config.speed_seq_len,
        config.speed_batch_size,
        device.type,
        settings["dtype"],
        on_result=lambda m: console.print("  " + describe_measurement(m)),
        trust_remote_code=config.trust_remote_code,
        min_repeats=config.speed_min_repeats,
        min_seconds=config.speed_min_seconds,
    )
    return {"settings": settings, "measurements": measurements}


def speed_report(name: str, model_path: str, lengths: list[int], *args, **options) -> dict:
    """``bench speed``'s report: the model, and its measurements at each length
    (:func:`benchmark.profiler.measure_model`, which the other arguments go to)."""
    started = now()
    measurements = measure_model(model_path, lengths, *args, **options)
    return {
        "model": {"name": name, **model_identity(model_path)},
        "started_at": started,
        "measurements": measurements,
        "finished_at": now(),
    }


def describe_measurement(m: dict) -> str:
    """One line per measurement for the console."""
    head = f"{m['seq_len']} x {m['batch_size']}: "
    if m.get("status") != "ok":
        return head + f"{m.get('status')} ({m.get('reason')})"
    line = (
        head
        + f"median {m['latency_ms']['median']:.1f} ms, {m['throughput_tokens_per_s']:,.0f} tok/s"
    )
    if "peak_memory_mb" in m:
        line += f", peak {m['peak_memory_mb']:,.0f} MB"
    if m.get("fallback"):
        line += f" [{m['effective_attention']}: {m['fallback']}]"
    return line
