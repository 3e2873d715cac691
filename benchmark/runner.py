"""`bench run`: evaluate one model on a list of tasks and keep one result file current.

For each task: load the data, pick the protocol (fine-tune a base checkpoint, or evaluate a
checkpoint that already has the task's head), evaluate with the task's family, and replace
the result file atomically. Tasks already in the file with the same configuration, task
version and data are reused, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from benchmark.config import BUNDLED, RunConfig
from benchmark.defaults import default_model_path
from benchmark.errors import BenchError
from benchmark.families import family_module
from benchmark.models import load_model, load_tokenizer
from benchmark.profiler import measure_model
from benchmark.provenance import model_identity, now, provenance
from benchmark.results import FORMAT, FORMAT_VERSION, read_result, write_atomic, write_jsonl_atomic
from benchmark.retention import retention
from benchmark.task_data import BUNDLED_TASKS, load_task_split, seeded_subset
from benchmark.tasks import TASKS, TaskSpec, resolve_tasks

HEAD_SUFFIX = {
    "sequence_classification": "ForSequenceClassification",
    "token_classification": "ForTokenClassification",
    "extractive_qa": "ForQuestionAnswering",
}
# Model types whose position ids start after the padding index (RoBERTa style).
OFFSET_POSITIONS = {"roberta", "xlm-roberta", "longformer", "camembert", "data2vec-text"}
_GENERIC_LABEL = re.compile(r"^LABEL_\d+$")


def pick_device(choice: str) -> torch.device:
    if choice == "cuda" and not torch.cuda.is_available():
        raise BenchError(
            "--device cuda was asked for but no CUDA device is visible; use --device cpu"
        )
    if choice == "auto":
        choice = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(choice)


def model_input_limit(model, tokenizer) -> int:
    """The longest input the model takes: its position table, and the tokenizer's limit."""
    limits = []
    positions = getattr(model.config, "max_position_embeddings", None)
    if positions:
        offset = 0
        if model.config.model_type in OFFSET_POSITIONS:
            offset = (model.config.pad_token_id or 0) + 1
        limits.append(positions - offset)
    if 0 < tokenizer.model_max_length < 1_000_000:
        limits.append(tokenizer.model_max_length)
    return min(limits) if limits else 512


def match_labels(
    model_labels: dict, task_labels: list[str] | None, task: str
) -> tuple[dict[int, int], str]:
    """Map the checkpoint's label ids to the task's by name; a mismatch is an error."""
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


