"""`bench submit`: malformed submissions are refused with the field named and the board
left byte-identical; duplicates, --replace, --recompute; concurrent submitters lose
nothing."""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmark.run_result import read_result
from leaderboard.entry import Entry
from leaderboard.store import board_problems, read_board, submit
from leaderboard.validation import SubmissionError, load_submission
from tests.helpers import bench

NOW = "2026-11-26T12:00:00+00:00"


def submit_file(path: Path, board: Path, replace=False, recompute=False):
    result = load_submission(path)
    return submit(board, Entry.from_result(result, path, NOW, recompute=recompute), replace)


@pytest.fixture
def board(tmp_path, tiny_result) -> Path:
    """A board holding one entry already: refusals must leave it as it is."""
    path = tmp_path / "board.json"
    submit_file(tiny_result, path)
    return path


def _set(data: dict, dotted: str, value) -> None:
    *parents, last = dotted.split(".")
    node = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is _DELETE:
        del node[last]
    else:
        node[int(last) if isinstance(node, list) else last] = value


_DELETE = object()
NOT_A_SCORE = st.one_of(
    st.floats(min_value=100.001, max_value=1e300),
    st.floats(min_value=-1e300, max_value=-0.001),
    st.sampled_from([math.nan, math.inf, -math.inf]),
    st.text(max_size=8),
    st.none(),
    st.lists(st.integers(), max_size=2),
)
NOT_A_TIME = st.one_of(
    st.floats(min_value=-1e9, max_value=0.0),
    st.sampled_from([math.nan, math.inf]),
    st.text(min_size=1, max_size=5),
)
# (field to break, bad values, what the refusal must name)
MUTATIONS = [
    ("tasks.sst2.main_score", NOT_A_SCORE, "tasks.sst2.main_score"),
    ("tasks.sst2.metrics.accuracy", NOT_A_SCORE, "tasks.sst2.metrics.accuracy"),
    ("tasks.conll2003.metrics.f1", NOT_A_SCORE, "tasks.conll2003.metrics.f1"),
    ("speed.measurements.0.latency_ms.median", NOT_A_TIME, "speed.measurements.0.latency_ms"),
    ("speed.measurements.0.peak_memory_mb", NOT_A_TIME, "speed.measurements.0.peak_memory_mb"),
    ("tasks.sst2.timings_s.evaluate", NOT_A_TIME, "tasks.sst2.timings_s.evaluate"),
    ("provenance", st.just(_DELETE), "provenance"),
    ("provenance.suite", st.just({}), "provenance.suite.version"),
    ("provenance.libraries", st.just({}), "provenance.libraries"),
    ("tasks.sst2.task_version", st.integers(2, 99), "tasks.sst2.task_version"),
    ("config.limit", st.integers(1, 50), "config.limit"),
    ("tasks.sst2.n_examples.evaluated", st.integers(0, 63), "tasks.sst2.n_examples"),
    ("model.name", st.text(min_size=201, max_size=300), "model.name"),
    (
        "model.name",
        st.sampled_from(["<script>alert(1)</script>", '<img src=x onerror="x()">', "a\x00b"]),
        "model.name",
    ),
    ("duplicate", st.just(None), "model"),
    ("model.weights_sha256", st.sampled_from([None, "not-a-hash"]), "model"),
    ("tasks.sst2.predictions_sha256", st.just("0" * 64), "tasks.sst2.predictions_sha256"),
    ("tasks", st.sampled_from([[], "sst2", {}]), "tasks"),
    ("tasks.nosuch", st.just({}), "tasks.nosuch"),
    ("tasks.sst2.main_score_name", st.just("f1"), "tasks.sst2.main_score_name"),
    ("tasks.sst2.spec_hash", st.just("0" * 16), "tasks.sst2.spec_hash"),
    (
        "tasks.sst2.inputs.windowed",
        st.sampled_from(["x", math.inf, -1, 1.5, None]),
        "tasks.sst2.inputs.windowed",
    ),
    ("tasks.sst2", st.sampled_from([[], "x", 3]), "tasks.sst2"),
    ("retention", st.sampled_from(["a model", 5, []]), "retention"),
    ("retention.teacher.model", st.sampled_from(["a model", 5, ["x"]]), "retention.teacher.model"),
    (
        "retention.teacher.model.name",
        st.sampled_from(["<b>t</b>", "t\n", "t\u202e", "t" * 201]),
        "retention.teacher.model.name",
    ),
    ("schema_version", st.sampled_from([3, "2", None]), "schema_version"),
]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_malformed_submissions_are_refused_naming_the_field(data, board, tiny_result, tmp_path):
    field, values, named = data.draw(st.sampled_from(MUTATIONS))
    value = data.draw(values)
    result = json.loads(tiny_result.read_text())
    if field.startswith("retention."):  # a real teacher block to break
        result["retention"] = {
            "teacher": {
                "name": "teacher",
                "model": {"name": "teacher", "weights_sha256": "e" * 64},
            },
            "tasks": {},
            "retained_percent_macro": None,
        }
    if field.startswith("tasks.nosuch"):
        result["tasks"]["nosuch"] = copy.deepcopy(result["tasks"]["sst2"])
    elif field == "duplicate":  # the very result already on the board
        pass
    else:
        _set(result, field, value)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(result))  # NaN and infinity as JSON's usual extensions
    before = board.read_bytes()
    with pytest.raises(SubmissionError) as refused:
        submit_file(bad, board)
    message = str(refused.value)
    where = message.split(": ")[0]  # the field the refusal names, or one inside it
    assert where == named or where.startswith(named + "."), (field, value, message)
    assert "\n" not in message
    assert board.read_bytes() == before


