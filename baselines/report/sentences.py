"""The verdicts as the page says them: one English sentence or paragraph per record.

Only wording lives here; what each verdict is, and the numbers it rests on, are decided in
:mod:`baselines.report.verdicts`, so the page's phrasing can change without touching a rule.
"""

from __future__ import annotations

from baselines.report.pairs import PairedComparison
from baselines.report.stats import Point
from baselines.report.verdicts import (
    GOAL,
    NOISE,
    Difference,
    FloorComparison,
    GoalVerdict,
    LearnedGoal,
    OrdersComparison,
    Pairs,
    floor_comparison,
    goal_verdict,
    learned_goal,
    orders_comparison,
)


def percent(value: float | None, spread: float | None) -> str:
    """``12.3 ± 4.5 %``; without a spread ``12.3 %``; without a value a dash."""
    if value is None:
        return "–"
    return f"{value:.1f}" + (f" ± {spread:.1f}" if spread is not None else "") + " %"


def goal_paragraph(points: list[Point], pairs: Pairs | None = None) -> str:
    """The goal's verdict, then the floors (judged whether or not the goal could be: a
    paired interval can tell a student from its floor where the seed spread cannot) and
    (where some teacher did not learn every task) the goal again over only the learned
    tasks."""
    verdict = goal_verdict(points)
    text = goal_sentence(verdict)
    text += floor_sentence(floor_comparison(points, pairs))
    if verdict.outcome != "untimed":
        text += learned_sentence(learned_goal(points))
    return text


def goal_sentence(verdict: GoalVerdict) -> str:
    if verdict.outcome == "untimed":
        return (
            f"**Goal not assessed**: no student was timed at {GOAL.seq_len} tokens in these files."
        )
    if verdict.outcome == "noisy":
        spreads = ", ".join(
            f"{p.key} {p.retained:.0f}"
            + (" %, no spread" if p.retained_std is None else f" ± {p.retained_std:.0f} %")
            for p in verdict.timed
        )
        return (
            f"**Goal not assessed**: every student's retained % has a spread over the seeds "
            f"wider than {NOISE:.0f} points or none at all ({spreads}), so it cannot tell "
            "90 % from chance (one seed gives no spread; over seeds, a teacher that barely "
            "learned a task gives a wide one)."
        )
    aside = (
        f"; set aside, with a spread over {NOISE:.0f} points or none: "
        + ", ".join(p.key for p in verdict.set_aside)
        if verdict.set_aside
        else ""
    )
    goal = (
        f"≥ {GOAL.retained:.0f} % retained at a time ratio ≤ {GOAL.ratio} at {GOAL.seq_len} tokens"
    )
    if verdict.outcome == "reached":
        names = ", ".join(
            f"{p.key} ({percent(p.retained, p.retained_std)}, ratio {p.ratio:.3f})"
            for p in verdict.met
        )
        return f"**Goal reached** ({goal}): {names}{aside}."
    best = verdict.closest
    assert best is not None  # a judged verdict has a closest student
    return (
        f"**Goal not reached** ({goal}). Closest: {best.key} keeps "
        f"{best.retained:.1f} % at a ratio of {best.ratio:.3f}{aside}."
    )


def floor_sentence(comparison: FloorComparison | None) -> str:
    """How the distilled students compare with their architecture's undistilled floor:
    those with a paired interval by it, each with its interval, seed spread and driving
    tasks; the others by the seed spread."""
    if comparison is None:
        return ""
    kept = ", ".join(
        f"{f.architecture} {percent(f.retained, f.retained_std)}"
        for f in comparison.floors
        if f.retained is not None
    )
    text = f" The floors (cut to the students' layers, not distilled) keep {kept or 'nothing yet'}"
    judged = [comparison.differences[k] for k in comparison.compared]
    paired = [d for d in judged if d.method == "paired"]
    spread = [d.student.key for d in judged if d.method == "seed spread"]
    if paired:
        above = [d for d in paired if d.outcome == "above"]
        text += (
            f"; by the paired 95 % interval of the difference, {len(above)} of {len(paired)} "
            "distilled students are above their floor"
            + ("" if above else ": at this budget distillation adds nothing it can show")
            + " ("
            + "; ".join(paired_shown(d) for d in paired)
            + ")"
        )
    if spread:
        above_names = [k for k in spread if k in comparison.above]
        text += (
            ("; of the others, by the seed spread, " if paired else "; ")
            + f"{len(above_names)} of {len(spread)} distilled students are above their "
            "floor by more than the spread of their difference, both spreads combined in "
            "quadrature"
            + (
                f" ({', '.join(above_names)})"
                if above_names
                else ": at this budget distillation adds nothing that these scores can show"
            )
        )
    if comparison.no_spread:
        text += "; not compared, without a spread over seeds on both sides: " + ", ".join(
            comparison.no_spread
        )
    if comparison.unscored:
        text += f"; not compared, their floor not scored: {', '.join(comparison.unscored)}"
    return text + "."


