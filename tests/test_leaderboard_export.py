"""The board as data others load: `bench leaderboard export` read back by
``datasets.load_dataset`` in both formats with the board's own numbers and one set of
features, its dataset card, refusals of a folder it did not write, and the web page's
permalinks and CSV download."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import re
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote

import datasets
import pytest
from huggingface_hub import DatasetCard
from leaderboard_helpers import make_entry

from benchmark import __version__
from benchmark.results import write_atomic
from leaderboard import html_page
from leaderboard.board import build_rows
from leaderboard.entry import Entry, canonical_id
from leaderboard.export import MARKER_TAG
from leaderboard.store import Board
from tests.helpers import bench

# A name holding what YAML, Markdown, HTML, URLs and CSV each treat specially.
NAME = 'st"u<d>e|n:t #1 & 50% [x](y), =z'
TASKS = ["sst2", "gonerd"]


def with_seed_spread(entry: Entry, task: str, std: float) -> Entry:
    """``entry`` with its ``task`` score a mean over three seeds of spread ``std``."""
    content = entry.model_dump(mode="json")
    held = content["tasks"][task]
    held |= {"seeds": [1, 2, 3], "main_score_std": std, "seed_scores": [held["main_score"]] * 3}
    draft = Entry.model_validate(content)
    return draft.model_copy(update={"entry_id": canonical_id(draft.model_dump(mode="json"))})


TEACHER = make_entry("teacher", {"sst2": 90.0, "gonerd": 80.0}, speed={512: 100.0, 4096: 1000.0})
# keeps 81/90 = 90 % and 78/80 = 97.5 %: mean 93.75, worst sst2; 1000/500 = 2x at 4096
STUDENT = with_seed_spread(
    make_entry(NAME, {"sst2": 81.0, "gonerd": 78.0}, speed={4096: 500.0}, teacher="teacher"),
    "sst2",
    1.5,
)


@pytest.fixture
def board(tmp_path) -> Path:
    path = tmp_path / "board.json"
    write_atomic(path, Board(entries=[TEACHER, STUDENT]).model_dump(mode="json"))
    return path


def export(board: Path, folder: Path, *options: str):
    return bench("leaderboard", "export", str(folder), "--leaderboard", str(board), *options)


def load(folder: Path, cache_dir: str) -> datasets.Dataset:
    return datasets.load_dataset(str(folder), cache_dir=cache_dir)["train"]


def test_both_formats_load_with_the_boards_numbers_and_one_schema(board, tmp_path, cache_dir):
    loaded = {}
    for fmt in ("parquet", "jsonl"):
        done = export(board, tmp_path / fmt, "--format", fmt)
        assert done.returncode == 0, done.stderr
        (written,) = (tmp_path / fmt / "data").iterdir()
        assert written.suffix == f".{fmt}"
        loaded[fmt] = load(tmp_path / fmt, cache_dir)
    parquet, jsonl = loaded["parquet"], loaded["jsonl"]
    assert parquet.features == jsonl.features
    assert parquet.to_list() == jsonl.to_list()
    assert parquet.num_rows == 2
    # a column null in every row keeps its type in JSON lines too (the card types it)
    assert jsonl.features["hub_id"] == datasets.Value("string")
    assert jsonl.features["supersedes"] == datasets.Value("string")
    expected = {row.name: row for row in build_rows([TEACHER, STUDENT], TASKS)}[NAME]
    teacher, student = parquet.to_list()  # the board's order: the teacher, then its student
    assert student["model"] == NAME and student["depth"] == 1
    assert student["retained_percent_mean"] == expected.retained_mean == pytest.approx(93.75)
    assert student["retained:sst2"] == pytest.approx(90.0)
    assert student["retained_percent_min"] == pytest.approx(90.0)
    assert student["worst_task"] == "sst2"
    assert student["score:sst2"] == 81.0 and student["score_std:sst2"] == 1.5
    assert student["score_std:gonerd"] is None
    assert student["teacher"] == "teacher" and student["teacher_entry_id"] == TEACHER.entry_id
    assert student["claimed_teacher"] == "teacher"
    assert student["speedups"] == [
        {
            "seq_len": 4096,
            "batch_size": 16,
            "dtype": "float32",
            "device": "cpu: Test CPU",
            "speedup": 2.0,
            "method": "separate runs",
            "range": None,
        }
    ]
    assert student["pareto_speedup"] == 2.0 and student["pareto_front"] is True
    sst2 = next(t for t in student["tasks"] if t["task"] == "sst2")
    assert sst2["seeds"] == [1, 2, 3] and sst2["retained"] == pytest.approx(90.0)
    assert teacher["model"] == "teacher" and teacher["depth"] == 0
    assert teacher["retained:sst2"] is None and teacher["teacher"] is None
    assert teacher["score_mean"] == pytest.approx(85.0)
    assert teacher["entry_id"] == TEACHER.entry_id and teacher["data"] == "full"
    assert parquet.features["submitted_at"] == datasets.Value("timestamp[s, tz=UTC]")
    assert teacher["submitted_at"] == datetime(2026, 11, 26, tzinfo=timezone.utc)


def test_the_card_names_the_data_file_and_says_what_each_column_means(board, tmp_path):
    assert export(board, tmp_path / "out").returncode == 0
    card = DatasetCard.load(tmp_path / "out" / "README.md")
    data = card.data.to_dict()
    assert MARKER_TAG in data["tags"]
    (written,) = (tmp_path / "out" / "data").iterdir()
    digest = hashlib.sha256(written.read_bytes()).hexdigest()
    assert written.name == f"leaderboard-{digest[:12]}.parquet"  # named by its content
    assert data["configs"] == [
        {
            "config_name": "default",
            "data_files": [{"split": "train", "path": f"data/{written.name}"}],
        }
    ]
    typed = [f["name"] for f in data["dataset_info"]["features"]]
    assert "score:sst2" in typed and "retained_percent_mean" in typed
    for column in ("entry_id", "retained_percent_mean", "speedups", "pareto_front"):
        assert f"| `{column}` |" in card.text
    assert "100 x the student's main score / its linked teacher's main" in card.text
    assert f"GONERD Bench {__version__}" in card.text and "board.json" in card.text


def test_exporting_again_replaces_a_previous_export(board, tmp_path, cache_dir):
    folder = tmp_path / "out"
    assert export(board, folder).returncode == 0
    more = make_entry("another", {"sst2": 70.0, "gonerd": 60.0})
    write_atomic(board, Board(entries=[TEACHER, STUDENT, more]).model_dump(mode="json"))
    again = export(board, folder, "--format", "jsonl")
    assert again.returncode == 0, again.stderr
    (written,) = (folder / "data").iterdir()  # the earlier Parquet file is gone
    assert written.suffix == ".jsonl" and f"data/{written.name}" in again.stdout
    assert load(folder, cache_dir).num_rows == 3


def test_new_rows_are_read_where_datasets_cached_an_earlier_export(board, tmp_path, cache_dir):
    # datasets keys a card-declared folder's cache on its name, card configs and features,
    # not on the data: the same folder name with new rows must still load the new rows,
    # in the same place and elsewhere, through one shared cache
    first = tmp_path / "one" / "board-data"
    assert export(board, first).returncode == 0
    assert load(first, cache_dir).num_rows == 2
    more = make_entry("another", {"sst2": 70.0, "gonerd": 60.0})
    write_atomic(board, Board(entries=[TEACHER, STUDENT, more]).model_dump(mode="json"))
    for folder in (first, tmp_path / "two" / "board-data"):
        assert export(board, folder).returncode == 0
        assert load(folder, cache_dir)["model"] == ["teacher", NAME, "another"]


@pytest.mark.parametrize(
    ("contents", "said"),
    [
        ({"notes.txt": "mine"}, "is not empty and is not a previous leaderboard export"),
        ({"README.md": "---\ntags: [other]\n---\n# mine\n"}, "is not empty"),
        ({"README.md": "---\n: [\n---\n"}, "is not empty"),
    ],
)
def test_a_folder_it_did_not_write_is_refused_untouched(board, tmp_path, contents, said):
    folder = tmp_path / "theirs"
    folder.mkdir()
    for name, text in contents.items():
        (folder / name).write_text(text)
    refused = export(board, folder)
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and said in lines[0]
    assert sorted(p.name for p in folder.iterdir()) == sorted(contents)
    assert all((folder / name).read_text() == text for name, text in contents.items())


def test_a_bad_format_an_empty_board_or_a_file_is_one_error_line(board, tmp_path):
    bad = export(board, tmp_path / "out", "--format", "csv")
    assert bad.returncode == 2 and "choose one of parquet, jsonl" in bad.stderr
    missing = export(tmp_path / "none.json", tmp_path / "out")
    assert missing.returncode == 2 and "no board file at" in missing.stderr
    write_atomic(tmp_path / "empty.json", Board().model_dump(mode="json"))
    empty = export(tmp_path / "empty.json", tmp_path / "out")
    assert empty.returncode == 2 and "holds no entries" in empty.stderr
    assert not (tmp_path / "out").exists()
    (tmp_path / "a-file").write_text("mine")
    on_a_file = export(board, tmp_path / "a-file")
    assert on_a_file.returncode == 2 and "is a file" in on_a_file.stderr
    assert (tmp_path / "a-file").read_text() == "mine"


def test_text_the_json_reader_would_take_for_times_is_refused_in_jsonl(tmp_path, cache_dir):
    # every model name looks like a date: JSON lines would load them as times, Parquet not
    board = tmp_path / "dated.json"
    dated = make_entry("2024-01-01", {"sst2": 70.0}, submitted_at="2026-11-26T02:00:00+02:00")
    write_atomic(board, Board(entries=[dated]).model_dump(mode="json"))
    refused = export(board, tmp_path / "jsonl", "--format", "jsonl")
    assert refused.returncode == 2 and "every value of model looks like a date" in refused.stderr
    assert not (tmp_path / "jsonl").exists()
    assert export(board, tmp_path / "parquet").returncode == 0
    row = load(tmp_path / "parquet", cache_dir)[0]
    assert row["model"] == "2024-01-01"
    assert row["submitted_at"] == datetime(2026, 11, 26, tzinfo=timezone.utc)  # in UTC


def test_the_page_links_each_row_and_offers_the_boards_csv(board, tmp_path):
    page_file = tmp_path / "board.html"
    shown = bench(
        "leaderboard", "--leaderboard", str(board), "--format", "html", "--output", str(page_file)
    )
    assert shown.returncode == 0, shown.stderr
    page = page_file.read_text(encoding="utf-8")
    for entry in (TEACHER, STUDENT):
        anchor = f"entry-{entry.entry_id}"
        assert page.count(f'<tr id="{anchor}"') == 1 and f'href="#{anchor}"' in page
    link = re.search(r'<a id="csv-download" href="([^"]*)" download="leaderboard.csv">', page)
    assert link is not None
    href = html.unescape(link.group(1))
    prefix = "data:text/csv;charset=utf-8,"
    assert href.startswith(prefix)
    assert re.fullmatch(r"[A-Za-z0-9_.~%-]*", href[len(prefix) :])  # nothing left to break out
    board_csv = bench("leaderboard", "--leaderboard", str(board), "--format", "csv").stdout
    downloaded = unquote(href[len(prefix) :])
    assert downloaded == board_csv
    assert [r["model"] for r in csv.DictReader(io.StringIO(downloaded))] == ["teacher", NAME]


def test_a_row_anchor_is_a_safe_id_whatever_the_entry_id():
    assert html_page.row_anchor("ab" * 32) == "entry-" + "ab" * 32
    assert html_page.row_anchor('x"> <script>#') == "entry-x----script--"
