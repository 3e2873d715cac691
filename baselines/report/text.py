"""The page's fixed text: how its numbers are made, the builds and fine-tuning behind them,
and the paper's claims beside ours.

Apart from the verdicts because none of it judges anything: it describes the method (read
from the study and the result files, so a page remade from its data/ describes its runs)
and quotes the paper, labelled as the paper's, from docs/study/paper-claims.yaml.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from baselines.study import Study
from baselines.text_data import TextSource
from benchmark.config import load_yaml_model
from benchmark.families.base import SPAN_F1_FLOOR
from benchmark.families.sequence_classification import commonest_share
from benchmark.run_result import RunResult

# The paper's claims, kept with their references in the repository: theirs, on GPUs at
# the paper's scale, not ours.
PAPER_CLAIMS = Path(__file__).resolve().parents[2] / "docs" / "study" / "paper-claims.yaml"


class Paper(BaseModel):
    model_config = ConfigDict(extra="forbid")
    authors: list[str]
    title: str
    venue: str
    arxiv: str
    url: str


class Claim(BaseModel):
    model_config = ConfigDict(extra="forbid")
    what: str
    value: str
    ref: str  # where in the paper


class PaperClaims(BaseModel):
    """docs/study/paper-claims.yaml: the paper, where its figures were read, its claims."""

    model_config = ConfigDict(extra="forbid")
    paper: Paper
    summary: str
    claims: list[Claim]
    note: str


def paper_claims(path: Path = PAPER_CLAIMS) -> PaperClaims:
    return load_yaml_model(path, PaperClaims, "paper claims")


def method_paragraph(study: Study, first: RunResult, tasks: list[str]) -> str:
    """What the tables' numbers are and how they were made; ``first`` is any model's
    result (the study scores every model with the same settings)."""
    return (
        "Scores are means ± sample standard deviation over the seeds. Retained (of macro "
        "score) is a model's macro score (the mean of its tasks' headline scores; SQuAD's is "
        "the mean of exact match and F1, MRPC's of accuracy and F1) as a % of its "
        "architecture's teacher's (the teacher converted and pretrained: what convert-then-"
        "distill distils from; distill-then-convert distils the plain teacher, and the floor "
        "is not distilled at all), with the "
        "spread of both sides: the goal and the plot use it. Mean per-task retained is the "
        "mean of the per-task %s that `bench run --teacher` records, which a task the "
        "teacher barely learned can swing far from 100 %. † marks a teacher score near "
        "chance: an accuracy within two binomial standard errors of always guessing the "
        "commonest label (of guessing among the labels where a result does not count them), "
        "or a span F1 "
        f"below {SPAN_F1_FLOOR:g}; retained (learned tasks) is the retained macro score over "
        "only the tasks without †, which the teacher's cell lists. The time ratio is the "
        "model's inference time over that teacher's, timed in one process in turns over "
        "rounds until two halves agree (median [min-max], the speed-up it means, and the "
        "rounds it took); time "
        "and peak memory are each model's own median time per batch and peak memory, timed "
        f"alone at batch {study.speed.batch_size} on {study.speed.device}. "
        f"{build_terms(study)} "
        "Fine-tuning and scoring, per task: "
        f"{evaluation_terms(first, tasks)}; the input lengths need not be the timing "
        f"lengths.{commonest_label_terms(first, tasks)}"
    )


def paper_section(path: Path = PAPER_CLAIMS) -> list[str]:
    """The paper's claims (``path``: :data:`PAPER_CLAIMS`): theirs, not measured here."""
    found = paper_claims(path)
    paper = found.paper
    authors = ", ".join(paper.authors[:-1]) + f" and {paper.authors[-1]}"
    refs = "; ".join(c.ref for c in found.claims)
    return [
        "## The paper's claims (theirs, at their scale; not measured here)",
        "",
        "| what | the paper |",
        "|---|---|",
        *[f"| {c.what} | {c.value} |" for c in found.claims],
        "",
        f'Source: {authors}, "{paper.title}", {paper.venue} (arXiv {paper.arxiv}, '
        f"{paper.url}), as summarised at {found.summary}; where in the paper, row by row: "
        f"{refs}. The claims are kept in docs/study/paper-claims.yaml; {found.note}",
        "",
    ]


def commonest_label_terms(result: RunResult, tasks: list[str]) -> str:
    """Each classification task's commonest-label share of the examples scored: what
    always guessing it scores, the accuracy a classifier has to clear."""
    shares = [
        f"{task} {100 * commonest_share(counts):.1f} %"
        for task in tasks
        if (counts := result.tasks[task].label_counts)
    ]
    if not shares:
        return ""
    return (
        " A classification task headed by F1 shows its accuracy beside it (acc); always "
        f"guessing the commonest label scores an accuracy of {', '.join(shares)}."
    )


def _text_terms(source: TextSource | list[TextSource]) -> str:
    """Where a stage's text came from, in words."""
    named = []
    for s in source if isinstance(source, list) else [source]:
        if s.bundled:
            text = "the bundled training text (baselines/text_data.py)"
        elif s.files:
            text = ", ".join(str(f) for f in s.files)
        else:
            text = f"{s.dataset} ({s.dataset_config or 'default'}, {s.split})"
        if s.max_documents is not None:
            text += f", its first {s.max_documents} documents"
        named.append(text)
    return " and ".join(named)


def build_terms(study: Study) -> str:
    """The students' and teachers' build budget, so the page says how little training its
    scores rest on."""
    terms = []
    for what, stage in (("pretraining", study.pretrain), ("distillation", study.distill)):
        if stage is None:
            continue
        t = stage.training
        steps = f"{t.max_steps} steps" if t.max_steps > 0 else f"{t.epochs:g} epochs"
        per_step = t.batch_size * t.gradient_accumulation
        terms.append(
            f"{what} {steps} of {per_step} × {stage.max_length:,} tokens at most on "
            f"{_text_terms(stage.text)}"
        )
    return "Builds: " + "; ".join(terms) + "."


def evaluation_terms(result: RunResult, tasks: list[str]) -> str:
    """How each task was fine-tuned, as ``result`` records it: epochs, input
    length, and the training file where it is not the bundled sample. Read from the files,
    so a page remade from them describes their runs, whatever the study's config says now.
    Any model's result serves: the study scores every model with the same settings."""
    terms = []
    for task in tasks:
        recipe = result.tasks[task].recipe
        if not recipe:
            terms.append(f"{task} scored as given, not fine-tuned")
            continue
        epochs, length = recipe.get("epochs"), recipe.get("max_length")
        source = (recipe.get("data") or {}).get("source")
        terms.append(
            f"{task} "
            + (f"{epochs:g} epoch{'' if epochs == 1 else 's'}" if epochs else "its default epochs")
            + (f" at {length} tokens at most" if length else " at its default length")
            + (f", trained on {source}" if source and source != "bundled sample" else "")
        )
    return "; ".join(terms)
