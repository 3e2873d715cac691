"""Loading tokenizers and models by Hub id or local path, with one clear error when the
name resolves to nothing (offline, a typo, a private repository)."""

from __future__ import annotations

from benchmark.errors import BenchError


def load_tokenizer(name_or_path: str, trust_remote_code: bool = False):
    """A tokenizer, fast where the checkpoint offers one (word ids need it)."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(name_or_path, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as exc:
        raise BenchError(
            f"could not load tokenizer {name_or_path!r}: {first_line(exc)}. Check the name, or "
            "pass a local model folder (offline, the Hub cannot be reached)"
        ) from None


def load_model(head, name_or_path: str, trust_remote_code: bool = False, **kwargs):
    """``head.from_pretrained`` with a missing or unreachable model as one clear error."""
    try:
        return head.from_pretrained(name_or_path, trust_remote_code=trust_remote_code, **kwargs)
    except OSError as exc:
        raise BenchError(
            f"cannot load model {name_or_path!r}: {first_line(exc)}. Check the name, or pass a "
            "local folder"
        ) from None


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message: library errors can run to pages."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
