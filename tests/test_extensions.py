"""Schema extensions (sat_config/extensions.py): format, merge, broken extensions, validation with extensions."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from support.files import REPO

from sat_config.extension_rules import KEYWORD, failures, holds, render
from sat_config.extensions import (
    Extension,
    ExtensionError,
    check_format,
    discover,
    load_extension,
    merge,
    meta_schema,
)
from sat_config.validation import default_judging, find_problems, load_bundled_schema

TOY = REPO / "tests" / "ext_pkg" / "sat_toy_fork" / "extension.json"
EXAMPLES = sorted((REPO / "examples" / "extensions").glob("*.json"))


def toy() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(TOY.read_text(encoding="utf-8"))
    return data


def write(tmp_path: Path, data: Any, name: str = "ext.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def problems(config: Any, bundle: dict[str, Any]) -> list[Any]:
    return find_problems(config, judging=default_judging()._replace(schema=bundle))


@pytest.fixture(scope="module")
def merged() -> dict[str, Any]:
    return merge(load_bundled_schema(), [load_extension(TOY)])


def dit_config(**dit: Any) -> dict[str, Any]:
    return {
        "model_type": "diffusion_cond", "sample_rate": 44100, "sample_size": 65536, "audio_channels": 2,
        "model": {
            "io_channels": 2,
            "conditioning": {"cond_dim": 64, "configs": [
                {"id": "features", "type": "mlp_projection", "config": {"input_dim": 32}}]},
            "diffusion": {"type": "dit", "cross_attention_cond_ids": ["features"],
                          "config": {"io_channels": 2, "embed_dim": 64, "depth": 1, "num_heads": 2,
                                     "cond_token_dim": 64, **dit}},
        },
    }


def toy_config(**model: Any) -> dict[str, Any]:
    return {"model_type": "toy_mlp", "sample_rate": 44100, "sample_size": 65536,
            "model": {"hidden_dim": 64, **model}}


# -- the format ---------------------------------------------------------------------------------------------------

def test_meta_schema_is_a_valid_schema_and_accepts_every_shipped_extension():
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(meta_schema())
    checker = Draft202012Validator(meta_schema())
    for path in [TOY, *EXAMPLES]:
        assert not list(checker.iter_errors(json.loads(path.read_text(encoding="utf-8")))), path


def test_merge_returns_a_new_bundle_and_leaves_the_input_alone():
    bundle = load_bundled_schema()
    before = json.dumps(bundle, sort_keys=True)
    out = merge(bundle, [load_extension(TOY)])
    assert json.dumps(bundle, sort_keys=True) == before
    assert out is not bundle and out["$defs"] is not bundle["$defs"]
    assert "ToyMlpConfig" in out["$defs"] and "ToyMlpConfig" not in bundle["$defs"]
    assert {"$ref": "#/$defs/ToyMlpConfig"} in out["oneOf"]
    assert {"$ref": "#/$defs/ToyMlpConfig"} in out["$defs"]["ModelConfigRef"]["oneOf"]  # teacher_model too


def test_merge_adds_types_keys_enum_values_and_rules_where_named(merged):
    defs = merged["$defs"]
    assert {"$ref": "#/$defs/MlpProjectionConditionerConfig"} in defs["ConditionerConfig"]["oneOf"]
    assert {"$ref": "#/$defs/ToyMambaLmConfig"} in defs["LmBackboneConfig"]["oneOf"]
    assert defs["DiTConfig"]["properties"]["gated"]["type"] == "boolean"
    assert defs["TransformerAttentionKwargs"]["properties"]["qk_norm"]["enum"][-1] == "rms"
    assert [r["id"] for r in defs["ToyMlpParams"][KEYWORD]] == ["toy-fork.heads_divide_width", "toy-fork.deep_relu"]


def test_extension_schemas_get_the_editor_annotations_of_built_in_ones(merged):
    defs = merged["$defs"]
    tag = defs["MlpProjectionConditionerConfig"]["properties"]["type"]
    assert tag["markdownDescription"].endswith("`mlp_projection`: " + defs["MlpProjectionConditionerConfig"][
        "description"])
    activation = defs["ToyMlpParams"]["properties"]["activation"]
    assert activation["enumDescriptions"] == ["Gaussian error linear unit", "sigmoid linear unit (swish)",
                                              "rectified linear unit"]
    qk_norm = defs["TransformerAttentionKwargs"]["properties"]["qk_norm"]
    assert len(qk_norm.get("enumDescriptions", qk_norm["enum"])) == len(qk_norm["enum"])


def test_the_same_extension_twice_is_merged_once():
    ext = load_extension(TOY)
    once = merge(load_bundled_schema(), [ext])
    twice = merge(load_bundled_schema(), [ext, load_extension(TOY)])
    assert json.dumps(once, sort_keys=True) == json.dumps(twice, sort_keys=True)


# -- broken extensions: each is reported with the file, the JSON path and what is wrong --------------------------

BROKEN = [
    # (id, edit of the toy extension, JSON path, words of the message)
    ("not-json", "{", "$", "not JSON"),
    ("format", lambda d: d.update(colour="blue"), "$", "Additional properties"),
    ("name", lambda d: d.update(name="Toy Fork"), "$.name", "does not match"),
    ("invalid-schema", lambda d: d["$defs"]["ToyMlpParams"]["properties"]["depth"].update(type="int"),
     "$['$defs'].ToyMlpParams.properties.depth.type", "not a valid JSON Schema"),
    ("external-ref", lambda d: d["$defs"]["ToyMlpParams"]["properties"]["depth"].update(
        {"$ref": "other.json#/x"}), "$['$defs'].ToyMlpParams.properties.depth['$ref']", "must be '#/$defs/<name>'"),
    ("dangling-ref", lambda d: d["$defs"]["ToyMlpParams"]["properties"]["depth"].update(
        {"$ref": "#/$defs/ConditionerOutputDims"}), "$['$defs'].ToyMlpParams.properties.depth['$ref']",
     "did you mean '#/$defs/ConditionerOutputDim'"),
    ("builtin-def", lambda d: d["$defs"].update(DiTConfig={"type": "object"}), "$['$defs'].DiTConfig",
     "collides with the built-in schema"),
    ("builtin-tag", lambda d: d["types"]["ConditionerConfig"]["MlpProjectionConditionerConfig"]["properties"][
        "type"].update(const="t5"), "$.types.ConditionerConfig.MlpProjectionConditionerConfig.properties.type.const",
     "collides with the built-in type T5ConditionerConfig"),
    ("no-tag", lambda d: d["types"]["ConditionerConfig"]["MlpProjectionConditionerConfig"]["properties"].pop("type"),
     "$.types.ConditionerConfig.MlpProjectionConditionerConfig.properties", "needs its tag"),
    ("unknown-union", lambda d: d["types"].update(ConditionersConfig=d["types"].pop("ConditionerConfig")),
     "$.types.ConditionersConfig", "did you mean 'ConditionerConfig'"),
    ("not-a-union", lambda d: d["types"].update(DiTConfig=d["types"].pop("ConditionerConfig")),
     "$.types.DiTConfig", "not a tagged union"),
    ("no-factory", lambda d: d["types"]["ModelConfig"]["ToyMlpConfig"].pop("x-factory"),
     "$.types.ModelConfig.ToyMlpConfig", "needs 'x-factory'"),
    ("builtin-key", lambda d: d["keys"]["DiTConfig"].update(depth={"type": "integer"}), "$.keys.DiTConfig.depth",
     "put it under 'replace'"),
    ("replace-missing", lambda d: d.update(replace={"DiTConfig": {"dept": {"type": "integer"}}}),
     "$.replace.DiTConfig.dept", "did you mean 'depth'"),
    ("unknown-key-step", lambda d: d["keys"].update({"DiffusionCondModelConfig.difusion": {"x": {}}}),
     "$.keys['DiffusionCondModelConfig.difusion']", "did you mean 'diffusion'"),
    ("object-through-ref", lambda d: d["keys"].update({"DiffusionCondModelConfig.conditioning": {"x": {}}}),
     "$.keys['DiffusionCondModelConfig.conditioning']", "it refers to ConditioningConfig"),
    ("builtin-enum-value", lambda d: d["enums"]["TransformerAttentionKwargs.qk_norm"][0].update(value="l2"),
     "$.enums['TransformerAttentionKwargs.qk_norm'][0].value", "already a built-in value"),
    ("not-an-enum", lambda d: d["enums"].update({"DiTConfig": [{"value": 1, "description": "x"}]}),
     "$.enums.DiTConfig", "not an enum"),
    ("builtin-rule-id", lambda d: d["rules"]["ToyMlpParams"][0].update(id="conditioning.unique_ids"),
     "$.rules.ToyMlpParams[0].id", "built-in rule's id"),
    ("bad-rule-op", lambda d: d["rules"]["ToyMlpParams"][0]["require"][0].update(op="~="),
     "$.rules.ToyMlpParams[0].require[0].op", "is not one of"),
    ("title", lambda d: d["$defs"]["ToyMlpParams"].update(title="Params"), "$['$defs'].ToyMlpParams.title",
     "must be the schema's name"),
    ("tag-not-a-string", lambda d: d["types"]["ConditionerConfig"]["MlpProjectionConditionerConfig"]["properties"][
        "type"].update(const=["mlp"]), "$.types.ConditionerConfig.MlpProjectionConditionerConfig.properties.type.const",
     "a tag is a non-empty string"),
    ("boolean-step", lambda d: (d["$defs"]["ToyMlpParams"]["properties"].update(free=True),
                                d["keys"].update({"ToyMlpParams.free": {"x": {}}})),
     "$.keys['ToyMlpParams.free']", "not a schema object"),
]


@pytest.mark.parametrize("edit, path, words", [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_a_broken_extension_is_reported_with_file_path_and_reason(tmp_path, edit, path, words):
    data = toy()
    if callable(edit):
        edit(data)
    file = write(tmp_path, edit if isinstance(edit, str) else data)
    with pytest.raises(ExtensionError) as caught:
        merge(load_bundled_schema(), [load_extension(file)])
    assert caught.value.source == str(file)
    assert caught.value.path == path, str(caught.value)
    assert words in caught.value.problem, str(caught.value)
    assert str(caught.value).startswith(f"{file}: {path}: ")


def test_two_extensions_that_disagree_are_an_error(tmp_path):
    first = toy()
    second = {"name": "other-fork", "types": {"ConditionerConfig": {"OtherConditionerConfig": copy.deepcopy(
        first["types"]["ConditionerConfig"]["MlpProjectionConditionerConfig"])}}}
    second["types"]["ConditionerConfig"]["OtherConditionerConfig"]["description"] = "Another meaning."
    other = write(tmp_path, second, "other.json")
    with pytest.raises(ExtensionError, match="also added by extension 'toy-fork'.*disagree"):
        merge(load_bundled_schema(), [load_extension(TOY), load_extension(other)])
    replacing = write(tmp_path, {"name": "replacing-fork", "replace": {"DiTConfig": {"gated": {"type": "integer"}}}},
                      "replacing.json")
    with pytest.raises(ExtensionError, match="extension 'toy-fork' .* adds: the two extensions disagree"):
        merge(load_bundled_schema(), [load_extension(TOY), load_extension(replacing)])
    renamed = dict(toy(), description="changed")
    with pytest.raises(ExtensionError, match="extension 'toy-fork' is also"):
        discover([TOY, write(tmp_path, renamed, "same-name.json")], env={})


def test_a_missing_extension_file_is_an_error_not_a_crash(tmp_path):
    with pytest.raises(ExtensionError, match="cannot read the extension"):
        discover([tmp_path / "absent.json"], env={})


def test_discover_reads_paths_then_the_environment_variable_once_each(tmp_path):
    other = write(tmp_path, {"name": "empty-fork"}, "empty.json")
    found = discover([TOY], env={"SAT_CONFIG_EXTENSIONS": f"{other}{__import__('os').pathsep}{TOY}"})
    assert [(e.name, e.origin) for e in found[:2]] == [("toy-fork", "--extension"),
                                                         ("empty-fork", "SAT_CONFIG_EXTENSIONS")]
    assert all(isinstance(e, Extension) for e in found)


# -- validation with an extension ---------------------------------------------------------------------------------

def test_extension_types_keys_and_values_validate(merged):
    assert problems(toy_config(), merged) == []
    assert problems(dit_config(gated=True, attn_kwargs={"qk_norm": "rms"}), merged) == []


def test_without_the_extension_the_same_config_is_rejected():
    kinds = {(p.path, p.kind) for p in problems(dit_config(gated=True, attn_kwargs={"qk_norm": "rms"}),
                                                   load_bundled_schema())}
    assert {("$.model.conditioning.configs[0].type", "unknown_tag"),
            ("$.model.diffusion.config.gated", "unknown_key"),
            ("$.model.diffusion.config.attn_kwargs.qk_norm", "enum")} <= kinds


TYPOS = [
    # (config, path, kind, suggestion)
    (toy_config(activaton="relu"), "$.model.activaton", "unknown_key", "activation"),
    (dict(toy_config(), model_type="toy_mpl"), "$.model_type", "unknown_tag", "toy_mlp"),
    (dit_config(gatd=True), "$.model.diffusion.config.gatd", "unknown_key", "gated"),
    (dit_config(attn_kwargs={"qk_norm": "rsm"}), "$.model.diffusion.config.attn_kwargs.qk_norm", "enum", "rms"),
]


@pytest.mark.parametrize("config, path, kind, suggestion", TYPOS, ids=[t[1] for t in TYPOS])
def test_typos_in_the_extensions_own_names_get_a_did_you_mean(merged, config, path, kind, suggestion):
    found = [(p.path, p.kind, p.suggestion) for p in problems(config, merged)]
    assert (path, kind, suggestion) in found


def test_an_unknown_tag_lists_built_in_and_extension_tags(merged):
    config = dit_config()
    config["model"]["conditioning"]["configs"][0]["type"] = "mlp_projecton"
    [problem] = problems(config, merged)
    assert problem.kind == "unknown_tag" and problem.suggestion == "mlp_projection"
    assert "'t5'" in problem.message and "'mlp_projection'" in problem.message


def test_extension_rules_report_errors_and_warnings(merged):
    found = {(p.path, p.kind, p.severity): p.message for p in problems(toy_config(num_heads=5), merged)}
    assert found == {("$.model.num_heads", "cross_field", "error"): "hidden_dim (64) must be a multiple of "
                                                                      "num_heads (5)"}
    found = {(p.path, p.severity) for p in problems(toy_config(activation="relu", depth=9), merged)}
    assert found == {("$.model.depth", "warning")}
    assert problems(toy_config(activation="relu", depth=8), merged) == []


# -- declarative rules --------------------------------------------------------------------------------------------

CONDITIONS = [
    # (condition, instance, result: True, False or None when it does not apply)
    ({"path": ["a"], "op": "==", "value": 1}, {"a": 1}, True),
    ({"path": ["a"], "op": "!=", "value": 1}, {"a": 1}, False),
    ({"path": ["a"], "op": "<", "to": ["b"]}, {"a": 1, "b": 2}, True),
    ({"path": ["a"], "op": ">=", "value": 2}, {"a": "x"}, None),
    ({"path": ["a"], "op": ">", "value": 0}, {"a": True}, None),
    ({"path": ["a"], "op": "==", "value": 3}, {}, None),
    ({"path": ["a"], "op": "==", "value": 3, "default": 3}, {}, True),
    ({"path": ["a"], "op": "present"}, {"a": None}, True),
    ({"path": ["a"], "op": "absent"}, {"a": None}, False),
    ({"path": ["a", 1], "op": "in", "value": ["x", "y"]}, {"a": ["q", "y"]}, True),
    ({"path": ["a"], "op": "not_in", "to": ["b"]}, {"a": "x", "b": ["x"]}, False),
    ({"path": ["a"], "op": "multiple_of", "value": 0}, {"a": 4}, None),
    ({"path": ["a"], "op": "divides", "to": ["b"]}, {"a": 4, "b": 12}, True),
    ({"path": ["a"], "op": "==", "of": "length", "value": 2}, {"a": [1, 2]}, True),
]


@pytest.mark.parametrize("condition, instance, result", CONDITIONS)
def test_conditions(condition, instance, result):
    assert holds(condition, instance) is result


def test_rule_messages_fill_in_the_values_at_their_paths():
    assert render("{a.b} and {c.0} but {d}", {"a": {"b": "x"}, "c": [2]}) == '"x" and 2 but absent'
    rule = {"id": "r", "when": [{"path": ["k"], "op": "present"}], "require": [{"path": ["k"], "op": ">", "value": 1}],
            "at": ["k"], "message": "k is {k}"}
    assert list(failures([rule], {"k": 0})) == [(("k",), "k is 0", "error")]
    assert list(failures([rule], {})) == [] and list(failures([rule], [1])) == []


def test_inline_unions_and_enums_of_their_own_section_are_named_by_section_and_key(tmp_path):
    backbone = {
        "type": "object", "description": "A multimodal DiT backbone.",
        "properties": {"type": {"const": "mmdit", "description": "Selects the MMDiT backbone."},
                       "config": {"type": "object", "description": "Its keyword arguments.",
                                  "properties": {"depth": {"type": "integer", "minimum": 1, "description": "Blocks."}},
                                  "required": ["depth"], "additionalProperties": False},
                       "cross_attention_cond_ids": {"$ref": "#/$defs/CrossAttentionCondIds"}},
        "required": ["type", "config"], "additionalProperties": False}
    data = {"name": "mmdit-fork", "types": {"DiffusionCondModelConfig.diffusion": {"MmditBackbone": backbone}},
            "enums": {"DitTransformerType": [{"value": "mm_transformer", "description": "The fork's MM block."}]}}
    merged = merge(load_bundled_schema(), [load_extension(write(tmp_path, data))])
    config = dit_config(transformer_type="mm_transformer")
    config["model"]["conditioning"]["configs"][0] = {"id": "features", "type": "number", "config": {}}
    assert [(p.path, p.kind) for p in problems(config, merged)] == []
    config["model"]["diffusion"] = {"type": "mmdit", "config": {"depth": 2}}
    assert problems(config, merged) == []
    config["model"]["diffusion"] = {"type": "mmdi", "config": {"depth": 2}}
    assert [(p.kind, p.suggestion) for p in problems(config, merged)] == [("unknown_tag", "mmdit")]


def _mutants(node: Any, path: tuple[Any, ...] = ()) -> Any:
    """(path, replacement) for every value of an extension: wrong types, a dangling reference, deletion."""
    if path:
        for value in (None, 1, "x", [], {}, True, {"$ref": "#/$defs/Nope"}, "ModelConfig", _DELETE):
            yield path, value
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from _mutants(child, (*path, key))


_DELETE = object()


def test_no_edit_of_an_extension_crashes_it_is_merged_or_reported():
    base, bundle = toy(), load_bundled_schema()
    outcomes = {"merged": 0, "reported": 0}
    for path, value in _mutants(base):
        data = copy.deepcopy(base)
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        if value is _DELETE:
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
        file = json.dumps(data)
        try:
            check_format(json.loads(file), "mutant.json")
            merge(bundle, [Extension(str(data.get("name")), "mutant.json", "test", data)])
            outcomes["merged"] += 1
        except ExtensionError:
            outcomes["reported"] += 1
    assert outcomes["reported"] > 1000 and outcomes["merged"] > 100, outcomes


def test_open_world_leaves_unknown_types_unchecked_and_still_checks_extension_types(merged):
    judging = default_judging()._replace(schema=merged, unknown_types="warn")
    config = dit_config(gated=True)
    config["model"]["conditioning"]["configs"].append({"id": "video", "type": "video_sync", "config": {"x": 1}})
    config["model"]["conditioning"]["configs"][0]["config"]["input_dimm"] = 3
    found = {(p.path, p.kind, p.severity) for p in find_problems(config, judging=judging)}
    assert ("$.model.conditioning.configs[1].type", "unchecked", "warning") in found
    assert ("$.model.conditioning.configs[0].config.input_dimm", "unknown_key", "error") in found
