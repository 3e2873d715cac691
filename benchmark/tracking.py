"""Training runs and a finished run's numbers in the user's experiment tracker
(``--report-to``: TensorBoard, Weights & Biases, MLflow or Trackio).

The Trainer reports a training itself, through transformers' integrations; this module
says where and under what name. :func:`reporting` makes one :class:`Reporting` the one
every training started inside it uses (:mod:`benchmark.training` reads :func:`active`), as
:func:`benchmark.distributed.current` tells a training its processes, so the task runner
and the recipe's stages need not pass it down through every call between them.

TensorBoard writes into folders: a task's fine-tuning beside its result file, in
``<result>.runs/<task>/`` (``<task>-seed<N>`` with ``--seeds``), and the run's summary in
``<result>.runs/summary/``. A training that starts from its first step replaces its
folder's curve (a task trained again is the one its score now comes from); a resumed one
continues it. The other trackers keep runs where their own settings say (login, tracking
URI), in the project :data:`PROJECT` unless their own variable names another
(``WANDB_PROJECT``, ``MLFLOW_EXPERIMENT_NAME`` or ``MLFLOW_EXPERIMENT_ID``).

:func:`log_summary` sends what a finished `bench run` holds: each task's main score (and
its spread over seeds), the retained percent (macro and per task) and the cost (latency,
peak memory, throughput and, against a teacher, the speed-up).
"""

from __future__ import annotations

import importlib.util
import os
import re
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from benchmark.config import RunConfig
from benchmark.errors import BenchError
from benchmark.run_result import RunResult

# The names --report-to takes, declared once, on the run setting.
TRACKERS: tuple[str, ...] = typing.get_args(RunConfig.model_fields["report_to"].annotation)
PROJECT = "gonerd-bench"


@dataclass(frozen=True)
class Reporting:
    """Where one training reports: the tracker, the run's name there, and TensorBoard's
    folder for it."""

    to: str
    run_name: str
    tensorboard_dir: Path


_ACTIVE: ContextVar[Reporting | None] = ContextVar("reporting", default=None)


@contextmanager
def reporting(report: Reporting | None) -> Iterator[None]:
    """Trainings started inside report as ``report`` says (None: to no tracker, even
    inside an outer ``reporting``)."""
    token = _ACTIVE.set(report)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def active() -> Reporting | None:
    """The reporting a training started now uses."""
    return _ACTIVE.get()


def require(tracker: str) -> None:
    """Refuse an unknown tracker, or one whose package is missing, before any work starts
    (a missing package would otherwise fail only when the first training begins)."""
    if tracker not in TRACKERS:
        raise BenchError(f"--report-to {tracker!r}: choose one of {', '.join(TRACKERS)}")
    if tracker != "none" and importlib.util.find_spec(tracker) is None:
        raise BenchError(
            f"--report-to {tracker} needs the {tracker} package: pip install {tracker}"
        )


def runs_dir(result_path: Path) -> Path:
    """TensorBoard's folder for a result file: ``<result>.runs/`` beside it."""
    result_path = Path(result_path)
    return result_path.with_name(result_path.stem + ".runs")


def for_task(
    tracker: str, result_path: Path, model: str, task: str, seed: int, seeded: bool
) -> Reporting | None:
    """How one task's fine-tuning reports (None for ``none``); ``seeded``: the run goes
    over several seeds, each with its own folder."""
    if tracker == "none":
        return None
    folder = runs_dir(result_path) / (f"{task}-seed{seed}" if seeded else task)
    return Reporting(tracker, f"{model} {task} seed {seed}", folder)


@contextmanager
def training_environment(report: Reporting | None) -> Iterator[None]:
    """The variables transformers' integrations read, set while a training runs and
    restored after: TensorBoard's folder, and the project a run lands in where the user
    named none."""
    values: dict[str, str] = {}
    if report is not None and report.to == "tensorboard":
        values["TENSORBOARD_LOGGING_DIR"] = str(report.tensorboard_dir)
    if report is not None and report.to == "wandb" and "WANDB_PROJECT" not in os.environ:
        values["WANDB_PROJECT"] = PROJECT
    if report is not None and report.to == "mlflow" and not _mlflow_experiment_given():
        values["MLFLOW_EXPERIMENT_NAME"] = PROJECT
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _mlflow_experiment_given() -> bool:
    return bool(os.environ.get("MLFLOW_EXPERIMENT_NAME") or os.environ.get("MLFLOW_EXPERIMENT_ID"))


def clear_events(folder: Path) -> None:
    """Remove a TensorBoard folder's event files, so the curve written next is its only
    one (TensorBoard draws every file of a folder as one run)."""
    for path in Path(folder).glob("events.out.tfevents.*"):
        path.unlink()