def test_a_duplicate_is_refused_unless_replaced(board, tiny_result):
    (first,) = read_board(board).entries
    before = board.read_bytes()
    with pytest.raises(SubmissionError, match="already on the board.*pass --replace"):
        submit_file(tiny_result, board)
    assert board.read_bytes() == before
    replaced = submit_file(tiny_result, board, replace=True)
    (entry,) = read_board(board).entries
    assert entry.supersedes == first.entry_id == replaced.supersedes
    assert entry.entry_id == first.entry_id  # the same result: the same content hash
    assert board_problems(read_board(board)) == []


def test_recompute_verifies_scores_from_the_saved_predictions(tiny_result, tmp_path):
    entry = submit_file(tiny_result, tmp_path / "b.json", recompute=True)
    assert entry.verified == "recomputed"
    result = json.loads(tiny_result.read_text())
    # a claimed score the predictions do not support
    result["tasks"]["sst2"]["metrics"]["accuracy"] = 99.0
    result["tasks"]["sst2"]["main_score"] = 99.0
    forged = tiny_result.with_name("forged.json")
    forged.write_text(json.dumps(result))
    with pytest.raises(SubmissionError, match=r"^tasks\.sst2\.metrics\.accuracy: 99.0 does not"):
        submit_file(forged, tmp_path / "c.json", recompute=True)
    assert not (tmp_path / "c.json").exists()


def test_a_student_naming_itself_as_teacher_is_refused(board, tiny_result, tmp_path):
    result = json.loads(tiny_result.read_text())
    result["retention"] = {
        "teacher": {"name": "me", "model": dict(result["model"])},
        "tasks": {},
        "retained_percent_macro": None,
    }
    selfish = tmp_path / "selfish.json"
    selfish.write_text(json.dumps(result))
    with pytest.raises(SubmissionError, match=r"^retention\.teacher\.model: the teacher is the"):
        submit_file(selfish, board)


