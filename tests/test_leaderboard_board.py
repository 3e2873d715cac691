"""What the board computes itself, on hand-made entries whose right answers are worked out
in the test: retention, completeness of aggregates, speed-ups, the Pareto front, teacher
links and a result's own retention checked."""

from __future__ import annotations

import pytest
from leaderboard_helpers import make_entry

from benchmark.pareto import pareto_front
from leaderboard.board import build_rows, ordered, select_tasks

TEACHER = make_entry("teacher", {"sst2": 90.0, "gonerd": 80.0}, speed={512: 100.0, 4096: 1000.0})
# Keeps 81/90 = 90 % and 78/80 = 97.5 %: mean 93.75, worst sst2; 1000/500 = 2x at 4096
FAST = make_entry(
    "fast", {"sst2": 81.0, "gonerd": 78.0}, speed={512: 60.0, 4096: 500.0}, teacher="teacher"
)
# Keeps 88/90 = 97.78 % and 80/80 = 100 %: mean 98.89; 1000/800 = 1.25x
CLOSE = make_entry("close", {"sst2": 88.0, "gonerd": 80.0}, speed={4096: 800.0}, teacher="teacher")
# Keeps 72/90 = 80 % and 60/80 = 75 %: mean 77.5; 1000/600 = 1.67x: dominated by FAST
WORSE = make_entry("worse", {"sst2": 72.0, "gonerd": 60.0}, speed={4096: 600.0}, teacher="teacher")
# Only one of the two tasks: no aggregate
PARTIAL = make_entry("partial", {"sst2": 85.0}, speed={4096: 400.0}, teacher="teacher")


def rows_by_name(entries, tasks=None):
    tasks = tasks or select_tasks(entries, None)
    return {row.name: row for row in build_rows(entries, tasks)}


def test_retention_per_task_its_mean_and_its_worst_task():
    rows = rows_by_name([TEACHER, FAST, CLOSE])
    fast = rows["fast"]
    assert fast.teacher_row.name == "teacher" and fast.link is None
    assert fast.retained == {"sst2": pytest.approx(90.0), "gonerd": pytest.approx(97.5)}
    assert fast.retained_mean == pytest.approx(93.75)
    assert fast.retained_min == (pytest.approx(90.0), "sst2")
    assert rows["close"].retained_mean == pytest.approx((100 * 88 / 90 + 100.0) / 2)
    # the teacher's own mean score over both tasks
    assert rows["teacher"].score_mean == pytest.approx(85.0)


def test_aggregates_only_over_entries_with_every_task():
    rows = rows_by_name([TEACHER, FAST, PARTIAL])
    partial = rows["partial"]
    assert partial.missing == ["gonerd"]
    assert partial.score_mean is None and partial.retained_mean is None
    assert partial.retained_min is None
    assert partial.retained == {"sst2": pytest.approx(100 * 85 / 90), "gonerd": None}
    # a selection of sst2 alone makes it complete: its mean is then over that one task
    only_sst2 = rows_by_name([TEACHER, PARTIAL], ["sst2"])["partial"]
    assert only_sst2.retained_mean == pytest.approx(100 * 85 / 90)


def test_a_teacher_score_of_zero_leaves_the_mean_undefined_and_says_why():
    teacher = make_entry("teacher", {"sst2": 90.0, "cola": 0.0})
    student = make_entry("student", {"sst2": 81.0, "cola": 5.0}, teacher="teacher")
    row = rows_by_name([teacher, student])["student"]
    assert row.retained == {"sst2": pytest.approx(90.0), "cola": None}
    assert row.retained_mean is None and row.retained_min is None
    assert row.notes == [
        "no retention mean: its teacher scored 0 or less on cola (choose other tasks with --tasks)"
    ]
    assert rows_by_name([teacher, student], ["sst2"])["student"].retained_mean == pytest.approx(90)


