"""What the study's numbers say, as records: the goal, the floors, the orders.

Each verdict is decided here, by a rule stated once, and kept as a frozen record of the
numbers and the outcome (two models compared by their paired interval where their
predictions allow one, :mod:`baselines.report.pairs`, else by the seed spread), so a test
can check which students reach the goal without reading a sentence; the page
(:mod:`baselines.report.sentences`) only writes them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from baselines.report.pairs import PairedComparison, Unpaired
from baselines.report.stats import Point, spread_of_difference
from baselines.study import ORDERS


@dataclass(frozen=True)
class Goal:
    """The study's goal: ``retained`` % of the teacher's macro score kept at a time ratio of
    at most ``ratio`` at ``seq_len`` tokens."""

    retained: float
    ratio: float
    seq_len: int


GOAL = Goal(retained=90.0, ratio=0.55, seq_len=4096)
# A retained % whose spread over seeds is wider than this cannot tell 90 % from chance.
NOISE = 10.0


def noisy(std: float | None) -> bool:
    """Whether a share with this spread is set aside: wider than ``NOISE``, or unknown."""
    return std is None or std > NOISE


@dataclass(frozen=True)
class GoalVerdict:
    """Whether a distilled student (a floor is not one) meets the goal. ``timed``: the
    students timed at the goal's length with a retained %; ``set_aside``: those of them
    whose spread is too wide to judge; ``met``: the judged ones that meet the goal;
    ``closest``: the judged one keeping the most."""

    outcome: Literal["untimed", "noisy", "reached", "not reached"]
    timed: tuple[Point, ...]
    set_aside: tuple[Point, ...]
    met: tuple[Point, ...]
    closest: Point | None


def goal_verdict(points: list[Point]) -> GoalVerdict:
    """Not assessed where no student was timed at the goal's length, or where every such
    student's share is too noisy; else reached where a judged one keeps the goal's share at
    the goal's time ratio."""
    timed = tuple(
        p
        for p in points
        if p.seq_len == GOAL.seq_len and p.role != "floor" and p.retained is not None
    )
    if not timed:
        return GoalVerdict("untimed", (), (), (), None)
    aside = tuple(p for p in timed if noisy(p.retained_std))
    if len(aside) == len(timed):
        return GoalVerdict("noisy", timed, aside, (), None)
    judged = [p for p in timed if p not in aside]
    met = tuple(
        p
        for p in judged
        if p.retained is not None and p.retained >= GOAL.retained and p.ratio <= GOAL.ratio
    )
    closest = max(judged, key=lambda p: p.retained or 0)
    return GoalVerdict("reached" if met else "not reached", timed, aside, met, closest)


Method = Literal["paired", "seed spread"]
Outcome = Literal["above", "below", "within", "unjudged"]


