"""The task registry: selection, errors, and the rule that a changed spec bumps its version."""

from __future__ import annotations

import json

import pytest
from conftest import FIXTURES

from benchmark.errors import BenchError
from benchmark.tasks import GROUPS, TASKS, resolve_tasks


def test_groups_and_lists_resolve_in_order_without_duplicates():
    glue = [s.name for s in resolve_tasks("glue")]
    assert glue == [
        "cola",
        "sst2",
        "mrpc",
        "stsb",
        "qqp",
        "mnli_matched",
        "mnli_mismatched",
        "qnli",
        "rte",
        "wnli",
    ]
    assert [s.name for s in resolve_tasks("squad, gonerd,squad")] == ["squad", "gonerd"]
    assert len(resolve_tasks("all")) == len(TASKS) == 15
    assert GROUPS["mnli"] == ["mnli_matched", "mnli_mismatched"]


def test_unknown_task_is_one_clear_error():
    with pytest.raises(BenchError, match=r"unknown task 'sst3': choose from cola, sst2"):
        resolve_tasks("sst2,sst3")


def test_every_spec_change_comes_with_a_version_bump():
    """Holds each (task, version) to the content it had when that version was released.
    Changing a spec means bumping its version and adding the new hash here."""
    released = json.loads((FIXTURES / "task_spec_hashes.json").read_text())
    for name, spec in TASKS.items():
        assert str(spec.version) in released[name], f"{name} v{spec.version} is not recorded"
        assert released[name][str(spec.version)] == spec.content_hash(), (
            f"task {name} changed without a version bump"
        )


def test_specs_are_immutable_records():
    with pytest.raises(Exception, match="frozen"):
        TASKS["sst2"].max_length = 512  # type: ignore[misc]
