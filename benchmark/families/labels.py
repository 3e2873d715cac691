"""Label handling shared by the families that predict labels (sequence and token
classification): a fresh head for the task's labels, and matching a checkpoint's own head
to the task's labels by name."""

from __future__ import annotations

import re

from benchmark.errors import BenchError

_GENERIC_LABEL = re.compile(r"^LABEL_\d+$")


def fresh_head(label_names: list[str] | None) -> dict:
    """``from_pretrained`` options for a new head: one output per label, or one score."""
    if label_names is None:
        return {"num_labels": 1, "problem_type": "regression"}
    return {
        "num_labels": len(label_names),
        "id2label": dict(enumerate(label_names)),
        "label2id": {n: i for i, n in enumerate(label_names)},
    }


class LabelledHead:
    """The head-and-labels part of a family that predicts labels (sequence and token
    classification): a fresh head per label, and a checkpoint's head matched by name."""

    def fresh_head(self, label_names: list[str] | None) -> dict:
        return fresh_head(label_names)

    def label_mapping(
        self, model_labels: dict[int, str], label_names: list[str] | None, task: str
    ) -> tuple[dict[int, int], str]:
        return match_labels(model_labels, label_names, task)


def match_labels(
    model_labels: dict[int, str], task_labels: list[str] | None, task: str
) -> tuple[dict[int, int], str]:
    """Map the checkpoint's label ids to the task's by name; a mismatch is an error.

    Unnamed labels (``LABEL_0`` ...) are taken in order when their number matches."""
    if task_labels is None:
        return {}, "regression"
    names = [model_labels[i] for i in sorted(model_labels)]
    if all(_GENERIC_LABEL.match(str(n)) for n in names):
        if len(names) != len(task_labels):
            raise BenchError(
                f"task {task}: the checkpoint has {len(names)} unnamed labels but the task has "
                f"{len(task_labels)}; use --protocol finetune"
            )
        return {i: i for i in range(len(names))}, "identity (checkpoint labels are unnamed)"
    wanted = {name.lower(): i for i, name in enumerate(task_labels)}
    mapping, missing = {}, []
    for model_id, name in zip(sorted(model_labels), names):
        if str(name).lower() in wanted:
            mapping[model_id] = wanted[str(name).lower()]
        else:
            missing.append(name)
    if missing or len(set(mapping.values())) != len(task_labels):
        raise BenchError(
            f"task {task}: checkpoint labels {names} do not match the task's {task_labels}; "
            "use --protocol finetune, or a checkpoint trained on this task"
        )
    return mapping, "by name"
