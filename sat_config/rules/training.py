"""Rules of the training sections: optimizers, losses, discriminators, ARC post-training, inpainting and demos."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..suggest import closest
from .registry import Failure, Obj, Outcome, Path, given, is_int, is_list, is_number, member, rule, written

_NOT_AUTOENCODERS = ("hyperencoder", "diffusion_uncond", "diffusion_cond", "diffusion_cond_inpaint",
                     "diffusion_autoencoder", "lm")
_NOT_DIFFUSION_COND = ("autoencoder", "hyperencoder", "diffusion_uncond", "diffusion_autoencoder", "lm")
_LBFGS = ("LBFGS needs a loss closure, and the {wrapper} wrapper steps its optimizers manually without one (TypeError "
          "at the first step)")


def _unpaired_schedulers(optimizers: Obj, first: str, wrapper: str) -> list[Failure]:
    """The failure of a wrapper that steps a ``first`` and a ``discriminator`` optimizer itself when only one of
    the two entries of ``optimizers`` (optimizer_configs) has a scheduler."""
    if (member(optimizers.get(first), "scheduler") is None) == (
            member(optimizers.get("discriminator"), "scheduler") is None):
        return []
    return [(("optimizer_configs",), f"with {wrapper}, upstream uses LR schedulers only when both the '{first}' and "
             "the 'discriminator' entries have one: the single scheduler given would be silently ignored")]


def _lbfgs(optimizers: Obj, first: str, wrapper: str) -> list[Failure]:
    """A failure for each of the ``first`` and ``discriminator`` entries of ``optimizers`` (optimizer_configs)
    that the ``wrapper`` wrapper steps manually with LBFGS."""
    failures: list[Failure] = []
    for entry in (first, "discriminator"):
        if member(member(optimizers.get(entry), "optimizer"), "type") == "LBFGS":
            failures.append((("optimizer_configs", entry, "optimizer", "type"), _LBFGS.format(wrapper=wrapper)))
    return failures


# --- autoencoder training ----------------------------------------------------------------------------------------


@rule("training.autoencoder.learning_rate_or_optimizers", at=("learning_rate",))
def autoencoder_learning_rate(training: Obj) -> Outcome:
    """The autoencoder wrapper needs a learning rate or optimizer configs."""
    if training.get("learning_rate") is not None or training.get("optimizer_configs") is not None:
        return None
    return ("give learning_rate or optimizer_configs: without either, upstream builds AdamW(lr=None), which fails "
            "when training starts")


@rule("training.autoencoder.optimizers")
def autoencoder_optimizers(training: Obj) -> Outcome:
    """With a discriminator loss (the default losses have one), optimizer_configs has a 'discriminator' entry and
    schedulers in pairs; LBFGS cannot be stepped without a closure."""
    optimizers, losses = training.get("optimizer_configs"), training.get("loss_configs")
    if not isinstance(optimizers, dict):
        return []  # no entries to check
    failures: list[Failure] = []
    if losses is None or (isinstance(losses, dict) and "discriminator" in losses):
        if "discriminator" not in optimizers:
            which = "loss_configs has" if losses is not None else "the default loss_configs have"
            failures.append((("optimizer_configs", "discriminator"), f"{which} a discriminator, so optimizer_configs "
                             "needs a 'discriminator' entry (KeyError when training starts)"))
        else:
            failures += _unpaired_schedulers(optimizers, "autoencoder", "a discriminator")
    return failures + _lbfgs(optimizers, "autoencoder", "autoencoder")


_CHECKPOINT = ("needs teacher_model_ckpt (upstream raises ValueError: teacher_model_ckpt must be specified if "
               "teacher_model is specified)")


@rule("training.autoencoder.teacher_checkpoint", at=("teacher_model_ckpt",))
def autoencoder_teacher_checkpoint(training: Obj) -> Outcome:
    """A distillation teacher is loaded from teacher_model_ckpt."""
    if training.get("teacher_model") is None or training.get("teacher_model_ckpt") is not None:
        return None
    return f"teacher_model {_CHECKPOINT}"


@rule("training.autoencoder.teacher_is_autoencoder", at=("teacher_model", "model_type"),
      needs={"teacher_model": "object"})
def teacher_is_autoencoder(training: Obj) -> Outcome:
    """The distillation teacher is an autoencoder (its encode/decode are called every step)."""
    kind = training["teacher_model"].get("model_type")
    if kind not in _NOT_AUTOENCODERS:
        return None
    return f"the teacher must be an autoencoder (its encode/decode are called every step), not {kind!r}"


@rule("training.mrstft.equal_lengths", at=(), needs={"fft_sizes": "list", "hop_sizes": "list", "win_lengths": "list"})
def mrstft_equal_lengths(loss: Obj) -> Outcome:
    """The multi-resolution STFT loss takes one FFT size, hop and window per resolution."""
    ffts, hops, windows = len(loss["fft_sizes"]), len(loss["hop_sizes"]), len(loss["win_lengths"])
    if ffts == hops == windows:
        return None
    return (f"fft_sizes, hop_sizes and win_lengths need one entry per resolution: got {ffts}, {hops} and {windows} "
            "(AssertionError)")


@rule("training.mrstft.mel_bins", at=("n_bins",), needs={"fft_sizes": "list"})
def mrstft_mel_bins(loss: Obj) -> Outcome:
    """The mel scale needs a bin count per FFT size, each at most that size."""
    if loss.get("scale") != "mel":
        return None
    bins, ffts = loss.get("n_bins"), loss["fft_sizes"]
    if (is_list(bins) and len(bins) >= len(ffts) and all(
            is_number(b) and is_number(f) and b <= f for b, f in zip(bins, ffts, strict=False))):
        return None
    return 'scale "mel" needs n_bins: one bin count per FFT size, each at most that FFT size'


@rule("training.mrmel.config_when_weighted", at=("config",))
def mrmel_config_when_weighted(loss: Obj) -> Outcome:
    """A positive mrmel weight reads the loss's config."""
    weight = member(loss.get("weights"), "mrmel")
    if not is_number(weight) or weight <= 0 or given(loss, "config"):
        return None
    return "a positive mrmel weight needs a config (KeyError)"


