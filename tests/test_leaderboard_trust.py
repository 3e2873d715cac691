"""How sure the board's numbers are: each score's interval drawn by the board from the
predictions committed beside it, a student's paired retention interval, agreement and flips
against its teacher's entry (equal to hand counts and to benchmark.paired), the note on what
cannot be paired, older entries without these fields, `bench leaderboard check` drawing them
again, and every rendering showing them (the web page in a real Chromium, within 1,280 px).

The board here is the repository's two sample-data submissions (a teacher and a student cut
from it, with their predictions), copied beside a board in a temporary folder."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import datasets
import pytest
from leaderboard_helpers import make_entry
from rich.console import Console

from benchmark.bootstrap import RESAMPLES, interval_record, unit_ids, unit_scores_for
from benchmark.families import family_for
from benchmark.markdown import md_escape
from benchmark.paired import Pairing
from benchmark.results import read_jsonl
from benchmark.tasks import TASKS
from leaderboard import html_page, render
from leaderboard.board import build_rows
from leaderboard.cells import notes
from leaderboard.entry import Entry, canonical_id
from leaderboard.store import read_board
from leaderboard.trust_cells import detail_cells, task_title
from leaderboard.validation import SubmissionError, load_submission
from tests.helpers import bench

SUBMISSIONS = Path(__file__).parent.parent / "leaderboard" / "submissions"
TEACHER = "all-MiniLM-L6-v2"
STUDENT = "all-MiniLM-L6-v2-3-layers-0-2-4"
NOW = "2026-11-26T12:00:00+00:00"


def copy_submissions(folder: Path) -> Path:
    shutil.copytree(SUBMISSIONS, folder / "submissions")
    return folder / "submissions"


def submit(board: Path, result: Path, *options: str) -> str:
    done = bench("submit", str(result), "--leaderboard", str(board), *options)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def sample_board(tmp_path_factory) -> Path:
    """The two sample submissions submitted, teacher first, beside a fresh board."""
    folder = tmp_path_factory.mktemp("trust")
    kept = copy_submissions(folder)
    board = folder / "leaderboard.json"
    submit(board, kept / f"{TEACHER}.json")
    said = submit(board, kept / f"{STUDENT}.json")
    assert "paired with its teacher's entry" in said and "on 10 of 10 tasks" in said
    return board


def rows_of(board: Path, tasks: list[str]):
    entries = read_board(board).entries
    return {row.name: row for row in build_rows(entries, tasks)}


def by_id(path: Path) -> dict[str, dict]:
    return {str(row["id"]): row for row in read_jsonl(path)}


def test_each_score_interval_is_the_one_bench_run_draws(sample_board):
    entries = {e.model.name: e for e in read_board(sample_board).entries}
    for name in (TEACHER, STUDENT):
        assert entries[name].source == f"submissions/{name}.json"
        for task in ("sst2", "conll2003", "squad", "gonerd"):
            spec = TASKS[task]
            rows = read_jsonl(SUBMISSIONS / f"{name}.predictions" / f"{task}.jsonl")
            scores = unit_scores_for(family_for(spec.family), spec, rows)
            expected, info = interval_record([scores], RESAMPLES)
            held = entries[name].tasks[task]
            assert held.main_score_ci95 == pytest.approx(expected)
            assert held.main_score_ci95[0] <= held.main_score <= held.main_score_ci95[1]
            assert held.bootstrap.drawn_by == "board" and held.bootstrap.unit == info.unit
    assert entries[TEACHER].tasks["sst2"].bootstrap.unit == "sentence"
    assert entries[TEACHER].tasks["gonerd"].bootstrap.unit == "document"


def test_agreement_and_flips_equal_hand_counts_and_benchmark_paired(sample_board):
    row = rows_of(sample_board, ["sst2", "rte", "conll2003", "triviaqa"])[STUDENT]
    for task in ("sst2", "rte"):
        teacher = by_id(SUBMISSIONS / f"{TEACHER}.predictions" / f"{task}.jsonl")
        student = by_id(SUBMISSIONS / f"{STUDENT}.predictions" / f"{task}.jsonl")
        same = sum(student[i]["prediction"] == t["prediction"] for i, t in teacher.items())
        right = {i: t["prediction"] == t["reference"] for i, t in teacher.items()}
        student_right = {i: s["prediction"] == s["reference"] for i, s in student.items()}
        lost = sum(right[i] and not student_right[i] for i in teacher)
        gained = sum(student_right[i] and not right[i] for i in teacher)
        paired = row.paired[task]
        assert paired.agreement == pytest.approx(100 * same / len(teacher))
        assert (paired.flips.correct_to_wrong, paired.flips.wrong_to_correct) == (lost, gained)
    assert (row.paired["sst2"].flips.correct_to_wrong, row.paired["rte"].agreement) == (13, 43.75)
    # the interval is benchmark.paired's, over the same units for both
    results = {n: load_submission(SUBMISSIONS / f"{n}.json") for n in (TEACHER, STUDENT)}
    pairing = Pairing(SUBMISSIONS / f"{STUDENT}.json", SUBMISSIONS / f"{TEACHER}.json")
    for task in ("sst2", "rte", "conll2003"):
        found = pairing.task(task, results[STUDENT].tasks[task], results[TEACHER].tasks[task])
        assert row.paired[task].retained_percent_ci95 == pytest.approx(found.retained_percent_ci95)
        assert row.paired[task].agreement == pytest.approx(found.agreement)
    low, high = row.paired["rte"].retained_percent_ci95
    assert row.retained["rte"] == pytest.approx(100 * 50 / 37.5)
    assert low <= row.retained["rte"] <= high
    # each says what it counts: sentences, pairs; entities in a GONERD document
    both = rows_of(sample_board, ["gonerd"])
    gonerd = both[STUDENT]
    units = {t: row.paired[t].agreement_unit for t in ("sst2", "rte", "conll2003")}
    assert units == {"sst2": "sentence", "rte": "pair", "conll2003": "sentence"}
    assert gonerd.paired["gonerd"].agreement_unit == "entity"
    _, (line,) = detail_cells(list(both.values()), ["gonerd"], "score")
    assert line[4:6] == ["100.0% (entities)", "0 lost / 0 gained (entities)"]
    # triviaqa's sample holds a question twice (two sets of evidence): the second is its
    # own unit, paired with the teacher's second, and nothing is left unpaired
    rows = read_jsonl(SUBMISSIONS / f"{STUDENT}.predictions" / "triviaqa.jsonl")
    assert unit_ids(rows) == ["tc_2", "tc_33", "tc_33#2", "tc_40"]
    assert row.paired["triviaqa"].agreement_unit == "question"
    assert row.paired["triviaqa"].flips is not None
    assert row.trust_notes == [  # paired, though one in four questions cannot bound a ratio
        "no paired interval of the retained percent on triviaqa (the teacher's score reaches "
        "0 on some resample)"
    ]


def test_every_rendering_shows_the_intervals_and_paired_numbers(sample_board):
    tasks = ["sst2", "rte"]
    rows = list(rows_of(sample_board, tasks).values())
    student = next(r for r in rows if r.name == STUDENT)
    score_low, score_high = student.entry.tasks["sst2"].main_score_ci95
    ret_low, ret_high = student.paired["sst2"].retained_percent_ci95
    score_text = f"46.88 [{score_low:.1f}–{score_high:.1f}]"
    retained_text = f"100.0% [{ret_low:.1f}–{ret_high:.1f}]"
    markdown = render.as_markdown(rows, tasks, "score")
    assert md_escape(f"{score_text} (100.0%)") in markdown
    _, details = detail_cells(rows, tasks, "score")
    assert [STUDENT, "sst2", score_text, retained_text, "59.4%", "13 lost / 13 gained", "–"] in (
        details
    )
    console = Console(width=250, record=True, file=io.StringIO())
    console.print(render.as_table(rows, tasks, "score"))
    table = console.export_text()
    assert "13 lost / 13 gained" in table and retained_text in table
    record = next(r for r in json.loads(render.as_json(rows, tasks, "score"))["rows"] if r["depth"])
    assert record["trust"]["sst2"]["agreement"] == pytest.approx(59.375)
    assert record["trust"]["sst2"]["retained_ci95"] == pytest.approx([ret_low, ret_high])
    table = {
        r["model"]: r for r in csv.DictReader(io.StringIO(render.as_csv(rows, tasks, "score")))
    }
    assert float(table[STUDENT]["retained_ci95_low:sst2"]) == pytest.approx(ret_low)
    assert table[STUDENT]["flips_wrong_to_correct:rte"] == "22"
    assert table[TEACHER]["agreement:sst2"] == ""  # a teacher has none
    page = html_page.as_html(rows, tasks, "score")
    title = task_title(student, "sst2")
    assert "agreement 59.4%" in title and "flips 13 lost / 13 gained" in title
    assert f'title="{title}"' in page and '<table id="details">' in page


def test_a_student_without_predictions_is_not_paired_and_the_board_says_why(tmp_path):
    kept = copy_submissions(tmp_path)
    data = json.loads((kept / f"{STUDENT}.json").read_text())
    for task in data["tasks"].values():  # a run saved without --save-predictions
        task["predictions_file"] = task["predictions_sha256"] = None
    (kept / "unsaved.json").write_text(json.dumps(data))
    board = tmp_path / "leaderboard.json"
    submit(board, kept / f"{TEACHER}.json")
    said = submit(board, kept / "unsaved.json")
    assert "score intervals: 0 of 10 tasks" in said and "on 0 of 10 tasks" in said
    row = rows_of(board, ["sst2", "rte"])[STUDENT]
    assert row.paired == {} and row.retained["sst2"] == pytest.approx(100.0)
    assert row.trust_notes == [
        "no score interval on sst2, rte (its entry holds none: submit it again from under "
        "the board's folder, its predictions beside it, for the board to draw one)",
        "not paired with its teacher on sst2 (the student's predictions of sst2 were not saved "
        "(run with --save-predictions)); rte (the student's predictions of rte were not saved "
        "(run with --save-predictions))",
    ]
    shown = notes(list(rows_of(board, ["sst2", "rte"]).values()))
    assert sum(n.startswith(f"{STUDENT}: not paired") for n in shown) == 1
    assert task_title(row, "sst2") == "sst2: 46.88; no interval; retained 100.0%"


def test_a_hand_made_student_has_no_pairing_and_the_note_says_how_to_get_one():
    teacher = make_entry("teacher", {"sst2": 90.0})
    student = make_entry("student", {"sst2": 81.0}, teacher="teacher")
    row = {r.name: r for r in build_rows([teacher, student], ["sst2"])}["student"]
    assert row.retained["sst2"] == pytest.approx(90.0) and row.paired == {}
    assert row.trust_notes[1].startswith(
        "not paired with its teacher on sst2 (the board holds no pairing with this teacher entry"
    )


def test_submitting_the_teacher_after_its_student_pairs_them(tmp_path):
    kept = copy_submissions(tmp_path)
    board = tmp_path / "leaderboard.json"
    submit(board, kept / f"{STUDENT}.json")
    assert read_board(board).entries[0].paired is None  # no teacher on the board yet
    submit(board, kept / f"{TEACHER}.json")
    student, teacher = read_board(board).entries
    assert student.paired.teacher_entry_id == teacher.entry_id
    assert student.paired.tasks["sst2"].agreement == pytest.approx(59.375)
    assert bench("leaderboard", "check", str(board)).returncode == 0


def test_a_result_from_outside_the_boards_folder_keeps_its_own_interval(tmp_path):
    kept = copy_submissions(tmp_path / "elsewhere")
    data = json.loads((kept / f"{TEACHER}.json").read_text())
    data["tasks"]["sst2"]["main_score_ci95"] = [40.0, 52.5]
    data["tasks"]["sst2"]["bootstrap"] = {"resamples": 200, "seed": 1, "unit": "sentence"}
    data["tasks"]["gonerd"]["long_context"] = {
        "max_length_full": 4096,
        "full": 12.5,
        "truncated_512": 9.25,
        "gain": 3.25,
        "gain_ci95": [1.0, 5.5],
        "buckets": {"512+": {"n_examples": 3, "full": 10, "truncated_512": 8, "gain": 2}},
    }
    result = kept / f"{TEACHER}.json"  # beside its predictions, as submitted
    result.write_text(json.dumps(data))
    entry = Entry.from_result(load_submission(result), result, NOW, board_dir=tmp_path / "board")
    assert entry.source is None
    assert entry.tasks["sst2"].main_score_ci95 == [40.0, 52.5]
    assert entry.tasks["sst2"].bootstrap.drawn_by == "result"
    assert entry.tasks["rte"].main_score_ci95 is None  # the result reports none
    gain = entry.tasks["gonerd"].long_context
    assert (gain.gain, gain.gain_ci95, gain.buckets["512+"].gain) == (3.25, [1.0, 5.5], 2.0)
    row = build_rows([entry], ["gonerd"])[0]
    _, details = detail_cells([row], ["gonerd"], "score")
    assert details[0][-1] == "+3.25 [1.0–5.5] (4096 vs 512 tokens)"
    for bad, said in (([52.5, 40.0], "low end"), ([40.0, float("inf")], "finite")):
        data["tasks"]["sst2"]["main_score_ci95"] = bad
        result.write_text(json.dumps(data))
        with pytest.raises(SubmissionError, match="main_score_ci95") as refused:
            Entry.from_result(load_submission(result), result, NOW)
        assert said in str(refused.value) or "number" in str(refused.value)


def test_older_entries_without_the_fields_keep_their_ids_load_and_render():
    entry = make_entry("old", {"sst2": 80.0}, speed={512: 10.0})
    content = entry.model_dump(mode="json")
    for task in content["tasks"].values():  # as written before these fields existed
        for key in ("main_score_ci95", "bootstrap", "long_context"):
            del task[key]
    del content["source"], content["paired"]
    loaded = Entry.model_validate(content)
    assert canonical_id(content) == loaded.entry_id == canonical_id(loaded.model_dump())
    rows = build_rows([loaded], ["sst2"])
    assert rows[0].trust_notes == [
        "no score interval on sst2 (its entry holds none: submit it again from under the "
        "board's folder, its predictions beside it, for the board to draw one)"
    ]
    assert "| 80.00 |" in render.as_markdown(rows, ["sst2"], "score")
    (line,) = csv.DictReader(io.StringIO(render.as_csv(rows, ["sst2"], "score")))
    assert line["score:sst2"] == "80.0" and line["score_ci95_low:sst2"] == ""
    page = html_page.as_html(rows, ["sst2"], "score")
    assert 'title="sst2: 80.00; no interval">80.00</td>' in page
    assert '<table id="details">' not in page  # nothing paired, no long-context gain


def test_check_draws_again_and_refuses_a_hand_edit(sample_board, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(sample_board.parent, folder)
    board = folder / "leaderboard.json"
    assert bench("leaderboard", "check", str(board)).returncode == 0
    data = json.loads(board.read_text())
    student = next(e for e in data["entries"] if e["model"]["name"] == STUDENT)
    student["paired"]["tasks"]["sst2"]["agreement"] = 99.0  # outside the id's hash
    board.write_text(json.dumps(data))
    checked = bench("leaderboard", "check", str(board))
    assert checked.returncode == 2 and "paired.tasks.sst2: not what both entries'" in checked.stderr
    student["paired"]["tasks"]["sst2"]["agreement"] = 59.375
    # a GONERD pairing written before agreement counted entities: named as such, with the fix
    gonerd = student["paired"]["tasks"]["gonerd"]
    gonerd |= {"agreement": 50.0, "agreement_unit": None}
    board.write_text(json.dumps(data))
    checked = bench("leaderboard", "check", str(board))
    assert checked.returncode == 2, checked.stderr
    assert "gonerd: paired before agreement and flips counted entities" in checked.stderr
    assert "--recompute --replace" in checked.stderr
    gonerd["agreement"] = 100.0  # as the sample's is: neither model tags an entity
    # a narrower interval, the entry's id made to match it, is drawn again and refused
    student["tasks"]["sst2"]["main_score_ci95"] = [45.0, 48.0]
    student["entry_id"] = canonical_id(student)
    board.write_text(json.dumps(data))
    checked = bench("leaderboard", "check", str(board))
    assert checked.returncode == 2 and "tasks.sst2.main_score_ci95: [45.0, 48.0]" in checked.stderr
    # a committed predictions file changed after submission: its numbers cannot stand
    student["tasks"]["sst2"]["main_score_ci95"] = json.loads(sample_board.read_text())["entries"][
        1
    ]["tasks"]["sst2"]["main_score_ci95"]
    student["entry_id"] = canonical_id(student)
    board.write_text(json.dumps(data))
    assert bench("leaderboard", "check", str(board)).returncode == 0
    predictions = folder / "submissions" / f"{TEACHER}.predictions" / "rte.jsonl"
    predictions.write_text(predictions.read_text().replace('"entailment"', '"not_entailment"', 1))
    checked = bench("leaderboard", "check", str(board))
    assert checked.returncode == 2 and "entries.0.tasks.rte.main_score_ci95" in checked.stderr


def test_the_export_types_the_new_columns(sample_board, tmp_path, cache_dir):
    done = bench("leaderboard", "export", str(tmp_path / "out"), "--leaderboard", str(sample_board))
    assert done.returncode == 0, done.stderr
    loaded = datasets.load_dataset(str(tmp_path / "out"), cache_dir=cache_dir)["train"]
    assert loaded.features["score_ci95:sst2"] == datasets.List(datasets.Value("float64"))
    assert loaded.features["flips_correct_to_wrong:sst2"] == datasets.Value("int64")
    teacher, student = loaded.to_list()
    assert student["flips_correct_to_wrong:sst2"] == 13 and student[
        "agreement:rte"
    ] == pytest.approx(43.75)
    assert teacher["agreement:sst2"] is None and len(teacher["score_ci95:sst2"]) == 2
    sst2 = next(t for t in student["tasks"] if t["task"] == "sst2")
    assert sst2["score_ci95_drawn_by"] == "board" and sst2["flips_correct_to_wrong"] == 13


def test_each_details_line_carries_its_own_entrys_data_label(sample_board):
    """Two entries of one model name under different data labels: the page's filter shows
    each one's details lines under its own label, not both under the last one's."""
    teacher, student = read_board(sample_board).entries
    tasks = list(teacher.tasks)
    other = student.model_copy(update={"data_label": "other"})
    other = other.model_copy(update={"entry_id": canonical_id(other.model_dump(mode="json"))})
    assert other.entry_id != student.entry_id
    page = html_page.as_html(build_rows([teacher, student, other], tasks), tasks, "score")
    details = page[page.index('<table id="details">') :]
    per_label = [details.count(f'<tr data-data="{label}">') for label in ("sample", "other")]
    assert per_label == [len(tasks), len(tasks)]


@pytest.mark.browser
def test_the_page_with_intervals_fits_1280_pixels_in_chromium(sample_board, tmp_path):
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("no Chromium found (Debian's chromium; .ci/run installs it)")
    entries = read_board(sample_board).entries
    tasks = list(entries[0].tasks)
    rows = build_rows(entries, tasks)
    page_file = tmp_path / "board.html"
    page_file.write_text(html_page.as_html(rows, tasks, "score"), encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        cell = page.locator("#board tbody tr.student td.task").nth(tasks.index("sst2"))
        assert cell.inner_text() == "46.88 (100.0%)"  # the interval is in its tooltip
        assert "flips 13 lost / 13 gained" in cell.get_attribute("title")
        assert page.locator("#details tbody tr").count() == len(tasks)
        # the data filter hides the details of the other data's students too
        teacher, student = entries
        other = [teacher, student.model_copy(update={"data_label": "other"})]
        page_file.write_text(html_page.as_html(build_rows(other, tasks), tasks, "score"))
        page.goto(page_file.as_uri())
        page.select_option("#data-filter", "sample")
        assert page.locator("#details tbody tr:visible").count() == 0
        shown = page.locator("#notes div:visible").all_inner_texts()
        assert not any(line.startswith(student.model.name) for line in shown), shown
        page.select_option("#data-filter", "other")
        assert page.locator("#details tbody tr:visible").count() == len(tasks)
        shown = page.locator("#notes div:visible").all_inner_texts()
        assert shown and all(line.startswith(student.model.name) for line in shown), shown
        browser.close()


@pytest.mark.slow
def test_the_boards_numbers_are_the_ones_bench_run_wrote(
    tiny_bert, tiny_result, tmp_path, quick_profiles
):
    from baselines.student import cut_layers
    from benchmark import runner
    from benchmark.results import predictions_dir
    from benchmark.run_result import read_result
    from tests.helpers import run_config

    kept = tmp_path / "submissions"
    kept.mkdir()
    shutil.copy(tiny_result, kept / "tiny-bert.json")
    shutil.copytree(predictions_dir(tiny_result), kept / "tiny-bert.predictions")
    cut_layers(str(tiny_bert), tmp_path / "student", [0])
    config = run_config(
        tmp_path / "student",
        "sst2,conll2003",
        kept / "student.json",
        name="tiny-student",
        teacher=str(kept / "tiny-bert.json"),
        batch_size=16,
    )
    student_file = runner.run(config)
    board = tmp_path / "leaderboard.json"
    submit(board, kept / "tiny-bert.json", "--recompute")
    submit(board, student_file, "--recompute")
    teacher_entry, student_entry = read_board(board).entries
    for entry, path in ((teacher_entry, kept / "tiny-bert.json"), (student_entry, student_file)):
        written = read_result(path)
        for task, held in entry.tasks.items():
            assert held.bootstrap.drawn_by == "board" and held.main_score_ci95 is not None
            assert held.main_score_ci95 == pytest.approx(written.tasks[task].main_score_ci95)
    retention = read_result(student_file).retention.tasks
    assert student_entry.paired.teacher_entry_id == teacher_entry.entry_id
    assert set(student_entry.paired.tasks) == {"sst2", "conll2003"}
    assert student_entry.paired.tasks["sst2"].retained_percent_ci95 is not None
    for task, paired in student_entry.paired.tasks.items():
        own = retention[task]
        assert paired.reason is None and own.unpaired_reason is None
        assert paired.retained_percent_ci95 == pytest.approx(own.retained_percent_ci95)
        assert paired.agreement == pytest.approx(own.agreement)
        assert paired.flips.model_dump() == own.flips.model_dump()
    assert bench("leaderboard", "check", str(board)).returncode == 0
