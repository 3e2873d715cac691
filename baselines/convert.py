"""Convert a pretrained BERT or RoBERTa checkpoint into an efficient-attention encoder
(Longformer, BigBird, LSG or Nyströmformer) that reads long inputs.

Loading one architecture's checkpoint into another with ``from_pretrained`` silently
leaves random weights in transformers 5.x, so the state dict is mapped here name by name:
the encoder layers and embeddings are copied, the learned position table is tiled up to the
new length (RoBERTa-style tables keep their padding offset), Longformer's global
query/key/value start as copies of the local ones, and weights the source has no
counterpart for (Nyströmformer's convolution, LSG's global tokens, an MLM head the source
never had) are initialised and listed. After saving, the checkpoint is read back and every
copied tensor compared with its source, so nothing that should be copied stays random. On
short inputs, where the new attention must equal full attention (Longformer with a window
covering the input; BigBird, which runs full attention on short inputs), the converted
model's hidden states are compared with the source's.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from benchmark.errors import BenchError

TARGETS = ("longformer", "bigbird", "lsg", "nystromformer")
SOURCES = ("bert", "roberta")

# The settings each target starts from (the paper's scale); --set overrides any of them.
TARGET_DEFAULTS: dict[str, dict] = {
    "longformer": {"attention_window": 512},
    "bigbird": {
        "attention_type": "block_sparse",
        "block_size": 64,
        "num_random_blocks": 3,
        "rescale_embeddings": False,
        "use_bias": True,
    },
    "lsg": {
        "block_size": 128,
        "sparse_block_size": 128,
        "sparsity_factor": 2,
        "sparsity_type": "pooling",
        "num_global_tokens": 1,
    },
    "nystromformer": {"num_landmarks": 64, "conv_kernel_size": 65, "inv_coeff_init_option": False},
}
# How close the converted model's hidden states must stay to the source's on a short input.
SHORT_INPUT_TOLERANCE = 1e-4
WHY_SHORT_INPUTS_DIFFER = {
    "lsg": "LSG's global tokens join every attention, so outputs differ by design",
    "nystromformer": "inputs longer than the landmark count run approximate attention",
}
_SHARED_FIELDS = (
    "vocab_size",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "hidden_act",
    "hidden_dropout_prob",
    "attention_probs_dropout_prob",
    "type_vocab_size",
    "initializer_range",
    "layer_norm_eps",
    "pad_token_id",
    "bos_token_id",
    "eos_token_id",
    "sep_token_id",
)
# The MLM head's names in BERT-style (cls.predictions) and RoBERTa-style (lm_head) models.
_HEAD_NAMES = {
    "cls.predictions.transform.dense.": "lm_head.dense.",
    "cls.predictions.transform.LayerNorm.": "lm_head.layer_norm.",
    "cls.predictions.decoder.": "lm_head.decoder.",
    "cls.predictions.bias": "lm_head.bias",
}


@dataclass
class ConversionReport:
    """What a conversion did: written next to the checkpoint as ``conversion.json``."""

    source: str
    source_type: str
    target: str
    max_length: int
    settings: dict
    copied: int = 0
    tiled_positions: str = ""
    initialised: list[str] = field(default_factory=list)
    not_mapped: list[str] = field(default_factory=list)
    short_input_check: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def position_offset(config) -> int:
    """Rows before position 0 in the model's position table: RoBERTa-style tables start
    after the padding index, Nyströmformer's after two rows, BERT's at row 0."""
    kind = config.model_type
    if kind in ("roberta", "longformer", "lsg-roberta"):
        return (config.pad_token_id or 0) + 1
    if kind == "nystromformer":
        return 2
    return 0


def target_config(
    source_config,
    target: str,
    max_length: int,
    overrides: dict | None = None,
    cls_token_id: int | None = None,
):
    """The target architecture's configuration: the source's sizes, the target's attention
    settings (defaults, then ``overrides``) and a position table for ``max_length``.
    ``cls_token_id`` is where LSG's global tokens start from (BERT configs lack it)."""
    import transformers

    if target not in TARGETS:
        raise BenchError(f"unknown target {target!r}: choose one of {', '.join(TARGETS)}")
    settings = TARGET_DEFAULTS[target] | (overrides or {})
    shared = {k: getattr(source_config, k) for k in _SHARED_FIELDS if hasattr(source_config, k)}
    if target == "lsg":
        from benchmark.architectures.lsg import lsg_config_from

        offset = position_offset(source_config) if source_config.model_type == "roberta" else 0
        try:
            return lsg_config_from(
                source_config,
                max_position_embeddings=max_length + offset,
                cls_token_id=cls_token_id,
                **settings,
            )
        except (TypeError, ValueError) as exc:
            raise BenchError(f"lsg settings {settings}: {exc}") from None
    classes = {
        "longformer": transformers.LongformerConfig,
        "bigbird": transformers.BigBirdConfig,
        "nystromformer": transformers.NystromformerConfig,
    }
    config = classes[target](**shared)
    for key, value in settings.items():
        if not hasattr(config, key):
            raise BenchError(f"--set {key}: {target} has no setting of that name")
        setattr(config, key, value)
    if target == "longformer":
        config.max_position_embeddings = max_length + (config.pad_token_id or 0) + 1
        windows = config.attention_window
        if isinstance(windows, int):
            config.attention_window = [windows] * config.num_hidden_layers
        if any(w % 2 for w in config.attention_window):
            raise BenchError(f"--set attention_window={windows}: Longformer needs an even window")
    elif target == "nystromformer":
        config.max_position_embeddings = max_length
        config.segment_means_seq_len = max_length
    else:
        config.max_position_embeddings = max_length
    return config


