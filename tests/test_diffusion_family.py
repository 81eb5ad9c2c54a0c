"""The diffusion family's schemas (diffusion_uncond, diffusion_cond, diffusion_cond_inpaint, diffusion_autoencoder
and their backbones) agree with stable-audio-tools 0.0.19: what they accept builds with upstream's state_dict; what
they reject is reported at the right path before any torch code runs, and upstream really fails on it; every key is
a constructor parameter that the builders can reach; generated configs that validate build.

Network-bound pieces build with ``sat_config.placeholders.network_placeholders`` (the download points replaced by
shape-equivalent stand-ins, upstream's constructors unchanged). ``test_conditioning.py`` and ``test_lm.py`` reuse
the helpers of this module for their own cases.
"""

from __future__ import annotations

import copy
import inspect
import os
import re
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from conftest import CASES, UPSTREAM, build_seeded, case_config, load_json, state_dict_signature
from hypothesis import HealthCheck, assume, given, settings
from hypothesis_jsonschema import from_schema

import sat_config
from sat_config import problems_in
from sat_config.rules_lib import inpainting_ids
from sat_config.validation import load_bundled_schema

DEFS = load_bundled_schema()["$defs"]
EXAMPLES = int(os.environ.get("SAT_FUZZ_EXAMPLES", "5"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize="SAT_FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.function_scoped_fixture])


def cases(kind: str, prefix: str) -> list[Any]:
    return sorted((CASES / kind).glob(f"{prefix}_*.json"))


def ref_name(schema: dict[str, Any]) -> str:
    return str(schema["$ref"]).rsplit("/", 1)[1]


# --- building ---------------------------------------------------------------------------------------------------


def build(factory: Any, config: Any) -> Any:
    """Build on the meta device (no memory); on CPU when upstream needs real values while building."""
    import torch

    try:
        with torch.device("meta"):
            return build_seeded(factory, config)
    except (RuntimeError, NotImplementedError) as exc:
        if "meta" not in str(exc):
            raise
    return build_seeded(factory, config)


@pytest.fixture
def offline() -> Iterator[None]:
    """Upstream's constructors with their download points (T5, CLAP, tokenizers, g2p_en, DAC...) replaced."""
    from sat_config.placeholders import network_placeholders

    with network_placeholders():
        yield


def assert_builds_like_upstream(config: dict[str, Any], upstream_factory: Any) -> Any:
    """sat-config accepts ``config`` and builds exactly upstream's model (keys, shapes, dtypes of the state_dict)."""
    assert problems_in(config) == [], "\n".join(p.render() for p in problems_in(config))
    ours = build(sat_config.create_model_from_config, config)
    theirs = build(upstream_factory, config)
    assert type(ours) is type(theirs)
    assert state_dict_signature(ours) == state_dict_signature(theirs)
    return theirs


@pytest.mark.parametrize("path", cases("positive", "diff"), ids=lambda p: p.stem)
def test_positive_case_builds_like_upstream(path, upstream_factory):
    assert_builds_like_upstream(case_config(load_json(path)), upstream_factory)


def backbones() -> dict[str, set[str]]:
    """model type -> the backbone tags its schema offers."""
    uncond = set(DEFS["DiffusionUncondModelConfig"]["properties"]["type"]["enum"])
    offered = {"diffusion_uncond": uncond}
    for model_type, title in (("diffusion_cond", "DiffusionCondModelConfig"),
                              ("diffusion_autoencoder", "DiffusionAutoencoderModelConfig")):
        branches = DEFS[title]["properties"]["diffusion"]["oneOf"]
        offered[model_type] = {DEFS[ref_name(b)]["properties"]["type"]["const"] for b in branches}
    return offered


def test_every_buildable_backbone_has_a_positive_case():
    built = {(c["model_type"], (c["model"].get("diffusion") or c["model"])["type"])
             for c in (case_config(load_json(p)) for p in cases("positive", "diff"))}
    expected = {(m, tag) for m, tags in backbones().items() for tag in tags if tag != "DAU1d"}
    assert expected | {("diffusion_cond_inpaint", "dit")} <= built


def test_backbone_sets_are_the_builders():
    """Each builder's if-chain is what its schema offers (they differ: docs/diffusion.md says otherwise)."""
    from stable_audio_tools.models import autoencoders, diffusion

    chains = {
        "diffusion_uncond": (diffusion.create_diffusion_uncond_from_config, "model_type"),
        "diffusion_cond": (diffusion.create_diffusion_cond_from_config, "diffusion_model_type"),
        "diffusion_autoencoder": (autoencoders.create_diffAE_from_config, "diffusion_model_type"),
    }
    for model_type, (function, variable) in chains.items():
        tags = set(re.findall(rf"\b{variable} == [\"'](\w+)[\"']", inspect.getsource(function)))
        assert backbones()[model_type] == tags, model_type
    assert backbones() == {"diffusion_uncond": {"DAU1d", "adp_uncond_1d", "dit"},
                           "diffusion_cond": {"adp_cfg_1d", "adp_1d", "dit"},
                           "diffusion_autoencoder": {"DAU1d", "adp_1d", "dit"}}


# --- upstream's example configs -----------------------------------------------------------------------------------

TXT2AUDIO = [p for p in UPSTREAM if p.name.startswith("txt2audio--")]
DANCE = [p for p in UPSTREAM if p.name.startswith("dance_diffusion--")]


@pytest.mark.parametrize("path", TXT2AUDIO, ids=lambda p: p.stem)
def test_txt2audio_examples_validate_and_build_like_upstream(path, upstream_factory, offline):
    """Their model sections validate and build like upstream (CLAP by placeholder). Their training sections are the
    training schema's: stable_audio_2_0's InverseLR scheduler is reported there as unsupported on torch >= 2.7."""
    config = load_json(path)
    assert [p.render() for p in problems_in(config) if not p.path.startswith("$.training")] == []
    assert_builds_like_upstream({k: v for k, v in config.items() if k != "training"}, upstream_factory)


@pytest.mark.parametrize("path", DANCE, ids=lambda p: p.stem)
def test_dance_diffusion_examples_are_unsupported(path, upstream_factory):
    config = load_json(path)
    problems = problems_in(config)
    assert [(p.path, p.kind) for p in problems] == [("$.model.type", "unsupported")]
    assert "DAU1d" in problems[0].message and "use_snake" in problems[0].message
    with pytest.raises(TypeError, match="use_snake"):
        upstream_factory(copy.deepcopy(config))


def test_dau1d_is_unsupported_in_a_diffusion_autoencoder_too(upstream_factory):
    config = load_json(CASES / "positive" / "diff_ae_adp.json")["config"]
    config["model"]["diffusion"] = {"type": "DAU1d", "config": {"io_channels": 2, "cond_dim": 8}}
    problems = problems_in(config)
    assert [(p.path, p.kind) for p in problems] == [("$.model.diffusion.type", "unsupported")]
    with pytest.raises(TypeError, match="use_snake"):
        upstream_factory(copy.deepcopy(config))


# --- negative cases: upstream really fails as the message says ----------------------------------------------------


def _audio(config: dict[str, Any]) -> Any:
    import torch

    torch.manual_seed(0)
    return torch.randn(1, config.get("audio_channels", 2), config["sample_size"])


def _metadata(config: dict[str, Any]) -> list[dict[str, Any]]:
    """One batch item of metadata with an input for every conditioner (text, numbers, audio, audio sources)."""
    import torch

    entries = config["model"].get("conditioning") or {"configs": []}
    audio = torch.randn(2, config["sample_size"])
    item: dict[str, Any] = {}
    for entry in entries["configs"]:
        kind, options = entry["type"], entry["config"].get("options", ["x"])
        sources = {key: audio for key in entry["config"].get("source_keys", [])}
        item[entry["id"]] = {"int": 1, "number": 0.5, "list": options[0], "pretransform": audio,
                             "source_mix": sources}.get(kind, "a prompt")
    return [item]


@contextmanager
def lm_forward_bug_bypassed() -> Iterator[None]:
    """Every lm forward pass fails in 0.0.19 (and upstream HEAD): ContinuousTransformer hands mask= and
    prepend_mask= to TransformerBlock.forward (TypeError). Dropping them shows what fails after that bug."""
    from stable_audio_tools.models.transformer import ContinuousTransformer

    forward = ContinuousTransformer.forward

    def without_masks(self: Any, x: Any, *args: Any, mask: Any = None, prepend_mask: Any = None, **kwargs: Any) -> Any:
        return forward(self, x, *args, **kwargs)

    ContinuousTransformer.forward = without_masks  # type: ignore[method-assign]
    try:
        yield
    finally:
        ContinuousTransformer.forward = forward  # type: ignore[method-assign]


def _diffusion_input(model: Any, config: dict[str, Any], mode: str) -> Any:
    """What the backbone denoises: the (encoded) training audio, or for ``generation`` noise of io_channels."""
    import torch

    audio = _audio(config)
    if mode == "generation":
        ratio = model.pretransform.downsampling_ratio if model.pretransform is not None else 1
        return torch.randn(1, model.io_channels, config["sample_size"] // ratio)
    return model.pretransform.encode(audio) if model.pretransform is not None else audio


def run_training_step(model: Any, config: dict[str, Any], mode: str = "forward", lm_bypass: bool = True) -> Any:
    """Drive a CPU-built model like a training step (the diffusion loss's forward pass, the lm's logits); return
    the output."""
    import torch

    model.eval()
    with torch.no_grad():
        t = torch.full((1,), 0.5)
        if config["model_type"] == "lm":  # tokens as the pretransform would give them, 32 frames
            codes = torch.randint(0, model.lm.codebook_size, (1, model.lm.num_quantizers, 32))
            cond = model.conditioner(_metadata(config), "cpu") if model.conditioner is not None else {}
            if not lm_bypass:
                return model.compute_logits(codes, condition_tensors=cond).logits
            with lm_forward_bug_bypassed():
                return model.compute_logits(codes, condition_tensors=cond).logits
        if config["model_type"] == "diffusion_autoencoder":
            audio = _audio(config)
            latents = model.encode(audio)
            x = model.pretransform.encode(audio) if model.pretransform is not None else audio
            return model.diffusion(x, t, input_concat_cond=latents)
        x = _diffusion_input(model, config, mode)
        if config["model_type"] == "diffusion_uncond":
            return model(x, t)
        cond = model.conditioner(_metadata(config), "cpu") if model.conditioner is not None else {}
        if inpainting_ids(config):  # what inpainting training adds (training/diffusion.py:433)
            cond.update(inpaint_mask=[torch.ones(1, 1, x.shape[-1])], inpaint_masked_input=[x])
        return model(x, t, cond=cond)


def reproduce(case: dict[str, Any], upstream_factory: Any) -> None:
    """Check the failure the case's ``upstream`` key names: at construction, in a training step's forward pass
    (or generation's), as a wrong output, as NaN conditioning, in the timestep shift, in decoding (an error, or
    audio of the wrong length), or none at all (``ignored``: upstream builds, silently not doing what the key
    says)."""
    config, upstream = case_config(case), case["upstream"]
    if upstream in ("construction", "unsupported"):
        with pytest.raises(Exception):  # noqa: B017 - whichever error upstream raises while building
            upstream_factory(copy.deepcopy(config))
        return
    model = build_seeded(upstream_factory, config)
    if upstream in ("forward", "generation"):
        with pytest.raises((RuntimeError, AssertionError, KeyError, AttributeError, TypeError, ValueError,
                            ZeroDivisionError, StopIteration)):
            run_training_step(model, config, upstream)
    elif upstream == "nan":  # no error: the conditioning silently becomes NaN
        import torch

        with torch.no_grad():
            outputs = model.conditioner(_metadata(config), "cpu")
        assert any(not torch.isfinite(tensor).all() for tensor, _ in outputs.values())
    elif upstream == "output":  # the output cannot be compared with what was denoised
        x = _diffusion_input(model, config, "forward")
        assert run_training_step(model, config).shape != x.shape
    elif upstream == "distribution_shift":
        with pytest.raises(ZeroDivisionError):
            model.dist_shift.time_shift(0.5, 1024)
    elif upstream in ("decode", "decode_length"):  # decoding fails, or yields audio of the wrong length
        import torch

        with torch.no_grad():
            latents = model.encode(_audio(config))
            if upstream == "decode":
                with pytest.raises(RuntimeError):
                    model.decode(latents, steps=1)
            else:
                assert model.decode(latents, steps=1).shape[-1] != config["sample_size"]
    else:
        assert upstream == "ignored", upstream


@pytest.mark.parametrize("path", cases("negative", "diff"), ids=lambda p: p.stem)
def test_negative_case_fails_upstream_as_its_message_says(path, upstream_factory):
    reproduce(load_json(path), upstream_factory)


def declared_rules(prefixes: tuple[str, ...]) -> set[str]:
    """Ids of the x-rules with one of ``prefixes`` in the bundled schema."""
    found: set[str] = set()
    stack: list[Any] = [DEFS]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found |= {r["id"] for r in node.get("x-rules", []) if r["id"].startswith(prefixes)}
            stack.extend(v for k, v in node.items() if k != "x-rules")
        elif isinstance(node, list):
            stack.extend(node)
    return found


def test_every_rule_has_a_negative_case():
    prefixes = ("diffusion_uncond.", "diffusion_cond.", "diffusion_autoencoder.", "dit.", "adp.", "transformer.",
                "distribution_shift.")
    covered = {load_json(p).get("rule") for p in cases("negative", "diff")}
    assert declared_rules(prefixes) <= covered, declared_rules(prefixes) - covered


# --- completeness: every key is a parameter the builder can reach -------------------------------------------------


def signature(target: Any, minus: set[str] = frozenset()) -> set[str]:
    """Named parameters of a constructor (without self, *args, **kwargs and ``minus``)."""
    parameters = inspect.signature(target).parameters.values()
    names = {p.name for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name != "self"}
    return names - set(minus)


def read_keys(function: Any, variable: str) -> set[str]:
    """Keys a factory reads from one of its dict variables (``var.get("k")`` / ``var["k"]``)."""
    source = inspect.getsource(function)
    return set(re.findall(rf"\b{variable}(?:\.get\(|\[)[\"'](\w+)[\"']", source))


def keys(title: str) -> set[str]:
    return set(DEFS[title]["properties"])


def transformer_passthrough(set_by_caller: set[str]) -> set[str]:
    """Keys a ContinuousTransformer caller may pass on: its parameters the caller does not set, and the
    TransformerBlock parameters that ContinuousTransformer does not set (its **kwargs reach every block)."""
    from stable_audio_tools.models.transformer import ContinuousTransformer, TransformerBlock

    call = inspect.getsource(ContinuousTransformer.__init__).split("TransformerBlock(")[1].split("**kwargs")[0]
    passed = set(re.findall(r"(\w+)\s*=", call)) | {"dim"}  # dim is passed positionally
    assert passed == {"dim", "dim_heads", "cross_attend", "dim_context", "global_cond_dim", "causal",
                      "zero_init_branch_outputs", "conformer", "layer_ix"}, passed
    return signature(ContinuousTransformer, set_by_caller) | signature(TransformerBlock, passed)


def test_transformer_keys_are_the_pass_through_parameters():
    from stable_audio_tools.models.transformer import Attention, FeedForward, LayerNorm

    # the options both callers leave to the config (DiT and the LM backbone set the structural ones, or take them
    # as their own keys: depth, dim_heads, global_cond_dim)
    structural = {"dim", "depth", "dim_in", "dim_out", "dim_heads", "cross_attend", "cond_token_dim",
                  "global_cond_dim"}
    assert keys("ContinuousTransformerOptions") == transformer_passthrough(structural)
    assert keys("TransformerAttentionKwargs") == signature(Attention, {"dim", "dim_heads", "dim_context", "causal",
                                                                       "zero_init_output"})
    assert keys("TransformerFeedForwardKwargs") == signature(FeedForward, {"dim", "zero_init_output"})
    assert keys("TransformerNormKwargs") == signature(LayerNorm, {"dim"})


def test_dit_keys_are_the_constructor_parameters():
    from stable_audio_tools.models.diffusion import DiTUncondWrapper
    from stable_audio_tools.models.dit import DiffusionTransformer

    source = inspect.getsource(DiffusionTransformer.__init__).split("ContinuousTransformer(")[1].split("**kwargs")[0]
    set_by_dit = set(re.findall(r"(\w+)\s*=", source))
    assert set_by_dit == {"dim", "depth", "dim_heads", "dim_in", "dim_out", "cross_attend", "cond_token_dim",
                          "global_cond_dim"}
    dit = signature(DiffusionTransformer) | transformer_passthrough(set_by_dit)
    # diffusion_cond passes diffusion_objective itself; DiTUncondWrapper sets io_channels from in_channels
    assert keys("DiTConfig") == dit - {"diffusion_objective"}
    assert keys("DiTUncondConfig") == (dit - {"io_channels"}) | signature(DiTUncondWrapper)
    assert keys("DiTAutoencoderConfig") == dit
    assert DEFS["DiTAutoencoderConfig"]["required"] == ["diffusion_objective"]


def test_unet_keys_are_the_constructor_parameters():
    from stable_audio_tools.models import adp

    attention = {k for k in signature(adp.DownsampleBlock1d) if k.startswith("attention_")}
    for block in (adp.UpsampleBlock1d, adp.BottleneckBlock1d):  # UNet1d passes the same attention_* to all three
        assert attention <= signature(block)
    stft = {f"stft_{k}" for k in signature(adp.STFT)}
    unet = signature(adp.UNet1d) | attention | stft
    assert keys("UNet1dConfig") == unet
    assert keys("UNetCFG1dConfig") == unet | signature(adp.UNetCFG1d)
    assert set(DEFS["UNet1dConfig"]["required"]) == {
        n for n, p in inspect.signature(adp.UNet1d).parameters.items() if p.default is p.empty and n != "self"
        and p.kind is not p.VAR_KEYWORD}


def test_dau1d_keys_are_the_constructor_parameters():
    from stable_audio_tools.models.diffusion import DiffusionAttnUnet1D

    assert keys("DAU1dConfig") == signature(DiffusionAttnUnet1D)


def test_model_section_keys_are_what_the_builders_read():
    from stable_audio_tools.inference.sampling import DistributionShift
    from stable_audio_tools.models import autoencoders, diffusion

    cond = diffusion.create_diffusion_cond_from_config
    assert keys("DiffusionCondModelConfig") == read_keys(cond, "model_config")
    section = read_keys(cond, "diffusion_config")
    for title in ("DiffusionCondDitBackbone", "DiffusionCondAdpCfg1dBackbone", "DiffusionCondAdp1dBackbone"):
        assert keys(title) == section, title
    assert keys("DiffusionUncondModelConfig") == read_keys(diffusion.create_diffusion_uncond_from_config,
                                                           "diffusion_uncond_config")
    diffae = autoencoders.create_diffAE_from_config
    assert keys("DiffusionAutoencoderModelConfig") == read_keys(diffae, "diffae_config")
    assert set(re.findall(r"diffae_config\[\"diffusion\"\]\[\"(\w+)\"\]", inspect.getsource(diffae))) == {
        "type", "config"}
    for title in ("DiffusionAutoencoderDAU1dBackbone", "DiffusionAutoencoderAdp1dBackbone",
                  "DiffusionAutoencoderDitBackbone"):
        assert keys(title) == {"type", "config"}, title
    assert keys("DistributionShiftOptions") == signature(DistributionShift)


def test_enums_are_upstreams_literals():
    from stable_audio_tools.models.diffusion import ConditionedDiffusionModelWrapper
    from stable_audio_tools.models.dit import DiffusionTransformer
    from stable_audio_tools.models.transformer import Attention

    def literal(target: Any, name: str) -> list[Any]:
        return list(typing.get_args(inspect.signature(target).parameters[name].annotation))

    for key, title in (("transformer_type", "DitTransformerType"), ("global_cond_type", "DitGlobalCondType"),
                       ("timestep_cond_type", "DitTimestepCondType"), ("diffusion_objective", "DiffusionObjective")):
        assert DEFS[title]["enum"] == literal(DiffusionTransformer, key), key
    assert DEFS["DiffusionObjective"]["enum"] == literal(ConditionedDiffusionModelWrapper, "diffusion_objective")
    assert DEFS["TransformerAttentionKwargs"]["properties"]["qk_norm"]["enum"] == literal(Attention, "qk_norm")


# optional keys whose absence means something no value expresses (upstream tests `"encoder" in config`)
NO_DEFAULT = {("DiffusionAutoencoderModelConfig", "encoder"), ("DiffusionAutoencoderModelConfig", "decoder"),
              *((f"{kind}ConditionerParams", key) for kind in ("Pretransform", "SourceMix")
                for key in ("pretransform_config", "pretransform_ckpt_path"))}


def schema_default(schema: dict[str, Any]) -> Any:
    target = DEFS[ref_name(schema)] if "$ref" in schema else schema
    return schema.get("default", target.get("default", inspect.Parameter.empty))


def assert_defaults_are_upstreams(title: str, *targets: Any, renamed: dict[str, str] | None = None,
                                  builder: dict[str, Any] | None = None) -> None:
    """Every default in ``title`` equals the default of the parameter in the first of ``targets`` that has it (or
    the ``builder``'s own default for a key it reads itself)."""
    defaults: dict[str, Any] = dict(builder or {})
    for target in reversed(targets):
        for name, parameter in inspect.signature(target).parameters.items():
            if parameter.default is not parameter.empty:
                defaults[name] = parameter.default
    for key, schema in DEFS[title]["properties"].items():
        default = schema_default(schema)
        if default is inspect.Parameter.empty:
            assert key in DEFS[title].get("required", []) or key == "output_dim" or (title, key) in NO_DEFAULT, (
                title, key)
            continue
        upstream_name = (renamed or {}).get(key, key)
        assert default == defaults[upstream_name], (title, key, default, defaults[upstream_name])


def test_defaults_are_upstreams():
    from stable_audio_tools.inference.sampling import DistributionShift
    from stable_audio_tools.models import adp
    from stable_audio_tools.models.diffusion import DiffusionAttnUnet1D
    from stable_audio_tools.models.dit import DiffusionTransformer
    from stable_audio_tools.models.transformer import (
        Attention,
        ContinuousTransformer,
        FeedForward,
        LayerNorm,
        TransformerBlock,
    )

    transformer = (ContinuousTransformer, TransformerBlock)
    for title in ("DiTConfig", "DiTUncondConfig", "DiTAutoencoderConfig"):
        assert_defaults_are_upstreams(title, DiffusionTransformer, *transformer)
    assert_defaults_are_upstreams("ContinuousTransformerOptions", *transformer)
    assert_defaults_are_upstreams("TransformerAttentionKwargs", Attention)
    assert_defaults_are_upstreams("TransformerFeedForwardKwargs", FeedForward)
    assert_defaults_are_upstreams("TransformerNormKwargs", LayerNorm)
    stft = {f"stft_{k}": k for k in signature(adp.STFT)}
    for title in ("UNet1dConfig", "UNetCFG1dConfig"):
        assert_defaults_are_upstreams(title, adp.UNetCFG1d, adp.UNet1d, adp.DownsampleBlock1d, adp.STFT,
                                      renamed=stft)
    assert_defaults_are_upstreams("DAU1dConfig", DiffusionAttnUnet1D)
    assert_defaults_are_upstreams("DistributionShiftOptions", DistributionShift)


DOCUMENTED = ("DiTConfig", "DiTUncondConfig", "DiTAutoencoderConfig", "ContinuousTransformerOptions",
              "TransformerAttentionKwargs", "TransformerFeedForwardKwargs", "TransformerNormKwargs", "UNet1dConfig",
              "UNetCFG1dConfig", "DAU1dConfig", "DistributionShiftOptions", "DiffusionUncondModelConfig",
              "DiffusionCondModelConfig", "DiffusionAutoencoderModelConfig", "DiffusionCondDitBackbone",
              "DiffusionCondAdpCfg1dBackbone", "DiffusionCondAdp1dBackbone", "DiffusionAutoencoderDAU1dBackbone",
              "DiffusionAutoencoderAdp1dBackbone", "DiffusionAutoencoderDitBackbone")


def assert_documented(titles: tuple[str, ...]) -> None:
    """Every property has a description (on it or its target); every optional one a default."""
    for title in titles:
        schema = DEFS[title]
        assert schema.get("description"), title
        for key, prop in schema["properties"].items():
            target = DEFS[ref_name(prop)] if "$ref" in prop else prop
            assert "description" in prop or "description" in target, (title, key)
            optional = key not in schema.get("required", []) and key not in ("type", "output_dim", "diffusion")
            assert not optional or (title, key) in NO_DEFAULT or schema_default(prop) is not inspect.Parameter.empty, (
                title, key)


def test_schemas_are_documented():
    assert_documented(DOCUMENTED)


# --- soundness: generated backbone configs that validate build ----------------------------------------------------

# Sizes that keep every build quick and let the cross-field rules pass often enough (subsets of the schemas' own
# ranges, so every generated config is still schema-valid).
NARROW = {
    "DitEmbedDim": {"enum": [32, 64, 96]}, "DitNumHeads": {"enum": [1, 2, 3]}, "DitDepth": {"enum": [0, 1, 2]},
    "DitIoChannels": {"enum": [1, 2, 4]}, "DitPatchSize": {"enum": [1, 2]},
    "DitCondTokenDim": {"enum": [0, 32, 64]}, "DitGlobalCondDim": {"enum": [0, 32, 64]},
    "DitInputConcatDim": {"enum": [0, 2]}, "DitPrependCondDim": {"enum": [0, 16]},
    "DitTimestepEmbedDim": {"enum": [None, 1]}, "TfAbsPosEmbMaxLength": {"enum": [64]},
    "TfNumMemoryTokens": {"enum": [0, 1]}, "TfFinalCrossAttnIx": {"enum": [-1, 0]},
    "TfSlidingWindow": {"enum": [None, [4, 4]]},
    "TransformerFeedForwardKwargs": {"properties": {"mult": {"enum": [1, 2.5]}, "dim_out": {"enum": [None]},
                                                    "conv_kernel_size": {"enum": [1, 3]}}},
    "UNet1dConfig": {"required": ["attention_heads", "attention_multiplier"]},
    "UNetCFG1dConfig": {"required": ["attention_heads", "attention_multiplier"]},
    "UnetInChannels": {"enum": [1, 2]}, "UnetChannels": {"enum": [16, 32]},
    "UnetMultipliers": {"enum": [[1, 2], [1, 1]]}, "UnetFactors": {"enum": [[1], [2]]},
    "UnetNumBlocks": {"enum": [[0], [1], [2]]}, "UnetAttentions": {"enum": [[0, 0], [0, 1], [1, 1], [1, 0, 1]]},
    "UnetPatchSize": {"enum": [1, 2]}, "UnetResnetGroups": {"enum": [1, 4, 8]},
    "UnetKernelMultiplierDownsample": {"enum": [0, 2, 4]}, "UnetContextFeaturesMultiplier": {"enum": [1, 2]},
    "UnetAttentionHeads": {"enum": [1, 2]}, "UnetAttentionFeatures": {"enum": [None, 16]},
    "UnetAttentionMultiplier": {"enum": [1, 2]}, "UnetContextFeatures": {"enum": [None]},
    "UnetContextChannels": {"enum": [None]}, "UnetContextEmbeddingFeatures": {"enum": [None]},
    "UnetUseStft": {"enum": [False]}, "UnetOutChannels": {"enum": [None]},
    **{name: False for name in ("UnetStftNumFft", "UnetStftHopLength", "UnetStftWindowLength", "UnetStftLength",
                                "UnetStftUseComplex")},  # STFT keys only go with use_stft (a positive case has it)
}


def narrowed(name: str, node: Any, narrow: dict[str, Any]) -> Any:
    """``node`` (a def called ``name``) with its NARROW (or ``narrow``) restriction added: an intersection."""
    node = {k: v for k, v in node.items() if k not in ("x-rules", "x-unsupported", "discriminator")}
    restriction = narrow.get(name, NARROW.get(name))
    return node if restriction is None else {"allOf": [node, restriction]}


def reachable(name: str, defs: dict[str, Any]) -> set[str]:
    """The defs ``name`` refers to, directly or not (itself included)."""
    seen, stack = set(), [name]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        text = repr(defs[current])
        stack.extend(re.findall(r"'#/\$defs/(\w+)'", text))
    return seen


def strategy(name: str, narrow: dict[str, Any] | None = None, drop: tuple[str, ...] = (), **overrides: Any) -> Any:
    """Configs generated from the def ``name`` (bounded by NARROW and ``narrow``, without its properties
    ``drop``), with ``overrides`` fixed."""
    source = dict(DEFS)
    source[name] = dict(DEFS[name], properties={k: v for k, v in DEFS[name]["properties"].items() if k not in drop})
    defs = {n: narrowed(n, source[n], narrow or {}) for n in reachable(name, source)}
    schema: dict[str, Any] = {"$ref": f"#/$defs/{name}", "$defs": defs}
    if overrides:
        fixed = {"properties": {k: {"const": v} for k, v in overrides.items()}, "required": list(overrides)}
        schema = {"allOf": [schema, fixed], "$defs": defs}
    return from_schema(schema)


def uncond_config(backbone: str, config: dict[str, Any]) -> dict[str, Any]:
    channels = config["in_channels"]
    return {"model_type": "diffusion_uncond", "sample_rate": 16000, "sample_size": 64, "audio_channels": channels,
            "model": {"type": backbone, "config": config}}


def cond_config(backbone: str, config: dict[str, Any]) -> dict[str, Any]:
    channels = config.get("io_channels", config.get("in_channels", 32))
    return {"model_type": "diffusion_cond", "sample_rate": 16000, "sample_size": 64, "audio_channels": channels,
            "model": {"io_channels": channels, "diffusion": {"type": backbone, "config": config}}}


def ae_config(backbone: str, config: dict[str, Any]) -> dict[str, Any]:
    channels = config.get("io_channels", config.get("in_channels", 32))
    encoder = {"type": "oobleck", "config": {"in_channels": channels, "channels": 2, "c_mults": [1],
                                             "strides": [2], "latent_dim": 2}}
    return {"model_type": "diffusion_autoencoder", "sample_rate": 16000, "sample_size": 64,
            "audio_channels": channels, "model": {"encoder": encoder, "latent_dim": 2, "downsampling_ratio": 2,
                                                  "io_channels": channels, "diffusion": {"type": backbone,
                                                                                         "config": config}}}


FUZZED = [
    ("DiTUncondConfig", uncond_config, "dit", {"in_channels": 2}),
    ("UNet1dConfig", uncond_config, "adp_uncond_1d", {}),
    ("DiTConfig", cond_config, "dit", {"io_channels": 2}),
    ("UNetCFG1dConfig", cond_config, "adp_cfg_1d", {"context_embedding_features": 16,
                                                     "context_embedding_max_length": 4}),
    ("UNet1dConfig", cond_config, "adp_1d", {}),
    ("DiTAutoencoderConfig", ae_config, "dit", {"io_channels": 2, "input_concat_dim": 2}),
    ("UNet1dConfig", ae_config, "adp_1d", {}),
]


@pytest.mark.parametrize(("name", "wrap", "backbone", "fixed"), FUZZED,
                         ids=[f"{w.__name__.split('_')[0]}-{b}" for _, w, b, _ in FUZZED])
def test_generated_backbone_configs_that_validate_build(name, wrap, backbone, fixed, upstream_factory):
    @FUZZ
    @given(strategy(name, **fixed))
    def check(backbone_config: dict[str, Any]) -> None:
        config = wrap(backbone, backbone_config)
        assume(problems_in(config) == [])
        assert build(upstream_factory, copy.deepcopy(config)) is not None

    check()
