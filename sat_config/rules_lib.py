"""Helpers available to the cross-field rules that schemas declare in ``x-rules``.

Rules are Python expressions over ``self`` (the object the rule is declared on); the generator compiles them
into ``sat_config.generated.rules``. Helpers return None when the data they need is absent, so a rule can say
``x is None or ...``; a rule that trips over malformed data is skipped (the schema errors already cover it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = [
    "get", "product", "ids",
    "activation_problem", "audio_in_channels", "audio_out_channels", "bottleneck_in_channels", "channel_source",
    "decoder_expected_channels", "decoder_in_channels", "decoder_out_channels", "encoder_downsampling",
    "encoder_in_channels", "encoder_out_channels", "latent_chain", "latent_channels", "model_downsampling",
    "noise_channels", "norm_params_problem", "pretransform_channels", "pretransform_downsampling",
    "audio_conditioner_problem", "backbone_downsampling", "cond_width", "conditioners_using_model_pretransform",
    "cross_attention_problem", "cross_attention_tokens", "describe_diffusion_width", "describe_min_input_length",
    "describe_pretransform", "describe_tokens", "diffusion_width", "each_width_problem", "first_context_channels",
    "head_layout_problem", "inpainting_ids", "min_input_length", "pretransform_is_discrete",
    "pretransform_num_quantizers", "total_width_problem", "undefined_ids", "unet_attention_problem",
    "unet_group_problem", "unet_uses_attention",
]


def get(obj: Any, dotted: str, default: Any = None) -> Any:
    """``obj["a"]["b"]...`` for ``"a.b"`` (list indices as digits), or ``default`` when any step is missing."""
    for part in dotted.split("."):
        if isinstance(obj, dict) and part in obj:
            obj = obj[part]
        elif isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            return default
    return default if obj is None else obj


def product(values: Any) -> int:
    """The product of a list of integers (1 for an empty list)."""
    return math.prod(values)


def ids(entries: Any) -> list[Any]:
    """The ``id`` of each entry of a list of objects (e.g. conditioners)."""
    return [e.get("id") for e in entries or [] if isinstance(e, dict)]


# --- autoencoder family: channel widths and downsampling of encoders, bottlenecks, decoders, pretransforms -------
# Every helper takes the plain dicts of a config and returns None when the data it needs is absent or malformed.

_ENCODER_IN = {"oobleck": ("in_channels", 2), "taae": ("in_channels", 2), "seanet": ("channels", 1),
               "dac": ("in_channels", 1), "local_attn": ("in_channels", None)}
_ENCODER_OUT = {"oobleck": ("latent_dim", 32), "taae": ("latent_dim", 32), "seanet": ("dimension", 128),
                "dac": ("latent_dim", None), "local_attn": ("out_channels", None)}
_DECODER_IN = {"oobleck": ("latent_dim", 32), "taae": ("latent_dim", 32), "seanet": ("dimension", 128),
               "dac": ("latent_dim", None), "local_attn": ("in_channels", None)}
_DECODER_OUT = {"oobleck": ("out_channels", 2), "taae": ("out_channels", 2), "seanet": ("channels", 1),
                "dac": ("out_channels", 1), "local_attn": ("out_channels", None)}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _ints(value: Any) -> list[int] | None:
    if isinstance(value, list) and all(_int(v) is not None for v in value):
        return value
    return None


def _part(part: Any) -> tuple[Any, dict[str, Any] | None]:
    """(type, config dict) of an encoder/decoder/bottleneck/pretransform dict; config None when absent."""
    if not isinstance(part, dict):
        return None, None
    config = part.get("config")
    return part.get("type"), config if isinstance(config, dict) else None


def _width(part: Any, table: dict[str, tuple[str, int | None]]) -> int | None:
    kind, config = _part(part)
    if kind not in table or config is None:
        return None
    key, default = table[kind]
    return _int(config.get(key, default))


def encoder_in_channels(encoder: Any) -> int | None:
    """Channels the encoder's first layer reads."""
    return _width(encoder, _ENCODER_IN)