def _source_key(name: str, source_prefix: str, target_prefix: str, source_roberta: bool) -> str:
    """The source weight a target weight is copied from (by name)."""
    if name.startswith(target_prefix + "."):
        name = source_prefix + name[len(target_prefix) :]
    for bert_name, roberta_name in _HEAD_NAMES.items():
        if source_roberta and name.startswith(bert_name):
            return roberta_name + name[len(bert_name) :]
        if not source_roberta and name.startswith(roberta_name):
            return bert_name + name[len(roberta_name) :]
    if name.endswith("pooler.weight") or name.endswith("pooler.bias"):  # BigBird's pooler
        name = name.replace("pooler.", "pooler.dense.")
    return name.replace("_global.", ".")  # Longformer's global q/k/v start from the local ones


def tile_positions(
    source_table: torch.Tensor, source_offset: int, target_rows: int, target_offset: int
) -> torch.Tensor:
    """The target's position table: the source's learned positions repeated up to the new
    length, rows before position 0 (padding offset) copied as they are where both have them."""
    learned = source_table[source_offset:]
    table = torch.empty(target_rows, source_table.shape[1], dtype=source_table.dtype)
    table[:target_offset] = source_table[:target_offset] if source_offset >= target_offset else 0
    positions = target_rows - target_offset
    repeats = math.ceil(positions / learned.shape[0])
    table[target_offset:] = learned.repeat(repeats, 1)[:positions]
    return table