@pytest.mark.parametrize(
    ("value", "shown"),
    [("[/]", "'[/]' is not a number"), ("a\x1b[31mb", "'a\\x1b[31mb' is not a number")],
)
def test_quoted_input_in_a_refusal_is_plain_text(tiny_result, tmp_path, value, shown):
    result = json.loads(tiny_result.read_text())
    result["tasks"]["sst2"]["metrics"]["accuracy"] = value
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(result))
    done = bench("submit", str(bad), "--leaderboard", str(tmp_path / "b.json"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith("error: tasks.sst2.metrics.accuracy: ") and shown in line


def test_the_cli_refuses_in_one_line_with_exit_status_2(board, tiny_result, tmp_path):
    result = json.loads(tiny_result.read_text())
    result["config"]["limit"] = 8
    bad = tmp_path / "subset.json"
    bad.write_text(json.dumps(result))
    before = board.read_bytes()
    done = bench("submit", str(bad), "--leaderboard", str(board))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: config.limit: a subset run (--limit 8); run without --limit"
    )
    assert board.read_bytes() == before
    # a flag's bad value names that flag, before the result is read
    label = bench("submit", str(bad), "--leaderboard", str(board), "--data-label", "Mine!")
    assert label.returncode == 2 and label.stderr.startswith("error: --data-label 'Mine!': ")
    assert board.read_bytes() == before
    shown = ["leaderboard", "--leaderboard", str(board)]
    folder = bench(*shown, "--format", "html", "--output", str(tmp_path))
    assert (
        folder.stderr.strip()
        == f"error: could not write {tmp_path}: it is a folder; name a file to write"
    )
    sort = bench(*shown, "--tasks", "sst2", "--sort", "gonerd")
    assert sort.returncode == 2 and "cannot sort by 'gonerd', not a column shown" in sort.stderr
    assert "a task shown (sst2)" in sort.stderr
    # a board that is not there is a mistyped path to every reader, not an empty board
    for args in (["leaderboard", "check"], ["leaderboard", "--format", "md", "--leaderboard"]):
        missing = bench(*args, str(tmp_path / "typo.json"))
        assert missing.returncode == 2, missing.stdout
        assert missing.stderr.strip() == (
            f"error: no board file at {tmp_path / 'typo.json'}: check the path "
            "(`bench submit` starts one)"
        )


WORKER = """
import json, sys
from pathlib import Path
from leaderboard.store import submit
from leaderboard.entry import Entry
from leaderboard.validation import load_submission
board = Path(sys.argv[1])
for path in sys.argv[2:]:
    result = load_submission(Path(path))
    submit(board, Entry.from_result(result, Path(path), "2026-11-26T12:00:00+00:00"))
"""


def test_concurrent_submitters_lose_nothing(tiny_result, tmp_path):
    """8 processes, 25 valid entries each, all at once: 200 entries in a valid board."""
    original = json.loads(tiny_result.read_text())
    files = []
    for i in range(200):
        result = copy.deepcopy(original)
        result["model"]["name"] = f"model-{i:03d}"
        result["model"]["weights_sha256"] = f"{i:064x}"
        path = tmp_path / f"r{i:03d}.json"
        path.write_text(json.dumps(result))
        files.append(str(path))
    board = tmp_path / "board.json"
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(board), *files[k::8]]) for k in range(8)
    ]
    assert [w.wait(timeout=300) for w in workers] == [0] * 8
    entries = read_board(board).entries
    assert sorted(e.model.name for e in entries) == [f"model-{i:03d}" for i in range(200)]
    assert board_problems(read_board(board)) == []


def test_format_1_results_still_load(tmp_path):
    """The fixture written before the typed result model existed."""
    fixture = Path(__file__).parent / "fixtures" / "results" / "format-1-bundled-minilm.json"
    result = read_result(fixture)
    assert result.schema_version == 2 and result.model.name == "bundled all-MiniLM-L6-v2"
    assert result.tasks["gonerd"].split == "test" and result.tasks["sst2"].split == "validation"
    assert result.tasks["cola"].main_score == pytest.approx(-21.821789023599237)
    assert result.speed.ok()[0].seq_len == 128
    # and the board refuses it for what it is: a --limit run with a stale GONERD version
    with pytest.raises(SubmissionError, match=r"^config\.limit: a subset run \(--limit 16\)"):
        Entry.from_result(result, fixture, NOW)
