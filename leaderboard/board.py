"""What the board computes itself, never taking a submission's word for it.

* A student is linked to its teacher's entry: the entry of the teacher's weights (same
  revision and dtype) on the same suite version, scored on the same data for every task
  both hold. Otherwise the link says why not.
* Retained % per task = student main score / teacher main score x 100 (undefined when the
  teacher scored 0 or less); its mean and its minimum (the worst task); over several seeds,
  their spread seed by seed (:mod:`leaderboard.seed_spread`).
* Completeness: every aggregate (the mean score, the retention mean and minimum) is taken
  only when the entry (and, for retention, its teacher) has every task of the selection,
  and says over how many tasks; an incomplete entry gets no aggregate, never a mean over
  fewer tasks.
* Speed-up over the teacher at each (length, batch size) both measured on the same device:
  the ratio the student timed in turns with that teacher where it has one, else the ratio
  of the two entries' latencies (:mod:`leaderboard.speedups`).
* The Pareto front of (retained %, speed-up) within each device class, at each measured
  shape (length, batch size, dtype): an entry is on it when no other entry of that class
  and shape keeps at least as much and runs at least as fast, and one of the two strictly.
  A teacher at the head of its chain is the point (100 %, 1x). A row shows its point at
  the longest shape it was measured at.
* A result's own retention block is recomputed from the linked entries, and a disagreement
  is reported.
* A linked student shows the paired numbers drawn against that very teacher entry, and a
  note where some are missing (:mod:`leaderboard.trust`).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from benchmark.families import family_for
from benchmark.pareto import pareto_front
from benchmark.tasks import GROUPS, TASKS
from leaderboard.entry import Counts, Entry, TaskEntry
from leaderboard.entry_trust import PairedTask
from leaderboard.seed_spread import retained_spread
from leaderboard.speedups import interleaved_speedups as interleaved
from leaderboard.speedups import merged, speedups
from leaderboard.trust import interval_note, paired_tasks

DISAGREEMENT = 1e-6  # retained % points


@dataclass
class Row:
    """One entry as the board shows it."""

    entry: Entry
    teacher_row: Row | None = None
    link: str | None = None  # why there is no teacher row, when there is none
    scores: dict[str, float | None] = field(default_factory=dict)
    scores_std: dict[str, float | None] = field(default_factory=dict)  # over seeds
    score_mean: float | None = None
    retained: dict[str, float | None] = field(default_factory=dict)
    retained_mean: float | None = None
    retained_std: dict[str, float | None] = field(default_factory=dict)  # over seeds
    retained_mean_std: float | None = None
    retained_min: tuple[float, str] | None = None
    speedups: list[dict] = field(default_factory=list)
    pareto: dict | None = None  # {"device", "retained", "speedup", "front"}
    missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    paired: dict[str, PairedTask] = field(default_factory=dict)  # with its linked teacher
    trust_notes: list[str] = field(default_factory=list)  # intervals or pairings missing

    @property
    def name(self) -> str:
        return self.entry.model.name

    @property
    def is_student(self) -> bool:
        return self.entry.teacher is not None


def select_tasks(board_entries: list[Entry], selection: str | None) -> list[str]:
    """The task columns: a group (``glue``, ``all``), a list ``t1,t2``, or by default every
    task some entry holds, in registry order."""
    if selection:
        names: list[str] = []
        for part in selection.split(","):
            part = part.strip().lower()
            for name in GROUPS.get(part, [part]):
                if name not in TASKS and name not in {t for e in board_entries for t in e.tasks}:
                    known = ", ".join([*GROUPS, *TASKS])
                    raise ValueError(f"unknown task or group {part!r}: choose from {known}")
                if name not in names:
                    names.append(name)
        return names
    held = {t for e in board_entries for t in e.tasks}
    return [t for t in TASKS if t in held] + sorted(held - set(TASKS))


def teacher_for(entry: Entry, entries: list[Entry]) -> tuple[Entry | None, str | None]:
    """The teacher entry the board links ``entry`` to, or why there is none."""
    teacher = entry.teacher
    if teacher is None:
        return None, None
    if teacher.key() == entry.model.key():
        return None, "it names itself as its teacher"
    same_weights = [
        e
        for e in entries
        if e.model.key() == teacher.key()
        and e.model.dtype == teacher.dtype
        and e.entry_id != entry.entry_id
    ]
    if not same_weights:
        return None, f"no entry of its teacher {teacher.name} on the board"
    same_suite = [e for e in same_weights if e.suite.version == entry.suite.version]
    if not same_suite:
        versions = ", ".join(sorted({e.suite.version for e in same_weights}))
        return None, (
            f"its teacher's entries are on suite version {versions}, not {entry.suite.version}"
        )
    for candidate in sorted(same_suite, key=lambda e: e.submitted_at, reverse=True):
        differs = [
            t
            for t in entry.tasks
            if t in candidate.tasks and entry.tasks[t].data.key() != candidate.tasks[t].data.key()
        ]
        if not differs:
            return candidate, None
    return None, f"its teacher's entry scored {differs[0]} on other data"


def build_rows(entries: list[Entry], tasks: list[str]) -> list[Row]:
    """Every entry with the numbers the board computes (module docstring)."""
    rows = {e.entry_id: Row(entry=e) for e in entries}
    for row in rows.values():
        entry = row.entry
        row.scores = {t: entry.tasks[t].main_score if t in entry.tasks else None for t in tasks}
        row.scores_std = {t: entry.tasks[t].main_score_std for t in tasks if t in entry.tasks}
        row.missing = [t for t in tasks if t not in entry.tasks]
        if not row.missing and tasks:
            row.score_mean = statistics.fmean(row.scores[t] for t in tasks)
        row.trust_notes = [n for n in [interval_note(entry, tasks)] if n]
        teacher, reason = teacher_for(entry, entries)
        row.link = reason
        if teacher is not None:
            row.teacher_row = rows[teacher.entry_id]
    _break_loops(list(rows.values()))
    for row in rows.values():
        if row.teacher_row is not None:
            _retention(row, tasks)
    _mark_pareto(list(rows.values()))
    return list(rows.values())


def _break_loops(rows: list[Row]) -> None:
    """Teacher links come from what submitters claim: a chain that comes back to itself
    is cut where it is found, so every row still has a place on the board."""
    for row in rows:
        seen, node = {id(row)}, row.teacher_row
        while node is not None:
            if id(node) in seen:
                row.teacher_row, row.link = None, "its teacher links form a loop"
                break
            seen.add(id(node))
            node = node.teacher_row


def _retention(row: Row, tasks: list[str]) -> None:
    student, teacher = row.entry, row.teacher_row.entry
    for t in tasks:
        if t in student.tasks and t in teacher.tasks:
            t_score = teacher.tasks[t].main_score
            s_score = student.tasks[t].main_score
            row.retained[t] = None if t_score <= 0 else 100 * s_score / t_score
        else:
            row.retained[t] = None
    complete = all(t in student.tasks and t in teacher.tasks for t in tasks)
    values = [row.retained[t] for t in tasks]
    undefined = [t for t in tasks if complete and row.retained[t] is None]
    row.retained_std, row.retained_mean_std = retained_spread(student, teacher, tasks)
    if tasks and complete and not undefined:
        row.retained_mean = statistics.fmean(values)
        worst = min(tasks, key=lambda t: row.retained[t])
        row.retained_min = (row.retained[worst], worst)
    elif undefined:
        row.notes.append(
            "no retention mean: its teacher scored 0 or less on "
            + ", ".join(undefined)
            + " (choose other tasks with --tasks)"
        )
    row.speedups = merged(speedups(student.speed, teacher.speed), interleaved(student, teacher))
    row.paired, note = paired_tasks(student, teacher, tasks)
    row.trust_notes += [note] if note else []
    if tasks and not complete:
        missing = [t for t in tasks if t not in teacher.tasks]
        if missing and not row.missing:
            row.notes.append(
                "no retention mean: its teacher has no score for " + ", ".join(missing)
            )
    claimed = student.claimed_retention
    if claimed is not None:
        for t, value in claimed.tasks.items():
            ours = (
                100 * student.tasks[t].main_score / teacher.tasks[t].main_score
                if (t in student.tasks and t in teacher.tasks and teacher.tasks[t].main_score > 0)
                else None
            )
            if (value is None) != (ours is None) or (
                value is not None and abs(value - ours) > DISAGREEMENT
            ):
                row.notes.append(
                    f"the result file's own retention for {t} ({_fmt(value)}) differs from "
                    f"the board's ({_fmt(ours)})"
                )


def _fmt(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.2f}%"


def _mark_pareto(rows: list[Row]) -> None:
    """Fronts per device class and shape (length, batch, dtype): students at (retained
    mean, speed-up), the teachers at the head of their chains at (100, 1). A row shows its
    point at the longest shape it was measured at."""
    groups: dict[tuple, list[tuple[Row, float, float, str | None]]] = {}
    for row in rows:
        if row.retained_mean is None:
            continue
        root = row.teacher_row if row.teacher_row and row.teacher_row.teacher_row is None else None
        for s in row.speedups:
            shape = (s["device"], s["seq_len"], s["batch_size"], s["dtype"])
            points = groups.setdefault(shape, [])
            points.append((row, row.retained_mean, s["speedup"], s.get("method")))
            if root is not None and all(p[0] is not root for p in points):
                points.append((root, 100.0, 1.0, None))
    for (device, seq_len, batch, dtype), points in sorted(groups.items(), key=_longest):
        marks = pareto_front([(r, s) for _, r, s, _ in points])
        for (row, retained, speedup, method), on_front in zip(points, marks):
            row.pareto = {  # the longest shape comes last, so it is the one kept
                "device": device,
                "seq_len": seq_len,
                "batch_size": batch,
                "dtype": dtype,
                "retained": retained,
                "speedup": speedup,
                "method": method,
                "front": on_front,
            }


def unplotted(rows: list[Row], tasks: list[str]) -> list[str]:
    """Why each student has no point on the Pareto plot, so the plot is never silently
    empty: no teacher on the board, its teacher scoring 0 or less on a selected task (with
    the ``--tasks`` selection that would draw it), a missing score, or no shared timing."""
    reasons = []
    for row in rows:
        if not row.is_student or row.pareto is not None:
            continue
        why = _why_unplotted(row, tasks)
        reasons.append(f"{row.name}: {why}")
    return reasons


def _why_unplotted(row: Row, tasks: list[str]) -> str:
    if row.teacher_row is None:
        return f"not linked to a teacher ({row.link or 'its teacher is not on the board'})"
    student, teacher = row.entry, row.teacher_row.entry
    missing = [t for t in tasks if t not in student.tasks or t not in teacher.tasks]
    if missing:
        return "no score for " + ", ".join(missing) + " on both sides"
    at_or_below_zero = [t for t in tasks if teacher.tasks[t].main_score <= 0]
    if at_or_below_zero:
        drawable = [t for t in tasks if t not in at_or_below_zero]
        hint = f"; --tasks {','.join(drawable)} would draw it" if drawable and row.speedups else ""
        return f"its teacher scored 0 or less on {', '.join(at_or_below_zero)}" + hint
    if not row.speedups:
        return (
            "no speed-up: it and its teacher were not timed at a shared length, batch, dtype "
            "and device"
        )
    return "no retention mean over the selected tasks"


def _longest(item) -> tuple:
    (device, seq_len, batch, dtype), _ = item
    return (seq_len, batch, device, dtype)


def ordered(rows: list[Row], sort: str = "score") -> list[tuple[Row, int]]:
    """Rows in display order with their depth: each teacher (or unlinked entry) sorted by
    ``sort``, its linked students under it, sorted the same way."""

    def key(row: Row):
        value = sort_value(row, sort)
        missing = value is None
        if isinstance(value, str):
            return (missing, value)
        return (missing, -(value or 0.0))

    top = sorted((r for r in rows if r.teacher_row is None), key=key)
    children: dict[int, list[Row]] = {}
    for row in rows:
        if row.teacher_row is not None:
            children.setdefault(id(row.teacher_row), []).append(row)
    order: list[tuple[Row, int]] = []

    def visit(row: Row, depth: int) -> None:
        order.append((row, depth))
        for child in sorted(children.get(id(row), []), key=key):
            visit(child, depth + 1)

    for row in top:
        visit(row, 0)
    return order


SORT_COLUMNS = ("score", "retained", "worst", "speedup", "params", "name")


def sort_value(row: Row, column: str):
    """The value a row is sorted by: a named column, or a task's score."""
    if column == "score":
        return row.score_mean
    if column == "retained":
        return row.retained_mean
    if column == "worst":
        return row.retained_min[0] if row.retained_min else None
    if column == "speedup":
        return row.pareto["speedup"] if row.pareto else None
    if column == "params":
        return row.entry.model.parameters
    if column == "name":
        return row.name.lower()
    if column in row.scores:
        return row.scores[column]
    raise ValueError(
        f"cannot sort by {column!r}, not a column shown: choose {', '.join(SORT_COLUMNS)} or "
        f"a task shown ({', '.join(row.scores) or 'none'})"
    )


