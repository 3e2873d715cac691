"""The efficient-attention architectures the suite adds to transformers, in one place.

Importing this module registers LSG with the Auto classes (so an LSG checkpoint loads with
plain ``from_pretrained``, no remote code), and :func:`prepare` swaps transformers'
Nyströmformer self-attention for the suite's masked one, which runs at any length and
with padding. Every place that loads a model for running (``bench run``, ``bench speed``,
the recipe) passes it through :func:`prepare`.
"""

from __future__ import annotations

import baselines.lsg  # noqa: F401  (registers lsg-bert and lsg-roberta)


def prepare(model):
    """The model ready to run at any length: a Nyströmformer configured for approximate
    attention (landmarks fewer than ``segment_means_seq_len``) gets masked attention; one
    configured with as many landmarks as segment length keeps transformers' exact
    attention, which already runs at any length."""
    config = model.config
    if getattr(config, "model_type", None) == "nystromformer" and (
        config.num_landmarks != getattr(config, "segment_means_seq_len", None)
    ):
        from baselines.nystromformer_attention import use_masked_attention

        use_masked_attention(model)
    return model
