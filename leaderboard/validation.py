"""Validating a submitted result file: may the board trust it, before any entry is made.

A submission comes from outside, so this module reads it as data only and refuses, one line
each naming the field and the fix: a file over the size limit or not JSON; the result's
schema; provenance missing; a task not at its current version and spec (a stale task names
the version it needs); subset runs (``--limit``); scores not finite or outside their metric's
range (F1, accuracy, exact match 0-100; MCC and correlations -100 to 100); times and memory
not positive; a predictions file missing or not matching its recorded sha256; seed runs that
do not add up to the scores shown; model names with markup. With ``recompute``, each task is
scored again from its saved predictions and must agree. Nothing in a submission is executed:
it is parsed as JSON and validated field by field. Building the entry from a result that
passes is :meth:`leaderboard.entry.Entry.from_result`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from benchmark.errors import BenchError
from benchmark.results import find_predictions, read_jsonl, sha256_file
from benchmark.run_result import RunResult, TaskResult, parse_result
from benchmark.tasks import TASKS

# Metrics that may be negative (Matthews correlation, Pearson, Spearman); all others are
# percentages in [0, 100].
SIGNED_METRICS = {"matthews_correlation", "pearson", "spearmanr"}
MAX_RESULT_BYTES = 5_000_000
MAX_NAME = 200


def name_problem(name: object) -> str | None:
    """Why a model name cannot be shown as it is (None when it can). A name is shown in a
    terminal, Markdown and a web page: it needs no markup and nothing unprintable (control,
    format or line-separator characters), so none is accepted, and every renderer escapes
    anyway."""
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME:
        return f"a name of 1 to {MAX_NAME} characters is needed"
    if "<" in name or ">" in name or not name.isprintable():
        return "a name without < > or unprintable characters is needed"
    return None


RECOMPUTE_TOLERANCE = 1e-6


class SubmissionError(BenchError):
    """A result the board refuses: which field, what is wrong, how to fix it."""

    def __init__(self, field: str, problem: str, fix: str) -> None:
        super().__init__(f"{field}: {problem}; {fix}")
        self.field = field


def load_submission(path: Path) -> RunResult:
    """The result file, parsed as data only, within the size a result can have."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        raise SubmissionError(str(path), "no such result file", "check the path") from None
    if size > MAX_RESULT_BYTES:
        raise SubmissionError(
            str(path),
            f"{size:,} bytes is over the {MAX_RESULT_BYTES:,} a result file may have",
            "submit the result of `bench run`, without predictions inlined",
        )
    try:
        data = json.loads(path.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SubmissionError(
            str(path), f"not JSON ({exc})", "submit a `bench run` result"
        ) from None
    try:
        return parse_result(data, str(path), strict=True)
    except BenchError as exc:
        field, _, problem = str(exc).partition(" does not validate: ")
        if not problem:
            raise SubmissionError(str(path), str(exc), "submit a `bench run` result") from None
        where, _, what = problem.partition(": ")
        raise SubmissionError(
            where, what, "fix the result file, or run `bench run` again"
        ) from None


def _check_value(field: str, name: str, value: object) -> None:
    if isinstance(value, dict):  # a breakdown (per entity type): kept in the result only
        return
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise SubmissionError(field, f"{value!r} is not a number", "run `bench run` again")
    if not math.isfinite(value):
        raise SubmissionError(field, f"{value} is not a finite number", "run `bench run` again")
    low = -100.0 if name in SIGNED_METRICS else 0.0
    if not low <= value <= 100.0:
        raise SubmissionError(
            field, f"{value} is outside {low:g} to 100 for {name}", "run `bench run` again"
        )


def _check_task(name: str, task: TaskResult, result_path: Path, where: str = "") -> None:
    where = where or f"tasks.{name}"
    spec = TASKS.get(name)
    if spec is None:
        raise SubmissionError(where, "not a task of this suite", "remove it from the result")
    if task.task_version != spec.version:
        raise SubmissionError(
            f"{where}.task_version",
            f"version {task.task_version} is stale; the board needs version {spec.version}",
            f"re-run `bench run --tasks {name}` with the current suite",
        )
    if task.spec_hash != spec.content_hash():
        raise SubmissionError(
            f"{where}.spec_hash",
            f"not the spec of {name} version {spec.version} (a changed spec without a bump)",
            f"re-run `bench run --tasks {name}` with a released suite",
        )
    if task.main_score_name != spec.main_score:
        raise SubmissionError(
            f"{where}.main_score_name",
            f"{task.main_score_name!r} is not the task's main score {spec.main_score!r}",
            "run `bench run` again",
        )
    if task.is_subset:
        raise SubmissionError(
            f"{where}.n_examples",
            f"{task.n_examples.evaluated} of {task.n_examples.original} examples were evaluated",
            "run without --limit",
        )
    if task.main_score_name not in task.metrics:
        raise SubmissionError(
            f"{where}.main_score_name",
            f"{task.main_score_name!r} is not among its metrics",
            "run `bench run` again",
        )
    _check_value(f"{where}.main_score", task.main_score_name, task.main_score)
    for metric, value in task.metrics.items():
        _check_value(f"{where}.metrics.{metric}", metric, value)
    if task.main_score != task.metrics[task.main_score_name]:
        raise SubmissionError(
            f"{where}.main_score", "differs from its own metric", "run `bench run` again"
        )
    for stage, seconds in task.timings_s.items():
        # fine-tuning takes no time when a checkpoint is evaluated as it is; nothing else
        shortest_ok = 0.0 if stage == "train" else math.ulp(0.0)
        if not math.isfinite(seconds) or seconds < shortest_ok:
            raise SubmissionError(
                f"{where}.timings_s.{stage}", f"{seconds} is not a time", "run `bench run` again"
            )
    _check_seed_runs(name, task, result_path, where)
    if task.predictions_sha256 is not None:
        path = find_predictions(task.predictions_file, result_path, task.predictions_sha256)
        if path is None:
            raise SubmissionError(
                f"{where}.predictions_file",
                "the predictions file the result names is missing",
                "submit it beside the result (<result>.predictions/<task>.jsonl)",
            )
        if sha256_file(path) != task.predictions_sha256:
            raise SubmissionError(
                f"{where}.predictions_sha256",
                f"{path} does not match the hash the result records",
                "submit the predictions written by the same run",
            )


def _check_seed_runs(name: str, task: TaskResult, result_path: Path, where: str) -> None:
    """A task over several seeds: every seed's run passes the same checks, and the scores
    shown are their mean and deviation."""
    from benchmark.seeds import mean_std

    runs = task.seed_runs or {}
    if task.seeds is None and not runs:
        return
    if sorted(str(s) for s in task.seeds or []) != sorted(runs):
        raise SubmissionError(
            f"{where}.seeds",
            f"lists seeds {task.seeds} but holds runs of {', '.join(sorted(runs))}",
            "run `bench run --seeds` again",
        )
    for seed, run in runs.items():
        if run.seeds or run.seed_runs:
            raise SubmissionError(
                f"{where}.seed_runs.{seed}", "nests seeds in a seed", "run `bench run` again"
            )
        _check_task(name, run, result_path, f"{where}.seed_runs.{seed}")
    mean, std = mean_std(run.main_score for run in runs.values())
    for what, claimed, computed in (
        ("main_score", task.main_score, mean),
        ("main_score_std", task.main_score_std, std),
    ):
        if (claimed is None) != (computed is None) or (
            claimed is not None and abs(claimed - computed) > RECOMPUTE_TOLERANCE
        ):
            raise SubmissionError(
                f"{where}.{what}",
                f"{claimed} is not the {what.replace('_', ' ')} over its seeds ({computed})",
                "run `bench run --seeds` again",
            )


def check_name(field: str, name: object) -> None:
    """Refuses a model name that cannot be shown as it is (:func:`name_problem`)."""
    problem = name_problem(name)
    if problem:
        raise SubmissionError(field, problem, "set --name when running `bench run`")


def check_result(result: RunResult, result_path: Path) -> None:
    """Every check of the module docstring but the schema's, which parsing did."""
    check_name("model.name", result.model.name)
    if result.retention is not None:
        teacher = teacher_identity(result)
        check_name("retention.teacher.model.name", teacher["name"])
        same = ("hub_id", "revision", "weights_sha256")
        if all(teacher[k] == getattr(result.model, k) for k in same):
            raise SubmissionError(
                "retention.teacher.model",
                "the teacher is the model itself",
                "name the teacher the student was compressed from",
            )
    suite = result.provenance.suite
    if not suite.get("version"):
        raise SubmissionError(
            "provenance.suite.version", "missing", "submit a result written by `bench run`"
        )
    for part in ("libraries", "hardware"):
        if not getattr(result.provenance, part):
            raise SubmissionError(
                f"provenance.{part}", "missing", "submit a result written by `bench run`"
            )
    if result.config.get("limit") is not None:
        raise SubmissionError(
            "config.limit",
            f"a subset run (--limit {result.config['limit']})",
            "run without --limit",
        )
    if not result.tasks:
        raise SubmissionError("tasks", "no task was scored", "run `bench run` first")
    for name, task in result.tasks.items():
        _check_task(name, task, result_path)
    for i, m in enumerate(result.speed.ok() if result.speed else []):
        for what, value in (
            ("latency_ms.median", m.latency_ms.median),
            ("peak_memory_mb", m.peak_memory_mb),
        ):
            if value is not None and (not math.isfinite(value) or value <= 0):
                raise SubmissionError(
                    f"speed.measurements.{i}.{what}",
                    f"{value} is not positive",
                    "run `bench speed` or `bench run` again",
                )


def recompute_scores(result: RunResult, result_path: Path) -> None:
    """Score every task again from its saved predictions (called once every other check,
    their hashes included, has passed); a disagreement is refused. The references are the
    ones the predictions file holds: this shows that the scores follow from the saved
    predictions, not that those were made on the task's data. A task over several seeds is
    scored again seed by seed (its mean was checked against the seeds' scores)."""
    for name, aggregate in result.tasks.items():
        for task in (aggregate.seed_runs or {"": aggregate}).values():
            _recompute_task(name, task, result_path)


def _recompute_task(name: str, task: TaskResult, result_path: Path) -> None:
    from leaderboard.rescoring import rescore

    path = find_predictions(task.predictions_file, result_path, task.predictions_sha256)
    if path is None or task.predictions_sha256 is None:
        raise SubmissionError(
            f"tasks.{name}.predictions_file",
            "--recompute needs every task's saved predictions",
            "run `bench run --save-predictions` and submit its predictions folder",
        )
    try:
        scores = rescore(TASKS[name], read_jsonl(path))
    except (KeyError, TypeError, ValueError) as exc:
        raise SubmissionError(
            f"tasks.{name}.predictions_file",
            f"cannot be scored again ({type(exc).__name__}: {exc})",
            "submit the predictions written by `bench run --save-predictions`",
        ) from None
    for metric, claimed in task.metrics.items():
        if not isinstance(claimed, (int, float)):
            continue
        again = scores.get(metric)
        if again is None or abs(again - claimed) > RECOMPUTE_TOLERANCE:
            raise SubmissionError(
                f"tasks.{name}.metrics.{metric}",
                f"{claimed} does not agree with {again} scored again from the predictions",
                "submit the predictions of the same run",
            )


def teacher_identity(result: RunResult) -> dict[str, object] | None:
    """The teacher's model identity as the result names it (None without retention), its
    name and dtype filled from the retention block and the run's config where missing."""
    if result.retention is None:
        return None
    identity = result.retention.teacher.get("model") or {}
    if not isinstance(identity, dict):
        raise SubmissionError(
            "retention.teacher.model", "not a model identity", "run `bench run` again"
        )
    keys = ("name", "hub_id", "revision", "weights_sha256", "parameters", "max_positions", "dtype")
    teacher = {k: identity.get(k) for k in keys}
    teacher["name"] = teacher["name"] or result.retention.teacher.get("name")
    teacher["dtype"] = teacher["dtype"] or result.config.get("dtype", "float32")
    return teacher
