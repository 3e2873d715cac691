"""Is the study's teacher short of training, or of data, on SST-2, SQuAD and MRPC?

The study's teachers stay near chance on the bundled SST-2 and SQuAD samples (64 training
rows each) however long they train. This script gives the bundled all-MiniLM-L6-v2 (the
plain teacher, which learned no less than the converted ones) every row of those tasks
in SOURCE, the slices of the public datasets that ``scripts/build_task_samples.py`` reads
(its docstring gives each slice's origin), and scores it on the very validation
rows the study uses:

* SST-2: 136 training sentences (the bundled 64 and the 72 dev rows no sample uses),
  fine-tuned with ``bench run``, and logistic-regression probes on the model's frozen
  mean-pooled sentence embeddings (the pooling the checkpoint was trained with), which say
  how much of the task its representation holds at this size of data, and on the pooled
  [CLS] that a classification head starts from;
* SQuAD: 359 training questions (every question of the Normans and Warsaw articles; the
  validation questions are Super_Bowl_50's), fine-tuned with ``bench run``: the split the
  study now trains on (``baselines/data/study``);
* MRPC: the study's own split (``baselines/data/study/mrpc``: 713 GLUE training pairs,
  scored on its 500 labelled pairs), fine-tuned with ``bench run`` as the study does, beside
  the bar of two binomial standard errors above always answering the commonest label: the
  task that took SST-2's place in the study, and whether the plain teacher learns it.

Usage: python scripts/teacher_data_ceiling.py SOURCE [--squad-epochs 5]
About a quarter of an hour on 2 CPU cores (SQuAD's and MRPC's fine-tuning are most of it).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STUDY_DATA = ROOT / "baselines" / "data" / "study"  # what the study trains MRPC on
SAMPLES = ROOT / "benchmark" / "data" / "samples"
sys.path.insert(0, str(ROOT / "scripts"))
from build_task_samples import read_tsv, study_squad, write  # noqa: E402  (beside this one)

from benchmark.results import read_jsonl  # noqa: E402


def build(shared: Path, out: Path) -> dict[str, int]:
    """The larger training splits under ``out`` (SST-2 beside a copy of the bundled
    validation split); returns the training rows per task."""
    rows = read_tsv(shared / "glue" / "SST-2" / "dev.tsv")
    sst2 = [{"sentence": r[0], "label": int(r[1]), "idx": i} for i, r in enumerate(rows)]
    evaluated = {r["idx"] for r in read_jsonl(SAMPLES / "sst2" / "validation.jsonl")}
    write("sst2", "train", [r for r in sst2 if r["idx"] not in evaluated], out)
    shutil.copy(SAMPLES / "sst2" / "validation.jsonl", out / "sst2" / "validation.jsonl")
    study_squad(shared, out)  # what the study trains SQuAD on
    return {task: len(read_jsonl(out / task / "train.jsonl")) for task in ("sst2", "squad")}


def finetune(model: str, task: str, data: Path, epochs: float, max_length: int, out: Path) -> dict:
    """``bench run`` on the larger split: the task's result entry."""
    result = out / f"{task}.json"
    command = [
        sys.executable, "-m", "benchmark",
        "run",
        "--model", model,
        "--tasks", task,
        "--data-dir", str(data),
        "--epochs", str(epochs),
        "--learning-rate", "1e-4",
        "--max-length", str(max_length),
        "--seed", "1",
        "--output", str(result),
    ]  # fmt: skip
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return json.loads(result.read_text())["tasks"][task]


def _fit_probe(x, y, strength: float):
    """Logistic regression with an L2 penalty of ``strength``, fitted by L-BFGS."""
    import torch

    weights = torch.zeros(x.shape[1], requires_grad=True)
    bias = torch.zeros(1, requires_grad=True)
    optimiser = torch.optim.LBFGS([weights, bias], max_iter=500)

    def loss() -> torch.Tensor:
        optimiser.zero_grad()
        value = torch.nn.functional.binary_cross_entropy_with_logits(x @ weights + bias, y)
        value = value + strength * weights.pow(2).sum() / len(y)
        value.backward()
        return value

    optimiser.step(loss)
    return weights.detach(), bias.detach()


