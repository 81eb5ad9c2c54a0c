"""The lm schema (model section, `lm` backbone section, codebook patterns) agrees with stable-audio-tools 0.0.19:
every pattern and backbone option builds like upstream, rejected configs fail upstream as the messages say (lm
forward passes with upstream's own mask bug bypassed), every key is a constructor parameter, and generated backbone
configs that validate build.
"""

from __future__ import annotations

import copy
import inspect
import re
from typing import Any

import pytest
from hypothesis import assume, given
from support.building import assert_builds_like_upstream, build, build_seeded
from support.failures import reproduce, run_training_step
from support.files import case_config, case_files, load_json
from support.fuzzing import FUZZ, strategy
from support.schema import (
    DEFS,
    assert_defaults_are_upstreams,
    assert_documented,
    declared_rules,
    keys,
    read_keys,
    signature,
    transformer_passthrough,
)

from sat_config import problems_in

POSITIVE, NEGATIVE = case_files("positive", "lm"), case_files("negative", "lm")
BRANCH = "ContinuousTransformerLmConfig"


@pytest.mark.parametrize("path", POSITIVE, ids=lambda p: p.stem)
def test_positive_case_builds_like_upstream(path, upstream_factory):
    assert_builds_like_upstream(case_config(load_json(path)), upstream_factory)


def test_every_codebook_pattern_has_a_case():
    from stable_audio_tools.models.lm import create_audio_lm_from_config

    providers = re.search(r"pattern_providers = \{(.*?)\}", inspect.getsource(create_audio_lm_from_config), re.S)
    assert providers is not None
    registered = set(re.findall(r"'(\w+)':", providers.group(1)))
    assert set(DEFS[BRANCH]["properties"]["codebook_pattern"]["enum"]) == registered
    used = {case_config(load_json(p))["model"]["lm"].get("codebook_pattern", "delay") for p in POSITIVE}
    assert registered - used <= {"delay"}  # delay: the default, examples/lm_tiny_rvq.json


@pytest.mark.parametrize("path", NEGATIVE, ids=lambda p: p.stem)
@pytest.mark.usefixtures("offline")
def test_negative_case_fails_upstream_as_its_message_says(path, upstream_factory):
    reproduce(load_json(path), upstream_factory)


def test_every_rule_has_a_negative_case():
    covered = {load_json(p).get("rule") for p in NEGATIVE}
    assert declared_rules(("lm.", "lm_backbone.")) <= covered


@pytest.mark.parametrize("path", POSITIVE, ids=lambda p: p.stem)
def test_lm_forward_fails_upstream_only_on_the_mask_bug(path, upstream_factory):
    """What the backbone's description says: it builds, but its forward pass hands mask= to
    TransformerBlock.forward (TypeError); with only that bypassed, the logits come out."""
    config = case_config(load_json(path))
    model = build_seeded(upstream_factory, config)
    with pytest.raises(TypeError, match="mask"):
        run_training_step(model, config, lm_bypass=False)
    assert run_training_step(model, config).shape == (1, model.lm.num_quantizers, 32, model.lm.codebook_size)


# --- completeness -------------------------------------------------------------------------------------------------


def test_keys_are_what_the_builder_reads():
    from stable_audio_tools.models.lm import create_audio_lm_from_config as create

    assert keys("LanguageModelConfig") == read_keys(create, "model_config")
    assert keys(BRANCH) == read_keys(create, "lm_config")
    assert {DEFS[BRANCH]["properties"]["type"]["const"]} == set(re.findall(r"lm_type == \"(\w+)\"",
                                                                          inspect.getsource(create)))


def test_backbone_keys_are_the_constructor_parameters():
    from stable_audio_tools.models.lm_backbone import ContinuousTransformerAudioLMBackbone as Backbone
    from stable_audio_tools.models.transformer import ContinuousTransformer, TransformerBlock

    call = inspect.getsource(Backbone.__init__).split("ContinuousTransformer(")[1].split("**kwargs")[0]
    set_by_backbone = set(re.findall(r"(\w+)\s*=", call))
    assert set_by_backbone == {"dim", "dim_in", "dim_out", "cross_attend", "cond_token_dim", "causal"}
    passed_on = transformer_passthrough(set_by_backbone)
    assert keys("ContinuousTransformerLmParams") == signature(Backbone) | passed_on
    assert_defaults_are_upstreams("ContinuousTransformerLmParams", Backbone, ContinuousTransformer, TransformerBlock)


def test_schemas_are_documented():
    assert_documented(("LanguageModelConfig", BRANCH, "ContinuousTransformerLmParams"))


# --- soundness: generated backbone configs that validate build ----------------------------------------------------

NARROW = {"ContinuousTransformerLmParams": {"properties": {
    "embed_dim": {"enum": [32, 64, 96]}, "depth": {"enum": [0, 1, 2]}, "dim_heads": {"enum": [16, 32, 48, 64]},
    "cross_attn_cond_dim": {"enum": [0, 16]}, "prepend_cond_dim": {"enum": [0, 16]},
    "global_cond_dim": {"enum": [None, 0, 8]}}}}


@pytest.mark.parametrize("pattern", DEFS[BRANCH]["properties"]["codebook_pattern"]["enum"])
def test_generated_backbone_configs_that_validate_build(pattern, upstream_factory):
    base = case_config(load_json(next(p for p in POSITIVE if p.stem == "lm_parallel")))

    @FUZZ
    @given(strategy("ContinuousTransformerLmParams", narrow=NARROW))
    def check(backbone: dict[str, Any]) -> None:
        config = copy.deepcopy(base)
        config["model"]["lm"].update(config=backbone, codebook_pattern=pattern)
        assume(problems_in(config) == [])
        assert build(upstream_factory, config) is not None

    check()
