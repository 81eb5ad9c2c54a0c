"""Rules of the autoencoder family: the model section (autoencoder, and the hyperencoder, which reuses these
rules by id), its encoders, decoders, bottlenecks and pretransforms, and SEANet's activations and norms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .channels import (
    DECODER_IN,
    DECODER_OUT,
    ENCODER_IN,
    audio_in_channels,
    audio_out_channels,
    bottleneck_in_channels,
    channel_source,
    config_int,
    decoder_expected_channels,
    encoder_downsampling,
    encoder_out_channels,
    latent_chain,
    latent_channels,
    model_downsampling,
    part,
    part_type,
    pretransform_downsampling,
)
from .registry import Obj, Outcome, get, is_number, rule, written

# --- the model section -------------------------------------------------------------------------------------------

_BOTTLENECK_WIDTH = {"rvq": ("dim", "config.dim"), "rvq_vae": ("dim", "2 x config.dim"),
                     "fsq": ("dim", "config.dim, or len(levels) x num_codebooks"),
                     "dithered_fsq": ("dim", "dim x num_codebooks"),
                     "dac_rvq": ("input_dim", "config.input_dim, default 512"),
                     "dac_rvq_vae": ("input_dim", "2 x config.input_dim, default 512")}


@rule("autoencoder.vae_input", at=("bottleneck", "type"))
def vae_input(model: Obj) -> Outcome:
    """The vae bottleneck splits the encoder output into two halves, so the encoder needs an even width."""
    width = encoder_out_channels(model.get("encoder"))
    if part_type(model.get("bottleneck")) != "vae" or width is None or width % 2 == 0:
        return None
    return (f"the vae bottleneck splits the encoder output into mean and scale halves, but the "
            f"{get(model, 'encoder.type')} encoder outputs {width} channels, an odd number: the first encode fails "
            "with a shape error")


@rule("autoencoder.bottleneck_input")
def bottleneck_input(model: Obj) -> Outcome:
    """A quantizing bottleneck takes the encoder's output width (dim / input_dim, doubled for the *_vae types)."""
    bottleneck = model.get("bottleneck")
    kind, width = part_type(bottleneck), encoder_out_channels(model.get("encoder"))
    if kind not in _BOTTLENECK_WIDTH or width is None:
        return None
    takes = bottleneck_in_channels(bottleneck)
    if takes is None or takes == width:
        return None
    key, source = _BOTTLENECK_WIDTH[kind]
    return [(("bottleneck", "config", key),
             f"the {kind} bottleneck takes {takes} input channels ({source}) but the {get(model, 'encoder.type')} "
             f"encoder outputs {width}: the first encode fails with a shape error")]


def _width_setting(section: Any, keys: dict[str, str]) -> tuple[Any, str | None, int | None]:
    """(type, the key of its config that holds a width (``keys`` by type), the integer there) of an encoder or
    decoder object; None for what it does not determine."""
    kind, config = part(section)
    key = keys.get(kind)
    return kind, key, config_int(config, key)


@rule("autoencoder.decoder_input")
def decoder_input(model: Obj) -> Outcome:
    """The decoder reads the latents plus the bottleneck's decode-time noise channels."""
    kind, key, reads = _width_setting(model.get("decoder"), DECODER_IN)
    receives = decoder_expected_channels(model)
    if key is None or reads is None or receives is None or reads == receives:
        return None
    return [(("decoder", "config", key),
             f"decoder.config.{key} is {reads} but the decoder receives {receives} channels ({latent_chain(model)}): "
             f"the decoder's first layer fails at the first decode (RuntimeError: expected input to have {reads} "
             "channels)")]


@rule("autoencoder.latent_dim", at=("latent_dim",), needs={"latent_dim": "int"}, severity="warning",
      fails_when="a model uses this autoencoder as its pretransform, or audio is encoded in chunks")
def latent_dim(model: Obj) -> Outcome:
    """latent_dim states the width of the latents; upstream trusts it to size models that use this autoencoder."""
    width = latent_channels(model)
    if width is None or model["latent_dim"] == width:
        return None
    return (f"latent_dim is {model['latent_dim']} but the latents are {width} channels wide ({latent_chain(model)}): "
            "stable-audio-tools only stores latent_dim, so a model using this autoencoder as its pretransform is sized "
            "wrongly (encoded_channels) and chunked encoding fails with a shape error")