def _has_head(model_path: str, spec: TaskSpec, trust_remote_code: bool) -> bool:
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(model_path, trust_remote_code=trust_remote_code)
    return any(a.endswith(HEAD_SUFFIX[spec.family]) for a in (config.architectures or []))


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("  {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _progress_callback(progress: Progress):
    """A Trainer callback that drives a rich bar: one tick per optimisation step."""
    from transformers import TrainerCallback

    class RichSteps(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            self.bar = progress.add_task("fine-tuning", total=state.max_steps)

        def on_step_end(self, args, state, control, **kwargs):
            progress.update(self.bar, completed=state.global_step)

    return RichSteps()


def _train(model, rows, family, tokenizer, recipe: dict, config: RunConfig, device, console):
    """Fine-tune ``model`` in place with transformers' Trainer and the recorded recipe."""
    from transformers import Trainer, TrainingArguments

    if not rows:
        raise BenchError(
            "no training examples could be built (no gold answer located in any context)"
        )
    with tempfile.TemporaryDirectory(prefix="bench-train-") as scratch:
        args = TrainingArguments(
            output_dir=scratch,
            learning_rate=recipe["learning_rate"],
            num_train_epochs=recipe["epochs"],
            per_device_train_batch_size=recipe["batch_size"],
            weight_decay=recipe["weight_decay"],
            warmup_steps=recipe["warmup_ratio"],  # a float in [0, 1) is a ratio
            seed=config.seed,
            data_seed=config.seed,
            report_to="none",
            save_strategy="no",
            eval_strategy="no",
            logging_strategy="no",
            use_cpu=device.type == "cpu",
            bf16=device.type == "cuda" and config.dtype == "bfloat16",
            dataloader_num_workers=0,
            disable_tqdm=True,
        )
        with _progress(console) as progress:
            trainer = Trainer(
                model=model,
                args=args,
                train_dataset=rows,
                data_collator=family.collator(tokenizer),
                callbacks=[_progress_callback(progress)],
            )
            trainer.train()


def _model_for_task(spec, family, protocol, model_path, config, label_names):
    """The model with the family's head, and how its label ids map to the task's.

    ``evaluate`` loads the checkpoint's own head and matches its label names to the task's;
    ``finetune`` puts a fresh head for the task's labels on the (seeded) base checkpoint.
    """
    if protocol == "evaluate":
        model = load_model(family.HEAD, model_path, config.trust_remote_code)
        label_map, kind = match_labels(model.config.id2label, label_names, spec.name)
        return model, label_map, "not applicable" if spec.family == "extractive_qa" else kind
    from transformers import set_seed

    set_seed(config.seed)
    head: dict = {"ignore_mismatched_sizes": True}
    if spec.family != "extractive_qa" and label_names:
        head |= {
            "num_labels": len(label_names),
            "id2label": dict(enumerate(label_names)),
            "label2id": {n: i for i, n in enumerate(label_names)},
        }
    elif spec.family != "extractive_qa":
        head |= {"num_labels": 1, "problem_type": "regression"}
    model = load_model(family.HEAD, model_path, config.trust_remote_code, **head)
    label_map = {i: i for i in range(len(label_names or []))}
    return model, label_map, "identity (head trained here)" if label_names else "regression"


def run_task(
    spec: TaskSpec, config: RunConfig, model_path: str, tokenizer, data_dir, device, console
) -> tuple[dict, list[dict]]:
    """Evaluate one task; returns its result entry and readable predictions."""
    family = family_module(spec.family)
    started = time.perf_counter()
    eval_data, eval_source = load_task_split(spec, spec.eval_split, data_dir)
    label_names = list(spec.label_names) if spec.label_names else None
    if spec.family == "token_classification" and label_names is None:
        label_names = list(eval_data.features[spec.label_column].feature.names)
    protocol = config.protocol
    if protocol == "auto":
        has_head = _has_head(model_path, spec, config.trust_remote_code)
        protocol = "evaluate" if has_head else "finetune"
    model, label_map, mapping_kind = _model_for_task(
        spec, family, protocol, model_path, config, label_names
    )
    model.to(device)
    max_length = min(config.max_length or spec.max_length, model_input_limit(model, tokenizer))
    load_s = time.perf_counter() - started
    recipe, n_train, train_counts, train_s = None, None, {}, 0.0
    if protocol == "finetune":
        recipe = spec.recipe.model_dump() | {
            k: v
            for k, v in {
                "epochs": config.epochs,
                "batch_size": config.batch_size,
                "learning_rate": config.learning_rate,
            }.items()
            if v is not None
        }
        recipe |= {"max_length": max_length, "seed": config.seed}
        train_data, recipe["data"] = load_task_split(spec, spec.train_split, data_dir)
        n_train = {"original": train_data.num_rows}
        train_data = seeded_subset(train_data, config.limit, config.seed)
        n_train["used"] = train_data.num_rows
        rows, train_counts = family.training_features(
            spec, train_data, tokenizer, max_length, label_names
        )
        console.print(f"  fine-tuning on {len(rows)} inputs ({recipe['epochs']:g} epochs)")
        t0 = time.perf_counter()
        _train(model, rows, family, tokenizer, recipe, config, device, console)
        train_s = time.perf_counter() - t0

    if config.dtype != "float32":
        model.to(getattr(torch, config.dtype))
    n_original = eval_data.num_rows
    eval_data = seeded_subset(eval_data, config.limit, config.seed)
    t0 = time.perf_counter()
    with _progress(console) as progress:
        bar = progress.add_task("evaluating", total=None)
        output = family.evaluate(
            spec,
            eval_data,
            model,
            tokenizer,
            max_length,
            config.eval_batch_size,
            label_names,
            label_map,
            on_batch=lambda n: progress.advance(bar, n),
        )
    evaluate_s = time.perf_counter() - t0
    entry = {
        "task_version": spec.version,
        "spec_hash": spec.content_hash(),
        "task_key": config.task_key(spec.content_hash()),
        "family": spec.family,
        "protocol": protocol,
        "main_score_name": spec.main_score,
        "main_score": output.metrics[spec.main_score],
        "metrics": output.metrics,
        "n_examples": {"original": n_original, "evaluated": eval_data.num_rows},
        "n_train_examples": n_train,
        "inputs": {"max_length": max_length, **output.counts},
        "training_inputs": train_counts or None,
        "recipe": recipe,
        "label_mapping": {
            "kind": mapping_kind,
            "model_to_task": {str(k): v for k, v in label_map.items()},
        },
        "data": eval_source,
        "timings_s": {
            "load": round(load_s, 3),
            "train": round(train_s, 3),
            "evaluate": round(evaluate_s, 3),
        },
    }
    return entry, output.predictions


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text.strip("/")).strip("-")[-80:] or "model"


def run(config: RunConfig, console: Console | None = None) -> Path:
    """Run every selected task, resuming from ``config.output`` when it already holds some."""
    console = console or Console()
    model_path = config.model or str(default_model_path())
    data_dir = BUNDLED if config.uses_bundled_data else config.data_dir
    default_tasks = ",".join(BUNDLED_TASKS) if data_dir == BUNDLED else "all"
    specs = resolve_tasks(config.tasks or default_tasks)
    device = pick_device(config.device)
    model_name = "bundled all-MiniLM-L6-v2" if config.model is None else config.model
    output = Path(config.output or f"results/{_slug(model_name)}.json")
    previous = read_result(output) or {}
    keys = {name: config.task_key(spec.content_hash()) for name, spec in TASKS.items()}
    # Finished tasks survive when run with the same configuration and the same task spec.
    kept = {
        name: entry
        for name, entry in previous.get("tasks", {}).items()
        if entry.get("task_key") == keys.get(name)
    }
    result = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": config.model_dump(),
        "model": {"name": model_name, **model_identity(model_path)},
        # A resumed run keeps its first start time; a file whose tasks all changed starts anew.
        "provenance": (kept and previous.get("provenance"))
        or {**provenance(model_path, device, config.seed), "started_at": now()},
        "tasks": kept,
    }
    tokenizer = load_tokenizer(model_path, config.trust_remote_code)
    for spec in specs:
        if spec.name in kept:
            console.print(f"[dim]{spec.name}: already in {output} with this configuration, kept[/]")
            continue
        console.print(f"[bold]{spec.name}[/] ({spec.family.replace('_', ' ')})")
        entry, predictions = run_task(
            spec, config, model_path, tokenizer, data_dir, device, console
        )
        if config.save_predictions:
            path = (
                output.with_suffix("").with_name(output.stem + ".predictions")
                / f"{spec.name}.jsonl"
            )
            write_jsonl_atomic(path, predictions)
            entry["predictions_file"] = str(path)
        result["tasks"][spec.name] = entry
        result["provenance"]["finished_at"] = now()
        write_atomic(output, result)
        console.print(f"  {spec.main_score} = {entry['main_score']:.2f}")
    selected = [s.name for s in specs]
    result["tasks"] = {n: result["tasks"][n] for n in selected} | {
        n: e for n, e in result["tasks"].items() if n not in selected
    }
    if config.measure_speed:
        result["speed"] = _speed(config, model_path, device, previous.get("speed"), console)
        write_atomic(output, result)
    if config.teacher:
        teacher = _teacher_result(config, console)
        result["retention"] = retention(result, teacher, str(output), config.teacher)
    result["provenance"]["finished_at"] = now()
    write_atomic(output, result)
    return output


