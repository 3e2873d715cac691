"""What many tests share: running ``bench`` as a user does (a fresh process, offline), the
size of the tiny models the tests build, and a run's settings with the tests' defaults."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}

# The encoder every tiny test model shares: fast enough to fine-tune on any sample in seconds.
TINY_SIZE = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
}


def tiny_size(**overrides) -> dict:
    """:data:`TINY_SIZE` with ``overrides`` (e.g. 4 layers for a teacher)."""
    return TINY_SIZE | overrides


def launch(
    *args: str, module: str = "gonerd_bench", launcher: list[str] | None = None, **options
) -> subprocess.CompletedProcess:
    """``python -m MODULE ARGS`` (after ``launcher``, e.g. torchrun's command, where given)
    in a fresh process, offline, from the repository root unless ``cwd`` says otherwise;
    ``env`` adds variables, the other options go to :func:`subprocess.run`."""
    env = {**os.environ, **OFFLINE, **options.pop("env", {})}
    start = launcher or [sys.executable]
    options.setdefault("cwd", ROOT)
    return subprocess.run(
        [*start, "-m", module, *args], env=env, capture_output=True, text=True, **options
    )


def bench(*args: str, cwd=None, check: bool = False) -> subprocess.CompletedProcess:
    """``bench ARGS`` run in this process, as the console script runs it (errors as one
    ``error:`` line and exit status 2), its output captured: a fresh process costs seconds
    of imports, and what these tests check is the command, not the process. Tests of a
    launcher or of a killed process use :func:`launch`."""
    import contextlib
    import io

    from benchmark.console import run_command_line
    from gonerd_bench.cli import app

    out, err, code = io.StringIO(), io.StringIO(), 0
    argv, here = sys.argv, Path.cwd()
    sys.argv = ["bench", *args]
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                run_command_line(app)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = argv
        os.chdir(here)
    done = subprocess.CompletedProcess(["bench", *args], code, out.getvalue(), err.getvalue())
    if check and code:
        raise AssertionError(f"bench {' '.join(args)} exited {code}: {done.stderr[-2000:]}")
    return done


# What a test's `bench run` uses unless it says otherwise: the bundled samples, one epoch,
# predictions saved (so a test can check a score from them), no speed measurement, and, where
# a test measures speed, a few short timed passes (tiny models: the numbers are not the point).
TEST_RUN = {
    "data_dir": "bundled",
    "epochs": 1.0,
    "speed": False,
    "save_predictions": True,
    "speed_min_repeats": 3,
    "speed_min_seconds": 0.05,
}


def run_config(model, tasks: str, output, **settings):
    """A ``bench run`` configuration for a test (:data:`TEST_RUN` under ``settings``)."""
    from benchmark.config import RunConfig

    return RunConfig(model=str(model), tasks=tasks, output=str(output), **(TEST_RUN | settings))


def profile_here(request, timeout_s: float = 1800, teacher: str | None = None) -> dict:
    """A stand-in for :func:`benchmark.profiler.profile` that measures in this process, with
    a few short passes: for tests whose subject is what a run does with its cost numbers
    (reuse, retention, the study's chain), not the numbers. The fresh-process measurement
    itself is tested in tests/test_profiler.py and tests/test_time_ratio.py."""
    from dataclasses import replace

    from benchmark import profiler

    brief = replace(
        request,
        min_repeats=min(request.min_repeats, 3),
        min_seconds=min(request.min_seconds, 0.05),
        warmup=min(request.warmup, 1),
    )
    try:
        if teacher is not None:
            return profiler.measure_pair(brief, teacher)
        return profiler.measure(brief)
    except Exception as exc:  # the fresh process would have ended with this message
        return profiler.failed(request, str(exc).splitlines()[0] if str(exc) else repr(exc))


def measure_here(monkeypatch) -> None:
    """Make every speed measurement and time ratio of the suite use :func:`profile_here`."""
    from benchmark import profiler, time_ratio

    monkeypatch.setattr(profiler, "profile", profile_here)
    monkeypatch.setattr(time_ratio, "profile", profile_here)


class RecordingHub:
    """A stand-in for ``huggingface_hub.HfApi`` (put in place of
    ``benchmark.hub_push.hub_client``): it serves a repository's card from memory and
    records every commit (the repository, the message and each file's bytes) instead of
    sending it. The card code itself is the real library's."""

    def __init__(self, folder: Path, card: str | None = None):
        self.folder, self.card, self.commits = Path(folder), card, []

    def hf_hub_download(self, repo_id, filename, repo_type="model"):
        from huggingface_hub.errors import EntryNotFoundError

        if self.card is None:
            raise EntryNotFoundError(f"{repo_id} has no {filename}")
        path = self.folder / "downloaded-README.md"
        path.write_text(self.card)
        return str(path)

    def create_commit(self, repo_id, operations, commit_message, repo_type="model"):
        files = {op.path_in_repo: Path(op.path_or_fileobj).read_bytes() for op in operations}
        self.commits.append({"repo": repo_id, "message": commit_message, "files": files})
        return type("Info", (), {"commit_url": f"https://hub.test/{repo_id}/commit/1"})()