@rule("autoencoder.downsampling_ratio", at=("downsampling_ratio",), needs={"downsampling_ratio": "int"},
      severity="warning", fails_when="audio is encoded or decoded in chunks, or a model that uses this autoencoder "
      "as its pretransform computes latent lengths")
def downsampling_ratio(model: Obj) -> Outcome:
    """downsampling_ratio states the encoder's (and pretransform's) total stride; upstream never checks it."""
    ratio = model_downsampling(model)
    if ratio is None or model["downsampling_ratio"] == ratio:
        return None
    outer = "" if model.get("pretransform") is None else (
        f" and the pretransform downsamples by {pretransform_downsampling(model['pretransform'])}")
    return (f"downsampling_ratio is {model['downsampling_ratio']} but the {get(model, 'encoder.type')} encoder's "
            f"strides multiply to {encoder_downsampling(model['encoder'])}{outer}: stable-audio-tools never checks "
            "it, but sizes latent lengths, padding and chunked encoding/decoding from it (chunking then fails with "
            "shape errors)")


@rule("autoencoder.encoder_input")
def encoder_input(model: Obj) -> Outcome:
    """The encoder reads the audio channels (or the pretransform's encoded channels)."""
    kind, key, reads = _width_setting(model.get("encoder"), ENCODER_IN)
    if key is None or reads is None:
        return None
    fed = audio_in_channels(model)
    if fed is None or reads == fed:
        return None
    return [(("encoder", "config", key),
             f"the {kind} encoder reads {reads} channels but is fed {fed} "
             f"({channel_source(model, 'in_channels')}): its first layer fails at the first encode")]


@rule("autoencoder.decoder_output")
def decoder_output(model: Obj) -> Outcome:
    """The decoder writes the audio channels (or what the pretransform decodes); checked after the rules of what
    runs before the decoder, so the first failure upstream meets comes first."""
    kind, key, writes = _width_setting(model.get("decoder"), DECODER_OUT)
    if key is None or writes is None:
        return None
    expected = audio_out_channels(model)
    if expected is None or writes == expected:
        return None
    loss = "the stereo loss fails with AssertionError" if expected == 2 else (
        "the mono loss fails with RuntimeError: the sizes of tensors must match")
    effect = "the pretransform decodes the wrong number of channels" if model.get("pretransform") is not None else (
        f"training compares the output with {expected}-channel audio ({loss}), and chunked decoding copies into a "
        "buffer of that width (a shape error, or silent broadcasting of a single channel)")
    return [(("decoder", "config", key),
             f"the {kind} decoder writes {writes} channels but "
             f"{channel_source(model, 'out_channels')} is {expected}: {effect}")]


# --- encoders and decoders ---------------------------------------------------------------------------------------


@rule("oobleck.strides_cover_c_mults", at=("strides",), needs={"strides": "list", "c_mults": "list"})
def strides_cover_c_mults(config: Obj) -> Outcome:
    """An oobleck encoder or decoder builds one block per c_mults entry, each with a stride."""
    if len(config["strides"]) >= len(config["c_mults"]):
        return None
    return (f"strides has {len(config['strides'])} entries but c_mults has {len(config['c_mults'])}: there is one "
            "block per c_mults entry, each needs a stride (IndexError at construction)")


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


def activation_problem(name: Any, params: Obj | None) -> str | None:
    """Why ``torch.nn.<name>(**params)`` fails at construction or at the first forward in SEANet; None if it works.
    ``params`` (None: no arguments) is read with the schema's defaults, which are torch's."""
    if name not in ACTIVATION_PARAMS or (params is not None and not isinstance(params, Mapping)):
        return None
    accepted, required = ACTIVATION_PARAMS[name]
    passed = written(params) if params is not None else {}
    if not accepted.issuperset(passed):
        unknown = sorted(set(passed) - accepted)
        takes = ", ".join(sorted(accepted)) or "no arguments"
        hint = " (activation_params defaults to {'alpha': 1.0}, which only ELU and CELU take)" if passed == {
            "alpha": 1.0} else ""
        return f"torch.nn.{name} does not take {', '.join(unknown)}{hint}; it takes {takes} (TypeError at construction)"
    if not required.issubset(passed):
        missing = sorted(required - set(passed))
        return f"torch.nn.{name} needs {', '.join(missing)} (TypeError at construction)"
    if params is None:
        return None
    if name == "Hardtanh" and passed:
        low = params["min_value"] if params.get("min_value") is not None else params["min_val"]
        high = params["max_value"] if params.get("max_value") is not None else params["max_val"]
        if is_number(low) and is_number(high) and not high > low:
            return f"Hardtanh needs max_val > min_val, got {low} and {high} (AssertionError at construction)"
    if name == "RReLU" and passed and is_number(params["lower"]) and is_number(params["upper"]) and (
            params["lower"] > params["upper"]):
        return "RReLU needs lower <= upper (RuntimeError at the first forward)"
    if name == "PReLU" and passed and params["num_parameters"] != 1:
        return ("PReLU num_parameters must be 1: SEANet's layers have different channel counts (RuntimeError at the "
                "first forward)")
    return None


