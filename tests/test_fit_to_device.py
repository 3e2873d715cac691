"""The decisions fine-tuning makes for its device, tested without one: what ``--dtype auto``
becomes for a device's compute capability, how ``--batch-size auto`` splits the recipe's
batch given what fits, that the split keeps the optimiser steps, and how both are keyed
for reuse (a CPU run asking for ``auto`` keeps what float32 and the task's batch scored)."""

from __future__ import annotations

import json
import math

import pytest
import torch

from benchmark.batch_size import BatchPlan, divisors, largest_fitting, plan_batch
from benchmark.config import RunConfig
from benchmark.errors import BenchError
from benchmark.precision import auto_dtype, resolve_dtype
from benchmark.training import optimizer_steps


@pytest.mark.parametrize(
    ("device", "capability", "dtype"),
    [
        ("cuda", (8, 0), "bfloat16"),  # A100
        ("cuda", (9, 0), "bfloat16"),  # H100
        ("cuda", (8, 6), "bfloat16"),  # RTX 30xx
        ("cuda", (7, 5), "float32"),  # T4: no fast bf16, and fp16 training is not scaled here
        ("cuda", (7, 0), "float32"),  # V100
        ("cpu", None, "float32"),
    ],
)
def test_auto_dtype_by_device_capability(device, capability, dtype):
    assert auto_dtype(device, capability) == dtype


def test_a_named_dtype_is_kept_and_auto_is_float32_on_a_cpu(minilm_path):
    from benchmark.cost import speed_settings

    assert resolve_dtype("float16", "cpu") == "float16"
    assert resolve_dtype("auto", torch.device("cpu")) == "float32"
    assert resolve_dtype("auto", None) == "auto"
    # speed measured with auto is recorded (and reused) as what it ran in
    auto = speed_settings(RunConfig(dtype="auto"), str(minilm_path), "cpu")
    assert auto == speed_settings(RunConfig(dtype="float32"), str(minilm_path), "cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is visible here")
def test_auto_on_a_gpu_this_machine_cannot_see_stays_undecided():
    assert resolve_dtype("auto", "cuda") == "auto"


def test_auto_settings_are_keyed_as_what_they_run_on_a_cpu():
    base = RunConfig(model="m")
    assert RunConfig(model="m", dtype="auto").task_key("h", "cpu") == base.task_key("h", "cpu")
    assert RunConfig(model="m", batch_size="auto").task_key("h", "cpu") == base.task_key("h", "cpu")
    assert RunConfig(model="m", compile=True).task_key("h", "cpu") == base.task_key("h", "cpu")
    named = RunConfig(model="m", dtype="bfloat16").task_key("h", "cpu")
    assert named != base.task_key("h", "cpu")
    assert RunConfig(model="m", batch_size=8).task_key("h") != base.task_key("h")


def test_the_batch_setting_reads_numbers_and_auto_only():
    assert RunConfig(batch_size="16").batch_size == 16
    assert RunConfig(batch_size="auto").batch_size == "auto"
    for bad in ("many", 0):
        with pytest.raises(ValueError):
            RunConfig(batch_size=bad)


def test_the_largest_divisor_that_fits_is_found_by_bisection():
    tried = []

    def fits(b: int) -> bool:
        tried.append(b)
        return b <= 5

    assert largest_fitting(16, fits) == 4
    assert len(tried) <= math.ceil(math.log2(len(divisors(16)))) + 1
    assert largest_fitting(12, lambda b: b <= 7) == 6
    assert largest_fitting(16, lambda b: True) == 16
    with pytest.raises(BenchError, match="not even one input"):
        largest_fitting(16, lambda b: False)


def test_plan_keeps_the_recipe_batch_through_accumulation():
    assert plan_batch(16, 1, auto=False, fits=None) == BatchPlan(16, 16, 1, "recipe")
    assert plan_batch(16, 2, auto=False, fits=None) == BatchPlan(16, 8, 1, "recipe")
    # a CPU passes no probe: auto keeps the recipe's batch as it is
    assert plan_batch(16, 1, auto=True, fits=None).physical == 16
    fitted = plan_batch(16, 1, auto=True, fits=lambda b: b <= 3)
    assert (fitted.physical, fitted.accumulation, fitted.chosen_by) == (2, 8, "memory probe")
    split = plan_batch(16, 2, auto=True, fits=lambda b: b <= 4)
    assert split.physical * split.accumulation * 2 == 16


@pytest.mark.parametrize("n_rows", [1, 15, 16, 17, 146, 203])
@pytest.mark.parametrize(("physical", "accumulation"), [(16, 1), (8, 2), (4, 4), (1, 16)])
def test_split_batches_take_the_recipes_optimiser_steps(n_rows, physical, accumulation):
    """The Trainer's steps an epoch with passes of ``physical`` accumulated ``accumulation``
    times are what the recipe's batch of 16 takes, so warm-up and schedule are unchanged."""
    passes = math.ceil(n_rows / physical)
    trainer_steps = passes // accumulation + int(passes % accumulation > 0)
    assert trainer_steps == optimizer_steps(n_rows, 16, 1.0)
    assert optimizer_steps(n_rows, physical, 1.0, accumulation=accumulation) == trainer_steps