def test_speedup_at_each_length_both_measured_on_the_same_device():
    rows = rows_by_name([TEACHER, FAST])
    shape = {
        "batch_size": 16,
        "dtype": "float32",
        "device": "cpu: Test CPU",
        "method": "separate runs",
    }
    assert rows["fast"].speedups == [
        {"seq_len": 512, **shape, "speedup": 100 / 60},
        {"seq_len": 4096, **shape, "speedup": 2.0},
    ]
    other_device = make_entry(
        "elsewhere",
        {"sst2": 81.0, "gonerd": 78.0},
        speed={4096: 10.0},
        teacher="teacher",
        device="Other GPU",
    )
    assert rows_by_name([TEACHER, other_device])["elsewhere"].speedups == []


def test_pareto_front_within_a_device_class():
    rows = rows_by_name([TEACHER, FAST, CLOSE, WORSE])
    front = {name: row.pareto["front"] for name, row in rows.items()}
    # points (retained, speed-up): teacher (100, 1), close (98.89, 1.25), fast (93.75, 2),
    # worse (77.5, 1.67): worse is beaten by fast on both; the others trade one for other
    assert front == {"teacher": True, "fast": True, "close": True, "worse": False}
    assert rows["worse"].pareto["speedup"] == pytest.approx(1000 / 600)
    assert pareto_front([(1, 1), (1, 1)]) == [True, True]  # equal points do not dominate
    assert pareto_front([(2, 1), (1, 1)]) == [True, False]


def test_fronts_are_per_shape_never_across_lengths():
    # at 4096 tokens: fast (93.75 %, 2x) and worse (77.5 %, 1.67x); at 512 only "short",
    # measured there alone: a 5x speed-up at 512 does not push fast off the 4096 front
    short = make_entry(
        "short", {"sst2": 81.0, "gonerd": 78.0}, speed={512: 20.0}, teacher="teacher"
    )
    rows = rows_by_name([TEACHER, FAST, WORSE, short])
    assert rows["fast"].pareto["seq_len"] == 4096 and rows["fast"].pareto["front"]
    assert rows["short"].pareto == {
        "device": "cpu: Test CPU",
        "seq_len": 512,
        "batch_size": 16,
        "dtype": "float32",
        "retained": pytest.approx(93.75),
        "speedup": pytest.approx(5.0),
        "method": "separate runs",
        "front": True,
    }
    assert rows["worse"].pareto["front"] is False


def test_self_links_and_loops_are_cut_and_every_entry_still_shows():
    selfish = make_entry("selfish", {"sst2": 80.0}, teacher="selfish")
    a = make_entry("a", {"sst2": 80.0}, teacher="b")
    b = make_entry("b", {"sst2": 80.0}, teacher="a")
    rows = build_rows([selfish, a, b], ["sst2"])
    by_name = {row.name: row for row in rows}
    assert by_name["selfish"].link == "it names itself as its teacher"
    assert {by_name["a"].link, by_name["b"].link} == {None, "its teacher links form a loop"}
    assert sorted(row.name for row, _ in ordered(rows)) == ["a", "b", "selfish"]


def test_a_student_links_only_to_its_teacher_on_the_same_suite_and_data():
    assert rows_by_name([FAST])["fast"].link == "no entry of its teacher teacher on the board"
    old = make_entry("teacher", {"sst2": 90.0}, suite="0.0.9")
    assert "suite version 0.0.9, not 0.1.0" in rows_by_name([old, FAST])["fast"].link
    other = make_entry("teacher", {"sst2": 90.0, "gonerd": 80.0}, data={"gonerd": "e" * 64})
    assert rows_by_name([other, FAST])["fast"].link == (
        "its teacher's entry scored gonerd on other data"
    )


def test_a_results_own_retention_is_checked_not_believed():
    honest = make_entry("honest", {"sst2": 81.0}, teacher="teacher", claimed={"sst2": 90.0})
    boastful = make_entry("boastful", {"sst2": 81.0}, teacher="teacher", claimed={"sst2": 99.0})
    rows = rows_by_name([TEACHER, honest, boastful], ["sst2"])
    assert rows["honest"].notes == []
    assert rows["boastful"].notes == [
        "the result file's own retention for sst2 (99.00%) differs from the board's (90.00%)"
    ]
    assert rows["boastful"].retained_mean == pytest.approx(90.0)  # the board's number