@rule("training.mrmel.equal_lengths", at=("window_lengths",))
def mrmel_equal_lengths(params: Obj) -> Outcome:
    """The multi-scale mel loss takes one window length per mel count."""
    mels, windows = params.get("n_mels"), params.get("window_lengths")
    counts = (len(mels) if is_list(mels) else 0, len(windows) if is_list(windows) else 0)
    if counts[0] == counts[1]:
        return None
    return ("n_mels and window_lengths need one entry per scale ({} and {}): the extra entries would be silently "
            "ignored".format(*counts))


@rule("training.encodec_discriminator.equal_lengths", at=(), needs={"n_ffts": "list", "hop_lengths": "list",
                                                           "win_lengths": "list"})
def encodec_discriminator_equal_lengths(config: Obj) -> Outcome:
    """The encodec discriminator takes one FFT size, hop and window per scale."""
    ffts, hops, windows = len(config["n_ffts"]), len(config["hop_lengths"]), len(config["win_lengths"])
    if ffts == hops == windows:
        return None
    return (f"n_ffts, hop_lengths and win_lengths need one entry per scale: got {ffts}, {hops} and {windows} "
            "(AssertionError)")


@rule("training.stft.scale_needs_bins", at=("scale",))
def stft_scale_needs_bins(loss: Obj) -> Outcome:
    """A frequency scale needs sample_rate and n_bins (at most fft_size)."""
    scale = loss.get("scale")
    if scale is None:
        return None
    bins, fft = loss.get("n_bins"), loss.get("fft_size")
    if loss.get("sample_rate") is not None and isinstance(bins, int) and (not is_number(fft) or bins <= fft):
        return None
    return f"scale {scale!r} needs sample_rate and n_bins, with n_bins at most fft_size (AssertionError)"


