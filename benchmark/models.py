"""Loading tokenizers and models by Hub id or local path, with one clear error when the
name resolves to nothing (offline, a typo, a private repository)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from benchmark.architectures import prepare, register
from benchmark.errors import BenchError


def load_tokenizer(name_or_path: str, trust_remote_code: bool = False):
    """A tokenizer, fast where the checkpoint offers one (word ids need it)."""
    from transformers import AutoTokenizer

    register()
    try:
        return AutoTokenizer.from_pretrained(name_or_path, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as exc:
        raise _unresolved("tokenizer", name_or_path, exc) from None


def load_model_config(name_or_path: str, trust_remote_code: bool = False):
    """The checkpoint's configuration, with a missing or unreachable model as one error."""
    from transformers import AutoConfig

    register()
    try:
        return AutoConfig.from_pretrained(name_or_path, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as exc:
        raise _unresolved("model", name_or_path, exc) from None


def _unresolved(kind: str, name_or_path: str, exc: BaseException) -> BenchError:
    """One error for a name that resolves to nothing, saying where it was looked for."""
    where = "" if Path(name_or_path).expanduser().exists() else "no local folder of that name; "
    return BenchError(
        f"cannot load {kind} {name_or_path!r}: {where}{first_line(exc).rstrip('.')}. Check "
        "the name, or pass a local model folder (offline, the Hub cannot be reached)"
    )


def word_tokenizer(tokenizer, name_or_path: str, trust_remote_code: bool = False):
    """A tokenizer that reads words given one by one (``is_split_into_words``) the way it
    reads them inside running text.

    Byte-level BPE tokenizers (RoBERTa, Longformer, ModernBERT) mark a word that follows a
    space; without ``add_prefix_space`` they tokenise pre-split words as if glued together
    (``world`` becomes ``wor`` ``ld`` instead of ``Ġworld``). The need is read off the
    tokenizer's behaviour on two words, so any tokenizer type is handled."""
    words = tokenizer(["a", "world"], is_split_into_words=True, add_special_tokens=False)
    plain = tokenizer("a world", add_special_tokens=False)
    second = [i for i, w in zip(words["input_ids"], words.word_ids()) if w == 1]
    if plain["input_ids"][-len(second) :] == second:
        return tokenizer
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(
        name_or_path, trust_remote_code=trust_remote_code, add_prefix_space=True
    )


def load_model(head, name_or_path: str, trust_remote_code: bool = False, **kwargs):
    """``head.from_pretrained`` with a missing or unreachable model as one clear error,
    ready to run (:func:`benchmark.architectures.prepare`: Nyströmformer at any length).

    transformers' load report (a table of missing and unexpected weights) is not printed:
    a checkpoint read into a task head always lacks the head, and the runner says itself
    whether it trained a fresh head or matched the checkpoint's."""
    register()  # an LSG checkpoint's classes are the suite's own
    try:
        with quiet_loading():
            model = head.from_pretrained(
                name_or_path, trust_remote_code=trust_remote_code, **kwargs
            )
    except OSError as exc:
        raise _unresolved("model", name_or_path, exc) from None
    return prepare(model)


@contextmanager
def quiet_loading():
    """transformers prints a load report and a progress bar for every checkpoint it reads;
    the suite says itself what it loaded and what it had to initialise."""
    import transformers

    verbosity = transformers.logging.get_verbosity()
    bars = transformers.logging.is_progress_bar_enabled()
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    try:
        yield
    finally:
        transformers.logging.set_verbosity(verbosity)
        if bars:
            transformers.logging.enable_progress_bar()


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message: library errors can run to pages."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
