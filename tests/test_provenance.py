"""Where a model came from: a Hub id resolves to its commit through huggingface_hub, from
the local cache when offline (a cache folder in the Hub's own layout, built here)."""

from __future__ import annotations

import os

from huggingface_hub import constants

from benchmark.provenance import hub_commit, model_identity

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _cached_model(cache, repo_id: str) -> None:
    folder = cache / f"models--{repo_id.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(COMMIT)
    snapshot = folder / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text('{"model_type": "bert"}')


def test_a_cached_hub_model_resolves_to_its_commit_offline(tmp_path, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    _cached_model(tmp_path, "some-org/tiny-encoder")
    assert hub_commit("some-org/tiny-encoder") == COMMIT
    assert hub_commit("some-org/not-cached") is None
    identity = model_identity("some-org/tiny-encoder")
    assert identity == {"hub_id": "some-org/tiny-encoder", "revision": COMMIT}


def test_a_local_folder_is_identified_by_its_weights(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"weights")
    identity = model_identity(str(tmp_path))
    # sha256 of b"weights", worked out with `printf weights | sha256sum`
    assert identity["weights_sha256"] == (
        "9a129038d9a00aed0cf6a7ea059ca50a813449061ab87848cf1a13eafdf33b2c"
    )


def test_a_folders_weights_are_read_again_only_once_they_change(tmp_path):
    from benchmark.provenance import _folder_identity

    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"weights")
    read = _folder_identity.cache_info().misses
    first = model_identity(str(tmp_path))
    first["weights_sha256"] = "edited by a caller"  # a copy: what is remembered stays
    assert model_identity(str(tmp_path))["weights_sha256"].startswith("9a129038")
    assert _folder_identity.cache_info().misses == read + 1
    mtime = weights.stat().st_mtime_ns
    weights.write_bytes(b"weightz")  # the same size, in place, a second later
    os.utime(weights, ns=(mtime, mtime + 10**9))
    assert model_identity(str(tmp_path))["weights_sha256"] == (
        # printf weightz | sha256sum
        "77231fd145baf43cce88aa1bc4427f7b3b8bd702978faa4632f57ddded6e2a8f"
    )
    assert _folder_identity.cache_info().misses == read + 2