def paired_shown(d: Difference) -> str:
    """One paired comparison: the student, the verdict, the difference and its interval,
    the gap of the tables' shares with its seed spread, and the tasks behind the verdict."""
    assert d.paired is not None
    return f"{d.student.key} {d.outcome}, {_interval(d.paired)}, {_beside(d)}, {_tasks(d.paired)}"


def _interval(paired: PairedComparison) -> str:
    low, high = paired.macro.interval
    return f"{_signed(paired.macro.value)} points [{_signed(low)}, {_signed(high)}]"


def _signed(value: float) -> str:
    """``+1.2``, ``-1.2``; nothing to sign where it rounds to 0."""
    return "0.0" if round(value, 1) == 0 else f"{value:+.1f}"


def _beside(d: Difference) -> str:
    """The seed-spread view beside the interval: the tables' gap and its spread."""
    spread = "no spread over one seed" if d.spread is None else f"seed spread {d.spread:.1f}"
    return f"gap in the tables {_signed(d.gap)}, {spread}"


def _tasks(paired: PairedComparison) -> str:
    """The tasks whose own interval excludes zero: on the verdict's side they drive it."""
    sides = {t: d.side for t, d in paired.tasks.items()}
    if paired.outcome == "within":
        apart = [f"{t} {'higher' if sides[t] == 'above' else 'lower'}" for t in paired.apart]
        return "apart on " + ", ".join(apart) if apart else "no task apart"
    against = [t for t in paired.apart if t not in paired.driving]
    return (
        "driven by "
        + (", ".join(paired.driving) or "no single task")
        + (f", against it {', '.join(against)}" if against else "")
    )


def learned_sentence(goal: LearnedGoal | None) -> str:
    """The goal again over only the tasks each teacher learned, where some did not learn
    them all."""
    if goal is None:
        return ""

    def share(p: Point) -> str:
        return f"{p.key} {percent(p.retained_learned, p.retained_learned_std)}"

    text = " Over only the tasks each teacher learned (no †; " + "; ".join(
        f"{a}: {', '.join(t) or 'none'}" for a, t in goal.learned.items()
    )
    text += ")"
    if goal.shares:
        text += " the students keep " + ", ".join(share(p) for p in goal.shares)
    if goal.floors:
        text += f"; the floors {', '.join(share(p) for p in goal.floors)}"
    text += f": {len(goal.met)} of {len(goal.students)} students reach the goal on them"
    if goal.met:
        text += f" ({', '.join(goal.met)})"
    if goal.set_aside:
        text += f"; not judged, with a spread over {NOISE:.0f} points or none: " + ", ".join(
            goal.set_aside
        )
    if goal.nothing:
        text += f"; not judged, the teacher learned none of the tasks: {', '.join(goal.nothing)}"
    return text + "."


# each orders outcome and how the page says it, in the page's order ("within-paired":
# within by the paired interval)
ORDERS_PHRASES = {
    "distill-then-convert": "distill-then-convert keeps more of the teacher's macro score on ",
    "convert-then-distill": "convert-then-distill keeps more on ",
    "within-paired": "the paired interval of their difference includes 0 on ",
    "within": "the two are within the spread of their difference on ",
    "unjudged": "not compared, without a spread over seeds on both sides: ",
}


