"""The study end to end on a tiny teacher: both orders and the floor built by the recipe,
scored over two seeds by a sweep, timed against the teacher in interleaved rounds, and a
report made from those files alone, again from its own copy of them."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from baselines.report import make_report
from baselines.report.stats import Point, near_chance, summary_points
from baselines.study import load_study, models, run_study
from benchmark.errors import BenchError
from benchmark.run_result import TaskResult

ROOT = Path(__file__).resolve().parents[1]


def _study_file(path: Path, teacher: Path, **changes) -> Path:
    content = {
        "name": "tiny-study",
        "teacher": str(teacher),
        "architectures": [
            {"to": "longformer", "max_length": 256, "settings": {"attention_window": 16}}
        ],
        "pretrain": {
            "text": {"bundled": True, "max_documents": 4},
            "max_length": 64,
            "training": {"max_steps": 2, "batch_size": 2, "save_steps": 10},
        },
        "distill": {
            "text": {"bundled": True, "max_documents": 4},
            "max_length": 64,
            "training": {"max_steps": 2, "batch_size": 2, "save_steps": 10},
        },
        "evaluation": {
            "tasks": "sst2",
            "seeds": [1, 2],
            "settings": {"data_dir": "bundled", "limit": 8, "epochs": 1, "max_length": 64}
            | {"speed_min_repeats": 3, "speed_min_seconds": 0.05},
        },
        "speed": {"seq_lens": [64], "batch_size": 1, "min_rounds": 2, "max_rounds": 2},
    } | changes
    path.write_text(yaml.safe_dump(content))
    return path


def test_the_study_builds_scores_times_and_reports(tiny_mlm_teacher, tmp_path, quick_profiles):
    study_file = _study_file(tmp_path / "study.yaml", tiny_mlm_teacher)
    runs = tmp_path / "runs"
    run_study(study_file, runs)
    study = load_study(study_file)
    found = {m.key: m for m in models(study, runs)}
    assert list(found) == [
        "longformer-teacher",
        "longformer-convert-then-distill",
        "longformer-distill-then-convert",
        "longformer-floor",
    ]
    for key, model in found.items():
        config = json.loads((Path(model.path) / "config.json").read_text())
        assert config["model_type"] == "longformer", key
        layers = 4 if model.role == "teacher" else 2
        assert config["num_hidden_layers"] == layers, key
        result = json.loads((runs / "results" / f"{key}.json").read_text())
        assert result["tasks"]["sst2"]["seeds"] == [1, 2]
        if model.teacher:
            teacher = json.loads((runs / "results" / f"{model.teacher}.json").read_text())
            weights = result["retention"]["teacher"]["model"]["weights_sha256"]
            assert weights == teacher["model"]["weights_sha256"] is not None
            ratios = json.loads((runs / "time-ratios" / f"{key}.json").read_text())
            assert ratios["ratios"][0]["rounds"] == 2 and ratios["teacher"] == model.teacher

    page = make_report(study, runs, tmp_path / "report")
    text = page.read_text()
    student = json.loads((runs / "results" / "longformer-convert-then-distill.json").read_text())
    macro = student["retention"]["retained_percent_macro"]
    assert f"{macro:.1f}" in text and "student, distill-then-convert" in text
    assert "Goal not assessed" in text  # timed at 64 tokens only, not 4,096
    # each row's share over the tasks its teacher learned; the teacher's cell names them
    teacher = json.loads((runs / "results" / "longformer-teacher.json").read_text())
    header = next(line for line in text.splitlines() if line.startswith("| model |"))
    assert "| retained (learned tasks) |" in header
    teacher_row = next(line for line in text.splitlines() if line.startswith("| teacher"))
    learned = [
        t for t, e in teacher["tasks"].items() if not near_chance(TaskResult.model_validate(e))
    ]
    assert (f"| 100 ({', '.join(learned)}) |" if learned else "| – |") in teacher_row
    assert "sst2 1 epoch at 64 tokens at most" in text  # as the result files record it
    # each model's own time and memory beside the ratio, from its speed block
    own = student["speed"]["measurements"][0]
    cell = f"{own['latency_ms']['median']:,.0f} ms, {own['peak_memory_mb']:,.0f} MB"
    row = next(line for line in text.splitlines() if line.startswith("| student, convert"))
    assert row.endswith(f"| {cell} |")
    # the copied results carry the interleaved ratio, as `bench run --teacher` records it
    copied = tmp_path / "report" / "data" / "results" / "longformer-convert-then-distill.json"
    (cost,) = json.loads(copied.read_text())["retention"]["cost"]
    ratio = json.loads((runs / "time-ratios" / "longformer-convert-then-distill.json").read_text())
    assert cost["time_method"] == "interleaved"
    assert f"{ratio['ratios'][0]['ratio']:.3f} [" in row and ", 2 rounds" in row
    assert cost["time_ratio"] == ratio["ratios"][0]["ratio"]
    assert "up to 98.6 %" in text  # the paper's claim, labelled as theirs
    assert (tmp_path / "report" / "pareto.png").stat().st_size > 1000
    assert (tmp_path / "report" / "pareto.svg").read_text().startswith("<?xml")
    # the page and plots are made again from the report's own copy of its inputs, identically
    plots = {n: (tmp_path / "report" / n).read_bytes() for n in ("pareto.png", "pareto.svg")}
    # an older report's copy, its cost from separate runs, is brought up to the ratios
    older = json.loads(copied.read_text())
    older["retention"]["cost"][0] |= {"time_method": "separate runs", "time_ratio": None}
    copied.write_text(json.dumps(older))
    again = make_report(study, tmp_path / "report" / "data", tmp_path / "report")
    assert again.read_text() == text
    (cost,) = json.loads(copied.read_text())["retention"]["cost"]
    assert cost["time_method"] == "interleaved" and cost["time_ratio"] is not None
    assert all((tmp_path / "report" / n).read_bytes() == b for n, b in plots.items())

    # a second run of the study builds, scores and times nothing again
    before = {p: p.stat().st_mtime_ns for p in (runs / "time-ratios").iterdir()}
    run_study(study_file, runs)
    assert {p: p.stat().st_mtime_ns for p in (runs / "time-ratios").iterdir()} == before

    # a sweep cut short (a seed-2 unit missing, as when a task was added to a finished
    # study): an interim page, each model merged from its units at seed 1, the seed every
    # model has, not from the merged files, which the sweep has not rewritten
    (runs / "results" / "units" / "longformer-floor" / "sst2.seed2.json").unlink()
    interim = make_report(study, runs, tmp_path / "interim").read_text()
    assert "**Interim page**" in interim and "seeds [1];" in interim
    data = tmp_path / "interim" / "data" / "results"
    for key in found:
        unit = json.loads((runs / "results" / "units" / key / "sst2.seed1.json").read_text())
        kept = json.loads((data / f"{key}.json").read_text())
        assert kept["tasks"]["sst2"]["seeds"] == [1], key
        assert kept["tasks"]["sst2"]["main_score"] == unit["tasks"]["sst2"]["main_score"], key
        assert bool(kept.get("retention")) == (key != "longformer-teacher"), key
    assert make_report(study, data.parent, tmp_path / "interim").read_text() == interim

    # merged files of two runs (an architecture added to a finished study and scored at
    # fewer seeds so far): each model at its own seeds, and the page says which
    mixed = tmp_path / "mixed"
    shutil.copytree(tmp_path / "report" / "data", mixed)
    shutil.copy(data / "longformer-floor.json", mixed / "results" / "longformer-floor.json")
    page = make_report(study, mixed, mixed.parent / "mixed-page").read_text()
    assert "seeds [1, 2] planned, fewer for some models;" in page
    assert "longformer-floor shown at seeds [1] of the 2 planned ([1, 2])" in page
    assert "every model is shown" not in page
    row = next(line for line in page.splitlines() if line.startswith("| student, convert"))
    assert row == next(line for line in text.splitlines() if line.startswith("| student, conv"))

    # a model whose speed is not measured yet: the others keep their time and memory
    (runs / "results" / "units" / "longformer-floor" / "speed.json").unlink()
    timed = make_report(study, runs, tmp_path / "timed").read_text()
    assert "inference time and peak memory not measured yet: longformer-floor." in timed
    kept = tmp_path / "timed" / "data" / "results"
    assert json.loads((kept / "longformer-teacher.json").read_text())["speed"]["settings"]
    assert json.loads((kept / "longformer-floor.json").read_text())["speed"] is None

    # a model with no finished seed is "not scored yet"; the others at the seeds they share
    (runs / "results" / "units" / "longformer-floor" / "sst2.seed1.json").unlink()
    partial = make_report(study, runs, tmp_path / "partial").read_text()
    assert "not scored yet: longformer-floor" in partial and "seeds [1, 2];" in partial


def _point(key: str, role: str, retained: float | None, **more) -> Point:
    """A student's point at the goal's length, architecture x, spread 2, ratio 0.5, its
    teacher having learned every task; ``more`` overrides any field."""
    fields = {"architecture": "x", "retained_std": 2.0, "seq_len": 4096, "ratio": 0.5}
    fields |= {"learned": (), "all_learned": True}
    fields |= {"retained_learned": None, "retained_learned_std": None}
    return Point(key=key, role=role, retained=retained, **(fields | more))


def _keys(points) -> list[str]:
    return [p.key for p in points]


def test_the_goal_is_judged_at_4096_tokens_only():
    from baselines.report.sentences import goal_paragraph
    from baselines.report.verdicts import floor_comparison, goal_verdict

    a = _point("a", "convert-then-distill", 92.0, ratio=0.52)
    b = _point("b", "distill-then-convert", 97.0, ratio=0.60)  # too slow for the goal
    # an undistilled floor never meets the goal on the students' behalf
    f = _point("f", "floor", 99.0)
    short = _point("s", "distill-then-convert", 99.0, seq_len=512)  # not timed at 4,096
    verdict = goal_verdict([a, b, f, short])
    assert verdict.outcome == "reached" and _keys(verdict.met) == ["a"]
    assert _keys(verdict.timed) == ["a", "b"] and verdict.set_aside == ()
    # the floor keeps as much: the students' share is what the cut kept
    floors = floor_comparison([a, b, f])
    assert _keys(floors.floors) == ["f"] and floors.compared == ("a", "b")
    assert floors.above == () and floors.no_spread == floors.unscored == ()
    # and the page says so
    page = goal_paragraph([a, b, f])
    assert page.startswith("**Goal reached** (≥ 90 % retained at a time ratio ≤ 0.55 at 4096")
    assert "a (92.0 ± 2.0 %, ratio 0.520)" in page and "b (97.0" not in page
    assert "keep x 99.0 ± 2.0 %; 0 of 2 distilled students are above their floor" in page
    assert "distillation adds nothing" in page
    # b is 7 points above, more than 2.83 (2 and 2 in quadrature); a only 2
    low = replace(f, retained=90.0)
    assert floor_comparison([a, b, low]).above == ("b",)
    # one seed: no spread, so no gap to the floor can be told from noise, and the share is
    # set aside by the verdict too, which names it
    c = replace(a, key="c", retained=99.5, retained_std=None)
    verdict = goal_verdict([a, b, low, c])
    assert _keys(verdict.set_aside) == ["c"] and _keys(verdict.met) == ["a"]
    floors = floor_comparison([a, b, low, c])
    assert floors.compared == ("a", "b") and floors.above == ("b",)
    assert floors.no_spread == ("c",) and floors.unscored == ()
    # a floor not scored: no student is compared with it
    floors = floor_comparison([a, b, replace(f, retained=None)])
    assert floors.compared == () and floors.unscored == ("a", "b")
    assert floor_comparison([a, b]) is None  # no floor at all
    # a below the goal, b too slow: not reached, and b keeps the most
    verdict = goal_verdict([replace(a, retained=89.9), b, f])
    assert verdict.outcome == "not reached" and verdict.met == ()
    assert verdict.closest.key == "b" and verdict.closest.retained == 97.0
    assert summary_points({}) == []
    # the scores are noise (spread over 10 points, or none): nothing is judged
    loud = [replace(a, retained_std=40.0), replace(b, retained_std=None), f]
    verdict = goal_verdict(loud)
    assert verdict.outcome == "noisy" and _keys(verdict.set_aside) == ["a", "b"]
    # the floors are still compared (a paired interval could judge them); here by the
    # spread, which is too wide for a and missing for b
    said = goal_paragraph(loud)
    assert "(a 92 ± 40 %, b 97 %, no spread)" in said
    assert "The floors (cut to the students' layers, not distilled) keep x 99.0 ± 2.0 %" in said
    assert "0 of 1 distilled students are above" in said and "on both sides: b" in said
    assert goal_verdict([short, f]).outcome == "untimed"
    assert goal_paragraph([short, f]).startswith("**Goal not assessed**: no student was timed")


def test_a_study_without_convert_then_distill_is_refused(tiny_mlm_teacher, tmp_path):
    bad = _study_file(tmp_path / "s.yaml", tiny_mlm_teacher, orders=["distill-then-convert"])
    with pytest.raises(BenchError, match="convert-then-distill must be among the orders"):
        load_study(bad)
    evaluation = {"tasks": "sst2", "seeds": [1], "task_settings": {"squad": {"epochs": 2}}}
    typo = _study_file(tmp_path / "t.yaml", tiny_mlm_teacher, evaluation=evaluation)
    with pytest.raises(BenchError, match="names 'squad', which is not among the tasks"):
        load_study(typo)  # when the file is read, not after the models are built
    with pytest.raises(BenchError, match="no result of this study"):
        make_report(
            load_study(_study_file(tmp_path / "ok.yaml", tiny_mlm_teacher)),
            tmp_path / "nothing",
            tmp_path / "out",
        )


def test_a_study_that_cannot_distil_its_plain_teacher_fails_before_building(
    tiny_mlm_teacher, tmp_path
):
    # convert-then-distill (built first) could distil 1,024 tokens of its converted teacher;
    # distill-then-convert cannot, as the plain teacher reads 512: refused before either runs
    study_file = _study_file(
        tmp_path / "study.yaml",
        tiny_mlm_teacher,
        architectures=[{"to": "longformer", "max_length": 2048, "settings": {}}],
        distill={"text": {"bundled": True}, "max_length": 1024},
    )
    with pytest.raises(BenchError, match="distill.max_length is 1024.*at most 512 tokens"):
        run_study(study_file, tmp_path / "runs")
    assert not (tmp_path / "runs").exists()


def test_the_paper_scale_study_is_the_paper_recipes_in_both_orders(tmp_path):
    """study-paper.yaml is the study at the paper's scale: each architecture as its
    paper-scale recipe converts, pretrains and distils it (distilled at 512 tokens with the
    recipe's tokens per step), scored on every task and timed at batch 16 on a GPU."""
    from baselines.recipe import read_recipe
    from baselines.study import manifest
    from benchmark.tasks import TASKS, resolve_tasks

    configs = ROOT / "baselines" / "configs"
    study = load_study(configs / "study-paper.yaml")
    small = load_study(configs / "study.yaml")
    assert [a.to for a in study.architectures] == [a.to for a in small.architectures]
    assert study.orders == small.orders and study.floor
    for convert in study.architectures:
        paper = read_recipe(configs / f"{convert.to}-roberta-base.yaml")
        assert study.teacher == paper.teacher == "FacebookAI/roberta-base"
        assert convert == paper.convert
        assert study.pretrain == paper.pretrain
        ours, theirs = study.distill, paper.distill
        assert (ours.text, ours.loss) == (theirs.text, theirs.loss)
        assert ours.training.max_steps == theirs.training.max_steps
        tokens = [
            d.max_length * d.training.batch_size * d.training.gradient_accumulation
            for d in (ours, theirs)
        ]
        assert tokens[0] == tokens[1]
    assert study.distill.max_length == 512  # roberta-base's position table, for both orders
    assert len(models(study, tmp_path)) == 16
    planned = manifest(study, tmp_path)
    assert [t.name for t in resolve_tasks(planned.tasks)] == list(TASKS)
    assert planned.settings["device"] == "cuda" and "data_dir" not in planned.settings
    assert (study.speed.device, study.speed.batch_size) == ("cuda", 16)
    assert study.speed.seq_lens == [512, 2048, 4096]


def test_the_lsg_study_is_the_study_with_lsg_alone():
    """study-lsg.yaml scores LSG's arm with exactly the study's settings, into its folder,
    so its result files sit beside the other architectures' on one page."""
    configs = ROOT / "baselines" / "configs"
    whole, alone = load_study(configs / "study.yaml"), load_study(configs / "study-lsg.yaml")
    assert alone.architectures == [a for a in whole.architectures if a.to == "lsg"]
    assert alone.model_dump(exclude={"architectures"}) == whole.model_dump(
        exclude={"architectures"}
    )


def test_distill_then_convert_distils_the_plain_teacher_once(tiny_mlm_teacher, tmp_path):
    """Its distillation is the same for every architecture: a finished one is copied (not
    its checkpoints), and only when its record shows the same settings."""
    from rich.console import Console

    from baselines.recipe import plan, stage_settings
    from baselines.study import _share_plain_distill, recipe_dir, recipes

    bigbird = {"to": "bigbird", "max_length": 1024}
    study = load_study(
        _study_file(
            tmp_path / "s.yaml",
            tiny_mlm_teacher,
            architectures=[{"to": "longformer", "max_length": 256}, bigbird],
        )
    )
    out, quiet = tmp_path / "runs", Console(quiet=True)
    made = recipes(study)
    first = recipe_dir(study, out, "longformer", "distill-then-convert")
    second = recipe_dir(study, out, "bigbird", "distill-then-convert")
    stage = plan(made[("longformer", "distill-then-convert")], first)[0]
    done = Path(stage.folder)
    (done / "checkpoints" / "checkpoint-2").mkdir(parents=True)
    (done / "model.safetensors").write_bytes(b"weights")
    settings = stage_settings(made[("longformer", "distill-then-convert")], stage)
    (done / "stage.json").write_text(json.dumps({"settings": settings | {"source": "other"}}))
    target = second / done.name
    _share_plain_distill(study, out, made[("bigbird", "distill-then-convert")], second, quiet)
    assert not target.exists()  # made from another source: not the same distillation
    (done / "stage.json").write_text(json.dumps({"settings": settings}))
    _share_plain_distill(study, out, made[("bigbird", "distill-then-convert")], second, quiet)
    assert (target / "model.safetensors").read_bytes() == b"weights"
    assert (target / "stage.json").exists() and not (target / "checkpoints").exists()


def _seed1(name: str):
    from benchmark.run_result import read_result

    return read_result(Path(__file__).parent / "fixtures" / "results" / "study-seed1" / name)


def test_retained_of_the_macro_score_is_not_swung_by_a_task_near_chance():
    from baselines.report.stats import retained_of_macro

    teacher, student = _seed1("bigbird-teacher.json"), _seed1("bigbird-convert-then-distill.json")
    # the teacher's SQuAD F1 of 9.4 and SST-2 accuracy of 59.4 % on 64 examples (two
    # standard errors of guessing reach 62.5 %) are near chance; its NER scores are not
    assert [near_chance(teacher.tasks[t]) for t in ("conll2003", "squad", "sst2", "gonerd")] == [
        False,
        True,
        True,
        False,
    ]
    learned = teacher.tasks["sst2"].model_copy(update={"main_score": 63.0})
    assert not near_chance(learned)
    # macro scores from the tasks' headline scores (SQuAD: the mean of EM and F1):
    # student (47.091 + 3.949 + 59.375 + 35.648) / 4 = 36.516, teacher
    # (46.703 + 9.375 + 59.375 + 39.381) / 4 = 38.708
    retained, spread = retained_of_macro(student, teacher)
    assert retained == pytest.approx(94.34, abs=0.01)
    assert spread is None  # one seed: no spread
    # the mean of per-task ratios the result records weighs SQuAD's 3.9 / 9.4 as much as
    # any other task, so it reads far lower here
    assert student.retention.retained_percent_macro == pytest.approx(83.37, abs=0.01)


def _mrpc_result(accuracy: float, f1: float, counts: dict[str, int]) -> TaskResult:
    """A seed-1 classification result re-headed as MRPC's: F1 first, accuracy beside it."""
    from benchmark.run_result import Counts

    n = sum(counts.values())
    return (
        _seed1("bigbird-teacher.json")
        .tasks["sst2"]
        .model_copy(
            update={
                "main_score_name": "f1",
                "main_score": f1,
                "metrics": {"accuracy": accuracy, "f1": f1},
                "n_examples": Counts(original=n, evaluated=n),
                "label_counts": counts,
            }
        )
    )


def test_a_classifier_near_chance_is_judged_against_its_commonest_label():
    # MRPC's 200 development pairs: 137 paraphrases, so answering "equivalent" everywhere
    # scores 68.5 % accuracy and F1 81.3; two standard errors above it: 75.07 %
    mrpc = _mrpc_result(75.0, 84.0, {"equivalent": 137, "not_equivalent": 63})
    assert near_chance(mrpc)  # F1 84 heads the task, but accuracy decides
    assert not near_chance(mrpc.model_copy(update={"metrics": {"accuracy": 75.5, "f1": 84.0}}))
    # a result that did not count its labels is held against a coin: 57.1 % on 200
    assert not near_chance(mrpc.model_copy(update={"label_counts": None}))
    assert near_chance(
        mrpc.model_copy(update={"label_counts": None, "metrics": {"accuracy": 57.0, "f1": 84}})
    )


def test_a_classification_cell_headed_by_f1_shows_the_accuracy_and_the_page_its_bar():
    from baselines.report.tables import score_cell
    from baselines.report.text import commonest_label_terms

    teacher = _seed1("bigbird-teacher.json")
    one = _mrpc_result(71.0, 80.0, {"equivalent": 333, "not_equivalent": 167})
    other = one.model_copy(update={"metrics": {"accuracy": 73.0, "f1": 81.0}})
    seeds = one.model_copy(
        update={
            "metrics": {"accuracy": 72.0, "f1": 80.5},
            "main_score": 80.5,
            "main_score_std": 0.7,
            "seed_runs": {"1": one, "2": other},
        }
    )
    assert score_cell(teacher, "sst2") == "59.4"  # headed by accuracy: nothing added
    result = teacher.model_copy(update={"tasks": {"mrpc": seeds}})
    assert score_cell(result, "mrpc") == "80.5 ± 0.7 (acc 72.0 ± 1.4)"
    assert "commonest label scores an accuracy of mrpc 66.6 %." in commonest_label_terms(
        result, ["mrpc"]
    )
    unlabelled = teacher.model_copy(
        update={"tasks": {"mrpc": seeds.model_copy(update={"label_counts": None})}}
    )
    assert commonest_label_terms(unlabelled, ["mrpc"]) == ""


def test_the_goal_is_judged_again_over_the_tasks_the_teacher_learned():
    from baselines.report.sentences import goal_paragraph
    from baselines.report.stats import learned_tasks, retained_of_macro
    from baselines.report.verdicts import goal_verdict, learned_goal

    teacher, student = _seed1("bigbird-teacher.json"), _seed1("bigbird-convert-then-distill.json")
    assert learned_tasks(teacher) == ["conll2003", "gonerd"]
    # (47.091 + 35.648) / (46.703 + 39.381) = 82.739 / 86.084
    retained, _ = retained_of_macro(student, teacher, learned_tasks(teacher))
    assert retained == pytest.approx(96.11, abs=0.01)
    # the teacher left squad and sst2 near chance
    learned = {"learned": ("conll2003", "gonerd"), "all_learned": False}
    learned |= {"retained_learned_std": 1.0}
    a = _point("a", "convert-then-distill", 88.0, retained_learned=93.0, **learned)
    b = _point("b", "distill-then-convert", 91.0, retained_learned=85.0, **learned)
    f = _point("f", "floor", 90.0, retained_learned=94.0, **learned)
    assert _keys(goal_verdict([a, b, f]).met) == ["b"]  # over every task
    goal = learned_goal([a, b, f])
    assert goal.learned == {"x": ("conll2003", "gonerd")} and goal.students == ("a", "b")
    assert _keys(goal.shares) == ["a", "b"] and _keys(goal.floors) == ["f"]
    assert goal.met == ("a",)  # 93 reaches 90 over the learned tasks; b's 85 does not
    assert goal.set_aside == goal.nothing == ()
    page = goal_paragraph([a, b, f])
    assert page.startswith("**Goal reached**") and "b (91.0 ± 2.0 %" in page
    assert page.endswith(
        " Over only the tasks each teacher learned (no †; x: conll2003, gonerd) the students "
        "keep a 93.0 ± 1.0 %, b 85.0 ± 1.0 %; the floors f 94.0 ± 1.0 %: 1 of 2 students "
        "reach the goal on them (a)."
    )
    # as in the verdict, a share too noisy to tell 90 % from chance is set aside, not judged
    loud = replace(a, retained_learned_std=12.0)
    goal = learned_goal([loud, b, f])
    assert goal.met == () and goal.set_aside == ("a",)
    # a teacher that learned no task leaves nothing to keep a share of
    none = replace(b, retained_learned=None, retained_learned_std=None, learned=())
    goal = learned_goal([loud, none, f])
    assert goal.nothing == ("b",) and _keys(goal.shares) == ["a"] and goal.students == ("a", "b")
    # where every teacher learned every task the two verdicts are one: no second sentence
    every = [replace(p, all_learned=True) for p in (a, b, f)]
    assert learned_goal(every) is None
    assert "Over only the tasks" not in goal_paragraph(every)


def test_the_orders_are_compared_by_the_spread_of_their_difference():
    from baselines.report.sentences import orders_paragraph
    from baselines.report.verdicts import orders_comparison

    def point(arch: str, role: str, retained: float, std: float | None) -> Point:
        return _point(f"{arch}-{role}", role, retained, architecture=arch, retained_std=std)

    points = [
        point("a", "convert-then-distill", 76.2, 2.4),
        point("a", "distill-then-convert", 83.3, 4.7),  # 7.1 apart, spread hypot(2.4, 4.7) = 5.3
        point("b", "convert-then-distill", 87.2, 4.1),
        point("b", "distill-then-convert", 93.2, 7.0),  # 6.0 apart, spread 8.1: a tie
        point("c", "convert-then-distill", 90.0, 1.0),
        point("c", "distill-then-convert", 80.0, 1.0),  # 10 apart, spread 1.4
        point("d", "convert-then-distill", 90.0, None),  # one seed
        point("d", "distill-then-convert", 80.0, None),
        point("a", "floor", 99.0, 1.0),  # a floor is not an order
        point("e", "convert-then-distill", 80.0, 1.0),  # one order only: nothing to compare
    ]
    compared = orders_comparison(points)
    assert [(c.architecture, c.outcome) for c in compared] == [
        ("a", "distill-then-convert"),
        ("b", "within"),
        ("c", "convert-then-distill"),
        ("d", "unjudged"),
    ]
    first = compared[0]
    assert first.gap == pytest.approx(7.1) and first.spread == pytest.approx(5.2773, abs=1e-4)
    assert first.distill_first.retained == 83.3 and first.convert_first.retained == 76.2
    assert compared[1].spread == pytest.approx(8.1123, abs=1e-4)
    assert compared[2].gap == pytest.approx(-10.0) and compared[3].spread is None
    note = orders_paragraph(points)
    assert (
        "distill-then-convert keeps more of the teacher's macro score on a (83.3 ± 4.7 % "
        "against 76.2 ± 2.4 %: a gap of 7.1 points, the spread 5.3)" in note
    )
    assert note.endswith("not compared, without a spread over seeds on both sides: d.")
    assert orders_comparison(points[:1]) == [] and orders_paragraph(points[:1]) == ""


def _scored(entry, by_seed: dict[str, float]):
    """``entry`` as scored at these seeds (its headline metric per seed, the mean on top)."""
    name = entry.main_score_name

    def at(score: float):
        return entry.model_copy(update={"main_score": score, "metrics": {name: score}})

    mean = sum(by_seed.values()) / len(by_seed)
    runs = {seed: at(score) for seed, score in by_seed.items()}
    return at(mean).model_copy(update={"seed_runs": runs, "seeds": [int(k) for k in runs]})


def test_the_macro_score_spread_is_taken_seed_by_seed():
    from baselines.report.stats import macro_score

    teacher = _seed1("bigbird-teacher.json")
    conll = _scored(teacher.tasks["conll2003"], {"1": 40.0, "2": 50.0})
    sst2 = _scored(teacher.tasks["sst2"], {"1": 60.0, "2": 80.0})
    result = teacher.model_copy(update={"tasks": {"conll2003": conll, "sst2": sst2}})
    # seed 1: (40 + 60) / 2 = 50, seed 2: (50 + 80) / 2 = 65; mean 57.5, sd 10.607
    mean, spread = macro_score(result, ["conll2003", "sst2"])
    assert mean == pytest.approx(57.5) and spread == pytest.approx(10.6066, abs=1e-4)
    # tasks scored at different seeds cannot be paired: the mean stands, no spread
    other = _scored(teacher.tasks["sst2"], {"1": 60.0, "3": 80.0})
    mixed = result.model_copy(update={"tasks": {"conll2003": conll, "sst2": other}})
    assert macro_score(mixed, ["conll2003", "sst2"]) == (pytest.approx(57.5), None)


def test_the_gpu_time_ratios_are_shown_when_their_file_is_there(tmp_path):
    from baselines.report.gpu import gpu_file, gpu_section
    from baselines.report.load import copy_inputs

    runs, output = tmp_path / "runs", tmp_path / "page"
    runs.mkdir()
    assert gpu_file(runs, output) is None and gpu_section(None) == []
    row = {"student": "s", "seq_len": 4096, "batch_size": 16, "status": "ok", "ratio": 0.5034}
    row |= {"min": 0.5, "max": 0.51, "rounds": 4, "agreed": True}
    row |= {"student_ms": 68.0, "teacher_ms": 135.1}
    failed = {"student": "t|x", "seq_len": 4096, "batch_size": 16, "status": "failed"}
    failed["reason"] = "out of memory"
    kept = {"device": "NVIDIA H200 (cuda)", "command": "bash x.sh", "rows": [row, failed]}
    (runs / "ratios-gpu.json").write_text(json.dumps(kept))
    text = "\n".join(gpu_section(gpu_file(runs, output)))
    assert "| s | 4096 | 16 | 0.503 [0.500-0.510] | 4 | yes | 68.0 | 135.1 |" in text
    # a cell's text cannot break the table
    assert "| t\\|x | 4096 | 16 | failed: out of memory |" in text and "NVIDIA H200" in text
    # the page keeps a copy under data/, which it is made again from
    copy_inputs(runs, output, {})
    (runs / "ratios-gpu.json").unlink()
    assert gpu_file(runs, output) == output / "data" / "ratios-gpu.json"
    for bad in ("{not json", json.dumps({"rows": [{"student": "s"}]})):
        (runs / "ratios-gpu.json").write_text(bad)
        with pytest.raises(BenchError, match="is not a GPU time-ratio file"):
            gpu_section(gpu_file(runs, output))


def test_the_page_describes_the_fine_tuning_its_result_files_record():
    from baselines.report.text import evaluation_terms

    teacher = _seed1("bigbird-teacher.json")
    squad = teacher.tasks["squad"]
    recipe = squad.recipe | {"epochs": 5.0, "max_length": 384}
    recipe["data"] = {"source": "baselines/data/study/squad/train.jsonl", "file": "train.jsonl"}
    tasks = teacher.tasks | {
        "squad": squad.model_copy(update={"recipe": recipe}),
        "sst2": teacher.tasks["sst2"].model_copy(update={"recipe": None}),
    }
    result = teacher.model_copy(update={"tasks": tasks})
    assert evaluation_terms(result, ["conll2003", "squad", "sst2"]).split("; ") == [
        "conll2003 8 epochs at 128 tokens at most",
        "squad 5 epochs at 384 tokens at most, trained on baselines/data/study/squad/train.jsonl",
        "sst2 scored as given, not fine-tuned",
    ]


def test_the_study_squad_split_scores_on_the_sample_and_trains_on_other_articles():
    root = Path(__file__).parents[1]
    study, sample = root / "baselines" / "data" / "study" / "squad", root / "benchmark" / "data"
    sample = sample / "samples" / "squad"
    # scored on the very questions every other run scores SQuAD on
    assert (study / "validation.jsonl").read_bytes() == (sample / "validation.jsonl").read_bytes()
    train = [json.loads(line) for line in (study / "train.jsonl").read_text().splitlines()]
    validation = [
        json.loads(line) for line in (sample / "validation.jsonl").read_text().splitlines()
    ]
    assert len(train) == 359 and {r["title"] for r in train} == {"Normans", "Warsaw"}
    assert not {r["context"] for r in train} & {r["context"] for r in validation}
    assert all(
        r["context"][s : s + len(t)] == t
        for r in train
        for s, t in zip(r["answers"]["answer_start"], r["answers"]["text"])
    )


def test_the_study_mrpc_split_trains_on_glue_training_pairs_only():
    study = Path(__file__).parents[1] / "baselines" / "data" / "study" / "mrpc"
    train, scored = (
        [json.loads(line) for line in (study / f"{split}.jsonl").read_text().splitlines()]
        for split in ("train", "validation")
    )
    assert (len(train), len(scored)) == (713, 500)
    # GLUE's first training pair (the MSR file's first row) and its Hub idx
    assert train[0]["sentence1"].startswith("Amrozi accused his brother") and train[0]["idx"] == 0
    pairs = {(r["sentence1"], r["sentence2"]) for r in train}
    assert len(pairs) == 713
    assert not pairs & {(r["sentence1"], r["sentence2"]) for r in scored}
    # what guessing "paraphrase" everywhere scores: 333 of 500, 137 of the 200 dev pairs
    assert sum(r["label"] for r in scored) == 333 and sum(r["label"] for r in scored[:200]) == 137
