"""Who evaluated what, where: the provenance block of a result file."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from datetime import datetime, timezone
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import torch

from benchmark import __version__

PACKAGES = (
    "torch",
    "transformers",
    "datasets",
    "tokenizers",
    "huggingface_hub",
    "seqeval",
    "accelerate",
)
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _git_revision() -> dict:
    root = Path(__file__).resolve().parents[1]
    try:
        revision = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {"revision": None, "dirty": None}
    return {"revision": revision, "dirty": bool(dirty)}


def library_versions() -> dict[str, str | None]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def hardware(device: torch.device) -> dict:
    info = {
        "device": device.type,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


@lru_cache(maxsize=8)
def model_identity(name_or_path: str) -> dict:
    """Hub id with the resolved commit, or a local folder with a content hash of its weights."""
    path = Path(name_or_path)
    if path.is_dir():
        digest = hashlib.sha256()
        weights = sorted(p for p in path.iterdir() if p.suffix in WEIGHT_SUFFIXES)
        for weight in weights:
            with weight.open("rb") as handle:
                for block in iter(lambda h=handle: h.read(1 << 22), b""):
                    digest.update(block)
        return {
            "path": str(path.resolve()),
            "weights_sha256": digest.hexdigest() if weights else None,
        }
    return {"hub_id": name_or_path, "revision": hub_commit(name_or_path)}


def hub_commit(repo_id: str, revision: str | None = None) -> str | None:
    """The commit a Hub model id (at a branch, tag or commit) resolves to, or None when
    neither the Hub nor the local cache can tell.

    Online the Hub answers; offline, the cached snapshot the name resolves to is named
    after its commit."""
    import huggingface_hub

    # Provenance must never end a run: no network, a gated repository, a name that is not
    # a repo id (huggingface_hub raises its own, httpx's and OSError subclasses) all mean
    # "cannot tell".
    try:
        return huggingface_hub.model_info(repo_id, revision=revision).sha
    except Exception:
        pass
    try:
        config = huggingface_hub.hf_hub_download(repo_id, "config.json", revision=revision)
    except Exception:
        return None
    return Path(config).parent.name


def provenance(model: str, device: torch.device, seed: int) -> dict:
    import sys

    return {
        "suite": {"name": "gonerd-bench", "version": __version__, **_git_revision()},
        "python": sys.version.split()[0],
        "libraries": library_versions(),
        "model": model_identity(model),
        "hardware": hardware(device),
        "seed": seed,
    }
