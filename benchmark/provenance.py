"""Who evaluated what, where: the provenance block of a result file, a model's identity,
and how the local paths a run was given are written into its result file.

A model is identified by what it is (a Hub id and its commit, or its weights' sha256),
never by where it lies: the same weights in another folder are the same model, and the
folder is the submitter's own business. A result file names a model's folder only when
the run asks (``bench run --record-paths``): :func:`recorded_path`. The settings a user
typed keep their meaning without giving the machine away: :func:`shown_model`,
:func:`shown_location`."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from datetime import datetime, timezone
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PureWindowsPath

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
# What a result calls the bundled model (benchmark.defaults) when it names it
BUNDLED_MODEL = "bundled all-MiniLM-L6-v2"


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


def hardware(device) -> dict:
    """What ran the run: ``device`` a torch.device."""
    import torch

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


def model_identity(name_or_path: str) -> dict:
    """Hub id with the resolved commit, or a local folder's content hash of its weights
    (not its path: module docstring).

    Remembered per state of the folder's weight files (name, size, inode, modification
    time): a sweep asks once per unit, and its 16 models' weights were read on every call,
    while weights rewritten in place (a stage resumed, a checkpoint replaced) are read
    again rather than answered from memory."""
    path = Path(name_or_path)
    if not path.is_dir():
        return dict(_hub_identity(name_or_path))
    files = sorted(p for p in path.iterdir() if p.suffix in WEIGHT_SUFFIXES)
    stats = [(p.name, p.stat()) for p in files]
    state = tuple((name, st.st_size, st.st_ino, st.st_mtime_ns) for name, st in stats)
    return dict(_folder_identity(str(path.resolve()), state))


@lru_cache(maxsize=256)
def _folder_identity(folder: str, state: tuple) -> dict:
    digest = hashlib.sha256()
    for name, *_ in state:
        with (Path(folder) / name).open("rb") as handle:
            for block in iter(lambda h=handle: h.read(1 << 22), b""):
                digest.update(block)
    return {"weights_sha256": digest.hexdigest() if state else None}


@lru_cache(maxsize=64)
def _hub_identity(repo_id: str) -> dict:
    return {"hub_id": repo_id, "revision": hub_commit(repo_id)}


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


def provenance(model: str, device, seed: int) -> dict:
    import sys

    return {
        "suite": {"name": "gonerd-bench", "version": __version__, **_git_revision()},
        "python": sys.version.split()[0],
        "libraries": library_versions(),
        "model": model_identity(model),
        "hardware": hardware(device),
        "seed": seed,
    }


def _absolute(value: str) -> bool:
    return Path(value).is_absolute() or PureWindowsPath(value).is_absolute()


def _under(path: Path, folder: Path) -> str | None:
    """``path`` relative to ``folder`` (POSIX form), None when it is not under it."""
    for a, b in ((path, folder), (path.resolve(), folder.resolve())):
        try:
            return a.relative_to(b).as_posix()
        except ValueError:
            continue
    return None


def _is_bundled(path: Path) -> bool:
    from benchmark.defaults import default_model_path
    from benchmark.errors import BenchError

    try:
        return path.resolve() == default_model_path().resolve()
    except (BenchError, OSError):
        return False


def shown_location(value: str) -> str:
    """A file or folder the user chose (an output, a data folder): relative to the working
    directory when under it, else as given (the user's own files, which they open)."""
    if not _absolute(value):
        return value
    return _under(Path(value), Path.cwd()) or value


def recorded_path(value: str) -> str:
    """A model's folder as ``--record-paths`` records it: relative to the working directory
    when under it, else to the home directory (``~/...``) when under it, else as given."""
    if not _absolute(value):
        return value
    inside = _under(Path(value), Path.cwd())
    if inside is not None:
        return inside
    home = _under(Path(value), Path.home())
    return f"~/{home}" if home is not None else value


def shown_model(value: str, record: bool) -> str | None:
    """A model's folder as typed (``--model``, ``--teacher``, a name that defaults to it).
    With ``record``, :func:`recorded_path`. Without, a folder under the working directory
    relative to it, the bundled model as None (the setting's own default, which means it),
    and any other absolute path as its last part, the folder's name. Hub ids and relative
    paths stay as they are."""
    if not _absolute(value):
        return value
    if record:
        return recorded_path(value)
    inside = _under(Path(value), Path.cwd())
    if _is_bundled(Path(value)):
        return None
    if inside is not None:
        return inside
    return Path(value).name if Path(value).is_absolute() else PureWindowsPath(value).name
