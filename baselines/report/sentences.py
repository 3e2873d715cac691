"""The verdicts as the page says them: one English sentence or paragraph per record.

Only wording lives here; what each verdict is, and the numbers it rests on, are decided in
:mod:`baselines.report.verdicts`, so the page's phrasing can change without touching a rule.
"""

from __future__ import annotations

from baselines.report.stats import Point
from baselines.report.verdicts import (
    GOAL,
    NOISE,
    FloorComparison,
    GoalVerdict,
    LearnedGoal,
    OrdersComparison,
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


def goal_paragraph(points: list[Point]) -> str:
    """The goal's verdict, then (where it was judged) the floors and (where some teacher
    did not learn every task) the goal again over only the learned tasks."""
    verdict = goal_verdict(points)
    text = goal_sentence(verdict)
    if verdict.outcome in ("reached", "not reached"):
        text += floor_sentence(floor_comparison(points))
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
            f"{p.key} {p.retained:.0f} ± "
            + ("?" if p.retained_std is None else f"{p.retained_std:.0f}")
            for p in verdict.timed
        )
        return (
            f"**Goal not assessed**: every student's retained % has a spread over the seeds "
            f"wider than {NOISE:.0f} points or none at all ({spreads} %), so it cannot tell "
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
    """How the distilled students compare with their architecture's undistilled floor."""
    if comparison is None:
        return ""
    kept = ", ".join(
        f"{f.architecture} {percent(f.retained, f.retained_std)}"
        for f in comparison.floors
        if f.retained is not None
    )
    text = f" The floors (cut to the students' layers, not distilled) keep {kept or 'nothing yet'}"
    if comparison.compared:
        above = comparison.above
        text += (
            f"; {len(above)} of {len(comparison.compared)} distilled students are above their "
            "floor by more than the spread of their difference, both spreads combined in "
            "quadrature"
            + (
                f" ({', '.join(above)})"
                if above
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


# each orders outcome and how the page says it, in the page's order
ORDERS_PHRASES = {
    "distill-then-convert": "distill-then-convert keeps more of the teacher's macro score on ",
    "convert-then-distill": "convert-then-distill keeps more on ",
    "within": "the two are within the spread of their difference on ",
    "unjudged": "not compared, without a spread over seeds on both sides: ",
}


def orders_paragraph(points: list[Point]) -> str:
    """The orders compared, architecture by architecture, grouped by outcome; empty where
    no architecture has both orders scored."""
    compared = orders_comparison(points)
    parts = [
        phrase + ", ".join(_orders_shown(c) for c in compared if c.outcome == outcome)
        for outcome, phrase in ORDERS_PHRASES.items()
        if any(c.outcome == outcome for c in compared)
    ]
    if not parts:
        return ""
    return (
        "**Orders** (distill-then-convert against convert-then-distill, the paper's order): "
        + "; ".join(parts)
        + "."
    )


def _orders_shown(c: OrdersComparison) -> str:
    """One architecture's comparison: the name alone where it was not judged."""
    if c.spread is None:
        return c.architecture
    second, first = c.distill_first, c.convert_first
    return (
        f"{c.architecture} ({percent(second.retained, second.retained_std)} against "
        f"{percent(first.retained, first.retained_std)}: a gap of {abs(c.gap):.1f} "
        f"points, the spread {c.spread:.1f})"
    )
