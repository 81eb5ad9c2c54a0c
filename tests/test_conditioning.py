"""The conditioning schema (model.conditioning of diffusion_cond, diffusion_cond_inpaint and lm) agrees with
stable-audio-tools 0.0.19: every conditioner type builds like upstream (network-bound ones through the placeholders
of ``sat_config.placeholders``), rejected configs fail upstream as the messages say, every key is a constructor
parameter, and generated conditioner configs that validate build.
"""

from __future__ import annotations

import copy
import importlib.util
import inspect
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from support.building import assert_builds_like_upstream, build
from support.failures import reproduce
from support.files import EXAMPLES, case_config, case_files, load_json
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
)

from sat_config import problems_in

POSITIVE, NEGATIVE = case_files("positive", "conditioning"), case_files("negative", "conditioning")
ENTRIES = {DEFS[ref_name(b)]["properties"]["type"]["const"]: ref_name(b) for b in DEFS["ConditionerConfig"]["oneOf"]}


def params(tag: str) -> str:
    return ref_name(DEFS[ENTRIES[tag]]["properties"]["config"])


@pytest.mark.parametrize("path", POSITIVE, ids=lambda p: p.stem)
@pytest.mark.usefixtures("offline")
def test_positive_case_builds_like_upstream(path, upstream_factory):
    assert_builds_like_upstream(case_config(load_json(path)), upstream_factory)


def test_every_conditioner_type_has_a_case():
    used = {e["type"] for p in POSITIVE for e in case_config(load_json(p))["model"]["conditioning"]
            ["configs"]}
    assert set(ENTRIES) - used == {"clap_audio"}  # unsupported: its negative case shows upstream failing
    assert "clap_audio" in {e["type"] for p in NEGATIVE if load_json(p)["upstream"] == "unsupported"
                            for e in case_config(load_json(p))["model"]["conditioning"]["configs"]}


@pytest.mark.parametrize("path", NEGATIVE, ids=lambda p: p.stem)
@pytest.mark.usefixtures("offline")
def test_negative_case_fails_upstream_as_its_message_says(path, upstream_factory):
    reproduce(load_json(path), upstream_factory)


def test_every_rule_has_a_negative_case():
    covered = {load_json(p).get("rule") for p in NEGATIVE}
    assert declared_rules(("conditioning.", "conditioner.")) <= covered


def test_conditioning_of_the_examples_validates():
    for path in EXAMPLES:
        config = load_json(path)
        if config["model"].get("conditioning"):
            assert problems_in(config) == [], path.name


# --- completeness -------------------------------------------------------------------------------------------------


def test_conditioner_types_are_the_builders():
    from stable_audio_tools.models.conditioners import create_multi_conditioner_from_conditioning_config as create

    assert set(ENTRIES) == set(re.findall(r"conditioner_type == \"(\w+)\"", inspect.getsource(create)))


def test_section_keys_are_what_the_builder_reads():
    from stable_audio_tools.models.conditioners import create_multi_conditioner_from_conditioning_config as create

    assert keys("ConditioningConfig") == read_keys(create, "config")
    assert read_keys(create, "conditioner_info") == {"id", "type", "config"}
    for entry in ENTRIES.values():
        assert keys(entry) == {"id", "type", "config"}, entry


