"""`bench report STUDY.yaml --output docs/study/`: the study's page, made from its files alone.

Reads each model's merged result (``<runs>/results/<model>.json``, written by the study's
sweep) and each student's interleaved time ratios (``<runs>/time-ratios/<model>.json``),
copies them under ``<output>/data/`` so the page can be made again from what is committed
(``--runs <output>/data``), and writes ``README.md`` (a table per architecture: scores with
their spread over seeds, retained %, time ratio and speed-up, own time and peak memory, at
every length), the Pareto plot of retained % against speed-up (``pareto.png`` and
``pareto.svg``), and the paper's claims beside ours, labelled as the paper's. Nothing is
measured here.
"""

from __future__ import annotations

import json
import math
import shutil
import statistics
from pathlib import Path

from baselines.study import ORDERS, ROLES, Study, models, ratio_path, results_dir
from baselines.text_data import TextSource
from benchmark.errors import BenchError
from benchmark.families import family_for
from benchmark.families.base import SPAN_F1_FLOOR
from benchmark.families.sequence_classification import commonest_share
from benchmark.markdown import md_escape
from benchmark.pareto import PlotPoint, PlotStyle, draw_pareto, pareto_front
from benchmark.results import write_atomic
from benchmark.retention import combined_score, with_time_ratios
from benchmark.run_result import RunResult, TaskResult, read_result
from benchmark.seeds import mean_std, ratio_spread

# The paper's figures as the seed summary gives them (../shared/seed/paper-summary.txt,
# from "Efficient Transformer Knowledge Distillation: A Performance Review", EMNLP 2023
# Industry, Table 2 and Section 4): theirs, on GPUs at the paper's scale, not ours.
PAPER_CLAIMS = [
    ("retained, short-context tasks (GLUE, SQuAD, CoNLL-2003)", "up to 98.6 %"),
    ("retained, long-context QA (HotpotQA / TriviaQA F1)", "~94.1 % / ~95.0 %"),
    ("retained, long-context NER (GONERD)", "~97.4 %"),
    ("inference time at 4,096 tokens, batch 16", "-45.2 % on average, up to -57.8 %"),
    ("peak GPU memory at 4,096 tokens", "-2.6 % on average"),
]
GOAL = {"retained": 90.0, "ratio": 0.55, "seq_len": 4096}
# A retained % whose spread over seeds is wider than this cannot tell 90 % from chance.
NOISE = 10.0
ROLE_NAMES = {
    "teacher": "teacher (converted, pretrained)",
    "convert-then-distill": "student, convert-then-distill",
    "distill-then-convert": "student, distill-then-convert",
    "floor": "floor (cut, not distilled)",
}


