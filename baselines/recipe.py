"""The recipe as one resumable chain: convert → pretrain → distill → finetune (the paper's
Convert-Then-Distill), or distill → convert → pretrain → finetune (Distill-Then-Convert,
the order the paper leaves to future work), read from one YAML file.

Each stage writes its checkpoint into its own folder with a model card (README.md) and
``stage.json`` (its settings and what it did); ``stage.json`` is written last, so a folder
without one is an unfinished stage. Run again, the chain skips finished stages (when their
settings are unchanged), resumes an interrupted training stage from its newest checkpoint,
and starts the rest. The last stage evaluates student and teacher through the benchmark
runner, exactly as ``bench run --model STUDENT --teacher TEACHER`` does.

Under ``accelerate launch`` or ``torchrun`` the training stages run data-parallel; the
other stages run on the main process while the rest wait.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from rich.console import Console

from baselines.distill_loss import LossWeights
from baselines.text_data import TextSource
from baselines.training_stage import TrainingSettings, stage_reporting
from benchmark.config import load_yaml_model
from benchmark.errors import BenchError
from benchmark.tracking import active, reporting, require

BUNDLED_TEACHER = "bundled"  # the bundled all-MiniLM-L6-v2


class ConvertStage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: Literal["longformer", "bigbird", "lsg", "nystromformer"]
    max_length: int = 4096
    settings: dict = Field(default_factory=dict, description="target config fields")


class PretrainStage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: TextSource | list[TextSource]
    max_length: int = 4096
    mask_probability: float = 0.15
    training: TrainingSettings = Field(default_factory=TrainingSettings)


class DistillStage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: TextSource | list[TextSource]
    max_length: int = 4096
    mask_probability: float = 0.15
    layers: list[int] | None = Field(None, description="teacher layers; every other one")
    loss: LossWeights = Field(default_factory=LossWeights)
    training: TrainingSettings = Field(default_factory=TrainingSettings)


class FinetuneStage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    run: dict = Field(default_factory=dict, description="bench run settings (tasks, epochs…)")


class Recipe(BaseModel):
    """One recipe file (see ``baselines/configs/``)."""

    model_config = ConfigDict(extra="forbid")
    name: str
    teacher: str = BUNDLED_TEACHER
    order: Literal["convert-then-distill", "distill-then-convert"] = "convert-then-distill"
    convert: ConvertStage | None = None
    pretrain: PretrainStage | None = None
    distill: DistillStage
    finetune: FinetuneStage | None = None


def read_recipe(path: Path) -> Recipe:
    """The recipe in ``path``, with every problem in one message."""
    return load_yaml_model(path, Recipe, "recipe")


def teacher_path(recipe: Recipe) -> str:
    if recipe.teacher == BUNDLED_TEACHER:
        from benchmark.defaults import default_model_path

        return str(default_model_path())
    return recipe.teacher


class Stage(BaseModel):
    """One step of the chain: what it runs on and where it writes."""

    kind: Literal["convert", "pretrain", "distill", "finetune"]
    folder: str
    source: str
    teacher: str | None = None  # finetune: the teacher it is compared with


def check_lengths(recipe: Recipe) -> None:
    """Pretraining and distillation read text no longer than the model they train on can:
    after conversion, the converted teacher's ``convert.max_length``; before it (the
    distillation of distill-then-convert, or a recipe without conversion), the plain
    teacher's position table. Checked before any stage runs, so a recipe that cannot run a
    stage fails at once rather than after the hours of the stages before it."""
    distill_after_convert = recipe.convert is not None and recipe.order == "convert-then-distill"
    checks = [("distill", recipe.distill.max_length, distill_after_convert)]
    if recipe.pretrain is not None:
        checks.append(("pretrain", recipe.pretrain.max_length, recipe.convert is not None))
    # the plain teacher's config is read only where a stage trains on it
    plain = None if all(after for *_, after in checks) else _plain_limit(recipe)
    for stage, length, after_convert in checks:
        bound = plain
        if after_convert:
            bound = (recipe.convert.max_length, "the converted teacher (convert.max_length)")
        if bound is None:
            continue  # the first stage that loads the teacher says why it cannot
        limit, what = bound
        if length > limit:
            raise BenchError(
                f"recipe {recipe.name!r}: {stage}.max_length is {length}, but {what} reads at "
                f"most {limit} tokens: set {stage}.max_length to {limit} or less"
            )


def _plain_limit(recipe: Recipe) -> tuple[int, str] | None:
    """The plain teacher's longest input and how to name it, None where its config cannot
    be read here (offline, say) or names no position table."""
    from transformers import AutoConfig

    from baselines.convert import position_offset
    from benchmark.architectures import register

    register()  # a teacher may be one of the suite's own (LSG)
    try:
        config = AutoConfig.from_pretrained(teacher_path(recipe))
    except (OSError, ValueError):
        return None
    positions = getattr(config, "max_position_embeddings", None)
    if not positions:
        return None
    return positions - position_offset(config), f"the plain teacher {recipe.teacher!r}"


def plan(recipe: Recipe, output_dir: Path) -> list[Stage]:
    """The stages in order, each reading the folder the previous one wrote."""
    kinds = ["convert", "pretrain", "distill"]
    if recipe.order == "distill-then-convert":
        kinds = ["distill", "convert", "pretrain"]
    kinds = [k for k in kinds if k == "distill" or getattr(recipe, k) is not None]
    stages, current = [], teacher_path(recipe)
    teacher = current
    for number, kind in enumerate(kinds, 1):
        folder = str(Path(output_dir) / f"{number}-{kind}")
        stages.append(Stage(kind=kind, folder=folder, source=current))
        if kind != "distill" and recipe.order == "convert-then-distill":
            teacher = folder  # the student is compared with the teacher it was distilled from
        current = folder
    if recipe.finetune is not None:
        folder = str(Path(output_dir) / f"{len(kinds) + 1}-finetune")
        stages.append(Stage(kind="finetune", folder=folder, source=current, teacher=teacher))
    return stages


def stage_settings(recipe: Recipe, stage: Stage) -> dict:
    """What a stage's result depends on: compared with a finished stage's record."""
    settings = getattr(recipe, stage.kind).model_dump(mode="json")
    return {"stage": stage.kind, "source": stage.source, "settings": settings}


def finished(stage: Stage, settings: dict) -> bool:
    """True when the stage's folder holds a finished run of the same settings; an error
    when it holds one of other settings (its weights would be silently replaced)."""
    record_path = Path(stage.folder) / "stage.json"
    if not record_path.exists():
        return False
    done = json.loads(record_path.read_text("utf-8"))
    if done.get("settings") != settings:
        raise BenchError(
            f"{stage.folder} holds a finished {stage.kind} stage made with other settings; "
            "choose another --output-dir or delete that folder to run it again"
        )
    return True


def launched_rank() -> int:
    """This process's rank under ``torchrun`` or ``accelerate launch`` (0 alone). Read
    from the launcher's environment: the process group itself starts later, inside the
    Trainer."""
    return int(os.environ.get("RANK", "0"))


def wait_for(stage: Stage) -> None:
    """Until the main process has finished ``stage`` (its ``stage.json`` exists). A
    launcher stops every rank when one fails, so this never waits on a dead run."""
    while not (Path(stage.folder) / "stage.json").exists():
        time.sleep(1)


def run_recipe(
    recipe: Recipe,
    output_dir: Path,
    console: Console | None = None,
    only: str | None = None,
    report_to: str = "none",
) -> list[Stage]:
    """Run (or resume) the recipe's stages in order; ``only`` runs one kind of stage, for
    a launcher that distributes just that stage; ``report_to`` is the tracker every stage's
    training reports to (the finetune stage's too, unless its ``run`` settings name one).

    Under a launcher every rank runs the training stages (data-parallel); the main rank
    alone runs the others and writes every stage's record, and the other ranks wait for
    a stage's record before they read its checkpoint. One console speaks."""
    require(report_to)
    check_lengths(recipe)
    main = launched_rank() == 0
    console = (console or Console()) if main else Console(quiet=True)
    stages = plan(recipe, output_dir)
    last_training = max(
        (i for i, s in enumerate(stages) if s.kind in ("pretrain", "distill")), default=-1
    )
    for index, stage in enumerate(stages):
        number = index + 1
        if only and stage.kind != only:
            continue
        training = stage.kind in ("pretrain", "distill")
        if not main:
            if index > last_training:
                break  # what follows the training runs on the main process alone
            if index > 0 and not only:
                wait_for(stages[index - 1])  # its checkpoint is this stage's input
            if not training:
                wait_for(stage)
                continue
        if stage.kind == "finetune" and int(os.environ.get("WORLD_SIZE", "1")) > 1:
            console.print(
                f"stage {number}/{len(stages)} finetune: not run under a launcher (the "
                "benchmark runs in one process); run it with `bench recipe run CONFIG "
                "--only finetune` on its own"
            )
            continue
        settings = stage_settings(recipe, stage)
        if finished(stage, settings):
            console.print(f"[dim]stage {number}/{len(stages)} {stage.kind}: done, kept[/]")
            continue
        console.rule(f"stage {number}/{len(stages)}: {stage.kind}")
        started = time.perf_counter()
        training_settings = getattr(getattr(recipe, stage.kind), "training", None)
        name = f"{recipe.name} {stage.kind}"
        with reporting(stage_reporting(report_to, name, Path(stage.folder), training_settings)):
            record = RUNNERS[stage.kind](recipe, stage, console)
        seconds = time.perf_counter() - started
        curve = record.get("loss_curve") or []
        if curve:
            resumed = record["resumed_from"]
            console.print(
                f"  {record['steps']} steps, loss {curve[0]['loss']:.3f} → "
                f"{curve[-1]['loss']:.3f}" + (f" (resumed from {resumed})" if resumed else "")
            )
        if main:
            _finish(recipe, stage, settings, record, seconds)
        console.print(f"stage {number}/{len(stages)} {stage.kind}: done in {seconds:.1f} s")
    return stages


def _finish(recipe: Recipe, stage: Stage, settings: dict, record: dict, seconds: float) -> None:
    """The card, then ``stage.json`` (last: its presence marks the stage finished)."""
    from baselines.model_card import write_card
    from benchmark.results import write_atomic

    record = {k: v for k, v in record.items() if k != "is_main_process"}
    full = {"settings": settings, "seconds": round(seconds, 2), "record": record}
    if stage.kind != "finetune":
        write_card(Path(stage.folder), stage.kind, stage.source, record, settings, recipe.name)
    write_atomic(Path(stage.folder) / "stage.json", full)


def _convert(recipe: Recipe, stage: Stage, console: Console) -> dict:
    from baselines.convert import convert

    options = recipe.convert
    report = convert(
        stage.source, options.to, Path(stage.folder), options.max_length, options.settings
    )
    console.print(
        f"  {report.copied} weights copied, {len(report.initialised)} new "
        f"({', '.join(report.initialised[:4])}{'…' if len(report.initialised) > 4 else ''}), "
        f"{len(report.not_mapped)} source weights unused; short-input difference "
        f"{report.short_input_check['max_abs_difference']:.1e}"
    )
    return report.to_dict()


def _pretrain(recipe: Recipe, stage: Stage, console: Console) -> dict:
    from baselines.pretrain import pretrain

    options = recipe.pretrain
    return pretrain(
        stage.source,
        Path(stage.folder),
        options.text,
        options.max_length,
        options.training,
        console,
        options.mask_probability,
    )


def _distill(recipe: Recipe, stage: Stage, console: Console) -> dict:
    from baselines.distill import distill

    options = recipe.distill
    return distill(
        stage.source,
        Path(stage.folder),
        options.text,
        options.max_length,
        options.training,
        console,
        options.loss,
        options.layers,
        mask_probability=options.mask_probability,
    )


def _finetune(recipe: Recipe, stage: Stage, console: Console) -> dict:
    """Student and teacher through the benchmark runner, as ``bench run --model student
    --teacher teacher`` does: after the student, the teacher runs with the same settings
    into its own result file, and with speed on the two are timed side by side
    (interleaved). They report to the recipe's tracker unless the stage's settings name
    their own ``report_to``."""
    from benchmark import runner
    from benchmark.config import build_config
    from benchmark.run_result import read_result

    results = Path(stage.folder)
    teacher_file = results / "teacher.json"
    student_file = runner.run(
        build_config(
            ({"report_to": active().to} if active() else {})
            | dict(recipe.finetune.run)
            | {
                "model": stage.source,
                "name": f"{recipe.name} student",
                "output": str(results / "student.json"),
                "teacher": stage.teacher,
                "teacher_output": str(teacher_file),
            },
            what="finetune settings",
        ),
        console,
    )
    retention = read_result(student_file).retention
    kept = ", ".join(
        f"{task} {entry.retained_percent:.1f} %"
        for task, entry in retention.tasks.items()
        if entry.retained_percent is not None
    )
    console.print(f"student result: {student_file} (retained of the teacher's score: {kept})")
    cards = _write_cards(stage, student_file, teacher_file)
    for card in cards:
        console.print(f"model card: {card}", highlight=False)
    return {
        "student_result": str(student_file),
        "teacher_result": str(teacher_file),
        "cards": [str(c) for c in cards],
    }


def _write_cards(stage: Stage, student_file: Path, teacher_file: Path) -> list[Path]:
    """Each model's card with its scores (benchmark.hub_card): the student's in its own
    folder, beside the card its stage wrote; the teacher's in its folder when this recipe
    made it, else in ``<finetune folder>/teacher-card/`` (a Hub id or someone else's folder
    is not written to)."""
    from benchmark.hub_card import build_card, suite_url, write_card
    from benchmark.run_result import read_result

    made_here = Path(stage.folder).resolve().parent
    written = []
    roles = (("student", student_file, stage.source), ("teacher", teacher_file, stage.teacher))
    for role, result_file, model in roles:
        folder = Path(model) if model and Path(model).is_dir() else None
        if folder is None or made_here not in folder.resolve().parents:
            folder = Path(stage.folder) / f"{role}-card"
        readme = folder / "README.md"
        existing = readme.read_text(encoding="utf-8") if readme.is_file() else None
        contents = build_card(read_result(result_file), existing, None, suite_url())
        written += write_card(folder, contents)[:1]
    return written


RUNNERS: dict[str, Callable[[Recipe, Stage, Console], dict]] = {
    "convert": _convert,
    "pretrain": _pretrain,
    "distill": _distill,
    "finetune": _finetune,
}