def test_students_are_listed_under_their_teacher():
    entries = [FAST, WORSE, TEACHER, CLOSE]
    order = [(row.name, depth) for row, depth in ordered(build_rows(entries, ["sst2"]), "score")]
    # the teacher first, its students under it by their own sst2-only mean score
    assert order == [("teacher", 0), ("close", 1), ("fast", 1), ("worse", 1)]
    by_retained = ordered(build_rows(entries, ["sst2", "gonerd"]), "retained")
    assert [row.name for row, _ in by_retained] == ["teacher", "close", "fast", "worse"]


def test_by_default_the_plot_is_drawn_over_the_tasks_every_linked_teacher_learned():
    """A teacher near chance on a task (entity F1 5 < 10) would leave its student off the
    plot; the board leaves that task out of the plot's mean and says so. --tasks wins."""
    from leaderboard.board import plot_view
    from leaderboard.html_page import as_html

    teacher = make_entry("T", {"conll2003": 80.0, "gonerd": 5.0}, speed={512: 10.0})
    student = make_entry("S", {"conll2003": 60.0, "gonerd": 4.0}, speed={512: 5.0}, teacher="T")
    entries = [teacher, student]
    tasks = ["conll2003", "gonerd"]
    rows = build_rows(entries, tasks)
    view = plot_view(entries, rows, tasks, chosen=False)
    assert view.tasks == ["conll2003"] and view.left_out == {"gonerd": ["T"]}
    (s,) = [r for r in view.rows if r.name == "S"]
    assert s.pareto["retained"] == pytest.approx(75.0) and s.pareto["speedup"] == 2.0
    page = as_html(rows, tasks, "score", view)
    assert (
        "every linked teacher learned (conll2003)" in page and "gonerd (not learned by T)" in page
    )
    assert page.count("<circle") == 2  # the student and its teacher at (100 %, 1x)
    # asked for both: the plot's mean is over both (80 % on gonerd here), as the table's
    asked = plot_view(entries, rows, tasks, chosen=True)
    assert asked.tasks == tasks and not asked.left_out
    (s,) = [r for r in asked.rows if r.name == "S"]
    assert s.pareto["retained"] == pytest.approx((75.0 + 80.0) / 2)
    # every teacher learned every task: nothing is left out
    learned_all = plot_view(entries, rows, ["conll2003"], chosen=False)
    assert learned_all.tasks == ["conll2003"] and learned_all.chosen_by_board


