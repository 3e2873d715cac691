"""The board in every format: escaped wherever a submission's text lands, and the web page
working in a real headless Chromium, opened from disk: rows, sorting, the plot, and no
script injected through a model name."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from leaderboard_helpers import make_entry

from leaderboard import html_page, html_plot, render
from leaderboard.board import build_rows, unplotted
from leaderboard.store import Board
from tests.helpers import bench

EVIL_SCRIPT = "<script>window.__injected = 1</script>"
EVIL_IMG = '<img src=x onerror="window.__injected = 2">'
ENTRIES = [
    make_entry("teacher", {"sst2": 90.0, "gonerd": 80.0}, speed={4096: 1000.0}),
    make_entry(EVIL_SCRIPT, {"sst2": 81.0, "gonerd": 78.0}, speed={4096: 500.0}, teacher="teacher"),
    make_entry(EVIL_IMG, {"sst2": 88.0, "gonerd": 80.0}, speed={4096: 800.0}, teacher="teacher"),
    make_entry(
        "=HYPERLINK(evil)|[x](javascript:y)",
        {"sst2": 72.0, "gonerd": 60.0},
        speed={4096: 600.0},
        teacher="teacher",
    ),
]
TASKS = ["sst2", "gonerd"]


def rows():
    return build_rows(ENTRIES, TASKS)


def test_markdown_shows_names_as_text():
    text = render.as_markdown(rows(), TASKS, "score")
    assert "<script>" not in text and "<img" not in text
    assert "&lt;script&gt;" in text
    assert "\\[x\\]\\(javascript:y\\)" in text and "\\|" in text  # no link, no extra column
    board, _, details = text.partition("\n\n")  # the board's table, then the details
    lines = board.splitlines()
    assert len(lines) == 2 + len(ENTRIES)
    assert all(line.count(" | ") == lines[0].count(" | ") for line in lines[2:])
    # the details: a line per student's task, every line with the header's columns
    table = [line for line in details.splitlines() if line.startswith("|")]
    assert len(table) == 2 + 3 * len(TASKS)
    assert all(line.count(" | ") == table[0].count(" | ") for line in table[2:])


def test_csv_and_json_keep_the_numbers_and_defuse_formulas():
    table = list(csv.DictReader(io.StringIO(render.as_csv(rows(), TASKS, "score"))))
    by_model = {r["model"]: r for r in table}
    assert by_model["'=HYPERLINK(evil)|[x](javascript:y)"]["teacher"] == "teacher"
    assert float(by_model[EVIL_SCRIPT]["retained_percent_mean"]) == pytest.approx(93.75)
    data = json.loads(render.as_json(rows(), TASKS, "score"))
    assert [r["model"] for r in data["rows"]][0] == "teacher"
    assert data["rows"][0]["score_mean"] == pytest.approx(85.0)


def test_the_page_escapes_every_name():
    page = html_page.as_html(rows(), TASKS, "score")
    assert EVIL_SCRIPT not in page and EVIL_IMG not in page
    assert page.count("<script>") == 1  # ours, and the page's policy allows only its hash
    assert "&lt;script&gt;window.__injected = 1&lt;/script&gt;" in page


def test_an_empty_plot_says_why_for_each_student():
    # the teacher scores 0 on cola: no retention mean over sst2,cola, so no point, and the
    # page names the task and the selection that would draw it; a student never timed
    # with its teacher says that instead
    entries = [
        make_entry("teacher", {"sst2": 90.0, "cola": 0.0}, speed={512: 100.0}),
        make_entry("kept", {"sst2": 81.0, "cola": 5.0}, speed={512: 50.0}, teacher="teacher"),
        make_entry("untimed", {"sst2": 80.0, "cola": 4.0}, teacher="teacher"),
    ]
    board = build_rows(entries, ["sst2", "cola"])
    assert unplotted(board, ["sst2", "cola"]) == [
        "kept: its teacher scored 0 or less on cola; --tasks sst2 would draw it",
        "untimed: its teacher scored 0 or less on cola",
    ]
    page = html_page.as_html(board, ["sst2", "cola"], "score")
    assert "No point can be drawn for these tasks:" in page and "<svg" not in page
    assert "<li>kept: its teacher scored 0 or less on cola; --tasks sst2 would draw it</li>" in page
    # with the selection it names, the point is drawn and only the untimed one is listed
    drawn = build_rows(entries, ["sst2"])
    assert unplotted(drawn, ["sst2"]) == [
        "untimed: no speed-up: it and its teacher were not timed at a shared length, batch, "
        "dtype and device"
    ]
    assert '<circle class="point' in html_page.as_html(drawn, ["sst2"], "score")


@pytest.mark.browser
def test_the_page_in_headless_chromium(tmp_path):
    import shutil

    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("no Chromium found (Debian's chromium; .ci/run installs it)")
    page_file = tmp_path / "board.html"
    page_file.write_text(html_page.as_html(rows(), TASKS, "score"), encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        # students indented under their teacher; retained % as a heat map (77.5 %: red)
        assert page.locator("#board tbody tr.student").count() == 3
        worst = page.locator("#board td", has_text="77.5%").first
        assert worst.get_attribute("style") == "background:rgb(230,120,130)"
        names = page.locator("#board tbody tr td.model").all_inner_texts()
        assert len(names) == len(ENTRIES) and names[0] == "teacher"
        assert any(EVIL_SCRIPT in n for n in names)  # shown as text
        # click "sst2": ascending scores, then descending
        page.locator("#board th", has_text="sst2").click()
        ascending = page.locator("#board tbody tr td:nth-child(4)").all_inner_texts()
        assert [float(t.split()[0]) for t in ascending] == [72.0, 81.0, 88.0, 90.0]
        page.locator("#board th", has_text="sst2").click()
        descending = page.locator("#board tbody tr td:nth-child(4)").all_inner_texts()
        assert [float(t.split()[0]) for t in descending] == [90.0, 88.0, 81.0, 72.0]
        # the plot: one point per model, the front marked (all but the 1.67x / 77.5% one)
        assert page.locator("#pareto circle.point").count() == len(ENTRIES)
        assert page.locator("#pareto circle.front").count() == 3
        assert page.evaluate("window.__injected === undefined")
        # the page fits a 1,280-pixel window: no sideways scrolling; a long name is cut with
        # an ellipsis and its whole text is the cell's tooltip
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        long_name = page.locator("#board td.model", has_text="HYPERLINK").first
        assert long_name.get_attribute("title") == "=HYPERLINK(evil)|[x](javascript:y)"
        # the data filter: a board mixing sample-data and full entries shows one kind
        mixed = tmp_path / "mixed.html"
        sampled = make_entry("on samples", {"sst2": 50.0, "gonerd": 40.0}, sample_data=True)
        labelled = make_entry(
            "study model",
            {"sst2": 60.0, "gonerd": 45.0},
            sample_data=True,
            extra={"data_label": "study", "budget": "40 pretraining steps"},
        )
        board_rows = build_rows([*ENTRIES, sampled, labelled], TASKS)
        mixed.write_text(html_page.as_html(board_rows, TASKS, "score"))
        page.goto(mixed.as_uri())
        options = page.locator("#data-filter option").all_inner_texts()
        assert options == ["all", "full", "sample", "study"]
        page.select_option("#data-filter", "sample")
        assert page.locator("#board tbody tr:visible td.model").all_inner_texts() == ["on samples"]
        page.select_option("#data-filter", "study")
        shown = page.locator("#board tbody tr:visible td.model")
        assert shown.all_inner_texts() == ["study model"]
        assert shown.get_attribute("title") == "study model; budget: 40 pretraining steps"
        page.select_option("#data-filter", "")
        assert page.locator("#board tbody tr:visible").count() == len(ENTRIES) + 2
        # two labels run on different tasks: a label chosen shows its rows over its own tasks
        # (its aggregates, its other task columns hidden), each student still linked to its
        # teacher whatever that teacher's label, and "all" restores the whole view
        two = tmp_path / "two-suites.html"
        study = {"data_label": "study"}
        suites = [
            make_entry("ST", {"sst2": 90.0, "gonerd": 80.0}, {4096: 1000.0}, sample_data=True),
            make_entry("SS", {"sst2": 81.0, "gonerd": 72.0}, {4096: 800.0}, "ST", sample_data=True),
            make_entry("UT", {"gonerd": 50.0}, {4096: 1000.0}, extra=study),
            make_entry("US", {"gonerd": 40.0}, {4096: 400.0}, "UT", extra=study),
            make_entry("XS", {"gonerd": 60.0}, {4096: 500.0}, "ST", extra=study),
        ]
        two.write_text(html_page.as_html(build_rows(suites, TASKS), TASKS, "score"))
        page.goto(two.as_uri())
        student = page.locator("#board tbody tr", has_text="US")
        whole = student.locator("td").all_inner_texts()
        assert "– (1/2 tasks)" in whole and "80.0%" not in whole
        page.select_option("#data-filter", "study")
        headers = page.locator("#board thead th:visible").all_inner_texts()
        assert "sst2" not in headers and "mean (1 task)" in headers
        assert "scored on every task shown (1 task)" in page.locator("body > p").first.inner_text()
        own = student.locator("td:visible").all_inner_texts()
        assert own[3:7] == ["40.00 (80.0%)", "40.00", "80.0%", "80.0% gonerd"]
        assert own[7].startswith("2.50x")
        crossed = page.locator("#board tbody tr", has_text="XS").locator("td:visible")
        assert crossed.all_inner_texts()[5] == "75.0%"  # its teacher ST is a sample entry
        # sorting reads the label's own numbers: by mean, the study's rows ascending
        page.get_by_role("columnheader", name="mean (1 task)", exact=True).click()
        visible = page.locator("#board tbody tr:visible td.model").all_inner_texts()
        assert [name.split(" ")[-1] for name in visible] == ["US", "UT", "XS"]
        # and its own Pareto plot: its students and the teachers they link to, over its tasks
        (plot,) = page.locator("div.plot:visible").all()
        assert plot.get_attribute("data-data") == "study"
        assert "(gonerd)" in plot.locator("p.plot-tasks").inner_text()
        models = set(plot.locator("circle.point").evaluate_all("c => c.map(p => p.dataset.model)"))
        assert {"US", "XS", "UT", "ST"} == models  # not the sample student SS
        page.select_option("#data-filter", "")
        assert student.locator("td").all_inner_texts() == whole
        assert page.locator("div.plot:visible").get_attribute("data-data") == ""
        assert "mean (2 tasks)" in page.locator("#board thead th").all_inner_texts()
        assert "scored on every task shown (2 tasks)" in page.locator("body > p").first.inner_text()
        page.goto(page_file.as_uri())
        # each row's permalink targets that row; the download is the board's CSV
        anchor = html_page.row_anchor(ENTRIES[1].entry_id)
        page.locator(f"#{anchor} td.permalink a").click()
        assert page.evaluate("location.hash") == f"#{anchor}"
        assert page.locator("tr:target td.model").get_attribute("title") == EVIL_SCRIPT
        download = page.locator("#csv-download")
        assert download.get_attribute("href").startswith("data:text/csv")
        with page.expect_download() as saved:
            download.click()
        assert saved.value.suggested_filename == "leaderboard.csv"
        downloaded = Path(saved.value.path()).read_bytes().decode("utf-8")
        assert downloaded == render.as_csv(rows(), TASKS, "score")
        page.screenshot(path=str(tmp_path / "board.png"), full_page=True)
        browser.close()
    assert (tmp_path / "board.png").stat().st_size > 10_000


@pytest.mark.slow
def test_a_bench_run_result_goes_through_submit_into_every_format(
    tiny_bert, tiny_result, tmp_path, quick_profiles
):
    board = tmp_path / "board.json"
    submitted = bench("submit", str(tiny_result), "--leaderboard", str(board), "--recompute")
    assert submitted.returncode == 0, submitted.stderr
    assert "added tiny-bert (recomputed" in submitted.stdout
    entry = Board.model_validate_json(board.read_text()).entries[0]
    result = json.loads(tiny_result.read_text())
    assert entry.tasks["sst2"].main_score == result["tasks"]["sst2"]["main_score"]
    assert entry.speed[0].seq_len == 32 and entry.model.parameters > 0
    for fmt in ("table", "md", "json", "csv", "html"):
        out = tmp_path / f"shown.{fmt}"
        shown = bench(
            "leaderboard", "--leaderboard", str(board), "--format", fmt, "--output", str(out)
        )
        assert shown.returncode == 0, shown.stderr
        assert "tiny-bert" in out.read_text(), fmt
    # a student cut from it (layer 0 of 2), run with it as the teacher, then submitted:
    # the board's retention is worked out here from the two result files
    from baselines.student import cut_layers
    from benchmark import runner
    from benchmark.config import RunConfig

    cut_layers(str(tiny_bert), tmp_path / "student", [0])  # the model tiny_result ran
    config = RunConfig(
        model=str(tmp_path / "student"),
        name="tiny-student",
        teacher=str(tiny_result),
        tasks="sst2,conll2003",
        data_dir="bundled",
        epochs=1.0,
        batch_size=16,
        save_predictions=True,
        speed_seq_len=[32],
        speed_batch_size=2,
        output=str(tmp_path / "student.json"),
    )
    student_file = runner.run(config)
    added = bench("submit", str(student_file), "--leaderboard", str(board), "--recompute")
    assert added.returncode == 0, added.stderr
    student = json.loads(student_file.read_text())
    data = json.loads(bench("leaderboard", "--leaderboard", str(board), "--format", "json").stdout)
    row = next(r for r in data["rows"] if r["model"] == "tiny-student")
    ratios = [
        100 * student["tasks"][t]["main_score"] / result["tasks"][t]["main_score"]
        for t in ("sst2", "conll2003")
    ]
    assert row["teacher"] == "tiny-bert" and row["depth"] == 1
    if all(result["tasks"][t]["main_score"] > 0 for t in ("sst2", "conll2003")):
        assert row["retained_percent_mean"] == pytest.approx(sum(ratios) / 2)
    else:  # a teacher score of 0 leaves the mean undefined, and the board says why
        assert row["retained_percent_mean"] is None and row["notes"]
    assert row["speedups"][0]["seq_len"] == 32
    teacher_ms = result["speed"]["measurements"][0]["latency_ms"]["median"]
    student_ms = student["speed"]["measurements"][0]["latency_ms"]["median"]
    assert row["speedups"][0]["speedup"] == pytest.approx(teacher_ms / student_ms)
    plotted = bench("leaderboard", "--leaderboard", str(board), "--plot", str(tmp_path / "p.png"))
    assert plotted.returncode == 0 and (tmp_path / "p.png").stat().st_size > 1000
    checked = bench("leaderboard", "check", str(board))
    assert checked.returncode == 0 and checked.stdout.strip().endswith("valid")


def test_labels_of_points_close_together_are_pushed_apart():
    import re

    # four students of one teacher within 0.2 % and 0.01x of each other, the teacher at 1x
    teacher = make_entry("t", {"sst2": 90.0}, speed={4096: 1000.0})
    students = [
        make_entry(f"s{i}", {"sst2": 81.0 + i / 10}, speed={4096: 500.0 - i}, teacher="t")
        for i in range(4)
    ]
    page = html_page.as_html(build_rows([teacher, *students], ["sst2"]), ["sst2"], "score")
    ys = [float(y) for y in re.findall(r'<text class="label" x="[\d.]+" y="([\d.]+)"', page)]
    assert len(ys) == 5
    student_ys = sorted(ys[1:])  # the students' labels share the plot's right half
    gaps = [b - a for a, b in zip(student_ys, student_ys[1:])]
    assert min(gaps) >= html_plot.LABEL_GAP - 1e-6
    assert page.count('class="leader"') >= 2  # the moved labels point back at their points


def test_the_terminal_lists_scores_per_model_when_models_outnumber_tasks():
    from rich.console import Console

    console = Console(width=160, record=True)
    console.print(render.as_table(rows(), ["sst2"], "score"))  # 4 models, 1 task
    per_model = console.export_text()
    assert "┃ model" in per_model.split("Scores per task")[1]
    console = Console(width=160, record=True)
    many = ["sst2", "gonerd", "mrpc", "rte", "cola", "stsb"]  # more tasks than models
    console.print(render.as_table(build_rows(ENTRIES, many), many, "score"))
    assert "┃ task" in console.export_text().split("Scores per task")[1]


@pytest.mark.browser
def test_the_committed_board_in_headless_chromium(tmp_path):
    """The board as committed, rendered as `bench leaderboard --format html` renders it: a
    row per entry in a table that fits 1,280 pixels; the study's 16 models under the `study`
    filter, their own aggregates and a plot placing all 12 students (two orders and a floor
    per architecture); the samples' rows and notes hidden there."""
    import shutil

    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("no Chromium found (Debian's chromium; .ci/run installs it)")
    committed = Path(__file__).resolve().parents[1] / "leaderboard" / "leaderboard.json"
    entries = json.loads(committed.read_text("utf-8"))["entries"]
    study = [e for e in entries if e.get("data_label") == "study"]
    students = {e["model"]["name"] for e in study if e.get("teacher")}
    assert len(study) == 16 and len(students) == 12
    page_file = tmp_path / "board.html"
    shown = bench(
        "leaderboard", "--leaderboard", str(committed), "--format", "html",
        "--output", str(page_file),
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        assert page.locator("#board tbody tr").count() == len(entries)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        (plot,) = page.locator("div.plot:visible").all()  # the whole board's plot
        assert plot.locator("circle.point").count() >= 12
        assert plot.locator("circle.front").count() >= 1
        page.select_option("#data-filter", "study")
        names = page.locator("#board tbody tr:visible td.model").evaluate_all(
            "cells => cells.map(c => c.title.split(';')[0])"
        )
        assert sorted(names) == sorted(e["model"]["name"] for e in study)
        assert "mean (4 tasks)" in page.locator("#board thead th:visible").all_inner_texts()
        (plot,) = page.locator("div.plot:visible").all()
        assert plot.get_attribute("data-data") == "study"
        placed = plot.locator("circle.point").evaluate_all(
            "points => points.map(p => p.dataset.model)"
        )
        assert students <= set(placed)
        assert page.locator("#notes div[data-data='sample']:visible").count() == 0
        page.select_option("#data-filter", "sample")
        assert page.locator("#board tbody tr:visible").count() == len(entries) - len(study)
        assert page.locator("div.plot:visible").get_attribute("data-data") == "sample"
        browser.close()