def end_training(report: Reporting) -> None:
    """Close the tracker's run after a training, where the Trainer leaves it open: its
    W&B integration keeps the run for the next Trainer, so every task would log into the
    first task's run."""
    if report.to == "wandb":
        import wandb

        if wandb.run is not None:
            wandb.finish()


def summary_metrics(result: RunResult) -> dict[str, float]:
    """A result's headline numbers, each under one name: ``score/<task>`` (and
    ``score_std/<task>``), ``retained_percent/<task>`` and ``/macro``, and
    ``cost/<length>x<batch>/<measure>``."""
    metrics: dict[str, float | None] = {}
    for task, entry in result.tasks.items():
        metrics[f"score/{task}"] = entry.main_score
        metrics[f"score_std/{task}"] = entry.main_score_std
    if result.speed is not None:
        for measured in result.speed.ok():
            shape = f"cost/{measured.seq_len}x{measured.batch_size}"
            metrics[f"{shape}/latency_ms"] = measured.latency_ms.median
            metrics[f"{shape}/peak_memory_mb"] = measured.peak_memory_mb
            metrics[f"{shape}/throughput_tokens_per_s"] = measured.throughput_tokens_per_s
    if result.retention is not None:
        block = result.retention
        metrics["retained_percent/macro"] = block.retained_percent_macro
        metrics["retained_percent/macro_std"] = block.retained_percent_macro_std
        for task, kept in block.tasks.items():
            metrics[f"retained_percent/{task}"] = kept.retained_percent
        for change in block.cost:
            shape = f"cost/{change.seq_len}x{change.batch_size}"
            metrics[f"{shape}/speedup"] = change.speedup
            metrics[f"{shape}/latency_change_percent"] = change.latency_change_percent
            metrics[f"{shape}/peak_memory_change_percent"] = change.peak_memory_change_percent
    # names every tracker accepts (MLflow's are the narrowest)
    return {
        re.sub(r"[^0-9A-Za-z_\-./ ]", "_", name): float(value)
        for name, value in metrics.items()
        if value is not None
    }


def log_summary(result: RunResult, tracker: str, result_path: Path, console: Console) -> None:
    """Send a finished run's :func:`summary_metrics` to ``tracker`` (nothing for
    ``none``). The result file is written before this: a tracker that fails here (a lost
    connection) is reported as a warning, and the run's own outputs stand."""
    if tracker == "none":
        return
    metrics = summary_metrics(result)
    name = f"{result.model.name} summary"
    try:
        _SUMMARY_WRITERS[tracker](metrics, name, Path(result_path), result.config)
    except Exception as exc:  # the tracker's own failure, after the run's work is saved
        console.print(f"[yellow]warning:[/] the summary could not be sent to {tracker}: {exc}")
        return
    if tracker == "tensorboard":
        console.print(f"[dim]TensorBoard: tensorboard --logdir {runs_dir(result_path)}[/]")
    else:
        console.print(f"[dim]summary sent to {tracker}[/]")


def _tensorboard(metrics: dict, name: str, result_path: Path, config: dict) -> None:
    from torch.utils.tensorboard import SummaryWriter

    folder = runs_dir(result_path) / "summary"
    clear_events(folder)
    with SummaryWriter(log_dir=str(folder)) as writer:
        for key, value in metrics.items():
            writer.add_scalar(key, value, 0)


def _wandb(metrics: dict, name: str, result_path: Path, config: dict) -> None:
    import wandb

    run = wandb.init(
        project=os.environ.get("WANDB_PROJECT", PROJECT),
        name=name,
        job_type="summary",
        config=config,
    )
    run.summary.update(metrics)
    run.finish()


def _mlflow(metrics: dict, name: str, result_path: Path, config: dict) -> None:
    import mlflow

    # as the Trainer's integration chooses: the named experiment, else the given ID's (which
    # mlflow reads itself), else the project's
    experiment = os.environ.get("MLFLOW_EXPERIMENT_NAME")
    if experiment or not os.environ.get("MLFLOW_EXPERIMENT_ID"):
        mlflow.set_experiment(experiment or PROJECT)
    with mlflow.start_run(run_name=name):
        mlflow.log_metrics(metrics)


def _trackio(metrics: dict, name: str, result_path: Path, config: dict) -> None:
    import trackio

    trackio.init(project=PROJECT, name=name, config=config)
    trackio.log(metrics)
    trackio.finish()


_SUMMARY_WRITERS: dict[str, Callable[[dict, str, Path, dict], None]] = {
    "tensorboard": _tensorboard,
    "wandb": _wandb,
    "mlflow": _mlflow,
    "trackio": _trackio,
}