@rule("training.stft.weighting_needs_sample_rate", at=("sample_rate",))
def stft_weighting_needs_sample_rate(loss: Obj) -> Outcome:
    """Perceptual weighting needs the sample rate."""
    if loss.get("perceptual_weighting") is True and loss.get("sample_rate") is None:
        return "perceptual_weighting needs sample_rate (ValueError)"
    return None


@rule("training.mel_stft.bins", at=("n_mels",), needs={"n_mels": "number", "fft_size": "number"})
def mel_stft_bins(loss: Obj) -> Outcome:
    """n_mels is at most fft_size."""
    if loss["n_mels"] <= loss["fft_size"]:
        return None
    return f"n_mels ({loss['n_mels']}) must be at most fft_size ({loss['fft_size']}) (AssertionError)"


# --- diffusion_cond and lm training ------------------------------------------------------------------------------


@rule("training.learning_rate_or_optimizers", at=("learning_rate",))
def learning_rate_or_optimizers(training: Obj) -> Outcome:
    """The training wrapper needs a learning rate or optimizer configs (ARC reads optimizer_configs only)."""
    if given(training, "arc") or training.get("learning_rate") is not None or (
            training.get("optimizer_configs") is not None):
        return None
    return ("give learning_rate or optimizer_configs (AssertionError: Must specify either lr or optimizer_configs in "
            "training config)")


@rule("training.arc.optimizers")
def arc_optimizers(training: Obj) -> Outcome:
    """ARC steps a 'diffusion' and a 'discriminator' optimizer itself."""
    if not given(training, "arc"):
        return None
    optimizers = training.get("optimizer_configs")
    entries = optimizers if isinstance(optimizers, dict) else {}
    failures: list[Failure] = []
    if "discriminator" not in entries:
        failures.append((("optimizer_configs",), "arc needs optimizer_configs with a 'diffusion' and a 'discriminator' "
                         "entry (learning_rate is not read with arc)"))
    return failures + _unpaired_schedulers(entries, "diffusion", "arc") + _lbfgs(entries, "diffusion", "ARC")


@rule("training.inpainting.probabilities_sum", at=("mask_type_probabilities",),
      needs={"mask_type_probabilities": "list"})
def inpainting_probabilities_sum(mask: Obj) -> Outcome:
    """The mask type probabilities sum to 1."""
    probabilities = mask["mask_type_probabilities"]
    if not all(is_number(p) for p in probabilities) or abs(sum(probabilities) - 1.0) <= 1.001e-05:
        return None
    return f"mask_type_probabilities must sum to 1, not {sum(probabilities)} (ValueError at the first step)"


@rule("training.arc.discriminator_source", at=("discriminator_base_model",))
def arc_discriminator_source(arc: Obj) -> Outcome:
    """ARC's discriminator is built from discriminator_base_model or the model itself."""
    if arc.get("discriminator_base_model") is not None or arc.get("use_model_as_discriminator") is True:
        return None
    return ("give discriminator_base_model or set use_model_as_discriminator (upstream otherwise fails with "
            "UnboundLocalError: 'discriminator')")


@rule("training.arc.teacher_checkpoint", at=("teacher_model_ckpt",))
def arc_teacher_checkpoint(arc: Obj) -> Outcome:
    """ARC's teacher (teacher_model, or the model itself) is loaded from teacher_model_ckpt."""
    teacher = arc.get("teacher_model") is not None or arc.get("use_model_as_teacher") is True
    if not teacher or arc.get("teacher_model_ckpt") is not None:
        return None
    return f"a teacher {_CHECKPOINT}"


@rule("training.arc.ode_warmup_teacher", at=("ode_warmup", "warmup_steps"))
def arc_ode_warmup_teacher(arc: Obj) -> Outcome:
    """ODE warm-up samples from the teacher."""
    steps = member(arc.get("ode_warmup"), "warmup_steps")
    if not is_number(steps) or steps <= 0 or arc.get("teacher_model") is not None or (
            arc.get("use_model_as_teacher") is True):
        return None
    return "ODE warm-up samples from the teacher: give teacher_model or set use_model_as_teacher"