def test_two_suites_on_one_board_are_plotted_over_the_tasks_both_ran():
    """Entries run on other tasks (the sample suite's ten, a study's four) share only some:
    a mean over a task one side lacks would leave every student of that side off the plot,
    so by default the plot keeps the tasks every linked teacher learned and every linked
    teacher and student scored, and says which it left out and why."""
    from leaderboard.board import plot_view
    from leaderboard.html_page import as_html

    sample_t = make_entry("ST", {"sst2": 90.0, "conll2003": 80.0, "squad": 5.0}, speed={4096: 10.0})
    sample_s = make_entry(
        "SS", {"sst2": 45.0, "conll2003": 60.0, "squad": 4.0}, speed={4096: 5.0}, teacher="ST"
    )
    study_t = make_entry("UT", {"conll2003": 50.0, "gonerd": 40.0}, speed={4096: 8.0})
    students = [
        make_entry(
            f"U{i}", {"conll2003": 40.0 + i, "gonerd": 30.0}, speed={4096: 4.0}, teacher="UT"
        )
        for i in range(3)
    ]
    entries = [sample_t, sample_s, study_t, *students]
    tasks = select_tasks(entries, None)
    rows = build_rows(entries, tasks)
    assert all(r.pareto is None for r in rows if r.teacher_row is not None)  # over every task
    view = plot_view(entries, rows, tasks, chosen=False)
    assert view.tasks == ["conll2003"]
    assert view.unscored == {
        "sst2": ["UT", "U0", "U1", "U2"],
        "squad": ["UT", "U0", "U1", "U2"],
        "gonerd": ["ST", "SS"],
    }
    assert view.left_out == {"squad": ["ST"]}  # near chance (span F1 5 < 10)
    placed = {r.name: r.pareto["retained"] for r in view.rows if r.pareto}
    assert placed["SS"] == pytest.approx(75.0) and placed["U2"] == pytest.approx(84.0)
    assert {"SS", "U0", "U1", "U2"} <= placed.keys()
    page = as_html(rows, tasks, "score", view)
    assert "every linked teacher and student scored (conll2003)" in page
    assert "sst2 (not scored by UT, U0, U1 and 1 more)" in page
    assert "gonerd (not scored by ST, SS)" in page
    assert "squad (not learned by ST; not scored by UT, U0, U1 and 1 more)" in page
    # no task shared: the plot keeps every task, and the page says why none could be kept
    lone = [make_entry("VT", {"gonerd": 40.0}), make_entry("VS", {"gonerd": 30.0}, teacher="VT")]
    apart = [sample_t, sample_s, *lone]
    apart_tasks = select_tasks(apart, None)
    view = plot_view(apart, build_rows(apart, apart_tasks), apart_tasks, chosen=False)
    assert view.tasks == apart_tasks and not view.shared
    assert "no task is learned by every linked teacher" in as_html(
        build_rows(apart, apart_tasks), apart_tasks, "score", view
    )
    # a student that teaches another is named once among those without a score
    chain = [
        make_entry("T", {"sst2": 90.0, "gonerd": 80.0}),
        make_entry("S1", {"sst2": 80.0}, teacher="T"),
        make_entry("S2", {"sst2": 70.0}, teacher="S1"),
    ]
    chain_view = plot_view(chain, build_rows(chain, ["sst2", "gonerd"]), ["sst2", "gonerd"], False)
    assert chain_view.unscored == {"gonerd": ["S1", "S2"]} and chain_view.tasks == ["sst2"]


def test_a_labels_own_plot_links_its_students_for_the_boards_reasons():
    """A data label's own plot (the page's filter) keeps every entry of the teachers its
    students name, so an unlinked student is unlinked for the board's reason, and lists
    only its own students as not placed."""
    from leaderboard.board import plot_view
    from leaderboard.html_filter import label_plots, label_views
    from leaderboard.html_plot import plot_html

    study = {"data_label": "study"}
    sample_teacher = make_entry(
        "ST", {"sst2": 90.0, "gonerd": 80.0}, {4096: 10.0}, sample_data=True
    )
    other_data = make_entry(
        "OT", {"sst2": 90.0, "gonerd": 80.0}, {4096: 10.0}, data={"gonerd": "f" * 64}
    )
    entries = [
        sample_teacher,
        other_data,
        make_entry("SS", {"sst2": 1.0}, {4096: 5.0}, "ST", sample_data=True),  # not placed
        make_entry("YS", {"gonerd": 40.0}, {4096: 5.0}, "OT", extra=study),
        make_entry("US", {"gonerd": 60.0}, {4096: 5.0}, "ST", extra=study),
    ]
    tasks = ["sst2", "gonerd"]
    rows = build_rows(entries, tasks)
    on_board = next(r for r in rows if r.name == "YS").link
    assert on_board and "other data" in on_board
    views = label_views(rows, tasks, "score")
    plots = dict(label_plots(rows, tasks, plot_view(entries, rows, tasks, False), views))
    view = plots["study"]
    assert next(r for r in view.rows if r.name == "YS").link == on_board
    page = plot_html(view, "study", "pareto-1")
    assert "YS" in page and "SS:" not in page
    assert {p.name for p in view.rows if p.pareto} == {"US", "ST"}


