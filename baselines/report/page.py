"""The study's page put together: README.md, the Pareto plot and the data/ copy.

The one place that knows the page's order (header, method, interim note, verdicts and how
they were decided, a table per architecture, the GPU section, the plot, the paper's
claims); every part is made by its own module from the files :mod:`baselines.report.load`
read.
"""

from __future__ import annotations

from pathlib import Path

from baselines.report.gpu import gpu_file, gpu_section
from baselines.report.load import ModelFiles, copy_inputs, load
from baselines.report.pairs import StudyPairs
from baselines.report.sentences import decided_paragraph, goal_paragraph, orders_paragraph
from baselines.report.stats import Point, averaged_headlines, seeds_of, summary_points
from baselines.report.tables import ROLE_NAMES, architecture_table
from baselines.report.text import method_paragraph, paper_section
from baselines.report.verdicts import GOAL
from baselines.study import Study
from benchmark.pareto import PlotPoint, PlotStyle, draw_pareto, pareto_front


def make_report(study: Study, runs: Path, output: Path) -> Path:
    """Write the study's page, plot and data under ``output``; returns the page."""
    runs, output = Path(runs), Path(output)
    loaded = load(runs, study)
    output.mkdir(parents=True, exist_ok=True)
    copy_inputs(runs, output, loaded)
    first = next(e.result for e in loaded.values() if e.result)
    tasks = list(first.tasks)
    points = summary_points(loaded)
    pairs = StudyPairs(loaded)
    plot(
        points,
        [output / "pareto.png", output / "pareto.svg"],
        f"{study.name}: retained vs speed-up",
    )
    hardware = first.provenance.hardware
    # the seeds each model's every task was scored at: an interim page's are fewer, and a
    # page made from merged files of two runs (an architecture added later) may mix them
    seeds_by = {key: seeds_of(e.result) for key, e in loaded.items() if e.result}
    seeds = sorted(set.intersection(*map(set, seeds_by.values())))
    mixed = len({tuple(s) for s in seeds_by.values()}) > 1
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
        method_paragraph(study, first, tasks),
        "",
        *interim_note(loaded, seeds_by, study.evaluation.seeds),
        goal_paragraph(points, pairs),
        "",
        *([orders, ""] if (orders := orders_paragraph(points, pairs)) else []),
        *(
            [decided, ""]
            if (decided := decided_paragraph(points, pairs, averaged_headlines(first)))
            else []
        ),
    ]
    for convert in study.architectures:
        lines += [f"## {convert.to}", ""]
        lines += architecture_table(study, loaded, convert.to, tasks)
        lines.append("")
    lines += gpu_section(gpu_file(runs, output))
    lines += [
        "## Retained against speed-up",
        "",
        "![retained % against speed-up](pareto.png)",
        "",
        *paper_section(),
    ]
    page = output / "README.md"
    page.write_text("\n".join(lines), "utf-8")
    return page


def interim_note(
    loaded: dict[str, ModelFiles], seeds_by: dict[str, list[int]], planned: list[int]
) -> list[str]:
    """What the page lacks while the study has not finished, read off the results it was
    made from (so a page re-made from its data/ says the same); ``seeds_by`` holds the
    seeds each scored model's result has."""
    lacking = []
    groups: dict[tuple, list[str]] = {}
    for key, seeds in seeds_by.items():
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
    unscored = [key for key, e in loaded.items() if e.result is None]
    if unscored:
        lacking.append(f"not scored yet: {', '.join(unscored)}")
    untimed = [key for key, e in loaded.items() if e.result and e.result.speed is None]
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


def plot(points: list[Point], paths: list[Path], title: str) -> None:
    """Retained % against speed-up, one point per student, the teacher at (1, 100): colour
    says the architecture, the marker the role (nine labels would overlap); the front is
    among distilled students, floors are drawn for comparison only."""
    markers = {"convert-then-distill": "o", "distill-then-convert": "s", "floor": "x"}
    usable = [p for p in points if p.retained is not None]
    front = iter(pareto_front([(p.retained, p.speedup) for p in usable if p.role != "floor"]))
    draw_pareto(
        [
            PlotPoint(
                speedup=p.speedup,
                retained=p.retained,
                retained_std=p.retained_std,
                group=p.architecture,
                marker=markers.get(p.role, "o"),
                on_front=p.role != "floor" and next(front),
            )
            for p in usable
        ],
        paths,
        PlotStyle(
            title=title,
            xlabel="speed-up over the teacher (1 / time ratio) at the longest length",
            ylabel="retained % of the teacher's macro score",
            marker_names={marker: ROLE_NAMES[role] for role, marker in markers.items()},
            goal=(GOAL.retained, 1 / GOAL.ratio),
        ),
    )