def _speed(config: RunConfig, model_path: str, device, previous: dict | None, console) -> dict:
    """Cost at the configured lengths, reused from the previous file when unchanged."""
    settings = {
        "seq_lens": config.speed_seq_lens,
        "batch_size": config.speed_batch_size,
        "device": device.type,
        "dtype": config.dtype,
        "model": model_identity(model_path),
    }
    if previous and previous.get("settings") == settings:
        console.print("[dim]speed: already measured with these settings, kept[/]")
        return previous
    console.print(
        f"[bold]speed[/] at {settings['seq_lens']} tokens, batch {settings['batch_size']}"
    )
    measurements = measure_model(
        model_path,
        config.speed_seq_lens,
        config.speed_batch_size,
        device.type,
        config.dtype,
        on_result=lambda m: console.print("  " + describe_measurement(m)),
        trust_remote_code=config.trust_remote_code,
    )
    return {"settings": settings, "measurements": measurements}


def _teacher_result(config: RunConfig, console) -> dict:
    """The teacher's result: a result file as given, or the teacher model run (or reused
    from its result file) with exactly the student's configuration."""
    teacher = config.teacher
    if teacher.endswith(".json"):
        loaded = read_result(Path(teacher))
        if loaded is None:
            raise BenchError(f"teacher result file {teacher} does not exist")
        return loaded
    console.rule(f"teacher: {teacher}")
    teacher_config = config.model_copy(
        update={"model": teacher, "teacher": None, "output": f"results/{_slug(teacher)}.json"}
    )
    return json.loads(run(teacher_config, console).read_text("utf-8"))


def describe_measurement(m: dict) -> str:
    """One line per measurement for the console."""
    head = f"{m['seq_len']} x {m['batch_size']}: "
    if m.get("status") != "ok":
        return head + f"{m.get('status')} ({m.get('reason')})"
    line = (
        head
        + f"median {m['latency_ms']['median']:.1f} ms, {m['throughput_tokens_per_s']:,.0f} tok/s"
    )
    if "peak_memory_mb" in m:
        line += f", peak {m['peak_memory_mb']:,.0f} MB"
    if m.get("fallback"):
        line += f" [{m['effective_attention']}: {m['fallback']}]"
    return line