def encoder_out_channels(encoder: Any) -> int | None:
    """Channels the encoder outputs (for dac without latent_dim: d_model * 2**len(strides))."""
    kind, config = _part(encoder)
    if kind == "dac" and config is not None and config.get("latent_dim") is None:
        d_model, strides = _int(config.get("d_model")), _ints(config.get("strides"))
        return None if d_model is None or strides is None else d_model * 2 ** len(strides)
    return _width(encoder, _ENCODER_OUT)


def decoder_in_channels(decoder: Any) -> int | None:
    """Channels the decoder's first layer reads."""
    return _width(decoder, _DECODER_IN)


def decoder_out_channels(decoder: Any) -> int | None:
    """Audio channels the decoder writes."""
    return _width(decoder, _DECODER_OUT)


def encoder_downsampling(encoder: Any) -> int | None:
    """Product of the strides the encoder applies (None for an unknown encoder or too few strides)."""
    kind, config = _part(encoder)
    if config is None:
        return None
    if kind in ("oobleck", "taae", "local_attn"):
        strides_key, stages_key = ("ratios", "depths") if kind == "local_attn" else ("strides", "c_mults")
        defaults = ([2, 2, 2, 2], [3, 3, 3, 3]) if kind == "local_attn" else ([2, 4, 8, 8], [1, 2, 4, 8])
        strides, stages = _ints(config.get(strides_key, defaults[0])), config.get(stages_key, defaults[1])
        if strides is None or not isinstance(stages, list) or len(strides) < len(stages):
            return None
        return math.prod(strides[: len(stages)])
    if kind in ("seanet", "dac"):
        strides = _ints(config.get("ratios", [2, 2, 2, 2, 2]) if kind == "seanet" else config.get("strides"))
        return None if strides is None else math.prod(strides)
    return None


def _fsq_width(config: dict[str, Any]) -> int | None:
    levels, codebooks = config.get("levels"), _int(config.get("num_codebooks", 1))
    if config.get("dim") is not None:
        return _int(config["dim"])
    return None if not isinstance(levels, list) or codebooks is None else len(levels) * codebooks


def _quantized_width(bottleneck: Any) -> int | None:
    """Width of the vectors a quantizing bottleneck works on (its encode output); None for other types."""
    kind, config = _part(bottleneck)
    if config is None:
        return None
    if kind in ("rvq", "rvq_vae"):
        return _int(config.get("dim", 128))
    if kind in ("dac_rvq", "dac_rvq_vae"):
        return _int(config.get("input_dim", 512))
    if kind == "fsq":
        return _fsq_width(config)
    if kind == "dithered_fsq":
        dim, codebooks = _int(config.get("dim")), _int(config.get("num_codebooks", 1))
        return None if dim is None or codebooks is None else dim * codebooks
    return None


def bottleneck_in_channels(bottleneck: Any) -> int | None:
    """Encoder output width a quantizing bottleneck requires (twice its width for the *_vae types); else None."""
    width = _quantized_width(bottleneck)
    kind, _ = _part(bottleneck)
    return None if width is None else width * (2 if kind in ("rvq_vae", "dac_rvq_vae") else 1)


def noise_channels(bottleneck: Any) -> int:
    """Noise channels the bottleneck appends in decode() (noise_augment_dim of wasserstein, dac_rvq and fsq)."""
    kind, config = _part(bottleneck)
    if kind in ("wasserstein", "dac_rvq", "fsq") and config is not None:
        return _int(config.get("noise_augment_dim", 0)) or 0
    return 0


def latent_channels(model: Any) -> int | None:
    """Width of the latents an autoencoder section's encode() returns (after the bottleneck)."""
    if not isinstance(model, dict):
        return None
    bottleneck = model.get("bottleneck")
    kind, _ = _part(bottleneck)
    if bottleneck is None or kind in ("tanh", "l2_norm", "wasserstein"):
        return encoder_out_channels(model.get("encoder"))
    if kind == "vae":
        width = encoder_out_channels(model.get("encoder"))
        return None if width is None or width % 2 else width // 2
    return _quantized_width(bottleneck)


def decoder_expected_channels(model: Any) -> int | None:
    """Channels the decoder must read: the latents plus the bottleneck's decode-time noise channels."""
    width = latent_channels(model)
    return None if width is None else width + noise_channels(model.get("bottleneck"))