def probe(model: str, data: Path) -> dict[tuple[str, float], float]:
    """Validation accuracy of an L2-regularised logistic regression on frozen sentence
    features, per feature ("mean": the mean-pooled last layer, what the checkpoint was
    trained to give; "pooler": the pooled [CLS] that a classification head reads) and
    regularisation strength."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    encoder = AutoModel.from_pretrained(model).eval()

    def embed(rows: list[dict]) -> dict[str, torch.Tensor]:
        batches: dict[str, list] = {"mean": [], "pooler": []}
        with torch.no_grad():
            for start in range(0, len(rows), 32):
                batch = tokenizer(
                    [r["sentence"] for r in rows[start : start + 32]],
                    padding=True,
                    truncation=True,
                    max_length=128,
                    return_tensors="pt",
                )
                output = encoder(**batch)
                mask = batch["attention_mask"].unsqueeze(-1)
                hidden = output.last_hidden_state
                batches["mean"].append((hidden * mask).sum(1) / mask.sum(1))
                batches["pooler"].append(output.pooler_output)
        return {name: torch.cat(parts) for name, parts in batches.items()}

    train = read_jsonl(data / "sst2" / "train.jsonl")
    valid = read_jsonl(data / "sst2" / "validation.jsonl")
    features, features_valid = embed(train), embed(valid)
    y = torch.tensor([float(r["label"]) for r in train])
    y_valid = torch.tensor([r["label"] for r in valid])
    accuracy = {}
    for name, x in features.items():
        mean, std = x.mean(0), x.std(0) + 1e-6
        x, x_valid = (x - mean) / std, (features_valid[name] - mean) / std
        for strength in (0.01, 0.1, 1.0):
            weights, bias = _fit_probe(x, y, strength)
            predicted = (x_valid @ weights + bias > 0).long()
            accuracy[name, strength] = 100 * (predicted == y_valid).float().mean().item()
    return accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="the raw slices (scripts/build_task_samples.py)")
    parser.add_argument("--model", default=None, help="default: the bundled all-MiniLM-L6-v2")
    parser.add_argument("--sst2-epochs", type=float, default=10)
    parser.add_argument("--squad-epochs", type=float, default=5)
    parser.add_argument("--mrpc-epochs", type=float, default=10)
    args = parser.parse_args()
    if args.model is None:
        from benchmark.defaults import default_model_path

        args.model = str(default_model_path())
    with tempfile.TemporaryDirectory() as tmp:
        data, out = Path(tmp) / "data", Path(tmp) / "results"
        rows = build(args.source, data)
        accuracy = probe(args.model, data)
        sst2 = finetune(args.model, "sst2", data, args.sst2_epochs, 128, out)
        squad = finetune(args.model, "squad", data, args.squad_epochs, 384, out)
        mrpc = finetune(args.model, "mrpc", STUDY_DATA, args.mrpc_epochs, 128, out)
    n = sst2["n_examples"]["evaluated"]
    bar = 100 * (0.5 + 2 * math.sqrt(0.25 / n))
    print(f"model: {args.model}")
    print(
        f"SST-2, {rows['sst2']} training rows, {n} evaluated (two standard errors above "
        f"guessing: {bar:.1f} %):"
    )
    print(f"  fine-tuned {args.sst2_epochs:g} epochs: accuracy {sst2['main_score']:.1f} %")
    for (name, strength), value in accuracy.items():
        print(f"  logistic probe on the frozen {name} features (L2 {strength:g}): {value:.1f} %")
    metrics = squad["metrics"]
    print(
        f"SQuAD, {rows['squad']} training questions, {squad['n_examples']['evaluated']} "
        f"evaluated, fine-tuned {args.squad_epochs:g} epochs: F1 {metrics['f1']:.1f}, "
        f"exact match {metrics['exact_match']:.1f}"
    )
    labels = [r["label"] for r in read_jsonl(STUDY_DATA / "mrpc" / "validation.jsonl")]
    share = max(labels.count(0), labels.count(1)) / len(labels)
    mrpc_bar = 100 * (share + 2 * math.sqrt(share * (1 - share) / len(labels)))
    trained = len(read_jsonl(STUDY_DATA / "mrpc" / "train.jsonl"))
    print(
        f"MRPC, {trained} training pairs, {mrpc['n_examples']['evaluated']} evaluated "
        f"(the commonest label: {100 * share:.1f} %; two standard errors above it: "
        f"{mrpc_bar:.1f} %), fine-tuned {args.mrpc_epochs:g} epochs: accuracy "
        f"{mrpc['metrics']['accuracy']:.1f} %, F1 {mrpc['metrics']['f1']:.1f}"
    )


if __name__ == "__main__":
    main()
