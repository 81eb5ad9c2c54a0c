"""The schema walker (sat_config.schemawalk) and the defaults built on it (sat_config.defaults)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from sat_config import problems_in
from sat_config.defaults import fill_defaults, with_defaults
from sat_config.schemawalk import SchemaWalker

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((REPO / "examples").glob("*.json"))

SCHEMA = {
    "type": "object",
    "properties": {
        "width": {"$ref": "#/$defs/Width"},
        "part": {
            "oneOf": [{"$ref": "#/$defs/A"}, {"$ref": "#/$defs/B"}],
            "discriminator": {"propertyName": "type"},
        },
        "maybe": {"anyOf": [{"$ref": "#/$defs/B"}, {"type": "null"}], "default": None},
        "parts": {"type": "array", "items": {"$ref": "#/$defs/B"}},
    },
    "allOf": [{"properties": {"depth": {"type": "integer", "default": 3}}}],
    "$defs": {
        "Width": {"type": "integer", "default": 8},
        "A": {"type": "object", "properties": {"type": {"const": "a"}, "a_only": {"default": "x"}}},
        "B": {"type": "object", "properties": {"type": {"const": "b"}, "size": {"type": "integer", "default": 2}}},
    },
}


def test_fill_defaults_follows_refs_allof_chosen_branches_and_lists():
    config = {"part": {"type": "b"}, "maybe": {}, "parts": [{}, {"size": 5}]}
    original = copy.deepcopy(config)
    filled, paths = fill_defaults(config, SCHEMA)
    assert config == original
    assert filled == {"part": {"type": "b", "size": 2}, "maybe": {"size": 2}, "parts": [{"size": 2}, {"size": 5}],
                      "width": 8, "depth": 3}
    assert sorted(paths, key=str) == sorted([("width",), ("depth",), ("part", "size"), ("maybe", "size"),
                                             ("parts", 0, "size")], key=str)


def test_fill_defaults_fills_a_null_default_and_skips_unknown_tags():
    filled, paths = fill_defaults({"part": {"type": "c"}}, SCHEMA)
    assert filled["maybe"] is None and filled["part"] == {"type": "c"}
    assert ("maybe",) in paths


def test_with_defaults_reads_through_without_copying():
    walker = SchemaWalker(SCHEMA)
    raw = {"part": {"type": "a"}, "parts": [{}]}
    view = with_defaults(raw, walker.root, walker)
    assert view["width"] == 8 and view["part"]["a_only"] == "x" and view["parts"][0]["size"] == 2
    assert view.given("part") and not view.given("width") and "depth" in view and "nope" not in view
    assert view.get("nope") is None and raw == {"part": {"type": "a"}, "parts": [{}]}
    assert dict(view["part"]) == {"type": "a", "a_only": "x"}


NESTED = {
    "type": "object",
    "properties": {
        "flat": {"type": "object", "properties": {"size": {"default": 2}}, "default": {}},
        "deep": {"type": "object", "properties": {"inner": {"$ref": "#/$defs/B"}}, "default": {"inner": {}}},
        "sizes": {"type": "array", "default": [1, 2]},
    },
    "$defs": SCHEMA["$defs"],
}


def test_a_default_object_is_seen_anew_for_each_config():
    """A default object is the same for every config, so it is seen once; each config still reads its own view
    (its own scratch), nested views included, and the schema's default is never modified."""
    walker = SchemaWalker(NESTED)
    first, second = (with_defaults({}, walker.root, walker) for _ in range(2))
    for key, expected in (("flat", {"size": 2}), ("deep", {"inner": {"size": 2}})):
        assert first[key] == second[key] == expected and first[key] is not second[key]
        assert not first[key].given("size") and first[key].scratch is not second[key].scratch
    assert first["deep"]["inner"] is not second["deep"]["inner"]
    assert first["sizes"] == [1, 2] and NESTED["properties"]["flat"]["default"] == {}
    first["flat"].scratch["x"] = 1
    assert "x" not in with_defaults({}, walker.root, walker)["flat"].scratch


def test_walk_yields_every_value_with_its_schema_objects():
    walker = SchemaWalker(SCHEMA)
    seen = {(parts, json.dumps(value)) for parts, value, _ in walker.walk({"parts": [{"size": 1}], "width": 4})}
    assert {(("parts", 0, "size"), "1"), (("width",), "4"), (("parts", 0), '{"size": 1}')} <= seen


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_filled_examples_stay_valid_and_only_absent_keys_are_filled(path):
    config = json.loads(path.read_text())
    filled, paths = fill_defaults(config)
    assert problems_in(filled) == []
    for parts in paths:  # the key, or an object above it that was filled too, is absent from the config
        node = config
        for part in parts:
            assert isinstance(node, (dict, list)), parts
            if part not in node if isinstance(node, dict) else part >= len(node):
                break
            node = node[part]
        else:
            raise AssertionError(f"{parts} was in the config already")


CONDITIONAL = {
    "type": "object",
    "properties": {"kind": {"enum": ["a", "b"]}, "flag": {}},
    "allOf": [
        {"if": {"properties": {"kind": {"const": "a"}}, "required": ["kind"]},
         "then": {"properties": {"size": {"default": 1}}}, "else": {"properties": {"size": {"default": 2}}}},
        {"if": {"properties": {"flag": {"const": True}}, "required": ["flag"]},
         "then": {"properties": {"extra": {"default": "on"}}}},
    ],
}


@pytest.mark.parametrize(("config", "filled"), [
    ({"kind": "a"}, {"kind": "a", "size": 1}),
    ({"kind": "b"}, {"kind": "b", "size": 2}),
    ({"kind": "a", "flag": True}, {"kind": "a", "flag": True, "size": 1, "extra": "on"}),
    ({"kind": "a", "flag": 1}, {"kind": "a", "flag": 1, "size": 1}),  # 1 is not the const true
])
def test_if_then_else_branches_apply_by_the_values_they_read(config, filled):
    assert fill_defaults(config, CONDITIONAL)[0] == filled


def test_branch_choices_are_cached_per_deciding_values_not_confused_by_equal_keys():
    walker = SchemaWalker(CONDITIONAL)
    location = walker.location((walker.root,))
    on, one = location.applied({"kind": "a", "flag": True}), location.applied({"kind": "a", "flag": 1})
    assert on is location.applied({"kind": "a", "flag": True, "other": [1]})  # cached: same deciding values
    assert on is not one and "extra" in on.defaults and "extra" not in one.defaults