def latent_chain(model: Any) -> str:
    """Human-readable account of how the encoder output becomes the latents (for rule messages)."""
    encoder, bottleneck = model.get("encoder"), model.get("bottleneck")
    text = f"the {_part(encoder)[0]} encoder outputs {encoder_out_channels(encoder)} channels"
    kind, _ = _part(bottleneck)
    if bottleneck is None or kind in ("tanh", "l2_norm", "wasserstein"):
        text += "" if bottleneck is None else f" and the {kind} bottleneck keeps them"
    elif kind == "vae":
        text += " and the vae bottleneck halves them"
    else:
        text += f" and the {kind} bottleneck quantizes {_quantized_width(bottleneck)}-wide latents"
    noise = noise_channels(bottleneck)
    if noise:
        text += f", then appends noise_augment_dim {noise} noise channels in decode()"
    return text


def pretransform_channels(pretransform: Any) -> int | None:
    """Channels a pretransform's encode() produces, when the config alone determines them."""
    kind, config = _part(pretransform)
    if config is None:
        return None
    if kind == "autoencoder":
        return _int(config.get("latent_dim"))
    channels = _int(config.get("channels"))
    if kind == "wavelet":
        levels = _int(config.get("levels"))
        return None if channels is None or levels is None else channels * 2 ** levels
    if kind == "patched":
        patch = _int(config.get("patch_size"))
        return None if channels is None or patch is None else channels * patch
    return None


def pretransform_downsampling(pretransform: Any) -> int | None:
    """Audio samples per frame of a pretransform's output, when the config alone determines it."""
    kind, config = _part(pretransform)
    if config is None:
        return None
    if kind == "autoencoder":
        return _int(config.get("downsampling_ratio"))
    if kind == "wavelet":
        levels = _int(config.get("levels"))
        return None if levels is None else 2 ** levels
    if kind == "patched":
        return _int(config.get("patch_size"))
    if kind == "dac_pretrained":
        return 512 if config.get("model_type", "44khz") == "44khz" else 320
    return None


def _model_channels(model: Any, key: str) -> int | None:
    if not isinstance(model, dict):
        return None
    if model.get("pretransform") is not None:
        return pretransform_channels(model["pretransform"])
    value = model.get(key)
    return _int(value if value is not None else model.get("io_channels"))


def audio_in_channels(model: Any) -> int | None:
    """Channels an autoencoder section feeds its encoder: the pretransform's output, else in_channels/io_channels."""
    return _model_channels(model, "in_channels")


def audio_out_channels(model: Any) -> int | None:
    """Channels an autoencoder section's decoder must write: the pretransform's input, else out_channels/io_channels."""
    return _model_channels(model, "out_channels")


def channel_source(model: Any, key: str) -> str:
    """Where audio_in_channels / audio_out_channels (``key`` in_channels / out_channels) come from (for messages)."""
    if model.get("pretransform") is not None:
        return f"the {_part(model['pretransform'])[0]} pretransform's encoded channels"
    return key if model.get(key) is not None else "io_channels"


def model_downsampling(model: Any) -> int | None:
    """Audio samples per latent frame of an autoencoder section: encoder strides x pretransform ratio."""
    if not isinstance(model, dict):
        return None
    ratio = encoder_downsampling(model.get("encoder"))
    if ratio is None or model.get("pretransform") is None:
        return ratio
    outer = pretransform_downsampling(model["pretransform"])
    return None if outer is None else ratio * outer


