"""The compiled pre-check (jsonschema-rs) and python-jsonschema agree on valid/invalid for every config we
have and for systematic mutants of them, so confirming validity with the fast engine alone is sound."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.edits import delete_at, paths_in, set_at
from support.files import (
    EXAMPLES,
    UPSTREAM,
    case_config,
    case_files,
    load_json,
    upstream_config,
    upstream_params,
)

import sat_config
from sat_config.validation import fast_validator, find_problems

SOURCES = upstream_params(EXAMPLES + UPSTREAM)


_WRONG = {dict: 1, list: {"x": 1}, str: 1.5, bool: "yes", int: "1", float: [1.0], type(None): {"x": None}}


def mutants(config: Any) -> Iterator[Any]:
    """Drop each key and put a wrong-typed value in each position (one change per mutant)."""
    for path, value in paths_in(config):
        if not path:
            continue
        yield set_at(config, path, _WRONG[type(value)])
        if isinstance(path[-1], str):
            yield delete_at(config, path)


def _agree(config: Any) -> None:
    slow_valid = find_problems(config, fast=False) == []
    assert fast_validator().is_valid(config) == slow_valid


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_engines_agree_on_every_mutant(path):
    config = load_json(path)
    _agree(config)
    for mutant in mutants(config):
        _agree(mutant)
        # the detailed pass skips the parts the compiled engine confirms: the same problems either way
        assert find_problems(mutant) == find_problems(mutant, fast=False)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_every_integer_written_as_a_float_is_reported_alike(path):
    """2 -> 2.0 at each integer of a config: the compiled engine checks integers strictly only for such configs,
    and the detailed pass skips the parts it confirms; both passes report the same problems."""
    config = load_json(path)
    for where, value in paths_in(config):
        if type(value) is int:
            mutant = set_at(config, where, float(value))
            _agree(mutant)
            assert find_problems(mutant) == find_problems(mutant, fast=False), where


@pytest.mark.parametrize("path", case_files("positive") + case_files("negative"), ids=lambda p: p.stem)
def test_engines_agree_on_every_case(path):
    config = case_config(load_json(path))
    _agree(config)
    # components the compiled engine confirms valid are skipped by the detailed pass: same problems either way
    assert find_problems(config) == find_problems(config, fast=False)


def test_fast_path_reports_the_same_problems_as_the_slow_path():
    config = load_json(EXAMPLES[0])
    config["sample_rate"] = 0
    assert find_problems(config) == find_problems(config, fast=False) != []


TARGET_CASES = sorted((Path(__file__).parent / "cases" / "targets").glob("*.json"))


@pytest.mark.parametrize("path", TARGET_CASES, ids=lambda p: p.stem)
def test_engines_agree_in_every_environment(path):
    """The compiled engine decides each x-unsupported gate per environment as the detailed pass does."""
    case = load_json(path)
    config = case_config(case)
    for key in case["verdicts"]:
        if key in ("installed", "validation-only"):
            judge = sat_config.judging()
        else:
            target, _, torch = key.partition("@")
            judge = sat_config.judging(target=target, torch=torch)
        slow_valid = find_problems(config, fast=False, judging=judge) == []
        assert judge.engine.is_valid(config, judge) == slow_valid, key


@pytest.mark.parametrize(("where", "valid"), [
    (("sample_rate",), False), (("model", "encoder", "config", "c_mults", 1), False),
    (("training", "learning_rate"), True)])
def test_integers_are_strict_only_where_the_schema_wants_one(where, valid):
    """A float such as 2.0 is no integer (upstream's constructors reject it); where a number is wanted it is fine.
    The compiled engine checks integers strictly only for configs that write such a float."""
    config = load_json(EXAMPLES[0])  # an autoencoder
    node = config
    for part in where[:-1]:
        node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
    node[where[-1]] = float(node[where[-1]] if where[-1] in node or isinstance(node, list) else 1)
    assert fast_validator().is_valid(config) is valid
    _agree(config)
    assert find_problems(config) == find_problems(config, fast=False)  # parts the fast engine confirms are skipped


def test_a_deep_object_where_no_schema_is_reported_not_walked():
    """Objects and lists at places the schema does not describe (an unknown key) have no defaults or rules below
    them: neither pass walks into them, however deep (here 5,000 levels, beyond Python's recursion limit)."""
    config = load_json(EXAMPLES[0])
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(5000):
        node["a"] = {}
        node = node["a"]
    config["model"]["not_a_key"] = deep
    assert [(p.path, p.kind) for p in find_problems(config)] == [("$.model.not_a_key", "unknown_key")]
    assert [(p.path, p.kind) for p in find_problems(config, fast=False)] == [("$.model.not_a_key", "unknown_key")]


def test_integer_places_name_every_member_that_can_demand_an_integer():
    """``integer_places`` follows $ref, allOf/anyOf/oneOf and if/then/else to the strict keyword, per property
    name, for additional and pattern properties, and for list items."""
    from sat_config.schema_source import integer_places, validation_schema

    places = integer_places(validation_schema({
        "$defs": {"Count": {"type": "integer"}, "Ratio": {"type": "number"}},
        "properties": {
            "by_ref": {"$ref": "#/$defs/Count"},
            "in_branch": {"anyOf": [{"type": "string"}, {"allOf": [{"$ref": "#/$defs/Count"}]}]},
            "conditional": {"if": {"type": "string"}, "else": {"type": "integer"}},
            "ratio": {"$ref": "#/$defs/Ratio"},
            "numbers": {"type": "array", "items": {"type": "number"}},
            "table": {"type": "object", "additionalProperties": {"type": "number"}},
        },
    }))
    assert places == {"names": ["by_ref", "conditional", "in_branch"], "any_name": False,
                                          "items": False}
    with_items = integer_places(validation_schema({"properties": {"a": {"items": {"type": "integer"}}}}))
    assert with_items == {"names": [], "any_name": False, "items": True}
    with_map = integer_places(validation_schema({"patternProperties": {"^x": {"oneOf": [{"type": "integer"}]}}}))
    assert with_map == {"names": [], "any_name": True, "items": False}


def test_floats_where_numbers_are_wanted_need_no_strict_check():
    """Upstream's autoencoder examples write loss weights as 1.0: judged without compiling the strict variant,
    which a 2.0 where an integer is wanted still gets (and is rejected by)."""
    from sat_config.schema_source import shared_validation_schema
    from sat_config.validation import Engine, default_judging

    config = load_json(upstream_config("autoencoders--dac_2048_32_vae"))
    engine, judge = Engine(shared_validation_schema(), prepared=True), default_judging()
    assert engine.is_valid(config, judge)
    assert not any(strict for _, _, strict in engine._branches)
    config["model"]["encoder"]["config"]["d_model"] = 64.0
    assert not engine.is_valid(config, judge)
    assert any(strict for _, _, strict in engine._branches)
