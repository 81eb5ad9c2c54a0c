"""Channel widths and downsampling of encoders, bottlenecks, decoders and pretransforms, read from config objects
seen with their defaults. Each helper returns None when the config does not determine the value (absent,
malformed or unknown type), so rules only compare what is known.
"""

from __future__ import annotations

import math
from typing import Any, TypeGuard

from .registry import Obj

# Which key of each encoder/decoder type holds a width (the schema holds the defaults).
ENCODER_IN = {"oobleck": "in_channels", "taae": "in_channels", "seanet": "channels", "dac": "in_channels",
               "local_attn": "in_channels"}
_ENCODER_OUT = {"oobleck": "latent_dim", "taae": "latent_dim", "seanet": "dimension", "dac": "latent_dim",
                "local_attn": "out_channels"}
DECODER_IN = {"oobleck": "latent_dim", "taae": "latent_dim", "seanet": "dimension", "dac": "latent_dim",
              "local_attn": "in_channels"}
DECODER_OUT = {"oobleck": "out_channels", "taae": "out_channels", "seanet": "channels", "dac": "out_channels",
               "local_attn": "out_channels"}
QUANTIZING = ("rvq", "rvq_vae", "dac_rvq", "dac_rvq_vae", "fsq", "dithered_fsq")
CONTINUOUS = ("tanh", "vae", "l2_norm", "wasserstein")


def as_int(value: Any) -> int | None:
    """``value`` if it is an integer, else None."""
    return value if type(value) is int else None


def _all_ints(value: Any) -> TypeGuard[list[int]]:
    """Whether ``value`` is a list of integers."""
    if not isinstance(value, list):
        return False
    for item in value:
        if type(item) is not int:
            return False
    return True


def as_ints(value: Any) -> list[int] | None:
    """``value`` as a list if it is a list of integers, else None."""
    return list(value) if _all_ints(value) else None


def part_type(section: Any) -> Any:
    """The type of an encoder/decoder/bottleneck/pretransform object; None when absent or not a string (a list or
    an object there is the user's mistake, which the structural checks report)."""
    kind = section.get("type") if isinstance(section, dict) else None
    return kind if isinstance(kind, str) else None


def part(section: Any) -> tuple[Any, Obj | None]:
    """(type, config) of an encoder/decoder/bottleneck/pretransform object; either None when absent or malformed
    (as ``part_type``)."""
    if not isinstance(section, dict):
        return None, None
    kind, config = section.get("type"), section.get("config")
    return kind if isinstance(kind, str) else None, config if isinstance(config, dict) else None


def config_int(config: Obj | None, key: str | None) -> int | None:
    """The integer a part's config holds under ``key`` (e.g. ``ENCODER_IN.get(type)``); None when the config or
    the key is None or the value is not an integer."""
    if config is None or key is None:
        return None
    value = config.get(key)
    return value if type(value) is int else None


def encoder_in_channels(encoder: Any) -> int | None:
    """Channels the encoder's first layer reads."""
    kind, config = part(encoder)
    return config_int(config, ENCODER_IN.get(kind))


def encoder_out_channels(encoder: Any) -> int | None:
    """Channels the encoder outputs (for dac without latent_dim: d_model * 2**len(strides))."""
    kind, config = part(encoder)
    if kind == "dac" and config is not None and config.get("latent_dim") is None:
        d_model, strides = as_int(config.get("d_model")), config.get("strides")
        return None if d_model is None or not _all_ints(strides) else d_model * 2 ** len(strides)
    return config_int(config, _ENCODER_OUT.get(kind))


def decoder_in_channels(decoder: Any) -> int | None:
    """Channels the decoder's first layer reads."""
    kind, config = part(decoder)
    return config_int(config, DECODER_IN.get(kind))


def decoder_out_channels(decoder: Any) -> int | None:
    """Audio channels the decoder writes."""
    kind, config = part(decoder)
    return config_int(config, DECODER_OUT.get(kind))


def encoder_downsampling(encoder: Any) -> int | None:
    """Product of the strides the encoder applies (None for an unknown encoder or too few strides)."""
    kind, config = part(encoder)
    if config is None:
        return None
    if kind in ("oobleck", "taae", "local_attn"):
        strides_key, stages_key = ("ratios", "depths") if kind == "local_attn" else ("strides", "c_mults")
        strides, stages = config.get(strides_key), config.get(stages_key)
        if not _all_ints(strides) or not isinstance(stages, list) or len(strides) < len(stages):
            return None
        return math.prod(strides[: len(stages)])
    if kind in ("seanet", "dac"):
        strides = config.get("ratios" if kind == "seanet" else "strides")
        return math.prod(strides) if _all_ints(strides) else None
    return None


