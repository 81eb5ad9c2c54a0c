"""Rules of the diffusion models (diffusion_cond and _inpaint, diffusion_autoencoder, diffusion_uncond): the
width the backbone denoises, the conditioning it receives, and the sample length it can split. Model-section
rules take the ``model`` object; root rules take the whole config."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .backbones import first_context_channels
from .channels import (
    as_int,
    as_ints,
    audio_in_channels,
    channel_source,
    encoder_in_channels,
    latent_chain,
    latent_channels,
    model_downsampling,
    part,
    pretransform_channels,
    pretransform_downsampling,
)
from .conditioning import (
    cross_attention_tokens,
    describe_tokens,
    each_width_problem,
    id_suggestion,
    inpainting_ids,
    total_width_problem,
    undefined_ids,
)
from .registry import Failure, Obj, Outcome, get, given, rule

_ADP = ("adp_1d", "adp_cfg_1d", "adp_uncond_1d")


def diffusion_width(model: Obj) -> int | None:
    """Channels the backbone must denoise: the pretransform's encoded channels, else model.io_channels."""
    if model.get("pretransform") is not None:
        return pretransform_channels(model["pretransform"])
    return as_int(model.get("io_channels"))


def describe_diffusion_width(model: Obj) -> str:
    """Where ``diffusion_width`` comes from (for messages)."""
    if model.get("pretransform") is not None:
        return f"the {get(model, 'pretransform.type')} pretransform encodes {diffusion_width(model)}"
    return f"model.io_channels is {model.get('io_channels')}"


def _backbone(model: Obj) -> tuple[Any, Obj]:
    """(type, config) of the diffusion backbone of a model section (diffusion_uncond keeps it in the section)."""
    backbone = model.get("diffusion") if "diffusion" in model else model
    kind, config = part(backbone)
    return kind, config if config is not None else {}


def backbone_downsampling(model: Obj) -> int | None:
    """Steps of the denoised sequence per backbone frame: dit patch_size; adp prod(factors) x patch_size."""
    kind, config = _backbone(model)
    if kind == "dit":
        return as_int(config.get("patch_size"))
    if kind in _ADP:
        factors, patch = as_ints(config.get("factors")), as_int(config.get("patch_size"))
        return None if factors is None or patch is None else math.prod(factors) * patch
    return None


def min_input_length(model: Obj, factor: int) -> int | None:
    """Audio samples per step of the denoised sequence: the pretransform's downsampling ratio times the
    backbone's (``factor``, from ``backbone_downsampling``). None when unknown."""
    ratio = 1 if model.get("pretransform") is None else pretransform_downsampling(model["pretransform"])
    return None if ratio is None else ratio * factor


def _describe_min_input_length(model: Obj) -> str:
    kind, config = _backbone(model)
    if kind == "dit":
        text = f"the dit patch_size {config.get('patch_size')}"
    else:
        text = f"the {kind} product of factors {math.prod(config['factors'])} x patch_size {config.get('patch_size')}"
    if model.get("pretransform") is not None:
        text = (f"the {get(model, 'pretransform.type')} pretransform's downsampling ratio "
                f"{pretransform_downsampling(model['pretransform'])} x {text}")
    return text


# --- model sections (diffusion_cond and diffusion_autoencoder share these) ---------------------------------------


@rule("diffusion.io_channels", at=("io_channels",), needs={"io_channels": "int", "pretransform": "object"})
def io_channels(model: Obj) -> Outcome:
    """io_channels (the noise generation and demos draw) equals the pretransform's encoded channels."""
    encoded = pretransform_channels(model["pretransform"])
    if encoded is None or model["io_channels"] == encoded:
        return None
    return (f"io_channels is {model['io_channels']} but the {get(model, 'pretransform.type')} pretransform encodes "
            f"{encoded} channels: generation and the training demos draw noise of the wrong width and fail with a "
            "channel mismatch")


@rule("diffusion.dit_io_channels", at=("diffusion", "config", "io_channels"),
      needs={"diffusion.config.io_channels": "int"})
def dit_io_channels(model: Obj) -> Outcome:
    """A dit backbone denoises diffusion.config.io_channels channels: the pretransform's, else model.io_channels."""
    diffusion = model["diffusion"]
    if diffusion.get("type") != "dit":
        return None
    config, width = diffusion["config"], diffusion_width(model)
    if width is None or config["io_channels"] == width:
        return None
    default = "" if given(config, "io_channels") else " (the default)"
    return (f"the dit backbone denoises diffusion.config.io_channels = {config['io_channels']} channels{default} but "
            f"{describe_diffusion_width(model)}: the first forward fails with a channel mismatch")


@rule("diffusion.adp_in_channels", at=("diffusion", "config", "in_channels"),
      needs={"diffusion.config.in_channels": "int"})