# --- SEANet (encodec 0.1.1) activations and norms ---------------------------------------------------------------
# torch.nn activation -> (accepted keyword arguments, required ones); tests compare it with torch's signatures.
_INPLACE = frozenset({"inplace"})
ACTIVATION_PARAMS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "CELU": (frozenset({"alpha", "inplace"}), frozenset()),
    "ELU": (frozenset({"alpha", "inplace"}), frozenset()),
    "GELU": (frozenset({"approximate"}), frozenset()),
    "Hardshrink": (frozenset({"lambd"}), frozenset()),
    "Hardsigmoid": (_INPLACE, frozenset()),
    "Hardswish": (_INPLACE, frozenset()),
    "Hardtanh": (frozenset({"min_val", "max_val", "inplace", "min_value", "max_value"}), frozenset()),
    "LeakyReLU": (frozenset({"negative_slope", "inplace"}), frozenset()),
    "LogSigmoid": (frozenset(), frozenset()),
    "LogSoftmax": (frozenset({"dim"}), frozenset()),
    "Mish": (_INPLACE, frozenset()),
    "PReLU": (frozenset({"num_parameters", "init"}), frozenset()),
    "ReLU": (_INPLACE, frozenset()),
    "ReLU6": (_INPLACE, frozenset()),
    "RReLU": (frozenset({"lower", "upper", "inplace"}), frozenset()),
    "SELU": (_INPLACE, frozenset()),
    "SiLU": (_INPLACE, frozenset()),
    "Sigmoid": (frozenset(), frozenset()),
    "Softmax": (frozenset({"dim"}), frozenset()),
    "Softmax2d": (frozenset(), frozenset()),
    "Softmin": (frozenset({"dim"}), frozenset()),
    "Softplus": (frozenset({"beta", "threshold"}), frozenset()),
    "Softshrink": (frozenset({"lambd"}), frozenset()),
    "Softsign": (frozenset(), frozenset()),
    "Tanh": (frozenset(), frozenset()),
    "Tanhshrink": (frozenset(), frozenset()),
    "Threshold": (frozenset({"threshold", "value", "inplace"}), frozenset({"threshold", "value"})),
}


def activation_problem(name: Any, params: Any) -> str | None:
    """Why ``torch.nn.<name>(**params)`` fails at construction or at the first forward in SEANet; None if it works."""
    if name not in ACTIVATION_PARAMS or not isinstance(params, dict):
        return None
    accepted, required = ACTIVATION_PARAMS[name]
    unknown = sorted(set(params) - accepted)
    if unknown:
        takes = ", ".join(sorted(accepted)) or "no arguments"
        hint = " (activation_params defaults to {'alpha': 1.0}, which only ELU and CELU take)" if params == {
            "alpha": 1.0} else ""
        return f"torch.nn.{name} does not take {', '.join(unknown)}{hint}; it takes {takes} (TypeError at construction)"
    missing = sorted(required - set(params))
    if missing:
        return f"torch.nn.{name} needs {', '.join(missing)} (TypeError at construction)"
    if name == "Hardtanh":
        low = params["min_value"] if params.get("min_value") is not None else params.get("min_val", -1.0)
        high = params["max_value"] if params.get("max_value") is not None else params.get("max_val", 1.0)
        if not high > low:
            return f"Hardtanh needs max_val > min_val, got {low} and {high} (AssertionError at construction)"
    if name == "RReLU" and params.get("lower", 0.125) > params.get("upper", 1 / 3):
        return "RReLU needs lower <= upper (RuntimeError at the first forward)"
    if name == "PReLU" and params.get("num_parameters", 1) != 1:
        return ("PReLU num_parameters must be 1: SEANet's layers have different channel counts (RuntimeError at the "
                "first forward)")
    return None


def norm_params_problem(norm: Any, params: Any) -> str | None:
    """Why SEANet's ``norm_params`` do not fit ``norm``; None if they do."""
    if not isinstance(params, dict) or not params or norm == "time_group_norm":
        return None
    return f"norm_params is ignored with norm {norm!r}: only time_group_norm passes it on (to torch.nn.GroupNorm)"


# --- diffusion, language-model and conditioning sections ----------------------------------------------------------
# Backbone keys are those of the dit / adp / continuous_transformer configs; a model section holds `conditioning`,
# `pretransform` and `diffusion` (or `lm`). Helpers return None ("fits", or "cannot tell") for malformed data.

INPAINT_IDS = ("inpaint_mask", "inpaint_masked_input")
_DISCRETE_BOTTLENECKS = ("rvq", "rvq_vae", "dac_rvq", "dac_rvq_vae", "fsq", "dithered_fsq")
_CONTINUOUS_BOTTLENECKS = ("tanh", "vae", "l2_norm", "wasserstein")
_ADP_TYPES = ("adp_1d", "adp_cfg_1d", "adp_uncond_1d")