@rule("training.arc.teacher_is_dit", at=("teacher_model", "model_type"), needs={"teacher_model": "object"})
def arc_teacher_is_dit(arc: Obj) -> Outcome:
    """The ARC teacher is a conditional diffusion model."""
    kind = arc["teacher_model"].get("model_type")
    if kind not in _NOT_DIFFUSION_COND:
        return None
    return f"the ARC teacher must be a conditional diffusion model, not {kind!r}"


@rule("training.arc.discriminator_is_dit", at=("discriminator_base_model",),
      needs={"discriminator_base_model": "object"})
def arc_discriminator_is_dit(arc: Obj) -> Outcome:
    """ARC's discriminator reads the hidden states of a DiT conditional diffusion model."""
    base = arc["discriminator_base_model"]
    if base.get("model_type") not in _NOT_DIFFUSION_COND and member(
            member(base.get("model"), "diffusion"), "type") not in ("adp_cfg_1d", "adp_1d"):
        return None
    return ("the ARC discriminator base must be a DiT conditional diffusion model (its transformer's hidden states "
            "feed the discriminator head)")


@rule("training.arc.hidden_layer_in_depth", at=("discriminator", "dit_hidden_layer"),
      needs={"discriminator_base_model.model.diffusion.config.depth": "int", "discriminator.dit_hidden_layer": "int"})
def arc_hidden_layer_in_depth(arc: Obj) -> Outcome:
    """dit_hidden_layer is a layer of the discriminator base."""
    layer = arc["discriminator"]["dit_hidden_layer"]
    depth = arc["discriminator_base_model"]["model"]["diffusion"]["config"]["depth"]
    if layer < depth:
        return None
    return f"dit_hidden_layer {layer} is past the discriminator base's last layer ({depth - 1})"


_HEAD_KEYS = {"conv": {"soft_clip_scale", "loss_type"},
              "convnext": {"loss_type", "channels", "c_mults", "strides", "num_blocks", "conv_args"}}


@rule("training.arc.head_config_keys", at=("config",), needs={"config": "object"})
def arc_head_config_keys(discriminator: Obj) -> Outcome:
    """Each discriminator head type takes its own keyword arguments."""
    kind, config = discriminator.get("type"), written(discriminator["config"])
    accepted = _HEAD_KEYS["conv" if kind == "conv" else "convnext"]
    if accepted.issuperset(config):
        return None
    return f"{sorted(set(config) - accepted)} not accepted by the {kind!r} head (TypeError)"


@rule("training.arc.head_stage_lists", at=("strides",), needs={"strides": "list", "c_mults": "list"})
def arc_head_stage_lists(head: Obj) -> Outcome:
    """strides (and num_blocks) have an entry per c_mults stage."""
    stages, blocks = len(head["c_mults"]), head.get("num_blocks")
    if len(head["strides"]) >= stages and (not is_list(blocks) or len(blocks) >= stages):
        return None
    return f"strides (and num_blocks) need an entry for each of the {stages} c_mults stages (IndexError)"


# --- demos -------------------------------------------------------------------------------------------------------


@rule("training.demo.cond_given", at=("demo_cond",))
def demo_cond_given(demo: Obj) -> Outcome:
    """The demos are conditioned on demo_cond, or on the training batch."""
    if demo.get("demo_cond_from_batch") is True or given(demo, "demo_cond"):
        return None
    return ("give demo_cond (one metadata object per demo) or set demo_cond_from_batch: the default {} conditions "
            "nothing and the first demo fails")


@rule("training.demo.cond_length", at=("demo_cond",), needs={"demo_cond": "list", "num_demos": "int"})
def demo_cond_length(demo: Obj) -> Outcome:
    """demo_cond has one entry per demo."""
    if demo.get("demo_cond_from_batch") is True or len(demo["demo_cond"]) == demo["num_demos"]:
        return None
    return (f"demo_cond has {len(demo['demo_cond'])} entries but num_demos is {demo['num_demos']}: the conditioning "
            "batch must match the noise batch")