@dataclass(frozen=True)
class PlotView:
    """What the Pareto plot is drawn over: its rows (retention over ``tasks``), whether the
    board chose the tasks (no ``--tasks``), and the tasks it left out, each with the linked
    teachers that did not learn it (``left_out``) or the linked models without a score on
    it (``unscored``)."""

    rows: list[Row]
    tasks: list[str]
    chosen_by_board: bool
    left_out: dict[str, list[str]] = field(default_factory=dict)
    unscored: dict[str, list[str]] = field(default_factory=dict)  # task -> linked models
    shared: bool = True  # False: no task is learned and scored by all, so none was left out


@dataclass(frozen=True)
class _Scored:
    """A board task score in the shape a family's near-chance rule reads (a run's task
    result); an entry made before label counts were kept falls back to guessing among the
    task's labels."""

    main_score: float
    main_score_name: str
    metrics: dict
    n_examples: Counts
    label_mapping: dict
    label_counts: dict | None = None


def learned(task: str, score: TaskEntry) -> bool:
    """Whether a teacher's score shows it learned the task: above 0 (a retained percent of
    a score at or below 0 is undefined) and not near chance by its family's rule."""
    if score.main_score <= 0:
        return False
    spec = TASKS.get(task)
    if spec is None:
        return True
    labels = spec.label_names or []
    scored = _Scored(
        score.main_score,
        score.main_score_name,
        dict(score.metrics),
        score.n_examples,
        {"model_to_task": {str(i): i for i in range(len(labels))}},
        dict(score.label_counts) if score.label_counts else None,
    )
    return not family_for(spec.family).near_chance(scored)


