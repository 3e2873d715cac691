"""Retained quality against speed-up: which models are on the Pareto front, and the plot.

The study's page and the leaderboard draw the same picture: x is the speed-up over the
teacher (1 / time ratio), y the percent of the teacher's score kept, each teacher the
reference point (1, 100). A point is on the front when no other point is at least as good
on both axes and better on one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


def pareto_front(points: list[tuple[float, float]]) -> list[bool]:
    """Whether each (retained, speed-up) point is dominated by none of the others."""
    front = []
    for i, (r, s) in enumerate(points):
        dominated = any(
            r2 >= r and s2 >= s and (r2 > r or s2 > s)
            for j, (r2, s2) in enumerate(points)
            if j != i
        )
        front.append(not dominated)
    return front


@dataclass(frozen=True)
class PlotPoint:
    """One model on the plot. ``group`` picks the colour (an architecture, a teacher),
    ``marker`` the shape (a role); ``label`` is written beside the point where given, and
    ``teacher`` (its teacher's point) draws the line that links them."""

    speedup: float
    retained: float
    retained_std: float | None = None
    group: str = ""
    marker: str = "o"
    on_front: bool = False
    label: str | None = None
    teacher: tuple[float, float] | None = None


@dataclass(frozen=True)
class PlotStyle:
    """What a page says around its points: the title, axis names, what each marker means
    and the goal's guide lines (a retained % and a speed-up), where it has one."""

    title: str
    xlabel: str = "speed-up over the teacher (x)"
    ylabel: str = "retained of the teacher (%)"
    marker_names: dict[str, str] = field(default_factory=dict)
    goal: tuple[float, float] | None = None
    size: tuple[float, float] = (6.4, 4.4)


_PALETTE = ["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown"]


def draw_pareto(points: Sequence[PlotPoint], paths: Sequence[Path], style: PlotStyle) -> None:
    """Write the plot to each path (PNG or SVG by suffix). The files carry no date and fixed
    element ids, so the same points make the same files, byte for byte."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=style.size)
    ax.scatter([1.0], [100.0], marker="*", s=160, color="black", label="teachers (reference)")
    colours: dict[str, str] = {}
    for point in points:
        colours.setdefault(point.group, _PALETTE[len(colours) % len(_PALETTE)])
    for point in points:
        if point.teacher is not None:
            ax.plot(
                [point.speedup, point.teacher[0]],
                [point.retained, point.teacher[1]],
                color="#999",
                linewidth=1,
                zorder=1,
            )
    for point in points:
        ax.errorbar(
            point.speedup,
            point.retained,
            yerr=point.retained_std or 0,
            fmt=point.marker,
            color=colours[point.group],
            alpha=0.9,
            capsize=3,
        )
        if point.on_front:
            ax.scatter(point.speedup, point.retained, s=180, facecolors="none", edgecolors="red")
        if point.label is not None:
            text = point.label.replace("$", r"\$")  # a name is text, never mathtext
            ax.annotate(
                text, (point.speedup, point.retained), textcoords="offset points", xytext=(6, 6)
            )
    for group, colour in colours.items():
        if group:
            ax.scatter([], [], marker="o", color=colour, label=group)
    for marker, name in style.marker_names.items():
        if any(p.marker == marker for p in points):
            ax.scatter([], [], marker=marker, color="grey", label=name)
    if any(p.on_front for p in points):
        ax.scatter([], [], s=120, facecolors="none", edgecolors="red", label="Pareto front")
    if style.goal is not None:
        ax.axhline(style.goal[0], color="grey", lw=0.8, ls="--")
        ax.axvline(style.goal[1], color="grey", lw=0.8, ls="--")
    ax.set_xlabel(style.xlabel)
    ax.set_ylabel(style.ylabel)
    ax.set_title(style.title, fontsize=10)
    ax.legend(loc="lower left", fontsize=7)
    fig.tight_layout()
    for path in paths:
        no_date = {"Date": None} if Path(path).suffix == ".svg" else {"Software": None}
        with plt.rc_context({"svg.hashsalt": "gonerd-bench"}):
            fig.savefig(path, metadata=no_date)
    plt.close(fig)