def _training_rows(task: str, tokenizer) -> tuple[list[dict], object, int]:
    """40 training rows of a bundled sample through its family, the family and its labels."""
    from benchmark.families import TaskContext, family_for
    from benchmark.task_data import load_task_split, seeded_subset
    from benchmark.tasks import TASKS

    spec = TASKS[task]
    data = seeded_subset(load_task_split(spec, spec.train_split, "bundled")[0], 40, 0)
    family = family_for(spec.family)
    labels = family.label_names(spec, data)
    context = TaskContext(spec, tokenizer, 64, labels, frozenset({"token_type_ids"}))
    return family.training_features(context, data)[0], family, len(labels)


@pytest.mark.parametrize("task", ["sst2", "conll2003"])
def test_accumulated_passes_train_the_same_steps_as_one_pass(monkeypatch, tiny_bert, task):
    """A batch split into accumulated passes (as a probe that fits 4 would choose) takes
    the recipe's optimiser steps and trains the model as one pass does, for a sentence's
    label and for tokens' labels alike."""
    from rich.console import Console
    from transformers import AutoTokenizer

    from benchmark import training

    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    rows, family, n_labels = _training_rows(task, tokenizer)
    recipe = {"batch_size": 16, "epochs": 1.0, "learning_rate": 1e-3}
    recipe |= {"weight_decay": 0.0, "warmup_ratio": 0.0, "max_length": 64}
    no_dropout = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}

    def model():
        torch.manual_seed(0)
        return family.head.from_pretrained(tiny_bert, num_labels=n_labels, **no_dropout)

    start, weights = model().classifier.weight.detach(), {}
    for physical in (16, 4):
        split = BatchPlan(16, physical, 16 // physical, "test")
        monkeypatch.setattr(training, "plan_batch", lambda *args, split=split: split)
        trained = model()
        done = training.train(
            trained,
            [dict(r) for r in rows],
            family.collator(tokenizer),
            recipe,
            seed=1,
            execution=training.Execution(),
            device=torch.device("cpu"),
            console=Console(quiet=True),
        )
        assert done.steps == optimizer_steps(len(rows), 16, 1.0) == 3  # 16, 16 and 8 rows
        assert done.record["physical_batch_size"] == physical
        assert done.record["gradient_accumulation"] == 16 // physical
        weights[physical] = trained.classifier.weight.detach()
    # the same steps up to float rounding (passes padded to their own longest input), also
    # in the last step, of 8 rows in 2 passes: each pass's loss is divided by the passes
    # that step accumulates, not added up (which would scale its gradient, and clip it),
    # and a token's weight is the same in a pass as in the whole batch
    moved = (weights[16] - start).norm()
    assert (weights[16] - weights[4]).norm() < 1e-3 * moved


def test_length_grouping_is_keyed_where_it_is_used():
    """Grouped batches change fine-tuned scores, so a result fine-tuned in random batches
    is not reused for a grouped run; a run without grouping keeps the key such results
    were written with (no grouping setting in it at all)."""
    import hashlib
    import json

    from benchmark.config import SCORE_SETTINGS

    random_batches = RunConfig(model="m")  # the default: the Trainer's random batches
    grouped = RunConfig(model="m", length_grouping=True)
    assert grouped.task_key("h", "cpu") != random_batches.task_key("h", "cpu")
    written_before = random_batches.model_dump(include=set(SCORE_SETTINGS) - {"length_grouping"})
    written_before["device"] = "cpu"
    blob = json.dumps({"config": written_before, "spec": "h"}, sort_keys=True)
    assert random_batches.task_key("h", "cpu") == hashlib.sha256(blob.encode()).hexdigest()[:16]


def test_a_cpu_run_asking_for_auto_runs_and_is_kept_as_float32_and_the_tasks_batch(
    tiny_bert, tmp_path
):
    from benchmark import runner
    from tests.helpers import run_config

    output = tmp_path / "r.json"
    auto = run_config(tiny_bert, "sst2", output, dtype="auto", batch_size="auto", bootstrap=0)
    first = json.loads(runner.run(auto).read_text())
    entry = first["tasks"]["sst2"]
    assert first["config"]["dtype"] == first["model"]["dtype"] == "float32"
    recipe = entry["recipe"]
    assert recipe["dtype_used"] == "float32" and recipe["batch_size"] == 16
    assert recipe["physical_batch_size"] == 16 and recipe["gradient_accumulation"] == 1
    named = run_config(tiny_bert, "sst2", output, bootstrap=0)
    again = json.loads(runner.run(named).read_text())
    assert again["tasks"]["sst2"] == entry  # kept, not fine-tuned again