class Pairs(Protocol):
    """What compares two models by their paired predictions
    (:class:`baselines.report.pairs.StudyPairs`), with how many resamples."""

    resamples: int

    def compare(self, student: str, other: str) -> PairedComparison | Unpaired: ...

    def scored(self) -> tuple[str, ...]: ...

    def unsaved(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Difference:
    """``student`` against ``other`` (its floor, or the other order), both shares of the
    same teacher: ``gap`` is the student's retained % less the other's, ``spread`` the
    spread of that difference over the seeds (None with one seed). Judged by ``method``:
    "paired" where ``paired`` holds the paired interval (its macro interval decides),
    else "seed spread" (the gap against the spread), ``unpaired`` saying why there is no
    paired interval (None where none was looked for). ``outcome``: the student above,
    below, within, or "unjudged" (the seed spread without a spread)."""

    student: Point
    other: Point
    gap: float
    spread: float | None
    method: Method
    outcome: Outcome
    paired: PairedComparison | None = None
    unpaired: Unpaired | None = None


def difference(student: Point, other: Point, pairs: Pairs | None = None) -> Difference:
    """The paired interval of the difference where both models' and their teacher's
    predictions are there (above or below where it excludes zero); else the seed spread's
    rule: above or below where the gap exceeds the spread of the difference."""
    assert student.retained is not None and other.retained is not None
    gap, spread = student.retained - other.retained, spread_of_difference(student, other)
    found = pairs.compare(student.key, other.key) if pairs is not None else None
    if isinstance(found, PairedComparison):
        return Difference(student, other, gap, spread, "paired", found.outcome, paired=found)
    outcome: Outcome
    if spread is None:
        outcome = "unjudged"
    elif abs(gap) <= spread:
        outcome = "within"
    else:
        outcome = "above" if gap > 0 else "below"
    return Difference(student, other, gap, spread, "seed spread", outcome, unpaired=found)


@dataclass(frozen=True)
class FloorComparison:
    """The distilled students against their architecture's undistilled floor:
    ``differences`` holds each student's :class:`Difference` by key (all but the
    ``unscored``, whose floor has no retained %), ``compared`` names those judged,
    ``above`` and ``below`` those judged so; ``no_spread`` (neither paired nor with a
    spread on both sides) and ``unscored`` are not compared."""

    floors: tuple[Point, ...]
    compared: tuple[str, ...]
    above: tuple[str, ...]
    no_spread: tuple[str, ...]
    unscored: tuple[str, ...]
    below: tuple[str, ...] = ()
    differences: dict[str, Difference] = field(default_factory=dict)


def floor_comparison(points: list[Point], pairs: Pairs | None = None) -> FloorComparison | None:
    """None where no scored student has a floor. Without this comparison a retained % says
    what the cut kept, not what distillation added. Each student is judged by
    :func:`difference` (``pairs``: its predictions, where there are any)."""
    floors = {p.architecture: p for p in points if p.role == "floor"}
    matched = [
        (p, floors[p.architecture])
        for p in points
        if p.role != "floor" and p.architecture in floors and p.retained is not None
    ]
    if not matched:
        return None
    unscored = tuple(s.key for s, f in matched if f.retained is None)
    judged = {s.key: difference(s, f, pairs) for s, f in matched if s.key not in unscored}
    return FloorComparison(
        floors=tuple(floors.values()),
        compared=tuple(k for k, d in judged.items() if d.outcome != "unjudged"),
        above=tuple(k for k, d in judged.items() if d.outcome == "above"),
        no_spread=tuple(k for k, d in judged.items() if d.outcome == "unjudged"),
        unscored=unscored,
        below=tuple(k for k, d in judged.items() if d.outcome == "below"),
        differences=judged,
    )


@dataclass(frozen=True)
class LearnedGoal:
    """The goal again over only the tasks each teacher learned. ``learned``: each
    architecture's learned tasks; ``students``: the distilled students at the goal's
    length; ``shares``: those with a share of learned tasks; ``floors``: the floors with
    one; ``met``, ``set_aside`` (too noisy to judge) and ``nothing`` (the teacher learned
    no task) name students."""

    learned: dict[str, tuple[str, ...]]
    students: tuple[str, ...]
    shares: tuple[Point, ...]
    floors: tuple[Point, ...]
    met: tuple[str, ...]
    set_aside: tuple[str, ...]
    nothing: tuple[str, ...]


def learned_goal(points: list[Point]) -> LearnedGoal | None:
    """None where every teacher learned every task (the goal verdict is already this one);
    a share of a near-chance teacher score measures noise either way. The same rule as the
    goal verdict: a share whose spread is wider than ``NOISE`` (or unknown) is set aside."""
    if all(p.all_learned for p in points):
        return None
    students = [p for p in points if p.role != "floor" and p.seq_len == GOAL.seq_len]
    shares = tuple(p for p in students if p.retained_learned is not None)
    aside = tuple(p.key for p in shares if noisy(p.retained_learned_std))
    met = tuple(
        p.key
        for p in shares
        if p.key not in aside
        and p.retained_learned is not None
        and p.retained_learned >= GOAL.retained
        and p.ratio <= GOAL.ratio
    )
    return LearnedGoal(
        learned={p.architecture: p.learned for p in points},
        students=tuple(p.key for p in students),
        shares=shares,
        floors=tuple(p for p in points if p.role == "floor" and p.retained_learned is not None),
        met=met,
        set_aside=aside,
        nothing=tuple(p.key for p in students if p.retained_learned is None),
    )


OrdersOutcome = Literal["distill-then-convert", "convert-then-distill", "within", "unjudged"]


@dataclass(frozen=True)
class OrdersComparison:
    """One architecture's two orders: ``gap`` is distill-then-convert's retained % less
    convert-then-distill's, ``spread`` the spread of that difference over the seeds (None
    without a spread on both sides), ``outcome`` the order that keeps more, "within" where
    the difference cannot be told from zero, "unjudged" where nothing can tell it;
    ``difference`` holds how it was judged (its method, paired interval or why none)."""

    architecture: str
    convert_first: Point
    distill_first: Point
    gap: float
    spread: float | None
    outcome: OrdersOutcome
    difference: Difference

    @property
    def method(self) -> Method:
        return self.difference.method


def orders_comparison(points: list[Point], pairs: Pairs | None = None) -> list[OrdersComparison]:
    """The paper's open question, architecture by architecture (those with both orders
    scored): which order keeps more of the teacher's macro score, by the same rule as the
    floor comparison (:func:`difference`, distill-then-convert as the student)."""
    by_arch: dict[str, dict[str, Point]] = {}
    for p in points:
        if p.role in ORDERS and p.retained is not None:
            by_arch.setdefault(p.architecture, {})[p.role] = p
    compared = []
    for arch, roles in by_arch.items():
        if len(roles) < 2:
            continue
        first, second = roles["convert-then-distill"], roles["distill-then-convert"]
        judged = difference(second, first, pairs)
        outcome: OrdersOutcome = {
            "above": "distill-then-convert",
            "below": "convert-then-distill",
            "within": "within",
            "unjudged": "unjudged",
        }[judged.outcome]
        compared.append(
            OrdersComparison(arch, first, second, judged.gap, judged.spread, outcome, judged)
        )
    return compared
