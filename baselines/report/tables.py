"""The page's table per architecture: one row a model, its scores, shares, ratios and costs.

Each cell is formatted here from the loaded files and :mod:`baselines.report.stats`; the
table is the page's record of every number the verdicts and the plot summarise.
"""

from __future__ import annotations

from baselines.report.load import ModelFiles
from baselines.report.sentences import percent
from baselines.report.stats import learned_tasks, near_chance, retained_of_macro
from baselines.study import ROLES, Study
from benchmark.run_result import RunResult
from benchmark.seeds import mean_std

ROLE_NAMES = {
    "teacher": "teacher (converted, pretrained)",
    "convert-then-distill": "student, convert-then-distill",
    "distill-then-convert": "student, distill-then-convert",
    "floor": "floor (cut, not distilled)",
}


def score_cell(result: RunResult, task: str, mark_chance: bool = False) -> str:
    """A task's headline score with its spread over the seeds; a classifier headed by F1
    shows its accuracy beside it, and ``mark_chance`` puts † after a score near chance."""
    entry = result.tasks.get(task)
    if entry is None:
        return "–"
    spread = f" ± {entry.main_score_std:.1f}" if entry.main_score_std is not None else ""
    text = f"{entry.main_score:.1f}{spread}"
    accuracy = entry.metrics.get("accuracy")
    if entry.main_score_name != "accuracy" and accuracy is not None:
        # an F1 over one class flatters a classifier (always "paraphrase": F1 80 on MRPC)
        runs = [r.metrics["accuracy"] for r in (entry.seed_runs or {}).values()]
        std = mean_std(runs)[1] if runs else None
        text += f" (acc {accuracy:.1f}" + (f" ± {std:.1f})" if std is not None else ")")
    return text + (" †" if mark_chance and near_chance(entry) else "")


def _ratio_cell(ratios: dict | None, seq_len: int) -> str:
    """The interleaved time ratio at one length: median [min-max], speed-up, rounds."""
    for r in (ratios or {}).get("ratios", []):
        if r["seq_len"] == seq_len and r["status"] == "ok":
            return (
                f"{r['ratio']:.3f} [{r['min']:.3f}-{r['max']:.3f}], {1 / r['ratio']:.2f}x"
                + f", {r['rounds']} rounds"
                + ("" if r["agreed"] else " (halves not agreed)")
            )
    return "–"


def _cost_cell(result: RunResult, seq_len: int) -> str:
    """The model's own median inference time and peak memory at one length, as its speed
    block measured them (a run of its own: the ratio beside it is the comparison)."""
    for m in result.speed.ok() if result.speed else []:
        if m.seq_len == seq_len:
            memory = "–" if m.peak_memory_mb is None else f"{m.peak_memory_mb:,.0f} MB"
            return f"{m.latency_ms.median:,.0f} ms, {memory}"
    return "–"


def architecture_table(
    study: Study, loaded: dict[str, ModelFiles], arch: str, tasks: list[str]
) -> list[str]:
    """The Markdown lines of one architecture's table, its models in the roles' order."""
    lengths = study.speed.seq_lens
    header = ["model", *tasks, "retained (of macro score)", "retained (learned tasks)"]
    header += ["mean per-task retained"]
    header += [f"time ratio {n}" for n in lengths]
    header += [f"time, peak memory {n}" for n in lengths]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    rows = [e for e in loaded.values() if e.model.architecture == arch]
    rows.sort(key=lambda e: ROLES.index(e.model.role))
    for entry in rows:
        model, result = entry.model, entry.result
        name = ROLE_NAMES[model.role]
        if result is None:
            lines.append(f"| {name} | " + " | ".join(["not run yet"] * (len(header) - 1)) + " |")
            continue
        cells = [name] + [score_cell(result, t, mark_chance=model.teacher is None) for t in tasks]
        block = result.retention
        own_teacher = loaded.get(model.teacher) if model.teacher else None
        teacher = own_teacher.result if own_teacher else None
        if model.teacher is None:
            learned = learned_tasks(result)
            cells += ["100 (reference)", f"100 ({', '.join(learned)})" if learned else "–"]
            cells.append("100 (reference)")
        elif block is None or teacher is None:
            cells += ["–", "–", "–"]
        else:
            cells.append(percent(*retained_of_macro(result, teacher)))
            cells.append(percent(*retained_of_macro(result, teacher, learned_tasks(teacher))))
            cells.append(percent(block.retained_percent_macro, block.retained_percent_macro_std))
        if model.teacher is None:
            cells += ["1 (reference)"] * len(lengths)
        else:
            cells += [_ratio_cell(entry.ratios, n) for n in lengths]
        cells += [_cost_cell(result, n) for n in lengths]
        lines.append("| " + " | ".join(cells) + " |")
    return lines
