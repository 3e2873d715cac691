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


def split_stats(dataset: datasets.Dataset, tokenizer=None) -> dict:
    """Documents, words, entities per type and, with a tokenizer, subword lengths
    (special tokens included, as a model would see each whole document)."""
    names = dataset.features["ner_tags"].feature.names
    entities: Counter[str] = Counter()
    lengths: list[int] = []
    n_words = 0
    n_special = tokenizer.num_special_tokens_to_add(pair=False) if tokenizer else 0
    for row in dataset:
        tags = [names[t] for t in row["ner_tags"]]
        entities.update(entity_type for _, _, entity_type in tags_to_spans(tags))
        n_words += len(row["tokens"])
        if tokenizer is not None:
            lengths.append(sum(word_token_counts(row["tokens"], tokenizer)) + n_special)
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
