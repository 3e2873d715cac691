"""The seed spread of a student's retained percent, from the two entries' own seed scores.

Both entries keep each seed's main score where they were run over several seeds. Seed
``s`` of the student is set against seed ``s`` of its teacher (the same fine-tuning seed,
the same data order), so per task the spread is the sample standard deviation over the
shared seeds of ``100 x student_s / teacher_s``, and for the mean over tasks that of each
seed's mean of those ratios: the board's retained mean, taken seed by seed (only where
every task ran the same seeds). There is none where either side has one seed, the two were
run over different seeds, or a teacher seed scored 0 or less (its ratio is undefined).
"""

from __future__ import annotations

import statistics

from leaderboard.entry import Entry


def seed_ratios(student: Entry, teacher: Entry, task: str) -> list[float] | None:
    """Each shared seed's retained percent on ``task``, in seed order, or None."""
    mine, theirs = student.tasks.get(task), teacher.tasks.get(task)
    if mine is None or theirs is None:
        return None
    if not (mine.seeds and mine.seed_scores and theirs.seeds and theirs.seed_scores):
        return None
    if len(mine.seeds) < 2 or mine.seeds != theirs.seeds:
        return None
    if any(score <= 0 for score in theirs.seed_scores):
        return None
    return [100 * s / t for s, t in zip(mine.seed_scores, theirs.seed_scores)]


def retained_spread(
    student: Entry, teacher: Entry, tasks: list[str]
) -> tuple[dict[str, float | None], float | None]:
    """Per task and for the mean over ``tasks``, the spread over seeds (module docstring);
    the mean's only where every task has one."""
    ratios = {t: seed_ratios(student, teacher, t) for t in tasks}
    per_task = {t: statistics.stdev(r) if r else None for t, r in ratios.items()}
    if not tasks or any(r is None for r in ratios.values()):
        return per_task, None
    if len({tuple(student.tasks[t].seeds or ()) for t in tasks}) > 1:
        return per_task, None  # the tasks ran other seeds: no seed's mean over them
    per_seed = [statistics.fmean(column) for column in zip(*ratios.values())]
    return per_task, statistics.stdev(per_seed)
