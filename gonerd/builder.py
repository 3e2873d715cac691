"""The GONERD dataset builder: long documents as words with IOB2 entity tags.

One row per document (or per window, in the windowed configs). Every choice about the data
lives in :class:`GonerdConfig`: where the files are, the class names, and the windowing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import datasets

from gonerd.errors import GonerdSourceError
from gonerd.labels import bio_label_names, entity_type_of
from gonerd.records import Document, read_documents
from gonerd.sources import (
    HUB_REPO_ID,
    SAMPLE_DIR,
    SPLIT_FILE_NAMES,
    hub_file_url,
    local_split_files,
    read_label_names,
)
from gonerd.windows import window_document

CITATION = """\
@inproceedings{brown-etal-2023-efficient,
  title = {Efficient Transformer Knowledge Distillation: A Performance Review},
  author = {Brown, Nathan and Williamson, Ashton and Anderson, Tahj and Lawrence, Logan},
  booktitle = {Proceedings of the 2023 Conference on Empirical Methods in Natural Language
               Processing: Industry Track},
  year = {2023},
  eprint = {2311.13657},
  archivePrefix = {arXiv},
}
"""

DESCRIPTION = (
    "GONERD: long-document named entity recognition (Brown et al., EMNLP 2023 Industry, "
    "arXiv 2311.13657). One row per document: words, their character offsets, IOB2 tags."
)


@dataclass
class GonerdConfig(datasets.BuilderConfig):
    """What to read and how to cut it.

    ``sample`` reads the bundled sample instead of GONERD. ``label_names`` fixes the class
    names (and their ids); without it they come from a labels file beside the data or, for
    string tags, from the tags found. ``tokenizer``/``max_length``/``stride`` turn on
    windowing (see :mod:`gonerd.windows`). ``revision`` pins the Hub revision;
    ``data_fingerprint`` keys the cache to the content of local files.
    """

    sample: bool = False
    label_names: tuple[str, ...] | None = None
    windowed: bool = False
    tokenizer: str | None = None
    max_length: int = 512
    stride: int = 128
    revision: str = "main"
    data_fingerprint: str | None = None


class Gonerd(datasets.GeneratorBasedBuilder):
    """GONERD from a local directory in the Hub's layout, or from the Hub."""

    BUILDER_CONFIG_CLASS = GonerdConfig
    VERSION = datasets.Version("1.0.0")
    BUILDER_CONFIGS = [
        GonerdConfig(name="default", version=VERSION, description="GONERD documents."),
        GonerdConfig(
            name="sample",
            version=VERSION,
            sample=True,
            description="The bundled sample (LitBank and CoNLL-2003 documents; not GONERD).",
        ),
        GonerdConfig(
            name="windowed", version=VERSION, windowed=True, description="GONERD windows."
        ),
        GonerdConfig(
            name="sample-windowed",
            version=VERSION,
            sample=True,
            windowed=True,
            description="Windows of the bundled sample.",
        ),
    ]
    DEFAULT_CONFIG_NAME = "default"

    def _info(self) -> datasets.DatasetInfo:
        names = self.config.label_names
        return datasets.DatasetInfo(
            description=DESCRIPTION,
            citation=CITATION,
            homepage=f"https://huggingface.co/datasets/{HUB_REPO_ID}",
            features=self._features(list(names)) if names else None,
        )

    def _features(self, label_names: list[str]) -> datasets.Features:
        tags = datasets.List(datasets.ClassLabel(names=label_names))
        if self.config.windowed:
            return datasets.Features(
                {
                    "id": datasets.Value("string"),
                    "document_id": datasets.Value("string"),
                    "window_index": datasets.Value("int32"),
                    "word_start": datasets.Value("int32"),
                    "n_subword_tokens": datasets.Value("int32"),
                    "tokens": datasets.List(datasets.Value("string")),
                    "ner_tags": tags,
                }
            )
        return datasets.Features(
            {
                "id": datasets.Value("string"),
                "text": datasets.Value("string"),
                "tokens": datasets.List(datasets.Value("string")),
                "offsets": datasets.List(datasets.List(datasets.Value("int32"), length=2)),
                "ner_tags": tags,
            }
        )

    def _split_files(self, dl_manager) -> tuple[dict[str, Path], Path | None]:
        """Split name -> local file, and the directory that may declare class names."""
        if self.config.sample:
            return local_split_files(SAMPLE_DIR), SAMPLE_DIR
        if self.config.data_dir:
            return local_split_files(self.config.data_dir), Path(self.config.data_dir)
        urls = {split: hub_file_url(split, self.config.revision) for split in SPLIT_FILE_NAMES}
        try:
            paths = dl_manager.download(urls)
        except Exception as exc:  # every transport and offline error means the same here
            raise GonerdSourceError(
                f"could not download GONERD from the Hub ({type(exc).__name__}: {exc}); with "
                "no connection, point at a local copy: load_dataset('gonerd', data_dir=DIR), "
                "GONERD_DATA_DIR=DIR, or `bench ... --data-dir DIR`, where DIR holds "
                "train.jsonl, val.jsonl and test.jsonl"
            ) from None
        return {split: Path(path) for split, path in paths.items()}, None

    def _split_generators(self, dl_manager):
        files, label_dir = self._split_files(dl_manager)
        label_names = list(self.config.label_names or ())
        if not label_names and label_dir is not None:
            label_names = read_label_names(label_dir) or []
        layouts = {}
        entity_types: set[str] = set()
        for split, path in files.items():
            layout, documents = read_documents(path, split, label_names or None)
            layouts[split] = layout
            for document in documents:  # validates every line before anything is written
                entity_types.update(entity_type_of(t) for t in document.tags if t != "O")
        if not label_names:
            label_names = bio_label_names(entity_types)
        self.info.features = self._features(label_names)
        self.info.description = (
            DESCRIPTION
            + " Layouts read: "
            + ", ".join(
                f"{split}={files[split].name}:{layout}" for split, layout in layouts.items()
            )
        )
        self._label_names = label_names
        return [
            datasets.SplitGenerator(name=split, gen_kwargs={"path": str(path), "split": split})
            for split, path in files.items()
        ]

    def _generate_examples(self, path: str, split: str):
        _, documents = read_documents(path, split, self._label_names)
        if not self.config.windowed:
            for document in documents:
                yield (
                    document.id,
                    {
                        "id": document.id,
                        "text": document.text,
                        "tokens": document.tokens,
                        "offsets": [list(o) for o in document.offsets],
                        "ner_tags": document.tags,
                    },
                )
            return
        tokenizer = self._tokenizer()
        for document in documents:
            yield from self._windows(document, tokenizer)

    def _tokenizer(self):
        if not self.config.tokenizer:
            raise GonerdSourceError(
                "the windowed configs need a tokenizer: pass tokenizer='<Hub id or local path>'"
            )
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(self.config.tokenizer)

    def _windows(self, document: Document, tokenizer):
        windows = window_document(
            document.tokens, tokenizer, self.config.max_length, self.config.stride
        )
        for index, window in enumerate(windows):
            key = f"{document.id}#{index}"
            yield (
                key,
                {
                    "id": key,
                    "document_id": document.id,
                    "window_index": index,
                    "word_start": window.word_start,
                    "n_subword_tokens": window.n_tokens,
                    "tokens": document.tokens[window.word_start : window.word_end],
                    "ner_tags": document.tags[window.word_start : window.word_end],
                },
            )
