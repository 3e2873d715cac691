"""Loading a task's split from the Hub, a local directory in the Hub's schema, or the
bundled samples, with labels as ids in the Hub's ClassLabel order and a record of exactly
which data was read (revision or content hash).

Which reader turns a task's files into rows is part of its spec (``TaskSpec.reader``):
``datasets`` reads the Hub dataset or local files in its columns as they are, ``gonerd``
reads GONERD's raw files through the gonerd builder."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import datasets

from benchmark.config import BUNDLED
from benchmark.errors import BenchError
from benchmark.models import first_line
from benchmark.results import sha256_file
from benchmark.tasks import TASKS, TaskSpec

SAMPLES_DIR = Path(__file__).parent / "data" / "samples"
_FORMATS = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv", ".tsv": "csv"}


def _local_file(spec: TaskSpec, split: str, data_dir: Path) -> Path:
    folders = dict.fromkeys([spec.name, spec.hub_config or spec.name])
    tried = []
    for folder in folders:
        for suffix in _FORMATS:
            path = data_dir / folder / f"{split}{suffix}"
            tried.append(str(path))
            if path.is_file():
                return path
    raise BenchError(
        f"task {spec.name}: no {split} split under {data_dir} (looked for "
        f"{data_dir / spec.name / split}.jsonl/.json/.parquet/.csv/.tsv); save it there with "
        f"the columns of {spec.hub_id}, or drop --data-dir to read the Hub"
    )


def _read_local(path: Path) -> datasets.Dataset:
    builder = _FORMATS[path.suffix]
    kwargs = {"delimiter": "\t"} if path.suffix == ".tsv" else {}
    try:
        return datasets.load_dataset(builder, data_files=str(path), split="train", **kwargs)
    except Exception as exc:  # any parser error: name the file, not the library's internals
        raise BenchError(
            f"cannot read {path}: {type(exc).__name__}: {exc}".splitlines()[0]
        ) from None


def _file_identity(path: Path, bundled: bool) -> dict:
    source = "bundled sample" if bundled else str(path)
    return {"source": source, "file": path.name, "sha256": sha256_file(path)}


def _gonerd_source(spec: TaskSpec, data_dir: str | None) -> tuple[str | None, Path | None]:
    """The gonerd configuration name and the local folder the split is read from (None:
    the Hub)."""
    from gonerd.sources import SAMPLE_DIR, resolve_data_dir

    if data_dir == BUNDLED:
        return "sample", SAMPLE_DIR
    local = Path(data_dir).expanduser() / spec.name if data_dir else None
    return None, resolve_data_dir(local)


def _gonerd_identity(spec: TaskSpec, split: str, data_dir: str | None) -> dict:
    from gonerd.sources import local_split_files

    name, source_dir = _gonerd_source(spec, data_dir)
    if source_dir is None:
        return {"source": spec.hub_id, "revision": spec.revision}
    files = local_split_files(source_dir)
    if split not in files:
        raise BenchError(
            f"task {spec.name}: the data has no {split} split (it has {', '.join(files)})"
        )
    return _file_identity(files[split], bundled=name is not None)


def _gonerd_split(spec: TaskSpec, split: str, data_dir: str | None):
    import gonerd

    name, source_dir = _gonerd_source(spec, data_dir)
    local = None if name or source_dir is None else source_dir
    dataset_dict = gonerd.load_dataset("gonerd", name, data_dir=local)
    if split not in dataset_dict:
        raise BenchError(
            f"task {spec.name}: the data has no {split} split (it has {', '.join(dataset_dict)})"
        )
    return dataset_dict[split], _gonerd_identity(spec, split, data_dir)


def _ids_for_labels(spec: TaskSpec, dataset: datasets.Dataset) -> datasets.Dataset:
    """String labels (or tags) become ids in the task's label order; unknown names fail."""
    names = spec.label_names
    column = spec.label_column
    if names is None or column not in dataset.column_names:
        return dataset
    index = {name: i for i, name in enumerate(names)}

    def convert(value):
        if isinstance(value, str):
            if value not in index:
                raise BenchError(f"task {spec.name}: label {value!r} is not one of {list(names)}")
            return index[value]
        if not 0 <= int(value) < len(names):
            raise BenchError(f"task {spec.name}: label id {value} is outside 0..{len(names) - 1}")
        return int(value)

    values = list(dataset[column])
    # A label per example, or a tag per word (token classification): the same names.
    converted = [
        [convert(v) for v in value] if isinstance(value, list) else convert(value)
        for value in values
    ]
    return dataset.remove_columns(column).add_column(column, converted)