def adp_in_channels(model: Obj) -> Outcome:
    """An adp backbone denoises diffusion.config.in_channels channels: the pretransform's, else model.io_channels."""
    diffusion = model["diffusion"]
    kind = diffusion.get("type")
    if kind not in ("adp_1d", "adp_cfg_1d"):
        return None
    channels, width = diffusion["config"]["in_channels"], diffusion_width(model)
    if width is None or channels == width:
        return None
    return (f"the {kind} backbone denoises diffusion.config.in_channels = {channels} channels but "
            f"{describe_diffusion_width(model)}: the first forward fails with a channel mismatch")


def ids_defined(model: Obj, section: str, keys: tuple[str, ...]) -> list[Failure]:
    """A failure for each ``<section>.<key>`` list that names ids no conditioner defines (with the one defined id
    a single undefined one is a likely typo of)."""
    failures: list[Failure] = []
    lists = model.get(section)
    if not isinstance(lists, dict):
        return failures
    for key in keys:
        missing = undefined_ids(model, lists.get(key))
        if missing:
            failures.append(((section, key), f"{key} names {', '.join(repr(i) for i in missing)}, which no condi"
                             "tioner in model.conditioning.configs defines: the first forward fails with KeyError",
                             id_suggestion(model, missing)))
    return failures


@rule("diffusion_cond.cond_ids_defined")
def cond_ids_defined(model: Obj) -> Outcome:
    """The cross-attention, global and prepend ids name conditioners the model defines."""
    return ids_defined(model, "diffusion", ("cross_attention_cond_ids", "global_cond_ids", "prepend_cond_ids"))


_WidthProblem = Callable[[Obj, Any, Any, str], str | None]
# (ids key, backbone width key, how the conditioners are combined: each at its width, or added up) per backbone type
_INPUTS: dict[str, tuple[tuple[str, str, _WidthProblem], ...]] = {
    "dit": (("cross_attention_cond_ids", "cond_token_dim", each_width_problem),
            ("prepend_cond_ids", "prepend_cond_dim", each_width_problem),
            ("global_cond_ids", "global_cond_dim", total_width_problem),
            ("input_concat_ids", "input_concat_dim", total_width_problem)),
    "adp_1d": (("global_cond_ids", "context_features", total_width_problem),),
    "adp_cfg_1d": (("cross_attention_cond_ids", "context_embedding_features", each_width_problem),
                   ("global_cond_ids", "context_features", total_width_problem)),
}


def _conditioning_inputs(kind: Any) -> tuple[tuple[str, str, _WidthProblem], ...]:
    """The conditioning inputs of a backbone of type ``kind`` (none for another type, or a malformed one)."""
    return _INPUTS[kind] if isinstance(kind, str) and kind in _INPUTS else ()


@rule("diffusion_cond.conditioning_widths", needs={"diffusion.config": "object"})
def conditioning_widths(model: Obj) -> Outcome:
    """Each conditioning input of the backbone has the width of the conditioners passed to it."""
    diffusion = model["diffusion"]
    kind, config = diffusion.get("type"), diffusion["config"]
    failures: list[Failure] = []
    for ids_key, width_key, problem in _conditioning_inputs(kind):
        wanted, expected = diffusion.get(ids_key), config.get(width_key)
        if not wanted or (expected is None and width_key == "context_features"):
            continue  # no conditioners passed, or an adp without global features
        message = problem(model, wanted, expected, f"diffusion.config.{width_key}")
        if message:
            failures.append((("diffusion", "config", width_key), message))
    if kind in ("adp_1d", "adp_cfg_1d"):
        context = first_context_channels(config)
        message = None if context is None else total_width_problem(
            model, diffusion.get("input_concat_ids"), context,
            "the first non-zero diffusion.config.context_channels entry")
        if message:
            failures.append((("diffusion", "config", "context_channels"), message))
    return failures


@rule("diffusion_cond.adp_cfg_tokens", at=("diffusion", "config", "context_embedding_max_length"),
      needs={"diffusion.cross_attention_cond_ids": "list", "diffusion.config.context_embedding_max_length": "int"})
def adp_cfg_tokens(model: Obj) -> Outcome:
    """adp_cfg_1d takes at most context_embedding_max_length cross-attention tokens."""
    diffusion = model["diffusion"]
    wanted = diffusion["cross_attention_cond_ids"]
    if diffusion.get("type") != "adp_cfg_1d" or not wanted:
        return None
    limit = diffusion["config"]["context_embedding_max_length"]
    tokens, counts = cross_attention_tokens(model, list(wanted))
    if tokens is None or tokens <= limit:
        return None
    return (f"the cross-attention conditioners give up to {tokens} tokens ({describe_tokens(counts)}) but "
            f"context_embedding_max_length is {limit}: the first forward fails ('Input sequence length must be <= "
            "max_length')")


