"""GONERD: the long-document NER dataset of Brown et al. (EMNLP 2023 Industry).

``gonerd.load_dataset("gonerd")`` returns a typed ``DatasetDict``; see :mod:`gonerd.load`.
"""

from gonerd.builder import Gonerd, GonerdConfig
from gonerd.errors import GonerdError, GonerdFormatError, GonerdSourceError
from gonerd.load import load_dataset
from gonerd.records import Document, read_documents
from gonerd.windows import Window, merge_window_predictions, window_document, window_words

__all__ = [
    "Document",
    "Gonerd",
    "GonerdConfig",
    "GonerdError",
    "GonerdFormatError",
    "GonerdSourceError",
    "Window",
    "load",
    "load_dataset",
    "merge_window_predictions",
    "read_documents",
    "window_document",
    "window_words",
]

load = load_dataset
