"""Where GONERD data comes from: a local directory in the Hub's file layout, or the Hub.

A local directory holds ``train.jsonl``, ``val.jsonl`` (``validation.jsonl`` accepted) and
``test.jsonl``, as ``giant-oak/GONERD`` does on the Hub, and optionally the class names
(``labels.txt``, ``labels.json`` or a dataset card) that integer tags refer to.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import yaml

from gonerd.errors import GonerdFormatError, GonerdSourceError

HUB_REPO_ID = "giant-oak/GONERD"
DATA_DIR_ENV = "GONERD_DATA_DIR"
SAMPLE_DIR = Path(__file__).parent / "data" / "sample"
SPLIT_FILE_NAMES: dict[str, tuple[str, ...]] = {
    "train": ("train.jsonl",),
    "validation": ("val.jsonl", "validation.jsonl"),
    "test": ("test.jsonl",),
}


def hub_file_url(split: str, revision: str = "main") -> str:
    """The download address of one split's file in the Hub dataset repository."""
    filename = SPLIT_FILE_NAMES[split][0]
    return f"https://huggingface.co/datasets/{HUB_REPO_ID}/resolve/{revision}/{filename}"


def local_split_files(data_dir: str | Path) -> dict[str, Path]:
    """The split files present in ``data_dir``; an error when it holds none."""
    directory = Path(data_dir).expanduser()
    if not directory.is_dir():
        raise GonerdSourceError(
            f"GONERD data directory {directory} does not exist: pass an existing directory "
            f"holding train.jsonl, val.jsonl and test.jsonl (data_dir= or ${DATA_DIR_ENV})"
        )
    found = {}
    for split, names in SPLIT_FILE_NAMES.items():
        for name in names:
            if (directory / name).is_file():
                found[split] = directory / name
                break
    if not found:
        raise GonerdSourceError(
            f"{directory} holds none of train.jsonl, val.jsonl (or validation.jsonl), "
            "test.jsonl: copy the GONERD files there, or point data_dir= elsewhere"
        )
    return found


def resolve_data_dir(data_dir: str | Path | None) -> Path | None:
    """The explicit ``data_dir``, else ``$GONERD_DATA_DIR``, else None (use the Hub)."""
    chosen = data_dir or os.environ.get(DATA_DIR_ENV) or None
    return Path(chosen).expanduser() if chosen else None


def fingerprint_files(paths: Sequence[Path]) -> str:
    """A short key that changes when any file is edited, so cached Arrow data never goes
    stale when someone fixes a local file in place."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        stat = path.stat()
        digest.update(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def read_label_names(directory: str | Path) -> list[str] | None:
    """Class names, in id order, declared beside the data: ``labels.txt`` (one per line),
    ``labels.json`` (a list, ``{"names": [...]}`` or ``{"0": name, ...}``), or the
    ``ner_tags`` class_label of a ``README.md`` dataset card. None when none is declared."""
    directory = Path(directory)
    text_file, json_file, card = (directory / n for n in ("labels.txt", "labels.json", "README.md"))
    if text_file.is_file():
        names = [line.strip() for line in text_file.read_text("utf-8").splitlines()]
        return [name for name in names if name]
    if json_file.is_file():
        try:
            data = json.loads(json_file.read_text("utf-8"))
        except json.JSONDecodeError as exc:
            raise GonerdFormatError(json_file, exc.lineno, f"not valid JSON ({exc.msg})") from None
        if isinstance(data, dict) and "names" in data:
            data = data["names"]
        if isinstance(data, dict):
            data = [data[k] for k in sorted(data, key=int)]
        if not isinstance(data, list) or not all(isinstance(n, str) for n in data):
            raise GonerdFormatError(json_file, None, "expected a list of class names")
        return data
    if card.is_file():
        return _card_label_names(card)
    return None


def _card_label_names(card: Path) -> list[str] | None:
    """The ner_tags class names in a dataset card's YAML header, if it declares them."""
    text = card.read_text("utf-8")
    if not text.startswith("---"):
        return None
    header = text.split("---", 2)[1]
    try:
        meta = yaml.safe_load(header) or {}
    except yaml.YAMLError as exc:
        raise GonerdFormatError(card, None, f"the YAML header does not parse ({exc})") from None
    infos = meta.get("dataset_info") or []
    for info in infos if isinstance(infos, list) else [infos]:
        for feature in info.get("features") or []:
            if feature.get("name") != "ner_tags":
                continue
            spec = feature.get("sequence") or feature.get("list") or feature
            names = (spec.get("class_label") or {}).get("names")
            if isinstance(names, dict):
                return [str(names[k]) for k in sorted(names, key=int)]
            if isinstance(names, list):
                return [str(n) for n in names]
    return None
