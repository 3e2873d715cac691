"""Text for masked-language-model pretraining and distillation: from the bundled samples,
local text or jsonl files, or any ``datasets`` source, cut into training sequences.

Documents are tokenised once and cut into pieces of at most ``max_length`` tokens, so long
documents give full-length sequences and short ones stay short: batches mix both, as the
paper's long + short pretraining mix does.

The bundled text is the training split of the samples only (evaluation splits are held
out): the LitBank novels of the GONERD sample (Project Gutenberg, public domain) and the
contexts of the SQuAD, HotpotQA and TriviaQA samples (Wikipedia and web text; provenance in
``benchmark/data/samples/SOURCES.md``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from benchmark.errors import BenchError

_GONERD = Path(__file__).resolve().parent.parent / "gonerd" / "data" / "sample" / "train.jsonl"
_SAMPLES = Path(__file__).resolve().parent.parent / "benchmark" / "data" / "samples"


class TextSource(BaseModel):
    """Where training text comes from: ``bundled``, local ``files`` (.txt: one document per
    file; .jsonl: one per line, in ``field``), or a ``dataset`` read with ``datasets``."""

    model_config = ConfigDict(extra="forbid")

    bundled: bool = False
    files: list[Path] = Field(default_factory=list)
    dataset: str | None = None
    dataset_config: str | None = None
    split: str = "train"
    field: str = "text"
    max_documents: int | None = None

    @model_validator(mode="after")
    def _one_source(self) -> TextSource:
        chosen = [self.bundled, bool(self.files), self.dataset is not None]
        if sum(chosen) != 1:
            raise ValueError("name exactly one text source: bundled: true, files, or dataset")
        return self


def _read_jsonl(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise BenchError(f"{path}:{number}: not a JSON line ({exc.msg})") from None


def bundled_documents() -> Iterator[str]:
    """The bundled training text (module docstring), long novels first, then contexts, each
    once (SQuAD questions share their paragraphs)."""
    seen: set[str] = set()
    for text in _bundled_with_repeats():
        if text not in seen:
            seen.add(text)
            yield text


def _bundled_with_repeats() -> Iterator[str]:
    for row in _read_jsonl(_GONERD):
        yield row["text"]
    for row in _read_jsonl(_SAMPLES / "squad" / "train.jsonl"):
        yield row["context"]
    for row in _read_jsonl(_SAMPLES / "hotpotqa" / "train.jsonl"):
        yield "\n".join(" ".join(sentences) for sentences in row["context"]["sentences"])
    for row in _read_jsonl(_SAMPLES / "triviaqa" / "train.jsonl"):
        yield from row["entity_pages"]["wiki_context"]
        yield from row["search_results"]["search_context"]


def documents(source: TextSource) -> Iterator[str]:
    """The documents of ``source``, in order, empty ones skipped, at most ``max_documents``."""
    produced = 0
    for text in _all_documents(source):
        if text and text.strip():
            yield text
            produced += 1
            if source.max_documents and produced >= source.max_documents:
                return


def _all_documents(source: TextSource) -> Iterator[str]:
    if source.bundled:
        yield from bundled_documents()
    for path in source.files:
        path = Path(path)
        if not path.is_file():
            raise BenchError(f"text file {path} does not exist: fix the path in the config")
        if path.suffix == ".jsonl":
            for row in _read_jsonl(path):
                if source.field not in row:
                    raise BenchError(f"{path}: a row has no {source.field!r} field (set field:)")
                yield row[source.field]
        else:
            yield path.read_text(encoding="utf-8")
    if source.dataset:
        import datasets

        try:  # streamed: a corpus is read only as far as max_documents needs
            rows = datasets.load_dataset(
                source.dataset, source.dataset_config, split=source.split, streaming=True
            )
            for row in rows:
                if source.field not in row:
                    raise BenchError(f"dataset {source.dataset!r} has no {source.field!r} column")
                yield row[source.field]
        except BenchError:
            raise
        except Exception as exc:  # datasets raises many types for a name it cannot resolve
            raise BenchError(f"cannot load text dataset {source.dataset!r}: {exc}") from None


def training_sequences(source: TextSource | list[TextSource], tokenizer, max_length: int):
    """A ``datasets.Dataset`` of token sequences (``input_ids``, ``index``), each at most
    ``max_length`` tokens including the special tokens, from one source or several (a long
    and a short one, mixed)."""
    import datasets

    specials = tokenizer("")["input_ids"]  # [CLS] [SEP] or <s> </s>: first opens, rest close
    body = max_length - len(specials)
    pieces: list[list[int]] = []
    sources = source if isinstance(source, list) else [source]
    texts = (text for one in sources for text in documents(one))
    for text in texts:
        ids = tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]
        pieces.extend(ids[start : start + body] for start in range(0, len(ids), body))
    if not pieces:
        raise BenchError("the text source gave no text: check its files, field or dataset")
    rows = [specials[:1] + piece + specials[1:] for piece in pieces]
    return datasets.Dataset.from_dict({"input_ids": rows, "index": list(range(len(rows)))})