@rule("distribution_shift.lengths", at=("max_length",), needs={"max_length": "number", "min_length": "number"})
def distribution_shift_lengths(options: Obj) -> Outcome:
    """The shift divides by max_length - min_length."""
    if options["max_length"] != options["min_length"]:
        return None
    return (f"max_length and min_length are both {options['max_length']}: the shift divides by max_length - "
            "min_length, so the first training step fails with ZeroDivisionError")


# --- diffusion_autoencoder model section -------------------------------------------------------------------------


@rule("diffusion_autoencoder.dit_input_concat", at=("diffusion", "config", "input_concat_dim"),
      needs={"latent_dim": "int", "diffusion.config.input_concat_dim": "int"})
def dae_dit_input_concat(model: Obj) -> Outcome:
    """The latents reach a dit backbone by input-concat: input_concat_dim is latent_dim."""
    width = get(model, "diffusion.config.input_concat_dim")
    if get(model, "diffusion.type") != "dit" or width == model["latent_dim"]:
        return None
    return (f"the latents reach the dit backbone by input-concat, so diffusion.config.input_concat_dim must be "
            f"latent_dim {model['latent_dim']}, got {width}: the first forward fails with a channel mismatch")


@rule("diffusion_autoencoder.adp_input_concat", at=("diffusion", "config", "context_channels"),
      needs={"latent_dim": "int"})
def dae_adp_input_concat(model: Obj) -> Outcome:
    """The latents reach an adp_1d backbone by input-concat: the first context_channels entry is latent_dim."""
    context = first_context_channels(get(model, "diffusion.config"))
    if get(model, "diffusion.type") != "adp_1d" or context is None or context == model["latent_dim"]:
        return None
    return (f"the latents reach the adp_1d backbone by input-concat, so the first non-zero "
            f"diffusion.config.context_channels entry must be latent_dim {model['latent_dim']}, got {context}: the "
            "first forward fails ('Expected context with ... channels')")


@rule("diffusion_autoencoder.latent_dim", at=("latent_dim",), needs={"latent_dim": "int", "encoder": "object"})
def dae_latent_dim(model: Obj) -> Outcome:
    """latent_dim is the width of the encoder's latents (the backbone's input-concat width is sized from it)."""
    width = latent_channels(model)
    if width is None or width == model["latent_dim"]:
        return None
    return (f"latent_dim is {model['latent_dim']} but {latent_chain(model)}, giving {width}-wide latents: the "
            "diffusion backbone's input-concat width is sized for the wrong latents")


@rule("diffusion_autoencoder.encoder_in_channels", at=("encoder", "config"), needs={"encoder": "object"})
def dae_encoder_in_channels(model: Obj) -> Outcome:
    """The encoder reads the audio channels (or the pretransform's encoded channels)."""
    reads, receives = encoder_in_channels(model["encoder"]), audio_in_channels(model)
    if reads is None or receives is None or reads == receives:
        return None
    return (f"the {get(model, 'encoder.type')} encoder reads {reads} channels but receives {receives} "
            f"({channel_source(model, 'in_channels')}): the first encode fails with a channel mismatch")


@rule("diffusion_autoencoder.downsampling_ratio", at=("downsampling_ratio",),
      needs={"downsampling_ratio": "int", "encoder": "object"})
def dae_downsampling_ratio(model: Obj) -> Outcome:
    """downsampling_ratio is the encoder's (and pretransform's) total stride: decoding upsamples by it."""
    ratio = model_downsampling(model)
    if ratio is None or ratio == model["downsampling_ratio"]:
        return None
    both = " and pretransform" if model.get("pretransform") is not None else ""
    return (f"downsampling_ratio is {model['downsampling_ratio']} but the encoder{both} downsample by {ratio}: "
            "decoding upsamples the latents to the wrong length")


# --- diffusion_uncond model section (the backbone's type and config sit in the section) --------------------------


@rule("diffusion_uncond.in_channels", at=("config", "in_channels"),
      needs={"config.in_channels": "int", "pretransform": "object"})
def uncond_in_channels(model: Obj) -> Outcome:
    """The backbone denoises the pretransform's encoded channels."""
    encoded, channels = pretransform_channels(model["pretransform"]), get(model, "config.in_channels")
    if model.get("type") not in ("dit", "adp_uncond_1d") or encoded is None or channels == encoded:
        return None
    return (f"the {model['type']} backbone denoises config.in_channels = {channels} channels but the "
            f"{get(model, 'pretransform.type')} pretransform encodes {encoded}: the first forward fails with a "
            "channel mismatch")