def _load(runs: Path, study: Study) -> dict[str, dict]:
    """Each model's result and time ratios by key; missing files give None. Where the
    sweep's unit files are there, every model is merged from them in memory, not read from
    its merged file, which a sweep still running after the study changed (a task added)
    has not rewritten yet; while any unit is pending, at the seeds all models have been
    scored at: an interim page, which says so. A report's data folder holds only the
    merged files, which are read as they are."""
    found = models(study, runs)
    results = _results_from_units(study, runs)
    if results is None:
        results = {m.key: read_result(results_dir(runs) / f"{m.key}.json") for m in found}
    loaded = {}
    for model in found:
        result = results[model.key]
        ratios = None
        path = ratio_path(runs, model.key)
        if path.exists():
            try:
                ratios = json.loads(path.read_text("utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise BenchError(
                    f"{path} is not a time-ratio file ({exc}); delete it and run the study again"
                ) from None
        if ratios and ratios.get("teacher") == model.teacher and result and result.retention:
            # the student's cost against its teacher with time from the interleaved ratios,
            # as `bench run --teacher` records it, not from the two models' separate runs
            measured = ratios.get("ratios", [])
            result.retention.cost = with_time_ratios(result.retention.cost, measured)
        loaded[model.key] = {"model": model, "result": result, "ratios": ratios}
    if not any(entry["result"] for entry in loaded.values()):
        raise BenchError(
            f"no result of this study under {results_dir(runs)}: run `bench study run` (a "
            "running one has not yet scored any model at every task of a seed), or point "
            "--runs at a report's data folder"
        )
    return loaded


def _results_from_units(study: Study, runs: Path) -> dict[str, RunResult | None] | None:
    """Every model merged in memory from its unit files at the seeds that all models
    scored so far have finished (all of them once the sweep is done; it runs seed by seed,
    and a model with no finished seed is None, "not scored yet"), with each model's speed
    block where it is measured (cost and retention come from the merge only once every
    model's is); None where there are no unit files."""
    from baselines.study import manifest
    from benchmark.sweep import Sweep, read_speed

    if not (results_dir(runs) / "units").is_dir():
        return None
    planned = manifest(study, runs)
    sweep = Sweep(planned, results_dir(runs))
    units = sweep.units()
    pending = {(u.model, u.seed) for u in units if u.task is not None and not sweep.is_done(u)}
    finished = [
        {s for s in study.evaluation.seeds if (key, s) not in pending} for key in sweep.models
    ]
    seeds = sorted(set.intersection(*[f for f in finished if f] or [set()]))
    if not seeds:
        return dict.fromkeys(sweep.models)
    settings = planned.settings
    speed_units = [u for u in units if u.task is None]
    if not all(sweep.is_done(u) for u in speed_units):
        settings = settings | {"speed": False}  # speed is measured last
    part = Sweep(planned.model_copy(update={"seeds": seeds, "settings": settings}), sweep.output)
    made: dict = {}
    results = {key: part.merge(key, made) for key in part.models}
    for unit in speed_units if settings.get("speed") is False else []:
        # each model's own time and memory where they are measured (an architecture added
        # to a finished study leaves the others' measured)
        if results[unit.model] is not None and sweep.is_done(unit):
            results[unit.model].speed = read_speed(sweep.unit_path(unit))
    return results


def _copy_inputs(runs: Path, output: Path, loaded: dict) -> None:
    """The page's inputs under ``<output>/data/``: the result each row was made from (an
    interim page's merged in memory), the time ratios and any GPU time ratios, so the page
    can be re-made. Made from its own data folder, the page rewrites only the results (an
    older report's results carry their cost from separate runs, not the interleaved ratios)."""
    data = output / "data"
    again = data.resolve() == runs.resolve()
    for folder in () if again else ("results", "time-ratios"):  # only this page's inputs
        shutil.rmtree(data / folder, ignore_errors=True)
    for key, entry in loaded.items():
        if entry["result"] is not None:
            target = data / "results" / f"{key}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(target, entry["result"].to_json())
        if again:
            continue
        source, target = ratio_path(runs, key), data / "time-ratios" / f"{key}.json"
        if source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    if not again and (runs / GPU_RATIOS).exists():  # else the copy already there stays
        data.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(runs / GPU_RATIOS, data / GPU_RATIOS)


def _score(result: RunResult, task: str, mark_chance: bool = False) -> str:
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


def _commonest_label_terms(result: RunResult, tasks: list[str]) -> str:
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


def near_chance(entry: TaskResult) -> bool:
    """Whether a score is too close to chance to say the model learned the task, by its
    family's rule (``Family.near_chance``: a classifier's accuracy near always guessing
    the commonest label, a span F1 below ``SPAN_F1_FLOOR``). A student's retained % of
    such a teacher score measures noise, not what distillation kept."""
    return family_for(entry.family).near_chance(entry)


def macro_score(result: RunResult, tasks: list[str]) -> tuple[float, float | None]:
    """The mean over ``tasks`` of each task's headline score (the GLUE-style number
    retention uses), with its spread over the seeds: the "teacher's macro score"."""
    means = statistics.fmean(combined_score(result.tasks[t]) for t in tasks)
    runs = [result.tasks[t].seed_runs or {} for t in tasks]
    seeds = set(runs[0])
    if len(seeds) < 2 or any(set(r) != seeds for r in runs):
        return means, None  # one seed, or tasks scored at different seeds: no spread
    per_seed = [statistics.fmean(combined_score(r[seed]) for r in runs) for seed in seeds]
    return means, mean_std(per_seed)[1]


def learned_tasks(teacher: RunResult) -> list[str]:
    """The tasks whose teacher score is not near chance (:func:`near_chance`): the only ones
    on which a student's share says what it kept of something the teacher knew."""
    return [task for task, entry in teacher.tasks.items() if not near_chance(entry)]


def retained_of_macro(
    student: RunResult, teacher: RunResult, only: list[str] | None = None
) -> tuple[float | None, float | None]:
    """The student's macro score as a % of its teacher's, with the propagated spread, over
    the tasks both were scored on (and in ``only``, where given). Unlike the mean of
    per-task retained %, a task the teacher barely learned (a few F1 points) weighs by its
    score here, not by a ratio of two small numbers."""
    tasks = [
        t
        for t in (student.retention.tasks if student.retention else {})
        if t in teacher.tasks and (only is None or t in only)
    ]
    if not tasks:
        return None, None
    s, t = macro_score(student, tasks), macro_score(teacher, tasks)
    if t[0] <= 0:
        return None, None
    return 100 * s[0] / t[0], ratio_spread(s, t)


def _ratio_at(ratios: dict | None, seq_len: int) -> dict | None:
    for r in (ratios or {}).get("ratios", []):
        if r["seq_len"] == seq_len and r["status"] == "ok":
            return r
    return None


def _cost_at(result: RunResult, seq_len: int) -> str:
    """The model's own median inference time and peak memory at one length, as its speed
    block measured them (a run of its own: the ratio beside it is the comparison)."""
    for m in result.speed.ok() if result.speed else []:
        if m.seq_len == seq_len:
            memory = "–" if m.peak_memory_mb is None else f"{m.peak_memory_mb:,.0f} MB"
            return f"{m.latency_ms.median:,.0f} ms, {memory}"
    return "–"


def summary_points(loaded: dict) -> list[dict]:
    """One point per student: retained macro % (with spread) and speed-up at the longest
    length with a ratio, for the plot and the goal."""
    points = []
    for key, entry in loaded.items():
        model, result = entry["model"], entry["result"]
        if model.teacher is None or result is None or result.retention is None:
            continue
        measured = [r for r in (entry["ratios"] or {}).get("ratios", []) if r["status"] == "ok"]
        teacher = loaded.get(model.teacher, {}).get("result")
        if not measured or teacher is None:
            continue
        longest = max(measured, key=lambda r: r["seq_len"])
        retained, retained_std = retained_of_macro(result, teacher)
        learned = learned_tasks(teacher)
        scored = [t for t in result.retention.tasks if t in teacher.tasks]
        retained_learned, retained_learned_std = retained_of_macro(result, teacher, learned)
        points.append(
            {
                "key": key,
                "architecture": model.architecture,
                "role": model.role,
                "retained": retained,
                "retained_std": retained_std,
                "learned": learned,
                "all_learned": set(scored) <= set(learned),
                "retained_learned": retained_learned,
                "retained_learned_std": retained_learned_std,
                "seq_len": longest["seq_len"],
                "ratio": longest["ratio"],
                "speedup": 1 / longest["ratio"],
                "agreed": longest["agreed"],
            }
        )
    return points


def _architecture_table(study: Study, loaded: dict, arch: str, tasks: list[str]) -> list[str]:
    lengths = study.speed.seq_lens
    header = ["model", *tasks, "retained (of macro score)", "retained (learned tasks)"]
    header += ["mean per-task retained"]
    header += [f"time ratio {n}" for n in lengths]
    header += [f"time, peak memory {n}" for n in lengths]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    rows = [e for e in loaded.values() if e["model"].architecture == arch]
    rows.sort(key=lambda e: ROLES.index(e["model"].role))
    for entry in rows:
        model, result = entry["model"], entry["result"]
        name = ROLE_NAMES[model.role]
        if result is None:
            lines.append(f"| {name} | " + " | ".join(["not run yet"] * (len(header) - 1)) + " |")
            continue
        cells = [name] + [_score(result, t, mark_chance=model.teacher is None) for t in tasks]
        block = result.retention
        teacher = loaded.get(model.teacher, {}).get("result") if model.teacher else None
        if model.teacher is None:
            learned = learned_tasks(result)
            cells += ["100 (reference)", f"100 ({', '.join(learned)})" if learned else "–"]
            cells.append("100 (reference)")
        elif block is None or teacher is None:
            cells += ["–", "–", "–"]
        else:
            cells.append(_percent(*retained_of_macro(result, teacher)))
            cells.append(_percent(*retained_of_macro(result, teacher, learned_tasks(teacher))))
            cells.append(_percent(block.retained_percent_macro, block.retained_percent_macro_std))
        for n in lengths:
            if model.teacher is None:
                cells.append("1 (reference)")
                continue
            r = _ratio_at(entry["ratios"], n)
            cells.append(
                "–"
                if r is None
                else f"{r['ratio']:.3f} [{r['min']:.3f}-{r['max']:.3f}], {1 / r['ratio']:.2f}x"
                + f", {r['rounds']} rounds"
                + ("" if r["agreed"] else " (halves not agreed)")
            )
        cells += [_cost_at(result, n) for n in lengths]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _percent(value: float | None, spread: float | None) -> str:
    """``12.3 ± 4.5 %``; without a spread ``12.3 %``; without a value a dash."""
    if value is None:
        return "–"
    return f"{value:.1f}" + (f" ± {spread:.1f}" if spread is not None else "") + " %"


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


def _build_terms(study: Study) -> str:
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


def _evaluation_terms(result: RunResult, tasks: list[str]) -> str:
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


def _goal_verdict(points: list[dict]) -> str:
    """Whether a distilled student (the floor is not one) keeps the goal's share at the
    goal's time ratio."""
    at_goal = [
        p
        for p in points
        if p["seq_len"] == GOAL["seq_len"] and p["role"] != "floor" and p["retained"] is not None
    ]
    if not at_goal:
        return (
            f"**Goal not assessed**: no student was timed at {GOAL['seq_len']} tokens in these "
            "files."
        )
    noisy = [p for p in at_goal if p.get("retained_std") is None or p["retained_std"] > NOISE]
    if len(noisy) == len(at_goal):
        spreads = ", ".join(
            f"{p['key']} {p['retained']:.0f} ± "
            + ("?" if p.get("retained_std") is None else f"{p['retained_std']:.0f}")
            for p in at_goal
        )
        return (
            f"**Goal not assessed**: every student's retained % has a spread over the seeds "
            f"wider than {NOISE:.0f} points or none at all ({spreads} %), so it cannot tell "
            "90 % from chance (one seed gives no spread; over seeds, a teacher that barely "
            "learned a task gives a wide one)."
        ) + _learned_note(points)
    at_goal = [p for p in at_goal if p not in noisy]
    aside = (
        f"; set aside, with a spread over {NOISE:.0f} points or none: "
        + ", ".join(p["key"] for p in noisy)
        if noisy
        else ""
    )
    met = [
        p
        for p in at_goal
        if p["retained"] is not None
        and p["retained"] >= GOAL["retained"]
        and p["ratio"] <= GOAL["ratio"]
    ]
    best = max(at_goal, key=lambda p: p["retained"] or 0)
    goal = (
        f"≥ {GOAL['retained']:.0f} % retained at a time ratio ≤ {GOAL['ratio']} at "
        f"{GOAL['seq_len']} tokens"
    )
    if met:
        names = ", ".join(
            f"{p['key']} ({_percent(p['retained'], p.get('retained_std'))}, ratio {p['ratio']:.3f})"
            for p in met
        )
        return (
            f"**Goal reached** ({goal}): {names}{aside}."
            + _floor_note(points)
            + _learned_note(points)
        )
    return (
        (
            f"**Goal not reached** (≥ {GOAL['retained']:.0f} % retained at a time ratio ≤ "
            f"{GOAL['ratio']} at {GOAL['seq_len']} tokens). Closest: {best['key']} keeps "
            f"{best['retained']:.1f} % at a ratio of {best['ratio']:.3f}{aside}."
        )
        + _floor_note(points)
        + _learned_note(points)
    )


def _learned_note(points: list[dict]) -> str:
    """The goal again over only the tasks each teacher learned, where some teacher did not
    learn them all: a share of a near-chance teacher score measures noise either way. The
    same rule as the verdict: a share whose spread is wider than ``NOISE`` (or unknown) is
    set aside, not judged."""
    judged = [p for p in points if "learned" in p]
    if all(p["all_learned"] for p in judged):
        return ""  # every teacher learned every task: the verdict above is already this one
    students = [p for p in judged if p["role"] != "floor" and p["seq_len"] == GOAL["seq_len"]]
    floors = [p for p in judged if p["role"] == "floor" and p["retained_learned"] is not None]
    shown = [p for p in students if p["retained_learned"] is not None]
    nothing = [p["key"] for p in students if p["retained_learned"] is None]
    noisy = [
        p["key"]
        for p in shown
        if p["retained_learned_std"] is None or p["retained_learned_std"] > NOISE
    ]
    met = [
        p
        for p in shown
        if p["key"] not in noisy
        and p["retained_learned"] >= GOAL["retained"]
        and p["ratio"] <= GOAL["ratio"]
    ]
    learned = {p["architecture"]: ", ".join(p["learned"]) or "none" for p in judged}

    def share(p: dict) -> str:
        return f"{p['key']} {_percent(p['retained_learned'], p['retained_learned_std'])}"

    text = " Over only the tasks each teacher learned (no †; " + "; ".join(
        f"{a}: {t}" for a, t in learned.items()
    )
    text += ")"
    if shown:
        text += " the students keep " + ", ".join(share(p) for p in shown)
    if floors:
        text += f"; the floors {', '.join(share(p) for p in floors)}"
    text += f": {len(met)} of {len(students)} students reach the goal on them"
    if met:
        text += f" ({', '.join(p['key'] for p in met)})"
    if noisy:
        text += f"; not judged, with a spread over {NOISE:.0f} points or none: {', '.join(noisy)}"
    if nothing:
        text += f"; not judged, the teacher learned none of the tasks: {', '.join(nothing)}"
    return text + "."


def _spread_of_difference(a: dict, b: dict) -> float | None:
    """The spread of two points' retained % difference (both spreads combined in
    quadrature): the bar a gap must clear to tell them apart. None without a spread on both
    sides (one seed), where no gap can be told from seed noise."""
    if a.get("retained_std") is None or b.get("retained_std") is None:
        return None
    return math.hypot(a["retained_std"], b["retained_std"])


def _floor_note(points: list[dict]) -> str:
    """How the distilled students compare with their architecture's undistilled floor: a
    student counts as above it when the gap exceeds the spread of the difference (both
    spreads combined in quadrature). Without that,
    a retained % says what the cut kept, not what distillation added."""
    floors = {p["architecture"]: p for p in points if p["role"] == "floor"}
    pairs = [
        (p, floors[p["architecture"]])
        for p in points
        if p["role"] != "floor" and p["architecture"] in floors and p["retained"] is not None
    ]
    if not pairs:
        return ""
    unscored = [s["key"] for s, f in pairs if f["retained"] is None]
    no_spread = [
        s["key"]
        for s, f in pairs
        if s["key"] not in unscored and _spread_of_difference(s, f) is None
    ]
    pairs = [(s, f) for s, f in pairs if s["key"] not in unscored + no_spread]
    above = [
        s["key"] for s, f in pairs if s["retained"] - f["retained"] > _spread_of_difference(s, f)
    ]
    kept = ", ".join(
        f"{a} {_percent(f['retained'], f.get('retained_std'))}"
        for a, f in floors.items()
        if f["retained"] is not None
    )
    text = f" The floors (cut to the students' layers, not distilled) keep {kept or 'nothing yet'}"
    if pairs:
        text += (
            f"; {len(above)} of {len(pairs)} distilled students are above their floor by more "
            "than the spread of their difference, both spreads combined in quadrature"
            + (
                f" ({', '.join(above)})"
                if above
                else ": at this budget distillation adds nothing that these scores can show"
            )
        )
    if no_spread:
        text += f"; not compared, without a spread over seeds on both sides: {', '.join(no_spread)}"
    if unscored:
        text += f"; not compared, their floor not scored: {', '.join(unscored)}"
    return text + "."


def _orders_note(points: list[dict]) -> str:
    """The paper's open question, architecture by architecture: which order keeps more of
    the teacher's macro score, where the gap exceeds the spread of the difference (the same
    rule as the floor comparison); an architecture without a spread on both sides is not
    compared."""
    by_arch: dict[str, dict[str, dict]] = {}
    for p in points:
        if p["role"] in ORDERS and p["retained"] is not None:
            by_arch.setdefault(p["architecture"], {})[p["role"]] = p
    phrases = {  # each verdict and how the page says it, in the page's order
        "distill-then-convert": "distill-then-convert keeps more of the teacher's macro score on ",
        "convert-then-distill": "convert-then-distill keeps more on ",
        "within": "the two are within the spread of their difference on ",
        "unjudged": "not compared, without a spread over seeds on both sides: ",
    }
    verdicts: dict[str, list[str]] = {verdict: [] for verdict in phrases}
    for arch, roles in by_arch.items():
        if len(roles) < 2:
            continue
        first, second = roles["convert-then-distill"], roles["distill-then-convert"]
        spread = _spread_of_difference(first, second)
        if spread is None:
            verdicts["unjudged"].append(arch)
            continue
        gap = second["retained"] - first["retained"]
        shown = (
            f"{arch} ({_percent(second['retained'], second['retained_std'])} against "
            f"{_percent(first['retained'], first['retained_std'])}: a gap of {abs(gap):.1f} "
            f"points, the spread {spread:.1f})"
        )
        if abs(gap) <= spread:
            verdicts["within"].append(shown)
        else:
            verdicts["distill-then-convert" if gap > 0 else "convert-then-distill"].append(shown)
    parts = [phrases[v] + ", ".join(found) for v, found in verdicts.items() if found]
    if not parts:
        return ""
    return (
        "**Orders** (distill-then-convert against convert-then-distill, the paper's order): "
        + "; ".join(parts)
        + "."
    )


def _seeds_of(result: RunResult) -> list[int]:
    """The seeds every task of ``result`` was scored at (none for a result without tasks)."""
    per_task = [set(task.seeds or []) for task in result.tasks.values()]
    return sorted(set.intersection(*per_task)) if per_task else []


def _interim_note(loaded: dict, seeds_of: dict[str, list[int]], planned: list[int]) -> list[str]:
    """What the page lacks while the study has not finished, read off the results it was
    made from (so a page re-made from its data/ says the same); ``seeds_of`` holds the
    seeds each scored model's result has."""
    lacking = []
    groups: dict[tuple, list[str]] = {}
    for key, seeds in seeds_of.items():
        groups.setdefault(tuple(seeds), []).append(key)
    if len(groups) == 1 and list(next(iter(groups))) != sorted(planned):
        lacking.append(
            f"every model is shown at the seeds all were scored at ({list(next(iter(groups)))}) "
            f"of the {len(planned)} planned ({planned})"
        )
    elif len(groups) > 1:
        lacking += [
            f"{', '.join(keys)} shown at seeds {list(seeds)} of the {len(planned)} planned "
            f"({planned})"
            for seeds, keys in groups.items()
            if list(seeds) != sorted(planned)
        ]
    unscored = [key for key, e in loaded.items() if e["result"] is None]
    if unscored:
        lacking.append(f"not scored yet: {', '.join(unscored)}")
    untimed = [key for key, e in loaded.items() if e["result"] and e["result"].speed is None]
    if untimed:
        lacking.append(
            "each model's own inference time and peak memory are not measured yet"
            if len(untimed) == len(loaded)
            else f"inference time and peak memory not measured yet: {', '.join(untimed)}"
        )
    if not lacking:
        return []
    return [
        "**Interim page**: the study has not finished; "
        + "; ".join(lacking)
        + ". `bench study run` resumes it and `bench report` makes the page again.",
        "",
    ]


GPU_RATIOS = "ratios-gpu.json"


def _gpu_file(runs: Path, output: Path) -> Path | None:
    """The GPU time ratios: the study folder's, else the copy a page already keeps."""
    for path in (runs / GPU_RATIOS, output / "data" / GPU_RATIOS):
        if path.exists():
            return path
    return None


def _gpu_section(path: Path | None) -> list[str]:
    """The same students timed on a GPU (``ratios-gpu.json``, written by
    tests/perf/bench_study_ratios.py --json on a lent machine; see
    tests/perf/gpu_study_ratios.sh), when such a file is there."""

    if path is None:
        return []
    try:
        kept = json.loads(path.read_text("utf-8"))
        rows = []
        for r in kept["rows"]:
            row = [md_escape(str(r["student"])), int(r["seq_len"]), int(r["batch_size"])]
            if r["status"] == "ok":
                row += [
                    f"{r['ratio']:.3f} [{r['min']:.3f}-{r['max']:.3f}]",
                    int(r["rounds"]),
                    "yes" if r["agreed"] else "no",
                    f"{r['student_ms']:.1f}",
                    f"{r['teacher_ms']:.1f}",
                ]
            else:
                row += ["failed: " + md_escape(str(r.get("reason", ""))), "", "", "", ""]
            rows.append(row)
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise BenchError(
            f"{path} is not a GPU time-ratio file ({exc!r}); make it again with "
            "tests/perf/gpu_study_ratios.sh, or delete it"
        ) from None
    about = "; ".join(
        md_escape(str(kept[k])) for k in ("device", "software", "plan", "weights") if kept.get(k)
    )
    lines = [
        "## The time ratios on a GPU",
        "",
        f"{about}." if about else "",
        "",
        f"Command: {md_escape(str(kept.get('command', 'not recorded')))}. These are not the "
        "ratios the goal and the plot use: those are the study's own, on its CPU.",
        "",
        "| student | tokens | batch | time ratio [min-max] | rounds | halves agree | student ms "
        "| teacher ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines + [""]


def plot(points: list[dict], paths: list[Path], title: str) -> None:
    """Retained % against speed-up, one point per student, the teacher at (1, 100): colour
    says the architecture, the marker the role (nine labels would overlap); the front is
    among distilled students, floors are drawn for comparison only."""
    markers = {"convert-then-distill": "o", "distill-then-convert": "s", "floor": "x"}
    usable = [p for p in points if p["retained"] is not None]
    front = iter(
        pareto_front([(p["retained"], p["speedup"]) for p in usable if p["role"] != "floor"])
    )
    draw_pareto(
        [
            PlotPoint(
                speedup=p["speedup"],
                retained=p["retained"],
                retained_std=p["retained_std"],
                group=p["architecture"],
                marker=markers.get(p["role"], "o"),
                on_front=p["role"] != "floor" and next(front),
            )
            for p in usable
        ],
        paths,
        PlotStyle(
            title=title,
            xlabel="speed-up over the teacher (1 / time ratio) at the longest length",
            ylabel="retained % of the teacher's macro score",
            marker_names={marker: ROLE_NAMES[role] for role, marker in markers.items()},
            goal=(GOAL["retained"], 1 / GOAL["ratio"]),
        ),
    )


def make_report(study: Study, runs: Path, output: Path) -> Path:
    """Write the study's page, plot and data under ``output``; returns the page."""
    runs, output = Path(runs), Path(output)
    loaded = _load(runs, study)
    output.mkdir(parents=True, exist_ok=True)
    _copy_inputs(runs, output, loaded)
    first = next(e["result"] for e in loaded.values() if e["result"])
    tasks = list(first.tasks)
    points = summary_points(loaded)
    plot(
        points,
        [output / "pareto.png", output / "pareto.svg"],
        f"{study.name}: retained vs speed-up",
    )
    hardware = first.provenance.hardware
    # the seeds each model's every task was scored at: an interim page's are fewer, and a
    # page made from merged files of two runs (an architecture added later) may mix them
    seeds_of = {key: _seeds_of(e["result"]) for key, e in loaded.items() if e["result"]}
    seeds = sorted(set.intersection(*map(set, seeds_of.values())))
    mixed = len({tuple(s) for s in seeds_of.values()}) > 1
    lines = [
        f"# {study.name}: distilled efficient-attention students, both orders",
        "",
        f"Made by `bench report` from the files in `data/` (re-make: `bench report STUDY "
        f"--runs {output / 'data'} --output {output}`). Teacher: `{study.teacher}`; "
        f"architectures: {', '.join(a.to for a in study.architectures)}; seeds "
        f"{seeds if not mixed else f'{study.evaluation.seeds} planned, fewer for some models'}"
        f"; hardware: {hardware.get('device')} "
        f"({hardware.get('processor')}, {hardware.get('cpu_count')} CPUs).",
        "",
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
        f"{_build_terms(study)} "
        "Fine-tuning and scoring, per task: "
        f"{_evaluation_terms(first, tasks)}; the input lengths need not be the timing "
        f"lengths.{_commonest_label_terms(first, tasks)}",
        "",
        *_interim_note(loaded, seeds_of, study.evaluation.seeds),
        _goal_verdict(points),
        "",
        *([orders, ""] if (orders := _orders_note(points)) else []),
    ]
    for convert in study.architectures:
        lines += [f"## {convert.to}", ""]
        lines += _architecture_table(study, loaded, convert.to, tasks)
        lines.append("")
    lines += _gpu_section(_gpu_file(runs, output))
    lines += [
        "## Retained against speed-up",
        "",
        "![retained % against speed-up](pareto.png)",
        "",
        "## The paper's claims (theirs, at their scale; not measured here)",
        "",
        "| what | the paper |",
        "|---|---|",
        *[f"| {what} | {value} |" for what, value in PAPER_CLAIMS],
        "",
        "Source: ../shared/seed/paper-summary.txt, summarising Table 2 and Section 4 of the "
        "paper; the paper tested convert-then-distill only and names distill-then-convert as "
        "future work.",
        "",
    ]
    page = output / "README.md"
    page.write_text("\n".join(lines), "utf-8")
    return page