def _over_seeds(entry, seed_scores: dict[str, list[float]]):
    """``entry`` run over seeds 1, 2, 3 with these scores per task (their mean its score)."""
    content = entry.model_dump(mode="json")
    for task, scores in seed_scores.items():
        content["tasks"][task] |= {
            "seeds": [1, 2, 3],
            "seed_scores": scores,
            "main_score": sum(scores) / len(scores),
        }
    return type(entry).model_validate(content)


def test_retention_spread_over_seeds_is_taken_seed_by_seed():
    import statistics

    teacher = _over_seeds(TEACHER, {"sst2": [90.0, 80.0, 100.0], "gonerd": [80.0, 80.0, 80.0]})
    # seed by seed: sst2 keeps 90/90, 80/80, 100/100 = 100 % each (no spread, though the
    # seed means alone would suggest some); gonerd keeps 72, 76 and 80 of 80
    student = _over_seeds(FAST, {"sst2": [90.0, 80.0, 100.0], "gonerd": [72.0, 76.0, 80.0]})
    row = rows_by_name([teacher, student])["fast"]
    assert row.retained_std["sst2"] == pytest.approx(0.0)
    assert row.retained_std["gonerd"] == pytest.approx(statistics.stdev([90.0, 95.0, 100.0]))
    # each seed's mean over the two tasks: 95, 97.5, 100
    assert row.retained_mean_std == pytest.approx(statistics.stdev([95.0, 97.5, 100.0]))
    # one seed on either side, or other seeds: no spread
    assert rows_by_name([TEACHER, student])["fast"].retained_mean_std is None
    # tasks run over other seeds (each shared by student and teacher): per task, no mean
    shifted = {"seeds": [2, 3, 4]}
    content_s, content_t = student.model_dump(mode="json"), teacher.model_dump(mode="json")
    content_s["tasks"]["gonerd"] |= shifted
    content_t["tasks"]["gonerd"] |= shifted
    row = rows_by_name(
        [type(teacher).model_validate(content_t), type(student).model_validate(content_s)]
    )["fast"]
    assert row.retained_std["gonerd"] == pytest.approx(statistics.stdev([90.0, 95.0, 100.0]))
    assert row.retained_mean_std is None
    from leaderboard.cells import cells

    _, body = cells(build_rows([teacher, student], ["sst2", "gonerd"]), ["sst2", "gonerd"], "score")
    shown = next(line for line in body if line[0].endswith("fast"))
    assert shown[4] == "76.00 (95.0% ± 5.0)"  # gonerd: a mean of 76 of 80 kept, 95 %
    assert shown[6] == f"97.5% ± {statistics.stdev([95.0, 97.5, 100.0]):.1f}"


def test_every_label_has_its_own_plot_even_over_the_boards_tasks():
    """Two labels run on the same tasks: choosing one must not show the other's students,
    so each has a plot of its own entries and their teachers only."""
    from leaderboard.board import plot_view
    from leaderboard.html_filter import label_plots, label_views

    study = {"data_label": "study"}
    entries = [
        make_entry("ST", {"gonerd": 80.0}, {4096: 10.0}, sample_data=True),
        make_entry("SS", {"gonerd": 60.0}, {4096: 5.0}, "ST", sample_data=True),
        make_entry("YT", {"gonerd": 70.0}, {4096: 10.0}, extra=study),
        make_entry("YS", {"gonerd": 50.0}, {4096: 4.0}, "YT", extra=study),
    ]
    tasks = ["gonerd"]
    rows = build_rows(entries, tasks)
    views = label_views(rows, tasks, "score")
    assert views == {}  # neither label has fewer tasks than the page
    plots = dict(label_plots(rows, tasks, plot_view(entries, rows, tasks, False), views))
    assert set(plots) == {"sample", "study"}
    assert {r.name for r in plots["sample"].rows if r.pareto} == {"ST", "SS"}
    assert {r.name for r in plots["study"].rows if r.pareto} == {"YT", "YS"}
    one_label = [e for e in entries if e.data_name() == "study"]
    alone = build_rows(one_label, tasks)
    assert label_plots(alone, tasks, plot_view(one_label, alone, tasks, False), {}) == []
