"""The paper's trade at small scale, in both orders: one study file, one command.

For each architecture the study builds four models from one teacher with the recipe
(baselines.recipe), all with the same text and training budget:

* ``teacher``: the teacher converted to the architecture and pretrained (the paper's
  efficient-attention teacher);
* ``convert-then-distill``: that teacher distilled into half its layers (the paper's order);
* ``distill-then-convert``: the plain teacher distilled into half its layers, then converted
  and pretrained (the order the paper names as future work);
* ``floor``: the converted teacher cut to the same layers with no distillation, so the gain
  from distilling shows.

Each student's inference time is then set against its teacher's with the interleaved ratio
(benchmark.time_ratio) at every length, and every model is scored by `bench sweep` (every
task, every seed, one result file per model, each student against its architecture's
teacher; seed by seed, so a study cut short can be reported at the seeds done). Each step
skips what is already written, so an interrupted study resumes.
`bench report` (baselines.report) turns the files into the study's page.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from rich.console import Console

from baselines.recipe import BUNDLED_TEACHER, ConvertStage, DistillStage, PretrainStage, Recipe
from benchmark.config import load_yaml_model
from benchmark.results import write_atomic

ORDERS = ("convert-then-distill", "distill-then-convert")
ROLES = ("teacher", *ORDERS, "floor")


class Evaluation(BaseModel):
    """What every model is scored on: a sweep's tasks, seeds and shared run settings."""

    model_config = ConfigDict(extra="forbid")
    tasks: str
    seeds: list[int] = Field(min_length=1)
    settings: dict = Field(default_factory=dict)
    task_settings: dict[str, dict] = Field(default_factory=dict)  # per task, over settings

    @model_validator(mode="after")
    def _as_a_sweep(self):
        """Checked as the sweep will read them, now rather than after hours of training."""
        from benchmark.sweep import Manifest, ModelEntry

        Manifest(
            models=[ModelEntry(model="-")],
            tasks=self.tasks,
            seeds=self.seeds,
            settings=self.settings,
            task_settings=self.task_settings,
        )
        return self


class SpeedPlan(BaseModel):
    """Where each student is timed against its teacher (interleaved rounds)."""

    model_config = ConfigDict(extra="forbid")
    seq_lens: list[int] = Field(default=[512, 2048, 4096], min_length=1)
    batch_size: int = 1
    device: str = "cpu"
    tolerance: float = 0.03
    min_rounds: int = 4
    max_rounds: int = 16


class Study(BaseModel):
    """A study file (``baselines/configs/study*.yaml``)."""

    model_config = ConfigDict(extra="forbid")
    name: str
    teacher: str = BUNDLED_TEACHER
    architectures: list[ConvertStage] = Field(min_length=1)
    orders: list[Literal["convert-then-distill", "distill-then-convert"]] = list(ORDERS)
    floor: bool = True
    pretrain: PretrainStage | None = None
    distill: DistillStage
    evaluation: Evaluation
    speed: SpeedPlan = Field(default_factory=SpeedPlan)
    output: str = "study-runs"

    @field_validator("orders")
    @classmethod
    def _teacher_order(cls, value):
        if "convert-then-distill" not in value:
            raise ValueError(
                "convert-then-distill must be among the orders: its converted teacher is "
                "every student's reference"
            )
        return value


def load_study(path: Path) -> Study:
    return load_yaml_model(path, Study, "study")


class StudyModel(BaseModel):
    """One model of the study: its architecture, role, folder and (for a student) teacher."""

    key: str
    architecture: str
    role: str
    path: str
    teacher: str | None = None  # the key of its teacher


def recipes(study: Study) -> dict[tuple[str, str], Recipe]:
    """The recipe of each (architecture, order): the same stages and budget for both."""
    made = {}
    for convert in study.architectures:
        for order in study.orders:
            made[(convert.to, order)] = Recipe(
                name=f"{study.name}-{convert.to}-{order}",
                teacher=study.teacher,
                order=order,
                convert=convert,
                pretrain=study.pretrain,
                distill=study.distill,
            )
    return made


def recipe_dir(study: Study, output: Path, architecture: str, order: str) -> Path:
    return Path(output) / "recipes" / f"{architecture}-{order}"


def models(study: Study, output: Path) -> list[StudyModel]:
    """Every model of the study, each architecture's teacher first. The teacher is the
    convert-then-distill recipe's converted (and pretrained) model: what it distils from."""
    from baselines.recipe import plan

    output = Path(output)
    made = recipes(study)
    found = []
    for convert in study.architectures:
        arch = convert.to
        teacher_key = f"{arch}-teacher"
        first = plan(
            made[(arch, "convert-then-distill")],
            recipe_dir(study, output, arch, "convert-then-distill"),
        )
        teacher = next(s for s in first if s.kind == "distill").source
        found.append(StudyModel(key=teacher_key, architecture=arch, role="teacher", path=teacher))
        for order in study.orders:
            stages = plan(made[(arch, order)], recipe_dir(study, output, arch, order))
            found.append(
                StudyModel(
                    key=f"{arch}-{order}",
                    architecture=arch,
                    role=order,
                    path=stages[-1].folder,
                    teacher=teacher_key,
                )
            )
        if study.floor:
            found.append(
                StudyModel(
                    key=f"{arch}-floor",
                    architecture=arch,
                    role="floor",
                    path=str(output / "floors" / arch),
                    teacher=teacher_key,
                )
            )
    return found