@rule("seanet.activation_params", at=("activation_params",), needs={"activation_params": "object"})
def seanet_activation_params(config: Obj) -> Outcome:
    """SEANet builds torch.nn.<activation>(**activation_params) for every layer."""
    return activation_problem(config.get("activation"), config["activation_params"])


@rule("seanet.norm_params", at=("norm_params",), needs={"norm_params": "object"})
def seanet_norm_params(config: Obj) -> Outcome:
    """Only time_group_norm passes norm_params on (to torch.nn.GroupNorm)."""
    if not written(config["norm_params"]) or config.get("norm") == "time_group_norm":
        return None
    return (f"norm_params is ignored with norm {config.get('norm')!r}: only time_group_norm passes it on (to "
            "torch.nn.GroupNorm)")


@rule("seanet.group_norm_causal", at=("norm",))
def seanet_group_norm_causal(config: Obj) -> Outcome:
    """encodec's time_group_norm cannot be causal."""
    if config.get("norm") != "time_group_norm" or config.get("causal") is not True:
        return None
    return ("norm 'time_group_norm' cannot be causal: encodec raises ValueError \"GroupNorm doesn't support causal "
            "evaluation\" at construction")


@rule("seanet.compress", at=("compress",),
      needs={"n_residual_layers": "int", "ratios": "list", "n_filters": "int", "compress": "int"})