@rule("training.demo.from_batch")
def demo_from_batch(demo: Obj) -> Outcome:
    """Audio conditioning displays read tensors only the training batch provides."""
    if demo.get("demo_cond_from_batch") is True:
        return None
    failures: list[Failure] = []
    if demo.get("display_audio_cond") is True:
        failures.append((("display_audio_cond",), "display_audio_cond reads audio tensors from the demo conditioning, "
                         "which only the training batch can provide: set demo_cond_from_batch"))
    if demo.get("cond_display_configs"):
        failures.append((("cond_display_configs",), "cond_display_configs read audio tensors from the demo "
                         "conditioning, which only the training batch can provide: set demo_cond_from_batch"))
    return failures


@rule("training.lm.demo_cond_length", at=("demo_cond",), needs={"demo_cond": "list", "num_demos": "int"})
def lm_demo_cond_length(demo: Obj) -> Outcome:
    """demo_cond has one entry per demo."""
    if len(demo["demo_cond"]) == demo["num_demos"]:
        return None
    return (f"demo_cond has {len(demo['demo_cond'])} entries but num_demos is {demo['num_demos']}: the conditioning "
            "batch must match the demo batch")


# What each conditioner type reads from a demo_cond entry: (accepts the value?, what it takes, upstream's failure).
_DEMO_INPUTS: dict[str, tuple[Callable[[Any], bool], str, str]] = {
    "number": (lambda v: type(v) is int or isinstance(v, (float, bool)) or _float_text(v), "a number",
               "ValueError in float()"),
    "int": (is_int, "an integer", "the embedding lookup fails"),
    "t5": (lambda v: isinstance(v, str), "a text", "the tokenizer raises ValueError"),
    "clap_text": (lambda v: isinstance(v, str), "a text", "the tokenizer raises ValueError"),
    "phoneme": (lambda v: isinstance(v, str), "a text", "g2p fails"),
    "clap_audio": (lambda v: False, "audio", "demo_cond holds no tensors"),
    "pretransform": (lambda v: False, "audio", "demo_cond holds no tensors"),
    "source_mix": (lambda v: False, "audio", "demo_cond holds no tensors"),
}


def _float_text(value: Any) -> bool:
    try:
        return isinstance(value, str) and float(value) == float(value)
    except ValueError:
        return False


# How a conditioner reads a demo_cond entry: (its id, its type, the default_keys alternative to the id or None,
# what its type accepts as in _DEMO_INPUTS or None when the type is not listed there).
_Reader = tuple[str, Any, Any, tuple[Callable[[Any], bool], str, str] | None]


def _demo_readers(conditioning: Any, default_keys: Mapping[str, Any]) -> dict[str, _Reader]:
    """How each conditioner of the model's ``conditioning`` reads a demo_cond entry, by id (the last of duplicate
    ids, as upstream's dict keeps it; upstream's MultiConditioner.forward reads every conditioner's id, else its
    default_keys alternative)."""
    configs = written(member(conditioning, "configs"))
    readers: dict[str, _Reader] = {}
    for conditioner in configs if type(configs) is list else ():
        cid = conditioner.get("id") if type(conditioner) is dict else None
        if isinstance(cid, str):
            kind = conditioner.get("type")
            readers[cid] = (cid, kind, default_keys.get(cid), _DEMO_INPUTS.get(str(kind)))
    return readers


def _missing_input(where: Path, entry: Mapping[str, Any], reader: _Reader, readers: Mapping[str, _Reader],
                   default_keys: Mapping[str, Any]) -> Failure:
    """The failure of a demo_cond entry that holds no input for a conditioner (did-you-mean for a key that looks
    like a misspelling of its id)."""
    cid, kind, fallback, _ = reader
    key = cid if cid in entry else fallback
    error = (f"KeyError: {key!r}" if key is not None else
             f"ValueError: Conditioner key {cid} not found in batch metadata")
    unread = [k for k in entry if k not in readers and k not in default_keys.values()]
    typo = next((k for k in unread if closest(k, [cid]) == cid), None)
    if typo is not None:
        return ((*where, typo), f"{typo!r} is read by no conditioner, and the {kind} conditioner {cid!r} finds no "
                f"input: the first demo fails ({error})", cid)
    return (where, f"the entry has no {cid!r} for the {kind} conditioner: the first demo fails ({error})")


