"""Where `bench run` writes by default: ``results/<model>/<revision or weights hash>/<name>``,
so two versions of one model never overwrite each other, and a file at the earlier default
(``results/<name>.json``) is resumed from, not run again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from benchmark import runner
from benchmark.provenance import model_identity
from benchmark.results import default_result_path, legacy_result_path, revision_key
from tests.helpers import run_config

FAST = {"limit": 16, "batch_size": 8, "seed": 7, "speed": False}


def test_the_key_is_the_hub_commit_else_the_weights_hash():
    assert revision_key({"hub_id": "org/m", "revision": "0123abcd" * 5}) == "0123abcd" * 5
    assert revision_key({"weights_sha256": "f" * 64}) == "f" * 12
    assert revision_key({"hub_id": "org/m", "revision": None}) == "unknown-revision"
    path = default_result_path("org/model-x", {"hub_id": "org/model-x", "revision": "abc"})
    assert path == Path("results/org-model-x/abc/model-x.json")
    named = default_result_path("org/model-x", {"weights_sha256": "9" * 64}, "My run")
    assert named == Path("results/org-model-x/999999999999/My-run.json")


def test_two_weights_in_one_folder_keep_two_files_and_the_old_default_resumes(
    tiny_bert, tmp_path, monkeypatch
):
    """The same folder with other weights is another revision: a second file beside the
    first. A result at results/<name>.json with these weights is resumed from: nothing is
    fine-tuned again, the old file is left as it was."""
    monkeypatch.chdir(tmp_path)
    model = tmp_path / "model"
    shutil.copytree(tiny_bert, model)
    config = run_config(model, "sst2", None, **FAST).model_copy(update={"output": None})
    first = runner.run(config)
    assert first == default_result_path(str(model), model_identity(str(model)))
    assert first.parts[:2] == ("results", str(model).strip("/").replace("/", "-"))

    # other weights in the same folder: another key, the first file untouched
    import torch
    from safetensors.torch import load_file, save_file

    weights = model / "model.safetensors"
    state = load_file(weights)
    name = next(k for k in state if k.endswith("word_embeddings.weight"))
    state[name] = state[name] + torch.ones_like(state[name])
    save_file(state, weights, metadata={"format": "pt"})
    before = first.read_text()
    second = runner.run(config)
    assert second != first and second.parent.parent == first.parent.parent
    assert first.read_text() == before

    # a result at the earlier default path with these weights: resumed from, kept as it was
    legacy = tmp_path / legacy_result_path(str(model))
    legacy.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(second, legacy)
    kept = legacy.read_text()
    resumed = runner.run(config)
    assert resumed == second and legacy.read_text() == kept
    old_task = json.loads(kept)["tasks"]["sst2"]
    new_task = json.loads(resumed.read_text())["tasks"]["sst2"]
    assert new_task["timings_s"] == old_task["timings_s"]  # reused, not run again
