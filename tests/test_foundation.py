"""The pipeline end to end: upstream's example configs, upstream-compatible errors, no torch on the validation path."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from support.files import EXAMPLES, REPO, UPSTREAM, load_json, upstream_params

import sat_config
from sat_config import ConfigError


def test_there_is_an_example_for_every_model_type():
    from sat_config.generated.dispatch import FACTORIES

    assert {load_json(p)["model_type"] for p in EXAMPLES} == set(FACTORIES)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_validate(path):
    assert sat_config.problems_in(load_json(path)) == []


@pytest.mark.parametrize("path", upstream_params(UPSTREAM), ids=lambda p: p.stem)
def test_upstream_examples_are_valid_at_the_top_level(path):
    problems = sat_config.problems_in(load_json(path))
    assert [p for p in problems if len(p.parts) <= 1] == []


def test_missing_model_type_is_upstreams_assertion():
    config = load_json(EXAMPLES[0])
    del config["model_type"]
    with pytest.raises(AssertionError, match="^model_type must be specified in model config$"):
        sat_config.create_model_from_config(config)


def test_unknown_model_type_is_upstreams_not_implemented_error():
    config = dict(load_json(EXAMPLES[0]), model_type="vocoder")
    with pytest.raises(NotImplementedError, match="^Unknown model type: vocoder$") as info:
        sat_config.create_model_from_config(config)
    assert isinstance(info.value, ConfigError) and info.value.errors[0].path == "$.model_type"


def test_config_error_lists_every_problem_with_its_path():
    config = dict(load_json(EXAMPLES[0]), sample_rate=0, sample_size=-1)
    with pytest.raises(ConfigError) as info:
        sat_config.create_model_from_config(config)
    assert isinstance(info.value, ValueError)
    assert [p.path for p in info.value.errors] == ["$.sample_rate", "$.sample_size"]
    assert "$.sample_rate" in str(info.value) and "$.sample_size" in str(info.value)


def test_validation_does_not_import_torch():
    code = (
        "import sys, json, sat_config\n"
        f"cfg = json.load(open({str(EXAMPLES[0])!r}))\n"
        "sat_config.validate_config(cfg)\n"
        "sat_config.problems_in(dict(cfg, sample_rate=0))\n"
        "heavy = [m for m in ('torch', 'stable_audio_tools', 'numpy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_validation_leaves_the_callers_dict_untouched():
    config = load_json(EXAMPLES[0])
    before = json.dumps(config, sort_keys=True)
    sat_config.validate_config(config)
    assert json.dumps(config, sort_keys=True) == before


def test_typed_objects_are_accepted_and_keep_only_what_was_set():
    from sat_config.generated.models import ModelConfig

    raw = load_json(EXAMPLES[0])
    typed = ModelConfig.model_validate(raw)
    assert sat_config.validate_config(typed) == raw


def test_typed_objects_validate_assignment_and_forbid_extra_keys():
    from pydantic import ValidationError
    from sat_config.generated.models import ModelConfig

    typed = ModelConfig.model_validate(load_json(EXAMPLES[0])).root
    with pytest.raises(ValidationError):
        typed.sample_rate = "fast"
    with pytest.raises(ValidationError):
        ModelConfig.model_validate(dict(load_json(EXAMPLES[0]), smaple_rate=1))