def _demo_entry_failures(where: Path, entry: Mapping[str, Any], readers: Mapping[str, _Reader],
                         default_keys: Mapping[str, Any]) -> list[Failure]:
    """What a demo_cond entry lacks or holds of the wrong type, for each conditioner (``readers``, from
    ``_demo_readers``)."""
    failures: list[Failure] = []
    for reader in readers.values():
        cid, kind, fallback, spec = reader
        key = cid if cid in entry else fallback
        if key is None or key not in entry:
            failures.append(_missing_input(where, entry, reader, readers, default_keys))
            continue
        if spec is None:
            continue
        value = entry[key]
        value = value[0] if isinstance(value, list) and value else value
        accepts, takes, error = spec
        if not accepts(value):
            failures.append(((*where, key), f"the {kind} conditioner {cid!r} takes {takes}, not {value!r}: the "
                             f"first demo fails ({error})"))
    return failures


@rule("training.demo.cond_inputs", needs={"model": "object", "training.demo.num_demos": "int"})
def demo_cond_inputs(config: Obj) -> Outcome:
    """Each demo_cond entry gives every conditioner an input of the type it takes (did-you-mean for a misspelt
    id)."""
    demo = config["training"]["demo"]
    entries = written(demo.get("demo_cond"))
    if type(entries) is not list or demo.get("demo_cond_from_batch") is True:
        return None
    conditioning = config["model"].get("conditioning")
    default_keys = written(member(conditioning, "default_keys"))
    default_keys = default_keys if type(default_keys) is dict else {}
    readers = _demo_readers(conditioning, default_keys)
    failures: list[Failure] = []
    for index, entry in enumerate(entries):
        if type(entry) is dict:
            failures += _demo_entry_failures(("training", "demo", "demo_cond", index), entry, readers, default_keys)
    return failures


@rule("training.arc.model_is_dit", at=("training", "arc"), needs={"training.arc": "object"})
def arc_model_is_dit(config: Obj) -> Outcome:
    """ARC post-training reads the trained model's transformer, which only a dit backbone has."""
    kind = member(member(config.get("model"), "diffusion"), "type")
    if kind in (None, "dit"):
        return None
    return (f"ARC post-training reads the model's transformer (training/arc.py:174), which the {kind} backbone does "
            "not have: building the training wrapper fails with AttributeError; ARC needs a dit backbone")


@rule("training.autoencoder.oobleck_discriminator_channels",
      at=("training", "loss_configs", "discriminator", "config", "in_channels"), needs={"model": "object"})
def oobleck_discriminator_channels(config: Obj) -> Outcome:
    """The oobleck discriminator reads in_channels channels (default 1); the other discriminators are sized from
    the model, but this one sees the model's output audio with however many channels it has."""
    discriminator = member(member(config.get("training"), "loss_configs"), "discriminator")
    if member(discriminator, "type") != "oobleck":
        return None
    model = config["model"]
    written_out = model.get("out_channels")
    channels = written_out if written_out is not None else model.get("io_channels")
    discriminator_config = member(discriminator, "config")
    reads = member(discriminator_config, "in_channels")
    if not is_int(channels) or not is_int(reads) or reads == channels:
        return None
    default = "" if given(discriminator_config, "in_channels") else ", default 1"
    return (f"the oobleck discriminator reads {reads} channel{'s' if reads != 1 else ''} (config.in_channels{default})"
            f" but the model outputs {channels}: the first training step fails with RuntimeError (the "
            "discriminator's first convolution gets the wrong number of channels)")