def seanet_compress(config: Obj) -> Outcome:
    """The residual blocks have n_filters // compress hidden channels, which must not be 0."""
    if config["n_residual_layers"] == 0 or len(config["ratios"]) == 0 or config["compress"] == 0 or (
            config["n_filters"] // config["compress"] >= 1):
        return None
    return (f"compress {config['compress']} is larger than n_filters {config['n_filters']}: the residual blocks get "
            "zero hidden channels: construction fails with weight_norm or spectral_norm (RuntimeError: cannot "
            "reshape tensor of 0 elements), the first forward with the other norms")


@rule("seanet_decoder.final_activation_params", at=("final_activation_params",), needs={"final_activation": "str"})
def seanet_final_activation_params(config: Obj) -> Outcome:
    """The SEANet decoder builds torch.nn.<final_activation>(**final_activation_params)."""
    return activation_problem(config["final_activation"], config.get("final_activation_params"))


@rule("seanet_decoder.final_activation_params_unused", at=("final_activation_params",))
def seanet_final_activation_params_unused(config: Obj) -> Outcome:
    """final_activation_params only take effect with a final_activation."""
    if config.get("final_activation") is not None or not config.get("final_activation_params"):
        return None
    return "final_activation_params is ignored without a final_activation"


@rule("seanet_decoder.trim_right_ratio", at=("trim_right_ratio",))
def seanet_trim_right_ratio(config: Obj) -> Outcome:
    """trim_right_ratio other than 1.0 needs causal convolutions."""
    if config.get("causal") is True or config.get("trim_right_ratio") == 1.0:
        return None
    return (f"trim_right_ratio {config.get('trim_right_ratio')} needs causal: true (encodec asserts "
            "\"`trim_right_ratio` != 1.0 only makes sense for causal convolutions\" at construction)")


@rule("dac_decoder.channels", at=("channels",), needs={"channels": "int", "rates": "list"})
def dac_decoder_channels(config: Obj) -> Outcome:
    """The DAC decoder halves channels once per rate; they must not reach 0."""
    if config["channels"] // 2 ** len(config["rates"]) >= 1:
        return None
    return (f"channels {config['channels']} is halved {len(config['rates'])} times (once per rate) and reaches 0: "
            "construction fails (RuntimeError: cannot reshape tensor of 0 elements)")


# --- bottlenecks and pretransforms -------------------------------------------------------------------------------


@rule("residual_vq.learnable_codebook", at=("learnable_codebook",))
def residual_vq_learnable_codebook(config: Obj) -> Outcome:
    """vector-quantize-pytorch: a learnable codebook cannot be EMA-updated."""
    if config.get("learnable_codebook") is True and config.get("ema_update") is True:
        return ("learnable_codebook needs ema_update: false (VectorQuantize asserts 'learnable codebook not compatible "
                "with EMA update' at construction)")
    return None


@rule("residual_vq.sync_update_v", at=("sync_update_v",))
def residual_vq_sync_update_v(config: Obj) -> Outcome:
    """vector-quantize-pytorch: sync_update_v needs a learnable codebook."""
    if not config.get("sync_update_v") or config.get("learnable_codebook") is True:
        return None
    return ("sync_update_v > 0 needs learnable_codebook: true (VectorQuantize asserts 'learnable codebook must be "
            "turned on' at construction)")


@rule("residual_vq.affine_param", at=("affine_param",))
def residual_vq_affine_param(config: Obj) -> Outcome:
    """vector-quantize-pytorch: affine_param works only with the euclidean codebook."""
    if config.get("affine_param") is True and config.get("use_cosine_sim") is True:
        return ("affine_param cannot be combined with use_cosine_sim (VectorQuantize asserts 'affine param is only "
                "compatible with euclidean codebook' at construction)")
    return None


@rule("residual_vq.reinmax", at=("reinmax",))
def residual_vq_reinmax(config: Obj) -> Outcome:
    """vector-quantize-pytorch: reinmax needs straight-through gumbel softmax."""
    if config.get("reinmax") is True and config.get("straight_through") is not True:
        return ("reinmax needs straight_through: true (every quantization asserts 'reinmax can only be turned on if "
                "using straight through gumbel softmax', so the first encode fails)")
    return None


@rule("dac_rvq.codebook_dim", at=("codebook_dim",), needs={"codebook_dim": "list", "n_codebooks": "int"})
def dac_rvq_codebook_dim(config: Obj) -> Outcome:
    """A per-codebook codebook_dim list has one width per codebook."""
    if len(config["codebook_dim"]) == config["n_codebooks"]:
        return None
    return (f"codebook_dim lists {len(config['codebook_dim'])} widths for {config['n_codebooks']} codebooks: fewer is "
            "an IndexError at construction, extra entries are silently ignored")


@rule("fsq.keep_num_codebooks_dim", at=("keep_num_codebooks_dim",), needs={"num_codebooks": "int"})
def fsq_keep_num_codebooks_dim(config: Obj) -> Outcome:
    """FSQ keeps the codebook axis when there are several codebooks; FSQBottleneck needs it kept with one."""
    keep = config.get("keep_num_codebooks_dim")
    if (keep if keep is not None else config["num_codebooks"] > 1) is True:
        return None
    if config["num_codebooks"] > 1:
        return "keep_num_codebooks_dim: false with num_codebooks > 1 fails an assertion in FSQ at construction"
    return ("keep_num_codebooks_dim must be true with a single codebook: without it FSQBottleneck.encode fails at the "
            "first encode (EinopsError on the b n q -> b q n rearrange)")


@rule("dithered_fsq.levels", at=("levels",), needs={"levels": "list", "dim": "int"})
def dithered_fsq_levels(config: Obj) -> Outcome:
    """DitheredFSQBottleneck takes one level per dimension."""
    levels, dim = len(config["levels"]), config["dim"]
    if levels == dim:
        return None
    return (f"levels lists {levels} entries but dim is {dim}: DitheredFSQBottleneck raises ValueError 'Length of "
            f"levels list ({levels}) must match dim ({dim}).' at construction")


@rule("pqmf.num_bands", at=("num_bands",), needs={"num_bands": "int"})
def pqmf_num_bands(config: Obj) -> Outcome:
    """PQMF splits into a power-of-2 number of bands."""
    bands = config["num_bands"]
    if bands & (bands - 1) == 0:
        return None
    return f"num_bands {bands} is not a power of 2 (PQMF asserts it at construction)"


@rule("dac_pretrained.bitrate", at=("model_bitrate",))
def dac_pretrained_bitrate(config: Obj) -> Outcome:
    """DAC publishes 16kbps weights only for the 44khz model."""
    if config.get("model_bitrate") != "16kbps" or config.get("model_type") == "44khz":
        return None
    return (f"DAC publishes 16kbps weights only for 44khz: dac.utils.download raises KeyError "
            f"('{config.get('model_type')}', '16kbps') at construction")