def plot_view(entries: list[Entry], rows: list[Row], tasks: list[str], chosen: bool) -> PlotView:
    """The plot over the user's ``--tasks`` (``chosen``), else over the tasks every linked
    teacher learned and every linked teacher and student scored: a share of a near-chance
    score measures noise, and a retention mean is taken only over every task shown, so one
    such task, or one a group of entries was not run on (a board of several suites' worth
    of tasks), would leave those students off the plot."""
    if chosen:
        return PlotView(rows, tasks, chosen_by_board=False)
    students = [r for r in rows if r.teacher_row is not None]
    teachers = {id(r.teacher_row): r.teacher_row for r in students}
    left_out: dict[str, list[str]] = {}
    unscored: dict[str, list[str]] = {}
    for task in tasks:
        for teacher in teachers.values():
            score = teacher.entry.tasks.get(task)
            if score is None:
                unscored.setdefault(task, []).append(teacher.name)
            elif not learned(task, score):
                left_out.setdefault(task, []).append(teacher.name)
        missing = [r.name for r in students if task not in r.entry.tasks]
        # a student that teaches another is named once
        unscored[task] = list(dict.fromkeys(unscored.get(task, []) + missing))
    unscored = {task: names for task, names in unscored.items() if names}
    kept = [t for t in tasks if t not in left_out and t not in unscored]
    if not (left_out or unscored):
        return PlotView(rows, tasks, chosen_by_board=True)
    if not kept:  # no task is shared: every task, and the page says why none could be kept
        return PlotView(rows, tasks, True, left_out, unscored, shared=False)
    return PlotView(build_rows(entries, kept), kept, True, left_out, unscored)