def _quantized_width(kind: Any, config: Obj | None) -> int | None:
    """Width of the vectors a quantizing bottleneck of type ``kind`` with ``config`` works on (its encode output);
    None for other types."""
    if config is None:
        return None
    if kind in ("rvq", "rvq_vae"):
        return as_int(config.get("dim"))
    if kind in ("dac_rvq", "dac_rvq_vae"):
        return as_int(config.get("input_dim"))
    if kind == "fsq":
        dim = config.get("dim")
        if dim is not None:
            return as_int(dim)
        levels, codebooks = config.get("levels"), as_int(config.get("num_codebooks"))
        return None if not isinstance(levels, list) or codebooks is None else len(levels) * codebooks
    if kind == "dithered_fsq":
        dim, codebooks = as_int(config.get("dim")), as_int(config.get("num_codebooks"))
        return None if dim is None or codebooks is None else dim * codebooks
    return None


def bottleneck_in_channels(bottleneck: Any) -> int | None:
    """Encoder output width a quantizing bottleneck requires (twice its width for the *_vae types); else None."""
    kind, config = part(bottleneck)
    width = _quantized_width(kind, config)
    return None if width is None else width * (2 if kind in ("rvq_vae", "dac_rvq_vae") else 1)


def _noise(kind: Any, config: Obj | None) -> int:
    """noise_channels of a bottleneck of type ``kind`` with ``config``."""
    if kind in ("wasserstein", "dac_rvq", "fsq") and config is not None:
        return as_int(config.get("noise_augment_dim")) or 0
    return 0


def noise_channels(bottleneck: Any) -> int:
    """Noise channels the bottleneck appends in decode() (noise_augment_dim of wasserstein, dac_rvq and fsq)."""
    kind, config = part(bottleneck)
    return _noise(kind, config)


def _latent_width(model: Obj, bottleneck: Any, kind: Any, config: Obj | None) -> int | None:
    """latent_channels of ``model``, whose bottleneck object ``bottleneck`` has type ``kind`` and ``config``."""
    if bottleneck is None or kind in ("tanh", "l2_norm", "wasserstein"):
        return encoder_out_channels(model.get("encoder"))
    if kind == "vae":
        width = encoder_out_channels(model.get("encoder"))
        return None if width is None or width % 2 else width // 2
    return _quantized_width(kind, config)


def latent_channels(model: Obj) -> int | None:
    """Width of the latents an autoencoder section's encode() returns (after the bottleneck)."""
    bottleneck = model.get("bottleneck")
    kind, config = part(bottleneck)
    return _latent_width(model, bottleneck, kind, config)


def decoder_expected_channels(model: Obj) -> int | None:
    """Channels the decoder must read: the latents plus the bottleneck's decode-time noise channels."""
    bottleneck = model.get("bottleneck")
    kind, config = part(bottleneck)
    width = _latent_width(model, bottleneck, kind, config)
    return None if width is None else width + _noise(kind, config)


def latent_chain(model: Obj) -> str:
    """Human-readable account of how the encoder output becomes the latents (for rule messages)."""
    encoder, bottleneck = model.get("encoder"), model.get("bottleneck")
    text = f"the {part(encoder)[0]} encoder outputs {encoder_out_channels(encoder)} channels"
    kind, config = part(bottleneck)
    if bottleneck is None or kind in ("tanh", "l2_norm", "wasserstein"):
        text += "" if bottleneck is None else f" and the {kind} bottleneck keeps them"
    elif kind == "vae":
        text += " and the vae bottleneck halves them"
    else:
        text += f" and the {kind} bottleneck quantizes {_quantized_width(kind, config)}-wide latents"
    noise = _noise(kind, config)
    if noise:
        text += f", then appends noise_augment_dim {noise} noise channels in decode()"
    return text