@rule("diffusion_uncond.unconditioned_inputs", needs={"config": "object"})
def uncond_unconditioned_inputs(model: Obj) -> Outcome:
    """An unconditional backbone receives no input-concat channels or global features."""
    config, kind = model["config"], model.get("type")
    if kind == "dit" and config.get("input_concat_dim") not in (0, None):
        return [(("config", "input_concat_dim"), f"an unconditional dit receives no input-concat conditioning, but "
                 f"config.input_concat_dim is {config.get('input_concat_dim')}: the input projection expects the "
                 "extra channels and the first forward fails with a channel mismatch")]
    failures: list[Failure] = []
    if kind == "adp_uncond_1d" and config.get("context_features") is not None:
        failures.append((("config", "context_features"), "an unconditional U-Net receives no global features, but "
                         f"config.context_features is {config.get('context_features')}: the first forward fails "
                         "('context_features exists but no features provided')"))
    if kind == "adp_uncond_1d" and first_context_channels(config) is not None:
        failures.append((("config", "context_channels"), "an unconditional U-Net receives no input-concat channels, "
                         f"but config.context_channels is {config.get('context_channels')}: the first forward fails "
                         "('Missing context')"))
    return failures


# --- whole configs -------------------------------------------------------------------------------------------------


@rule("diffusion_cond.input_concat_ids_defined", needs={"model": "object"})
def input_concat_ids_defined(config: Obj) -> Outcome:
    """input_concat_ids name conditioners the model defines (or inpainting's, when it is used)."""
    extra = inpainting_ids(config)
    missing = undefined_ids(config["model"], get(config, "model.diffusion.input_concat_ids"), extra)
    if not missing:
        return None
    hint = "" if extra else (" (inpaint_mask and inpaint_masked_input exist only with training.inpainting or "
                             "model_type diffusion_cond_inpaint)")
    return [(("model", "diffusion", "input_concat_ids"),
             f"input_concat_ids names {', '.join(repr(i) for i in missing)}, which no conditioner in "
             f"model.conditioning.configs defines{hint}: the first forward fails with KeyError",
             id_suggestion(config["model"], missing, extra))]


def _audio_channels(config: Obj, channels: Any, key: str, produces: str) -> str:
    """The message when the model's ``key`` (``channels``) is not audio_channels without a pretransform."""
    default = "" if given(config, "audio_channels") else " (the default)"
    return (f"without a pretransform {produces}, but {key} is {channels} and audio_channels is "
            f"{config['audio_channels']}{default}: training fails with a channel mismatch")


def _io_channels(config: Obj, produces: str) -> str | None:
    model = config["model"]
    channels = model["io_channels"]
    if channels == config["audio_channels"] or model.get("pretransform") is not None:
        return None
    return _audio_channels(config, channels, "io_channels", produces)


@rule("diffusion_cond.audio_channels", at=("model", "io_channels"),
      needs={"model.io_channels": "int", "audio_channels": "int"})
def cond_audio_channels(config: Obj) -> Outcome:
    """Without a pretransform the model denoises the audio: io_channels is audio_channels."""
    return _io_channels(config, "the model denoises the audio itself")


@rule("diffusion_autoencoder.audio_channels", at=("model", "io_channels"),
      needs={"model.io_channels": "int", "audio_channels": "int"})
def dae_audio_channels(config: Obj) -> Outcome:
    """Without a pretransform the diffusion decoder produces the audio: io_channels is audio_channels."""
    return _io_channels(config, "the diffusion decoder produces the audio itself")


@rule("diffusion_uncond.audio_channels", at=("model", "config", "in_channels"),
      needs={"model.config.in_channels": "int", "audio_channels": "int"})
def uncond_audio_channels(config: Obj) -> Outcome:
    """Without a pretransform the model denoises the audio: config.in_channels is audio_channels."""
    model = config["model"]
    channels = model["config"]["in_channels"]
    if (channels == config["audio_channels"] or model.get("type") not in ("dit", "adp_uncond_1d")
            or model.get("pretransform") is not None):
        return None
    return _audio_channels(config, channels, "config.in_channels", "the model denoises the audio itself")


@rule("diffusion.sample_size", at=("sample_size",), needs={"sample_size": "int", "model": "object"})
def sample_size(config: Obj) -> Outcome:
    """sample_size splits into whole backbone frames (pretransform ratio x patch size / U-Net factors)."""
    model = config["model"]
    factor = backbone_downsampling(model)
    if factor in (None, 1):
        return None
    length = min_input_length(model, factor)
    if not length or config["sample_size"] % length == 0:
        return None
    return (f"sample_size {config['sample_size']} is not a multiple of {length} ({_describe_min_input_length(model)}): "
            f"the backbone's sequence length must be a multiple of {factor}, so training fails with a shape error")

