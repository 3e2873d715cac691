"""The efficient-attention architectures the suite adds to transformers, in one place.

Every place that loads a model (``bench run``, ``bench speed``, the recipe) needs them, so
they live at the bottom of the suite, beside the loader. :func:`register` makes LSG known
to the Auto classes (so an LSG checkpoint loads with plain ``from_pretrained``, no remote
code); it is explicit and idempotent, never a side effect of an import. :func:`prepare`
swaps transformers' Nyströmformer self-attention for the suite's masked one, which runs at
any length and with padding; every model loaded for running passes through it.
"""

from __future__ import annotations


def register() -> None:
    """Register ``lsg-bert`` and ``lsg-roberta`` with the Auto classes (safe to call often).
    Imports transformers' model code, so it is called when a model is loaded, not before."""
    from benchmark.architectures import lsg

    lsg.register()


def prepare(model):
    """The model ready to run at any length: a Nyströmformer configured for approximate
    attention (landmarks fewer than ``segment_means_seq_len``) gets masked attention; one
    configured with as many landmarks as segment length keeps transformers' exact
    attention, which already runs at any length."""
    config = model.config
    if getattr(config, "model_type", None) == "nystromformer" and (
        config.num_landmarks != getattr(config, "segment_means_seq_len", None)
    ):
        from benchmark.architectures.nystromformer_attention import use_masked_attention

        use_masked_attention(model)
    return model