def pretransform_channels(pretransform: Any) -> int | None:
    """Channels a pretransform's encode() produces, when the config alone determines them."""
    kind, config = part(pretransform)
    if config is None:
        return None
    if kind == "autoencoder":
        return as_int(config.get("latent_dim"))
    channels = as_int(config.get("channels"))
    if kind == "wavelet":
        levels = as_int(config.get("levels"))
        return None if channels is None or levels is None else channels * 2 ** levels
    if kind == "patched":
        patch = as_int(config.get("patch_size"))
        return None if channels is None or patch is None else channels * patch
    return None


def pretransform_downsampling(pretransform: Any) -> int | None:
    """Audio samples per frame of a pretransform's output, when the config alone determines it."""
    kind, config = part(pretransform)
    if config is None:
        return None
    if kind == "autoencoder":
        return as_int(config.get("downsampling_ratio"))
    if kind == "wavelet":
        levels = as_int(config.get("levels"))
        return None if levels is None else 2 ** levels
    if kind == "patched":
        return as_int(config.get("patch_size"))
    if kind == "dac_pretrained":
        return 512 if config.get("model_type") == "44khz" else 320
    return None


def _model_channels(model: Obj, key: str) -> int | None:
    """audio_in_channels (``key`` in_channels) or audio_out_channels (``key`` out_channels) of ``model``."""
    pretransform = model.get("pretransform")
    if pretransform is not None:
        return pretransform_channels(pretransform)
    value = model.get(key)
    return as_int(value if value is not None else model.get("io_channels"))


def audio_in_channels(model: Obj) -> int | None:
    """Channels an autoencoder section feeds its encoder: the pretransform's output, else in_channels/io_channels."""
    return _model_channels(model, "in_channels")


def audio_out_channels(model: Obj) -> int | None:
    """Channels an autoencoder section's decoder must write: the pretransform's input, else out_channels/io_channels."""
    return _model_channels(model, "out_channels")


def channel_source(model: Obj, key: str) -> str:
    """Where audio_in_channels / audio_out_channels (``key`` in_channels / out_channels) come from (for messages)."""
    if model.get("pretransform") is not None:
        return f"the {part(model['pretransform'])[0]} pretransform's encoded channels"
    return key if model.get(key) is not None else "io_channels"


def model_downsampling(model: Obj) -> int | None:
    """Audio samples per latent frame of an autoencoder section: encoder strides x pretransform ratio."""
    ratio = encoder_downsampling(model.get("encoder"))
    if ratio is None:
        return None
    pretransform = model.get("pretransform")
    if pretransform is None:
        return ratio
    outer = pretransform_downsampling(pretransform)
    return None if outer is None else ratio * outer


def pretransform_bottleneck(pretransform: Any) -> tuple[Any, Obj | None]:
    """(type, config) of an autoencoder pretransform's bottleneck; (None, None) without one."""
    _, config = part(pretransform)
    return part(None if config is None else config.get("bottleneck"))


def pretransform_is_discrete(pretransform: Any) -> bool | None:
    """Whether a pretransform yields tokens (what an lm needs); None when the config does not say."""
    kind, config = part(pretransform)
    if kind in ("dac_pretrained", "audiocraft_pretrained"):
        return True
    if kind in ("wavelet", "patched", "pqmf"):
        return False
    if kind == "autoencoder" and config is not None:
        bottleneck = part_type(config.get("bottleneck"))
        if bottleneck is None or bottleneck in CONTINUOUS:
            return False
        return True if bottleneck in QUANTIZING else None
    return None


def describe_pretransform(pretransform: Obj) -> str:
    """'the <type> pretransform' (with its bottleneck for an autoencoder), for messages."""
    text = f"the {pretransform.get('type')} pretransform"
    if pretransform.get("type") == "autoencoder":
        bottleneck, _ = pretransform_bottleneck(pretransform)
        text += f" with a {bottleneck} bottleneck" if bottleneck else " without a bottleneck"
    return text


def pretransform_num_quantizers(pretransform: Any) -> int | None:
    """Codebooks per frame of an autoencoder pretransform's quantizing bottleneck."""
    if part_type(pretransform) != "autoencoder":
        return None
    bottleneck, config = pretransform_bottleneck(pretransform)
    if config is None:
        return None
    if bottleneck in ("rvq", "rvq_vae"):
        return as_int(config.get("num_quantizers"))
    if bottleneck in ("dac_rvq", "dac_rvq_vae"):
        return as_int(config.get("n_codebooks"))
    if bottleneck in ("fsq", "dithered_fsq"):
        return as_int(config.get("num_codebooks"))
    return None