def head_layout_problem(dim: Any, dim_heads: Any, rotary: Any, add_rope: Any = False) -> str | None:
    """Why self-attention of width ``dim`` with ``dim_heads`` features per head (ContinuousTransformer's dim_heads;
    each block uses min(dim_heads, dim)), with ``rotary`` (rotary_pos_emb) and ``add_rope`` embeddings, fails at
    construction or at the first forward; None if it works."""
    if dim_heads < 1:
        return "attention heads would have 0 features: construction fails with ZeroDivisionError"
    head = min(dim_heads, dim)
    if add_rope is True and head // 2 == 2:
        return (f"add_rope gives every block RotaryEmbedding(head size // 2) = RotaryEmbedding(2) for {head}-feature "
                "heads, which divides by zero (dim / (dim - 2)) at construction")
    heads = dim // head
    if dim % heads:
        return (f"the width does not split into {heads} attention heads ({dim} is not a multiple of {heads}): the "
                "first forward fails with a shape error")
    if rotary:
        rotated = max(dim_heads // 2, 32)
        rotated += rotated % 2
        if dim // heads < rotated:
            return (f"rotary position embeddings rotate {rotated} features per head but the heads have "
                    f"{dim // heads}: the first forward fails with a shape error (heads need at least 32 features, "
                    "or set rotary_pos_emb false)")
    return None


def cross_attention_problem(dim: Any, dim_heads: Any, context: Any) -> str | None:
    """Why cross-attention from width ``dim`` (``dim_heads`` features per head) to keys and values of width
    ``context`` fails at the first forward; None if it works."""
    head = min(dim_heads, dim)
    if head < 1:
        return None  # the self-attention check reports it
    heads, kv_heads = dim // head, context // head
    if dim % heads:
        return None  # the self-attention check reports it
    if kv_heads < 1:
        return f"{context} features do not make a single {head}-feature key/value head: the first forward fails"
    if context % kv_heads or context // kv_heads != dim // heads or heads % kv_heads:
        return (f"they make {kv_heads} key/value heads of {context / kv_heads:g} features for {heads} query heads of "
                f"{dim // heads}: the first forward fails with a shape error (the width must be a multiple of "
                f"{dim // heads} that divides into the {heads} heads)")
    return None


def _unet_shape(config: Any) -> tuple[list[int], int, list[int], list[int]]:
    widths = [config["channels"] * m for m in config["multipliers"]]
    return widths, len(widths) - 1, list(config["attentions"]), list(config["num_blocks"])


def unet_uses_attention(config: Any) -> bool:
    """Whether any level (or the bottleneck, which uses the last entry) of a UNet1d config has attention."""
    levels = len(config["multipliers"]) - 1
    attentions = list(config["attentions"])
    return any(a > 0 for a in attentions[:levels] + attentions[-1:])


def unet_group_problem(config: Any) -> str | None:
    """Which UNet1d block widths ``resnet_groups`` does not divide (GroupNorm raises at construction); None if none."""
    groups = config.get("resnet_groups", 8)
    widths, levels, attentions, blocks = _unet_shape(config)
    context = list(config.get("context_channels") or [])
    context += [0] * (levels + 1 - len(context))
    normed = {widths[levels]}
    for i in range(levels):
        if blocks[i] >= 1:
            normed |= {widths[i + 1] + context[i + 1], widths[i + 1]}
        if blocks[i] + (1 if attentions[i] else 0) >= 1:
            normed |= {2 * widths[i + 1], widths[i + 1]}
    bad = sorted(w for w in normed if w % groups)
    if not bad:
        return None
    return (f"resnet_groups {groups} does not divide the resnet block width{'s' if len(bad) > 1 else ''} "
            f"{', '.join(map(str, bad))} (level widths are channels x multipliers, doubled by the skip connections "
            "of the upsampling blocks, plus any context_channels): GroupNorm raises ValueError at construction")


def unet_attention_problem(config: Any) -> str | None:
    """Why the attention blocks of a UNet1d config cannot be built; None if they can (or have no heads setting)."""
    widths, levels, attentions, _ = _unet_shape(config)
    heads, features = config.get("attention_heads"), config.get("attention_features")
    for width, count in [(widths[i + 1], attentions[i]) for i in range(levels)] + [(widths[levels], attentions[-1])]:
        if count <= 0:
            continue
        if width % 32:
            return (f"a level with attention is {width} channels wide, not a multiple of 32: the attention block's "
                    "GroupNorm(32 groups) raises ValueError at construction")
        if features is None and heads is not None and width // heads < 1:
            return (f"attention_heads {heads} is more than the {width} channels of a level with attention: its heads "
                    "would have 0 features (ZeroDivisionError at construction)")
        if heads is None and features is not None and width // features < 1:
            return (f"attention_features {features} is more than the {width} channels of a level with attention: it "
                    "would get 0 heads and the first forward fails")
    return None


def first_context_channels(config: Any) -> int | None:
    """The first non-zero ``context_channels`` entry of a UNet1d config (the input-concat width), or None."""
    channels = config.get("context_channels") if isinstance(config, dict) else None
    return next((c for c in channels if c), None) if isinstance(channels, list) else None


def _cond_entries(model: Any) -> list[dict[str, Any]]:
    conditioning = model.get("conditioning") if isinstance(model, dict) else None
    configs = conditioning.get("configs") if isinstance(conditioning, dict) else None
    return [e for e in configs if isinstance(e, dict)] if isinstance(configs, list) else []


def _cond_config(entry: dict[str, Any]) -> dict[str, Any]:
    config = entry.get("config")
    return config if isinstance(config, dict) else {}


def _entry_for(model: Any, cid: Any) -> dict[str, Any] | None:
    """The conditioner the model uses for ``cid`` (the last of duplicates, as upstream's dict keeps it)."""
    return next((e for e in reversed(_cond_entries(model)) if e.get("id") == cid), None)


def cond_width(model: Any, cid: Any) -> int | None:
    """Width of the tensor conditioner ``cid`` hands the backbone (output_dim, else cond_dim; the inpainting ids:
    1 and io_channels); None when unknown (pre-encoded, undefined or malformed)."""
    if cid == "inpaint_mask":
        return 1
    if cid == "inpaint_masked_input":
        return _int(model.get("io_channels"))
    conditioning = model.get("conditioning")
    entry = _entry_for(model, cid)
    if entry is None or cid in (conditioning.get("pre_encoded_keys") or []):
        return None
    return _int(_cond_config(entry).get("output_dim", conditioning.get("cond_dim")))


def undefined_ids(model: Any, wanted: Any, extra: Any = ()) -> list[Any]:
    """The ids in ``wanted`` that no conditioner of the model section defines (``extra`` ids also count)."""
    if not isinstance(wanted, list):
        return []
    known = set(ids(_cond_entries(model))) | set(extra)
    return list(dict.fromkeys(i for i in wanted if i not in known))


def inpainting_ids(config: Any) -> tuple[str, ...]:
    """The ids inpainting adds to the conditioning of a whole diffusion_cond(_inpaint) config, if it is used."""
    inpainting = config.get("model_type") == "diffusion_cond_inpaint" or get(config, "training.inpainting") is not None
    return INPAINT_IDS if inpainting else ()


def _listing(widths: Mapping[Any, int | None]) -> str:
    return ", ".join(f"{cid!r} ({'width unknown' if w is None else w})" for cid, w in widths.items())


def each_width_problem(model: Any, wanted: Any, expected: Any, name: str) -> str | None:
    """Why conditioners ``wanted``, each handed over at its own width (tokens concatenated along the sequence), do
    not fit the backbone input ``name`` of width ``expected``; None if they do (or a width is unknown)."""
    widths = {cid: cond_width(model, cid) for cid in wanted}
    if not expected:
        return (f"{name} is {expected if expected is not None else 'unset'}, which disables this conditioning, but "
                f"{_listing(widths)} {'is' if len(widths) == 1 else 'are'} passed to it: the first forward fails")
    wrong = {cid: w for cid, w in widths.items() if w is not None and w != expected}
    if not wrong:
        return None
    return (f"{name} is {expected} but conditioner {_listing(wrong)} output{'s' if len(wrong) == 1 else ''} a "
            "different width (output_dim, else conditioning.cond_dim): the first forward fails with a shape error")


def total_width_problem(model: Any, wanted: Any, expected: Any, name: str) -> str | None:
    """Why conditioners ``wanted``, concatenated along the channels, do not fit the backbone input ``name`` of width
    ``expected``; None if they do (or a width is unknown)."""
    widths = {cid: cond_width(model, cid) for cid in wanted}
    if not expected:
        return (f"{name} is {expected if expected is not None else 'unset'}, which disables this conditioning, but "
                f"{_listing(widths)} {'is' if len(widths) == 1 else 'are'} passed to it: the first forward fails")
    known = [w for w in widths.values() if w is not None]
    if len(known) < len(widths) or sum(known) == expected:
        return None
    return (f"{name} is {expected} but the conditioners concatenated into it, {_listing(widths)}, add up to "
            f"{sum(known)} (output_dim, else conditioning.cond_dim): the first forward fails with a shape error")


def _tokens(model: Any, cid: Any) -> int | None:
    entry = _entry_for(model, cid)
    conditioning = model.get("conditioning")
    if entry is None or cid in (conditioning.get("pre_encoded_keys") or []):
        return None
    kind, config = entry.get("type"), _cond_config(entry)
    if kind in ("int", "number", "list", "clap_audio"):
        return 1
    if kind == "clap_text":
        return 77 if config.get("use_text_features") is True else 1
    if kind in ("t5", "lut"):
        return _int(config.get("max_length", 128 if kind == "t5" else 1024))
    return None  # phoneme, pretransform, source_mix: the length depends on the input


def cross_attention_tokens(model: Any) -> int | None:
    """Most cross-attention tokens the conditioners of a diffusion section give (use_xattn_time's token has a slot
    of its own)."""
    counts = [_tokens(model, cid) for cid in get(model, "diffusion.cross_attention_cond_ids", [])]
    known = [c for c in counts if c is not None]
    return sum(known) if len(known) == len(counts) else None


def describe_tokens(model: Any) -> str:
    """The token counts behind ``cross_attention_tokens`` (for messages)."""
    return ", ".join(f"{cid!r} {_tokens(model, cid)}" for cid in get(model, "diffusion.cross_attention_cond_ids", []))


def diffusion_width(model: Any) -> int | None:
    """Channels the diffusion backbone of a model section must denoise: the pretransform's encoded channels, else
    model.io_channels."""
    if model.get("pretransform") is not None:
        return pretransform_channels(model["pretransform"])
    return _int(model.get("io_channels"))


def describe_diffusion_width(model: Any) -> str:
    """Where ``diffusion_width`` comes from (for messages)."""
    if model.get("pretransform") is not None:
        return f"the {model['pretransform'].get('type')} pretransform encodes {diffusion_width(model)}"
    return f"model.io_channels is {model.get('io_channels')}"


def _backbone(model: Any) -> tuple[Any, dict[str, Any]]:
    """(type, config) of the diffusion backbone of a model section (diffusion_uncond keeps it in the section)."""
    backbone = model.get("diffusion") if "diffusion" in model else model
    config = backbone.get("config") if isinstance(backbone, dict) else None
    return (backbone.get("type") if isinstance(backbone, dict) else None), config if isinstance(config, dict) else {}


def backbone_downsampling(model: Any) -> int | None:
    """Steps of the denoised sequence per backbone frame: dit patch_size; adp prod(factors) x patch_size."""
    kind, config = _backbone(model)
    patch = _int(config.get("patch_size", 1))
    if kind == "dit":
        return patch
    if kind in _ADP_TYPES:
        factors = _ints(config.get("factors"))
        return None if factors is None or patch is None else math.prod(factors) * patch
    return None


def min_input_length(model: Any) -> int | None:
    """Audio samples per step of the denoised sequence: the pretransform's downsampling ratio times the backbone's
    (dit patch_size; adp prod(factors) x patch_size). None when unknown."""
    factor = backbone_downsampling(model)
    ratio = 1 if model.get("pretransform") is None else pretransform_downsampling(model["pretransform"])
    return None if factor is None or ratio is None else ratio * factor


def describe_min_input_length(model: Any) -> str:
    """Where ``min_input_length`` comes from (for messages)."""
    kind, config = _backbone(model)
    if kind == "dit":
        text = f"the dit patch_size {config.get('patch_size', 1)}"
    else:
        factors = math.prod(config["factors"])
        text = f"the {kind} product of factors {factors} x patch_size {config.get('patch_size', 1)}"
    if model.get("pretransform") is not None:
        text = (f"the {model['pretransform'].get('type')} pretransform's downsampling ratio "
                f"{pretransform_downsampling(model['pretransform'])} x {text}")
    return text


def _ae_bottleneck(pretransform: Any) -> tuple[Any, dict[str, Any] | None]:
    config = pretransform.get("config") if isinstance(pretransform, dict) else None
    bottleneck = config.get("bottleneck") if isinstance(config, dict) else None
    return _part(bottleneck) if bottleneck is not None else (None, {})


def pretransform_is_discrete(pretransform: Any) -> bool | None:
    """Whether a pretransform yields tokens (what an lm needs); None when the config does not say."""
    kind = pretransform.get("type") if isinstance(pretransform, dict) else None
    if kind in ("dac_pretrained", "audiocraft_pretrained"):
        return True
    if kind in ("wavelet", "patched", "pqmf"):
        return False
    if kind == "autoencoder" and isinstance(pretransform.get("config"), dict):
        bottleneck, _ = _ae_bottleneck(pretransform)
        if bottleneck is None or bottleneck in _CONTINUOUS_BOTTLENECKS:
            return False
        return True if bottleneck in _DISCRETE_BOTTLENECKS else None
    return None


def describe_pretransform(pretransform: Any) -> str:
    """'the <type> pretransform' (with its bottleneck for an autoencoder), for messages."""
    text = f"the {pretransform.get('type')} pretransform"
    if pretransform.get("type") == "autoencoder":
        bottleneck, _ = _ae_bottleneck(pretransform)
        text += f" with a {bottleneck} bottleneck" if bottleneck else " without a bottleneck"
    return text


def pretransform_num_quantizers(pretransform: Any) -> int | None:
    """Codebooks per frame of an autoencoder pretransform's quantizing bottleneck (with upstream's defaults)."""
    if not isinstance(pretransform, dict) or pretransform.get("type") != "autoencoder":
        return None
    bottleneck, config = _ae_bottleneck(pretransform)
    if config is None:
        return None
    if bottleneck in ("rvq", "rvq_vae"):
        return _int(config.get("num_quantizers", 8))
    if bottleneck in ("dac_rvq", "dac_rvq_vae"):
        return _int(config.get("n_codebooks"))
    if bottleneck in ("fsq", "dithered_fsq"):
        return _int(config.get("num_codebooks", 1))
    return None


def conditioners_using_model_pretransform(conditioning: Any) -> list[Any]:
    """Ids of the pretransform / source_mix conditioners that set use_model_pretransform."""
    entries = _cond_entries({"conditioning": conditioning})
    audio = [e for e in entries if e.get("type") in ("pretransform", "source_mix")]
    return [e.get("id") for e in audio if _cond_config(e).get("use_model_pretransform") is True]


def audio_conditioner_problem(model: Any, kind: str) -> str | None:
    """Why a ``kind`` ('pretransform' or 'source_mix') conditioner's output width does not fit its pretransform's
    encoded channels (pretransform: must equal them; source_mix: must differ); None if none."""
    conditioning = model.get("conditioning")
    for entry in _cond_entries(model):
        if entry.get("type") != kind:
            continue
        config = _cond_config(entry)
        width = _int(config.get("output_dim", conditioning.get("cond_dim")))
        source = model.get("pretransform") if config.get("use_model_pretransform") is True else config.get(
            "pretransform_config")
        encoded = pretransform_channels(source) if source is not None else None
        if width is None or encoded is None:
            continue
        if kind == "pretransform" and width != encoded:
            return (f"pretransform conditioner {entry.get('id')!r} outputs {width} channels (output_dim, else "
                    f"conditioning.cond_dim) but its pretransform encodes {encoded}: 0.0.19 applies the output "
                    "projection along the time axis, which only works when they are equal (no projection); the first "
                    "forward fails with a shape error")
        if kind == "source_mix" and width == encoded:
            return (f"source_mix conditioner {entry.get('id')!r} outputs {width} channels, as many as its "
                    "pretransform encodes: its output projection is then an Identity without parameters and the first "
                    "forward fails with StopIteration (models/conditioners.py:594); use another output_dim")
    return None