def build(study: Study, output: Path, console: Console) -> None:
    """Run every recipe (resuming), then cut the floors from the converted teachers."""
    from baselines.recipe import check_lengths, run_recipe
    from baselines.student import cut_layers

    for recipe in recipes(study).values():
        check_lengths(recipe)  # every recipe, before hours go into the first
    for (arch, order), recipe in recipes(study).items():
        console.rule(f"[bold]{arch}, {order}[/]")
        folder = recipe_dir(study, output, arch, order)
        if order == "distill-then-convert":
            _share_plain_distill(study, output, recipe, folder, console)
        run_recipe(recipe, folder, console)
    by_key = {m.key: m for m in models(study, output)}
    for model in by_key.values():
        record = Path(model.path) / "floor.json"
        if model.role != "floor" or record.exists():
            continue
        console.print(f"floor: {by_key[model.teacher].path} cut to its student's layers")
        done = cut_layers(by_key[model.teacher].path, Path(model.path), study.distill.layers)
        write_atomic(record, done | {"teacher": by_key[model.teacher].path})


def _share_plain_distill(
    study: Study, output: Path, recipe: Recipe, folder: Path, console: Console
) -> None:
    """Distill-then-convert distils the plain teacher with the same settings for every
    architecture: one finished distillation is copied to the others (its stage.json says
    it was made with exactly these settings) rather than trained again."""
    import os
    import shutil

    from baselines.recipe import plan, stage_settings

    stage = plan(recipe, folder)[0]
    mine = Path(stage.folder)
    if (mine / "stage.json").exists():
        return
    wanted = stage_settings(recipe, stage)
    for convert in study.architectures:
        other = recipe_dir(study, output, convert.to, "distill-then-convert") / mine.name
        record = other / "stage.json"
        if other == mine or not record.exists():
            continue
        if json.loads(record.read_text("utf-8")).get("settings") != wanted:
            continue
        console.print(f"distill: the same distillation is done in {other}: copied")
        partial = mine.with_name(mine.name + ".copying")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(other, partial, ignore=shutil.ignore_patterns("checkpoints"))
        shutil.rmtree(mine, ignore_errors=True)  # an unfinished run of the same stage
        os.replace(partial, mine)
        return


def manifest(study: Study, output: Path):
    """The sweep that scores every model: each student against its teacher."""
    from benchmark.sweep import Manifest, ModelEntry

    found = models(study, output)
    path_of = {m.key: m.path for m in found}
    # the speed plan's device for the speed units unless the evaluation names its own
    settings = {"device": study.speed.device} | study.evaluation.settings
    settings |= {
        "speed_seq_len": study.speed.seq_lens,
        "speed_batch_size": study.speed.batch_size,
    }
    return Manifest(
        models=[
            ModelEntry(model=m.path, name=m.key, teacher=path_of.get(m.teacher)) for m in found
        ],
        tasks=study.evaluation.tasks,
        seeds=study.evaluation.seeds,
        settings=settings,
        task_settings=study.evaluation.task_settings,
    )


def results_dir(output: Path) -> Path:
    return Path(output) / "results"


def ratio_path(output: Path, key: str) -> Path:
    return Path(output) / "time-ratios" / f"{key}.json"


def time_ratios(study: Study, output: Path, console: Console) -> None:
    """Each student's inference time over its teacher's at every length, interleaved in
    rounds until two halves agree; kept once measured with the same settings."""
    from benchmark.profiler import ProfileRequest
    from benchmark.time_ratio import describe_ratio, ratios_at_lengths

    found = models(study, output)
    path_of = {m.key: m.path for m in found}
    plan = study.speed.model_dump()
    for model in found:
        if model.teacher is None:
            continue
        path = ratio_path(output, model.key)
        if path.exists() and json.loads(path.read_text("utf-8")).get("settings") == plan:
            console.print(f"[dim]time ratio {model.key}: measured, kept[/]")
            continue
        console.print(f"[bold]time ratio[/] {model.key} / {model.teacher}")
        measured = ratios_at_lengths(
            ProfileRequest(model.path, 0, study.speed.batch_size, study.speed.device),
            path_of[model.teacher],
            study.speed.seq_lens,
            study.speed.tolerance,
            study.speed.min_rounds,
            study.speed.max_rounds,
            on_ratio=lambda record, _: console.print("  " + describe_ratio(record)),
        )
        write_atomic(path, {"settings": plan, "teacher": model.teacher, "ratios": measured})


def run_study(
    study_path: Path,
    output: Path | None = None,
    console: Console | None = None,
    workers: int = 1,
):
    """Build, score and time every model of the study (each step resumes); ``workers``
    processes share the fine-tuning (benchmark.sweep.workers)."""
    from benchmark.sweep import run_sweep

    console = console or Console()
    study = load_study(study_path)
    output = Path(output or study.output)
    build(study, output, console)
    # timed before the hours of fine-tuning: the ratios need only the built models and a
    # quiet machine, and a study cut short then has its time axis
    time_ratios(study, output, console)
    run_sweep(manifest(study, output), output=results_dir(output), console=console, workers=workers)
    return output