def convert(
    source: str,
    target: str,
    output: Path,
    max_length: int = 4096,
    overrides: dict | None = None,
    check_length: int = 32,
) -> ConversionReport:
    """Convert ``source`` (a BERT or RoBERTa checkpoint with or without an MLM head) into an
    MLM checkpoint of ``target`` in ``output``, with its tokenizer and ``conversion.json``."""
    from transformers import AutoModelForMaskedLM

    from benchmark.architectures import register
    from benchmark.model_setup import check_model_path
    from benchmark.models import load_model_config, load_tokenizer, quiet_loading

    register()  # LSG with the Auto classes

    output = Path(output)
    if output.exists() and not output.is_dir():  # said before any weights are loaded
        raise BenchError(f"{output} is a file: name a folder for the converted checkpoint")
    check_model_path(source)  # a folder that is not there, said as such
    source_config = load_model_config(source)
    if source_config.model_type not in SOURCES:
        raise BenchError(
            f"{source}: model type {source_config.model_type!r} cannot be converted; the "
            f"recipe converts {' and '.join(SOURCES)} checkpoints"
        )
    tokenizer = load_tokenizer(source)
    config = target_config(source_config, target, max_length, overrides, tokenizer.cls_token_id)
    with quiet_loading():
        teacher, source_weights = source_model(source)
    torch.manual_seed(0)
    model = AutoModelForMaskedLM.from_config(config)
    report = ConversionReport(
        source=str(source),
        source_type=source_config.model_type,
        target=target,
        max_length=max_length,
        settings=TARGET_DEFAULTS[target] | (overrides or {}),
    )
    mapped = _map_weights(model, teacher, source_weights, report)
    model.load_state_dict(mapped, strict=True)
    _initialise_new(model, report)
    output.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output)
    tokenizer.model_max_length = max_length
    tokenizer.save_pretrained(output)
    reloaded = _check_copied(output, mapped, report)
    if target == "longformer":  # the window must cover the whole input for outputs to match
        check_length = min(check_length, min(config.attention_window) // 2)
    report.short_input_check = short_input_check(
        teacher, reloaded.base_model, target, tokenizer, check_length
    )
    (output / "conversion.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    return report


def source_model(source: str):
    """The source as an MLM model, and the weights its checkpoint really holds: the MLM
    model's minus those it had to initialise, plus the pooler, which only the bare model
    class reads."""
    from transformers import AutoModel, AutoModelForMaskedLM

    model, info = AutoModelForMaskedLM.from_pretrained(source, output_loading_info=True)
    absent = set(info["missing_keys"])
    weights = {k: v for k, v in model.state_dict().items() if k not in absent}
    bare, info = AutoModel.from_pretrained(source, output_loading_info=True)
    absent = set(info["missing_keys"])
    for name, tensor in bare.state_dict().items():
        if name.startswith("pooler.") and name not in absent:
            weights[f"{model.base_model_prefix}.{name}"] = tensor
    return model, weights


def _map_weights(model, teacher, source_weights: dict, report: ConversionReport) -> dict:
    """Every target weight filled from the source by name, or left at its initialisation
    and listed; the source weights nothing took are listed too."""
    target_prefix = model.base_model_prefix
    source_prefix = teacher.base_model_prefix
    roberta = report.source_type == "roberta"
    mapped, used = {}, set()
    for name, tensor in model.state_dict().items():
        origin = _source_key(name, source_prefix, target_prefix, roberta)
        if name.endswith("embeddings.position_embeddings.weight") and origin in source_weights:
            mapped[name] = tile_positions(
                source_weights[origin],
                position_offset(teacher.config),
                tensor.shape[0],
                position_offset(model.config),
            )
            report.tiled_positions = (
                f"{source_weights[origin].shape[0]} rows (offset "
                f"{position_offset(teacher.config)}) tiled to {tensor.shape[0]} (offset "
                f"{position_offset(model.config)})"
            )
            used.add(origin)
        elif origin in source_weights:
            if source_weights[origin].shape != tensor.shape:
                raise BenchError(
                    f"conversion to {report.target}: {name} has shape {tuple(tensor.shape)} but "
                    f"its source {origin} has {tuple(source_weights[origin].shape)}; a --set "
                    "value changed a size the source fixes (vocabulary, token types, hidden)"
                )
            mapped[name] = source_weights[origin]
            used.add(origin)
        else:
            mapped[name] = tensor
            report.initialised.append(name)
    report.copied = len(mapped) - len(report.initialised)
    report.not_mapped = sorted(set(source_weights) - used)
    return mapped


def _initialise_new(model, report: ConversionReport) -> None:
    """Start new weights where the converted model behaves closest to its source:
    Nyströmformer's convolution at zero (attention alone, as in the source), LSG's global
    tokens from the [CLS] embedding."""
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name in report.initialised and name.endswith("attention.self.conv.weight"):
                parameter.zero_()
        base = model.base_model
        if hasattr(base, "global_tokens_init"):
            base.embeddings.global_embeddings.copy_(base.global_tokens_init())


def _check_copied(output: Path, mapped: dict, report: ConversionReport):
    """Read the saved checkpoint back and compare every copied tensor with its source:
    the guard against weights that silently load as random. Returns the model read back,
    ready to run."""
    from transformers import AutoModelForMaskedLM

    from benchmark.models import load_model

    reloaded = load_model(AutoModelForMaskedLM, str(output))
    weights = reloaded.state_dict()
    wrong = [
        name
        for name, tensor in mapped.items()
        if name not in report.initialised and not torch.equal(weights[name], tensor)
    ]
    if wrong:
        raise BenchError(
            f"conversion to {report.target}: {len(wrong)} weights did not survive saving and "
            f"loading (first: {wrong[0]}); the checkpoint in {output} is not usable"
        )
    return reloaded


def short_input_check(teacher, converted, target: str, tokenizer, length: int) -> dict:
    """The largest difference between the source's and the converted (base) model's last
    hidden states on short inputs, and whether it had to be (near) zero for this target."""
    from benchmark.inference import accepted_inputs

    text = (
        "The river rose in the night and by morning the low fields were under water. "
        "Nobody in the village had seen a flood like it since the old mill burned down."
    )
    encoded = tokenizer(
        [text, text[:60]], padding=True, truncation=True, max_length=length, return_tensors="pt"
    )
    converted, teacher = converted.eval(), teacher.eval()
    with torch.no_grad():
        expected = teacher.base_model(**encoded).last_hidden_state
        got = converted(**{k: encoded[k] for k in accepted_inputs(converted, encoded)})
        got = got.last_hidden_state
    real = encoded["attention_mask"].bool()
    difference = (expected - got).abs()[real].max().item()
    tokens = int(encoded["input_ids"].shape[1])
    # Longformer's window and BigBird's full-attention fallback cover a short input;
    # Nyströmformer is exact up to its landmark count.
    must_match = target in ("longformer", "bigbird") or (
        target == "nystromformer" and tokens <= converted.config.num_landmarks
    )
    result = {
        "tokens": tokens,
        "max_abs_difference": difference,
        "must_match": must_match,
        "why_not": None if must_match else WHY_SHORT_INPUTS_DIFFER[target],
    }
    if must_match and difference > SHORT_INPUT_TOLERANCE:
        raise BenchError(
            f"conversion to {target}: on a {result['tokens']}-token input the converted model's "
            f"hidden states differ from the source's by {difference:.2e} (> "
            f"{SHORT_INPUT_TOLERANCE}); a "
            "weight was mapped wrongly"
        )
    return result