def orders_paragraph(points: list[Point], pairs: Pairs | None = None) -> str:
    """The orders compared, architecture by architecture, grouped by outcome; empty where
    no architecture has both orders scored."""
    compared = orders_comparison(points, pairs)
    parts = [
        phrase + ", ".join(_orders_shown(c) for c in compared if _group(c) == group)
        for group, phrase in ORDERS_PHRASES.items()
        if any(_group(c) == group for c in compared)
    ]
    if not parts:
        return ""
    return (
        "**Orders** (distill-then-convert against convert-then-distill, the paper's order): "
        + "; ".join(parts)
        + "."
    )


def _group(c: OrdersComparison) -> str:
    return "within-paired" if c.outcome == "within" and c.method == "paired" else c.outcome


def _orders_shown(c: OrdersComparison) -> str:
    """One architecture's comparison: the name alone where it was not judged; a paired
    one's interval and driving tasks before the tables' shares."""
    second, first = c.distill_first, c.convert_first
    shares = (
        f"{percent(second.retained, second.retained_std)} against "
        f"{percent(first.retained, first.retained_std)}: a gap of {abs(c.gap):.1f} points"
    )
    paired = c.difference.paired
    if paired is not None:
        spread = "no spread over one seed" if c.spread is None else f"the spread {c.spread:.1f}"
        return (
            f"{c.architecture} (paired {_interval(paired)}, {_tasks(paired)}; {shares}, {spread})"
        )
    if c.spread is None:
        return c.architecture
    return f"{c.architecture} ({shares}, the spread {c.spread:.1f})"


def decided_paragraph(points: list[Point], pairs: Pairs, averaged: dict[str, str]) -> str:
    """How the floor and orders verdicts above were decided, said once: the paired
    interval and what it is on (``averaged``: the tasks whose headline averages several
    metrics, with the main score the interval takes instead), and, where any comparison
    fell back to the seed spread, why (the models whose results hold no predictions, or
    another cause) and what would give the intervals. Empty where the page compares no
    two models."""
    shown = [c.difference for c in orders_comparison(points, pairs)]
    if goal_verdict(points).outcome in ("reached", "not reached"):
        floors = floor_comparison(points, pairs)
        shown = list(floors.differences.values() if floors else []) + shown
    if not shown:
        return ""
    scores = (
        " ("
        + ", ".join(f"{task}'s {name}" for task, name in averaged.items())
        + ", where the tables' retained % takes the mean of several metrics)"
        if averaged
        else ", of which the tables' retained % is made too"
    )
    text = (
        "**How two models are compared** (a student with its floor, the two orders): by the "
        "paired 95 % interval of the difference of their retained % of the same teacher, "
        "where the three have their predictions saved: the two and their teacher resampled "
        f"together ({pairs.resamples} resamples), the same examples and seeds for all three, "
        f"on the tasks' main scores{scores}, the macro difference as 100 × (mean of one − "
        "mean of the other) / the teacher's mean; one is above or below the other where that "
        "interval excludes 0, and the tasks whose own interval excludes 0 on that side drive "
        "the verdict. The seed spread (the tables' gap against the spread of the difference "
        "over the seeds, both spreads combined in quadrature) is shown beside it."
    )
    fallback = [d for d in shown if d.method == "seed spread"]
    if not fallback:
        return text
    unsaved = sorted(
        {k for d in fallback if d.unpaired for k in d.unpaired.unsaved},
        key=list(pairs.scored()).index,
    )
    causes = []
    if unsaved and set(pairs.unsaved()) == set(pairs.scored()):
        causes.append("no model's result file holds its predictions")
    elif unsaved:
        causes.append(f"the result files of {', '.join(unsaved)} hold no predictions")
    reasons: dict[str, list[str]] = {}
    for d in fallback:
        if d.unpaired and d.unpaired.reason:
            reasons.setdefault(d.unpaired.reason, []).append(
                f"{d.student.key} against {d.other.key}"
            )
    causes += [f"{reason} ({'; '.join(which)})" for reason, which in reasons.items()]
    which = (
        "every comparison above is"
        if len(fallback) == len(shown)
        else f"{len(fallback)} of the {len(shown)} comparisons above are"
    )
    text += (
        f" Here {'; '.join(causes) or 'no predictions were looked for'}, so {which} judged by "
        "the seed spread alone"
    )
    if unsaved:
        text += (
            "; the paired intervals need the study scored again with its predictions saved "
            "(`save_predictions: true` among its evaluation settings)"
        )
    return text + "."
