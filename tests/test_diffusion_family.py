"""The diffusion family's schemas (diffusion_uncond, diffusion_cond, diffusion_cond_inpaint, diffusion_autoencoder
and their backbones) agree with stable-audio-tools 0.0.19: what they accept builds with upstream's state_dict; what
they reject is reported at the right path before any torch code runs, and upstream really fails on it; every key is
a constructor parameter that the builders can reach; generated configs that validate build.

Network-bound pieces build with ``sat_config.placeholders.network_placeholders`` (the download points replaced by
shape-equivalent stand-ins, upstream's constructors unchanged). The helpers shared with ``test_conditioning.py``
and ``test_lm.py`` are in ``tests/support``.
"""

from __future__ import annotations

import copy
import inspect
import re
import typing
from typing import Any

import pytest
from hypothesis import assume, given
from support.building import assert_builds_like_upstream, build
from support.failures import reproduce
from support.files import UPSTREAM, case_config, case_files, case_path, load_json, upstream_params
from support.fuzzing import FUZZ, strategy
from support.schema import (
    DEFS,
    assert_defaults_are_upstreams,
    assert_documented,
    declared_rules,
    keys,
    read_keys,
    ref_name,
    signature,
    transformer_passthrough,
)

from sat_config import problems_in


@pytest.mark.parametrize("path", case_files("positive", "diffusion"), ids=lambda p: p.stem)
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
             for c in (case_config(load_json(p)) for p in case_files("positive", "diffusion"))}
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

TXT2AUDIO = upstream_params([p for p in UPSTREAM if p.name.startswith("txt2audio--")])
DANCE = upstream_params([p for p in UPSTREAM if p.name.startswith("dance_diffusion--")])


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
    config = load_json(case_path("positive", "diff_ae_adp"))["config"]
    config["model"]["diffusion"] = {"type": "DAU1d", "config": {"io_channels": 2, "cond_dim": 8}}
    problems = problems_in(config)
    assert [(p.path, p.kind) for p in problems] == [("$.model.diffusion.type", "unsupported")]
    with pytest.raises(TypeError, match="use_snake"):
        upstream_factory(copy.deepcopy(config))


# --- negative cases: upstream really fails as the message says ----------------------------------------------------


@pytest.mark.parametrize("path", case_files("negative", "diffusion"), ids=lambda p: p.stem)
def test_negative_case_fails_upstream_as_its_message_says(path, upstream_factory):
    reproduce(load_json(path), upstream_factory)


def test_every_rule_has_a_negative_case():
    prefixes = ("diffusion_uncond.", "diffusion_cond.", "diffusion_autoencoder.", "dit.", "adp.", "transformer.",
                "distribution_shift.")
    covered = {load_json(p).get("rule") for p in case_files("negative", "diffusion")}
    assert declared_rules(prefixes) <= covered, declared_rules(prefixes) - covered


# --- completeness: every key is a parameter the builder can reach -------------------------------------------------


def test_transformer_keys_are_the_pass_through_parameters():
    from stable_audio_tools.models.transformer import Attention, FeedForward, LayerNorm

    # the options both callers leave to the config (DiT and the LM backbone set the structural ones, or take them
    # as their own keys: depth, dim_heads, global_cond_dim)
    structural = {"dim", "depth", "dim_in", "dim_out", "dim_heads", "cross_attend", "cond_token_dim",
                  "global_cond_dim"}
    assert keys("ContinuousTransformerOptions") == transformer_passthrough(structural)
    assert keys("TransformerAttentionKwargs") == signature(
        Attention, {"dim", "dim_heads", "dim_context", "causal", "zero_init_output"})
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


def test_schemas_are_documented():
    assert_documented(DOCUMENTED)


# --- soundness: generated backbone configs that validate build ----------------------------------------------------

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