def test_config_keys_are_the_constructor_parameters():
    from stable_audio_tools.models import conditioners as c

    # the builder pops these for the audio conditioners and passes the pretransform itself
    popped = {"sample_rate", "use_model_pretransform", "pretransform_config", "pretransform_ckpt_path"}
    create = inspect.getsource(c.create_multi_conditioner_from_conditioning_config)
    assert popped == set(re.findall(r"conditioner_config\.(?:pop|get)\(\"(\w+)\"", create))
    classes = {"t5": c.T5Conditioner, "clap_text": c.CLAPTextConditioner, "clap_audio": c.CLAPAudioConditioner,
               "int": c.IntConditioner, "number": c.NumberConditioner, "list": c.ListConditioner,
               "phoneme": c.PhonemeConditioner, "lut": c.TokenizerLUTConditioner,
               "pretransform": c.PretransformConditioner, "source_mix": c.SourceMixConditioner}
    assert set(classes) == set(ENTRIES)
    for tag, cls in classes.items():
        own = popped if tag in ("pretransform", "source_mix") else set()
        expected = signature(cls, {"pretransform"}) | own
        assert keys(params(tag)) == expected, tag
        required = {n for n, p in inspect.signature(cls).parameters.items() if p.default is p.empty} - {
            "self", "pretransform", "output_dim"}  # output_dim: the builder passes cond_dim
        assert required <= set(DEFS[params(tag)].get("required", [])), tag
        # the builder's .pop("use_model_pretransform", False)
        assert_defaults_are_upstreams(params(tag), cls, builder={"use_model_pretransform": False})


def test_fixed_value_sets_are_upstreams():
    from stable_audio_tools.models.conditioners import T5Conditioner

    assert DEFS["T5ConditionerParams"]["properties"]["t5_model_name"]["enum"] == T5Conditioner.T5_MODELS
    # laion_clap builds the audio encoders of its model configs that have an audio_cfg (its import downloads
    # tokenizers, so read the package's files instead)
    spec = importlib.util.find_spec("laion_clap")
    assert spec is not None and spec.origin is not None
    folder = Path(spec.origin).parent / "clap_module" / "model_configs"
    audio = {p.stem for p in folder.glob("*.json") if "audio_cfg" in json.loads(p.read_text())}
    for tag in ("clap_text", "clap_audio"):
        assert set(DEFS[params(tag)]["properties"]["audio_model_type"]["enum"]) == audio


def test_schemas_are_documented():
    assert_documented(("ConditioningConfig", *ENTRIES.values(), *(params(t) for t in ENTRIES)))


# --- soundness: generated conditioner configs that validate build -------------------------------------------------

# the audio conditioners use the model's pretransform (their own is a whole pretransform section: fuzzed with it)
FUZZED = [(tag, {"use_model_pretransform": True} if tag in ("pretransform", "source_mix") else {})
          for tag in ENTRIES if tag != "clap_audio"]


# a small model around the conditioner: a patched pretransform (8 channels) and a transformer without blocks
BASE = {"model_type": "diffusion_cond", "sample_rate": 16000, "sample_size": 256, "audio_channels": 2,
        "model": {"io_channels": 8, "pretransform": {"type": "patched", "config": {"channels": 2, "patch_size": 4}},
                  "conditioning": {"cond_dim": 16, "configs": []},
                  "diffusion": {"type": "dit", "config": {"io_channels": 8, "embed_dim": 32, "depth": 0,
                                                          "num_heads": 1}}}}


@pytest.mark.parametrize(("tag", "fixed"), FUZZED, ids=[tag for tag, _ in FUZZED])
@pytest.mark.usefixtures("offline")
def test_generated_conditioner_configs_that_validate_build(tag, fixed, upstream_factory):
    narrow = {"ConditionerOutputDim": {"enum": [8, 16]},
              params(tag): {"properties": {"max_length": {"enum": [8, 16]},
                                           "source_length": {"enum": [None, 4]},
                                           "max_val": {"minimum": -600, "maximum": 600},
                                           "min_val": {"minimum": -600, "maximum": 600}}}}

    @FUZZ
    @given(strategy(params(tag), narrow=narrow, drop=("pretransform_config", "pretransform_ckpt_path"), **fixed))
    def check(conditioner: dict[str, Any]) -> None:
        config = copy.deepcopy(BASE)
        config["model"]["conditioning"]["configs"].append({"id": "extra", "type": tag, "config": conditioner})
        assume(problems_in(config) == [])
        assert build(upstream_factory, config) is not None

    check()
