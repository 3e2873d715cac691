"""Corpus statistics of a GONERD-format DatasetDict: how long the documents are for a
given tokenizer, and which entities they hold. Long-context work lives or dies on the
length distribution, so it is reported as percentiles and shares over model limits."""

from __future__ import annotations

from collections import Counter

import datasets
import numpy as np

from gonerd.labels import tags_to_spans
from gonerd.windows import word_token_counts

LENGTH_LIMITS = (512, 4096)
PERCENTILES = (50, 90, 95, 99)


def document_lengths(dataset: datasets.Dataset, tokenizer) -> list[int]:
    """Each document's length in subword tokens, special tokens included, as a model
    would see the whole document."""
    n_special = tokenizer.num_special_tokens_to_add(pair=False)
    return [sum(word_token_counts(words, tokenizer)) + n_special for words in dataset["tokens"]]


def split_stats(dataset: datasets.Dataset, tokenizer=None) -> dict:
    """Documents, words, entities per type and, with a tokenizer, subword lengths
    (special tokens included, as a model would see each whole document)."""
    names = dataset.features["ner_tags"].feature.names
    entities: Counter[str] = Counter()
    n_words = 0
    for row in dataset:
        tags = [names[t] for t in row["ner_tags"]]
        entities.update(entity_type for _, _, entity_type in tags_to_spans(tags))
        n_words += len(row["tokens"])
    lengths = document_lengths(dataset, tokenizer) if tokenizer is not None else []
    stats: dict = {
        "documents": dataset.num_rows,
        "words": n_words,
        "entities": dict(sorted(entities.items())),
        "entities_total": sum(entities.values()),
    }
    if tokenizer is not None and lengths:
        array = np.asarray(lengths)
        stats["subword_tokens"] = {
            "total": int(array.sum()),
            "mean": round(float(array.mean()), 1),
            **{f"p{q}": round(float(np.percentile(array, q)), 1) for q in PERCENTILES},
            "max": int(array.max()),
            **{f"share_over_{n}": round(float((array > n).mean()), 4) for n in LENGTH_LIMITS},
        }
    return stats


def dataset_stats(dataset: datasets.DatasetDict, tokenizer=None) -> dict[str, dict]:
    """:func:`split_stats` for every split, keyed by split name."""
    return {split: split_stats(dataset[split], tokenizer) for split in dataset}


def plot_lengths(lengths: dict[str, list[int]], path, title: str) -> None:
    """A histogram of document lengths per split, with the 512 and 4,096-token marks, as
    an image (PNG or SVG by the file's suffix)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4))
    longest = max((max(v) for v in lengths.values() if v), default=1)
    bins = np.linspace(0, max(longest, max(LENGTH_LIMITS)) * 1.05, 40)
    for split, values in lengths.items():
        axes.hist(values, bins=bins, alpha=0.55, label=f"{split} ({len(values)} documents)")
    for limit in LENGTH_LIMITS:
        axes.axvline(limit, color="black", linestyle="--", linewidth=1)
        axes.annotate(
            f"{limit:,}",
            (limit, 1),
            xycoords=("data", "axes fraction"),
            xytext=(3, -12),
            textcoords="offset points",
        )
    axes.set_xlabel("document length (subword tokens, special tokens included)")
    axes.set_ylabel("documents")
    axes.set_title(title.replace("$", r"\$"))
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