def _local_root(spec: TaskSpec, data_dir: str) -> Path:
    return SAMPLES_DIR if data_dir == BUNDLED else Path(data_dir).expanduser()


def _datasets_identity(spec: TaskSpec, split: str, data_dir: str | None) -> dict:
    if data_dir is None:
        return {"source": spec.hub_id, "config": spec.hub_config, "revision": spec.revision}
    path = _local_file(spec, split, _local_root(spec, data_dir))
    return _file_identity(path, bundled=data_dir == BUNDLED)


def _datasets_split(
    spec: TaskSpec, split: str, data_dir: str | None
) -> tuple[datasets.Dataset, dict]:
    """The Hub dataset's split, or a local file in its columns."""
    if data_dir is not None:
        path = _local_file(spec, split, _local_root(spec, data_dir))
        dataset = _ids_for_labels(spec, _read_local(path))
        return dataset, _file_identity(path, bundled=data_dir == BUNDLED)
    try:
        dataset = datasets.load_dataset(
            spec.hub_id, spec.hub_config, split=split, revision=spec.revision
        )
    except Exception as exc:  # offline, unknown split, gated repository: one message for all
        raise BenchError(
            f"task {spec.name}: cannot load {spec.hub_id} ({spec.hub_config or 'default'}) split "
            f"{split} from the Hub ({first_line(exc)}); to run offline save it as "
            f"DIR/{spec.name}/{split}.jsonl "
            "with the Hub's columns and pass --data-dir DIR"
        ) from None
    return _ids_for_labels(spec, dataset), _datasets_identity(spec, split, None)


@dataclass(frozen=True)
class Reader:
    """How a task's files become rows, and whether the suite ships a sample of them."""

    load: Callable[[TaskSpec, str, str | None], tuple[datasets.Dataset, dict]]
    identity: Callable[[TaskSpec, str, str | None], dict]  # what ``load`` records, unread
    has_bundled: Callable[[TaskSpec], bool]


READERS: dict[str, Reader] = {
    "datasets": Reader(
        _datasets_split, _datasets_identity, lambda spec: (SAMPLES_DIR / spec.name).is_dir()
    ),
    # GONERD's sample ships inside the gonerd package.
    "gonerd": Reader(_gonerd_split, _gonerd_identity, lambda spec: True),
}


def bundled_tasks() -> list[str]:
    """The tasks with a bundled sample, in registry order."""
    return [name for name, spec in TASKS.items() if READERS[spec.reader].has_bundled(spec)]


def _reader(spec: TaskSpec, data_dir: str | None) -> Reader:
    reader = READERS[spec.reader]
    if data_dir == BUNDLED and not reader.has_bundled(spec):
        raise BenchError(
            f"task {spec.name} has no bundled sample: bundled tasks are "
            f"{', '.join(bundled_tasks())}"
        )
    return reader


def load_task_split(
    spec: TaskSpec, split: str, data_dir: str | None
) -> tuple[datasets.Dataset, dict]:
    """The split as a Dataset, and where it came from (path + sha256, or Hub id + revision)."""
    return _reader(spec, data_dir).load(spec, split, data_dir)


def data_identity(spec: TaskSpec, split: str, data_dir: str | None) -> dict:
    """What :func:`load_task_split` would record for this split, without reading its rows:
    how a finished task is checked against the data it was scored on."""
    return _reader(spec, data_dir).identity(spec, split, data_dir)


def seeded_subset(dataset: datasets.Dataset, limit: int | None, seed: int) -> datasets.Dataset:
    """At most ``limit`` rows, chosen by ``seed``, kept in their original order."""
    if limit is None or limit >= dataset.num_rows:
        return dataset
    chosen = sorted(random.Random(seed).sample(range(dataset.num_rows), limit))
    return dataset.select(chosen)
