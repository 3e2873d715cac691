"""When finished work is still true: the one rule by which ``bench run`` keeps a task or a
speed block it finds in its result file, and by which ``bench sweep`` counts a unit done.

A task is kept when it was scored on the same weights, with the same score settings (the
device as resolved, not as asked for), the same task spec and the same data, checked
against the data files as they are now, and, for a run asking for the long-context gain,
holds it where its task has length buckets (the fine-tuned model is not kept, so a task
without it runs again; one with it is kept by a run that does not ask). Likewise a run
saving predictions runs again a task whose predictions file is not recorded or not there:
predictions come only from the fine-tuned model, which is not kept. A speed block is kept
when it was measured with the same lengths, batch, device, dtype and weights.
"""

from __future__ import annotations

from pathlib import Path

from benchmark.config import RunConfig
from benchmark.cost import speed_settings
from benchmark.errors import BenchError
from benchmark.provenance import model_identity
from benchmark.results import intact_predictions
from benchmark.run_result import RunResult, SpeedBlock, TaskResult
from benchmark.task_data import data_identity
from benchmark.tasks import TASKS
from gonerd.errors import GonerdError


def reusable_tasks(
    previous: RunResult | None,
    config: RunConfig,
    identity: dict,
    device: str,
    data_dir,
    result_path: Path | None = None,
) -> dict[str, TaskResult]:
    """The finished tasks of ``previous`` (read from ``result_path``, beside which its
    predictions may be) that this run (on ``device``, a device type such as ``cpu``)
    would score the same (module docstring)."""
    if previous is None or not previous.model.same_weights(identity):
        return {}
    kept = {}
    for name, entry in previous.tasks.items():
        spec = TASKS.get(name)
        if spec is None or entry.task_key != config.task_key(spec.content_hash(), device):
            continue
        if config.long_context_gain and spec.length_buckets and entry.long_context is None:
            continue
        if config.save_predictions and not predictions_saved(entry, result_path):
            continue
        try:
            same_data = entry.data == data_identity(spec, spec.eval_split, data_dir)
            recipe = entry.recipe or {}
            if same_data and "data" in recipe:
                same_data = recipe["data"] == data_identity(spec, spec.train_split, data_dir)
        except (BenchError, GonerdError):  # the data is gone: the task runs (and says why)
            same_data = False
        if same_data:
            kept[name] = entry
    return kept


def predictions_saved(entry: TaskResult, result_path: Path | None = None) -> bool:
    """Whether every seed of a task recorded its predictions file, and it is there, as it
    was written (its sha256): where it says or beside ``result_path``, where pairing and
    the board look for it too."""
    runs = list(entry.seed_runs.values()) if entry.seed_runs else [entry]
    return all(_saved(run, result_path) for run in runs)


def _saved(run: TaskResult, result_path: Path | None) -> bool:
    found = intact_predictions(run.predictions_file, result_path, run.predictions_sha256)
    return found is not None


def task_is_current(
    result: RunResult | None, task: str, config: RunConfig, result_path: Path | None = None
) -> bool:
    """Whether ``result`` (read from ``result_path``) holds ``task`` as ``bench run`` with
    ``config`` would keep it.
    With ``device: auto`` the device is the one the task was scored on, so a machine
    without that device still sees the work done."""
    if result is None or task not in result.tasks:
        return False
    device = config.device
    if device == "auto":
        device = result.provenance.hardware.get("device", "cpu")
    identity = model_identity(config.model)
    return task in reusable_tasks(
        result, config, identity, device, config.tasks_data_dir, result_path
    )


def speed_is_current(block: SpeedBlock | None, config: RunConfig) -> bool:
    """Whether a speed block was measured as ``config`` asks (``device: auto``: on the
    device it was measured on)."""
    if block is None:
        return False
    device = config.device if config.device != "auto" else block.settings.get("device")
    return block.settings == speed_settings(config, config.model, device)
