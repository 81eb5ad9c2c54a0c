"""The bundled schema in a real editor engine: VS Code's JSON language service (vscode-json-languageservice).

Every positive config gets no diagnostic at all; every problem of a negative case that JSON Schema can express
gets an error on the offending key's range; completions offer the tags, their descriptions and the snippets.
The schema's editor annotations (generator/editor.py) are checked against the schema files here too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from editor_engine import (  # noqa: F401  (editor_fixture: the `editor` fixture)
    FILE_MATCH,
    SCHEMA,
    editor_fixture,
    schema_at,
    write_config,
)
from support.edits import paths_in
from support.files import EXAMPLES, REPO, UPSTREAM, case_config, case_files, load_json

from generator.bundle import bundle_schemas
from generator.editor import enrich, schema_nodes, unsupported_message
from sat_config import problems_in
from sat_config.schemawalk import SchemaWalker

BUNDLE = load_json(SCHEMA)
# Problem kinds JSON Schema cannot express: the editor is expected to stay silent (cross_field) or to warn
# (unsupported: a deprecation warning, since the config is valid JSON Schema-wise).
NOT_EXPRESSIBLE = {"cross_field", "unsupported"}
# Kinds whose path names a missing key: the editor marks the object (or its key) that lacks it.
MISSING = {"required"}


def editor_location(problem: Any) -> list[Any]:
    """Where the editor puts the diagnostic for one of our problems (JSON path of the innermost property)."""
    return list(problem.parts[:-1] if problem.kind in MISSING else problem.parts)


def negative_configs() -> dict[str, Any]:
    return {path.stem: case_config(load_json(path)) for path in case_files("negative")}


def positive_configs() -> dict[str, Any]:
    return {path.stem: case_config(load_json(path)) for path in case_files("positive")}


def test_bundle_uses_only_what_vscode_supports():
    text = json.dumps(BUNDLE)
    for keyword in ("$dynamicRef", "$dynamicAnchor", "$recursiveRef", "$recursiveAnchor", '"$id"'):
        assert keyword not in text, keyword
    refs = re.findall(r'"\$ref": "([^"]*)"', text)
    assert refs and all(ref == "#" or ref.startswith("#/$defs/") for ref in refs)
    assert BUNDLE["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_annotations_are_derived_from_the_schema_files():
    for _, node in schema_nodes(BUNDLE):
        if isinstance(node.get("description"), str):
            assert isinstance(node["markdownDescription"], str)
        if "x-unsupported" in node:  # on the tag, or on `type` if present else on the object (annotations only)
            message = unsupported_message(node["x-unsupported"])
            tag = node.get("properties", {}).get("type", {})
            conditional = node.get("allOf", [{}])[-1]
            assert tag.get("deprecationMessage") == message or conditional == {
                "if": {"required": ["type"]}, "then": {"properties": {"type": {"deprecationMessage": message}}},
                "else": {"deprecationMessage": message}}
        if "x-enumDescriptions" in node:
            assert len(node["enumDescriptions"]) == len(node["enum"])


def test_enrichment_of_enums_tags_and_unsupported_types():
    schema = {
        "title": "Root", "type": "object", "discriminator": {"propertyName": "type"},
        "oneOf": [{"$ref": "#/$defs/A"}, {"$ref": "#/$defs/B"}],
        "$defs": {
            "A": {"description": "Builds an A.", "properties": {"type": {"const": "a", "description": "Which."},
                  "mode": {"enum": ["x", 2], "x-enumDescriptions": {"x": "the x mode", "2": "two"}}}},
            "B": {"x-unsupported": {"what": "type 'b'", "reason": "broken upstream"},
                  "properties": {"type": {"const": "b"}}},
        },
    }
    out = enrich(schema)
    a, b = out["$defs"]["A"]["properties"], out["$defs"]["B"]
    assert a["type"]["markdownDescription"] == "Which.\n\n`a`: Builds an A."
    assert a["mode"]["enumDescriptions"] == a["mode"]["markdownEnumDescriptions"] == ["the x mode", "two"]
    assert b["properties"]["type"]["deprecationMessage"] == (
        "type 'b' cannot be built by stable-audio-tools: broken upstream")
    assert out["$defs"]["A"]["markdownDescription"] == "Builds an A."
    assert "markdownDescription" not in schema["$defs"]["A"]  # the input is left alone


def test_unsupported_objects_without_a_tag_warn_on_type_if_present_else_on_the_object():
    from jsonschema import Draft202012Validator

    spec = {"what": "this section", "reason": "nothing reads it"}
    out = enrich({"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": False,
                  "x-unsupported": spec})
    message = unsupported_message(spec)
    assert out["allOf"] == [{"if": {"required": ["type"]},
                             "then": {"properties": {"type": {"deprecationMessage": message}}},
                             "else": {"deprecationMessage": message}}]
    validator = Draft202012Validator(out)  # the annotations change no verdict: `type` stays an unknown key
    assert validator.is_valid({"a": 1}) and not validator.is_valid({"a": 1, "type": "x"})


def test_enum_descriptions_must_cover_the_enum_exactly():
    from generator.bundle import BundleError

    with pytest.raises(BundleError, match="undescribed: \\['y'\\]"):
        enrich({"enum": ["x", "y"], "x-enumDescriptions": {"x": "..."}})
    with pytest.raises(BundleError, match="not in the enum: \\['z'\\]"):
        enrich({"enum": ["x"], "x-enumDescriptions": {"x": "...", "z": "..."}})


def test_generated_schema_is_the_enriched_bundle():
    fresh = enrich(bundle_schemas(REPO / "schemas"))
    assert {k: v for k, v in BUNDLE.items() if k != "$comment"} == fresh


def test_every_positive_config_has_no_diagnostics(editor, tmp_path):
    written = [write_config(tmp_path, name, config) for name, config in positive_configs().items()]
    files = list(EXAMPLES) + written  # examples are bound by their own "$schema", the others by fileMatch
    results = editor.diagnostics(files)
    for path in files:
        entry = results[str(path)]
        assert entry["schemas"] == [SCHEMA.as_uri()], path
        assert entry["diagnostics"] == [], path


def _at(diagnostics: list[dict[str, Any]], location: list[Any], severity: str) -> list[dict[str, Any]]:
    return [d for d in diagnostics if d["path"] == location and d["severity"] == severity]


@pytest.fixture(scope="module")
def negatives(editor, tmp_path_factory) -> dict[str, tuple[list[Any], dict[str, Any]]]:
    """case name -> (our problems, the editor's answer)."""
    directory = tmp_path_factory.mktemp("negative")
    configs = negative_configs()
    paths = {name: write_config(directory, name, config) for name, config in configs.items()}
    results = editor.diagnostics(paths.values())
    return {name: (problems_in(configs[name]), results[str(paths[name])]) for name in configs}


@pytest.mark.parametrize("name", sorted(p.stem for p in case_files("negative")))
def test_negative_case_has_a_diagnostic_on_each_offending_key(negatives, name):
    problems, entry = negatives[name]
    assert entry["schemas"] == [SCHEMA.as_uri()]
    diagnostics = entry["diagnostics"]
    for problem in problems:
        if problem.kind == "unsupported":
            warnings = _at(diagnostics, editor_location(problem), "warning")
            assert [w["message"] for w in warnings] == [problem.message], problem.render()
        elif problem.kind not in NOT_EXPRESSIBLE:
            assert _at(diagnostics, editor_location(problem), "error"), (problem.render(), diagnostics)
    if all(p.kind == "cross_field" for p in problems):
        assert [d for d in diagnostics if d["severity"] == "error"] == []


def test_negative_cases_cover_typo_key_wrong_tag_wrong_type_and_out_of_range(negatives):
    kinds = {p.kind for problems, _ in negatives.values() for p in problems}
    assert {"unknown_key", "unknown_tag", "type", "range"} <= kinds


def _offset_position(path: Path, text: str, offset: int) -> dict[str, Any]:
    """A completion request at ``offset`` of ``text`` (the content of ``path``)."""
    line = text.count("\n", 0, offset)
    return {"file": path, "line": line, "character": offset - (text.rfind("\n", 0, offset) + 1)}


def _position(path: Path, needle: str) -> dict[str, Any]:
    """A completion request just after the first occurrence of ``needle`` in a file."""
    text = path.read_text(encoding="utf-8")
    return _offset_position(path, text, text.index(needle) + len(needle))


def test_model_type_completion_lists_every_tag_with_what_it_builds(editor, tmp_path):
    path = tmp_path / "model_configs" / "new.json"
    path.parent.mkdir()
    path.write_text('{\n  "model_type": \n}\n')
    items = editor.run(complete=[_position(path, '"model_type": ')])["completions"][0]["items"]
    offered = {item["label"].strip('"'): item["documentation"] for item in items}
    branches = [BUNDLE["$defs"][b["$ref"].rsplit("/", 1)[1]] for b in BUNDLE["oneOf"]]
    for branch in branches:
        tag = branch["properties"]["model_type"]["const"]
        assert tag in offered
        assert branch["description"] in offered[tag]


def _readme_blocks(language: str) -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def test_readme_editor_snippets_are_what_is_tested():
    blocks = [json.loads(b) for b in _readme_blocks("json")]
    vscode = next(b["json.schemas"][0] for b in blocks if "json.schemas" in b)
    assert vscode["fileMatch"] == FILE_MATCH
    yaml_patterns = next(b["yaml.schemas"] for b in blocks if "yaml.schemas" in b)
    assert list(yaml_patterns.values()) == [[p.replace(".json", ".yaml") for p in FILE_MATCH]]
    assert any(set(b) == {"$schema", "model_type"} for b in blocks)
    modeline = next(b for b in _readme_blocks("yaml") if "yaml-language-server" in b).splitlines()[0]
    assert re.fullmatch(r"# yaml-language-server: \$schema=\S+", modeline)


SNIPPETS = [(pointer, node) for pointer, node in schema_nodes(BUNDLE) if "defaultSnippets" in node]


def test_every_snippet_is_a_complete_valid_component():
    from sat_config.validation import validator

    assert SNIPPETS
    for pointer, node in SNIPPETS:
        branch = validator().evolve(schema={"$ref": "urn:sat-config:schema" + pointer})
        for snippet in node["defaultSnippets"]:
            assert set(snippet) == {"label", "description", "body"}, pointer
            errors = [f"{list(e.absolute_path)}: {e.message}" for e in branch.iter_errors(snippet["body"])]
            assert not errors, (pointer, snippet["label"], errors)


def test_every_default_an_editor_offers_is_valid_where_it_goes():
    """Completion offers each ``default`` as a value: inserting it must not create a problem."""
    from sat_config.validation import validator

    checked = 0
    for pointer, node in schema_nodes(BUNDLE):
        if "default" in node:
            schema = validator().evolve(schema={"$ref": "urn:sat-config:schema" + pointer})
            assert not list(schema.iter_errors(node["default"])), (pointer, node["default"])
            checked += 1
    assert checked


def _offered(walker: SchemaWalker, nodes: Any, seen: set[int] | None = None) -> set[str]:
    """Labels of the snippets an editor offers for a value of the schema objects ``nodes`` (every union branch)."""
    seen = set() if seen is None else seen
    labels: set[str] = set()
    for part in (flat for node in nodes for flat in walker.flatten(node)):
        if id(part) in seen:
            continue
        seen.add(id(part))
        labels |= {s["label"] for s in part.get("defaultSnippets", [])}
        labels |= _offered(walker, [*part.get("oneOf", []), *part.get("anyOf", [])], seen)
    return labels


def test_completion_offers_every_snippet_where_its_component_goes(editor, tmp_path):
    """Empty each value of the example configs in turn: completing there offers the snippets of its schema."""
    walker = SchemaWalker(BUNDLE)
    requests, expected = [], []
    for example in EXAMPLES + UPSTREAM:
        config = load_json(example)
        config.pop("$schema", None)
        for path in (parts for parts, _ in paths_in(config) if parts):
            labels = _offered(walker, walker.children(schema_at(walker, config, path[:-1]), path[-1]))
            if not labels:
                continue
            edited = json.loads(json.dumps(config))
            target = edited
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = "__complete_here__"
            text = json.dumps(edited, indent=2)
            offset = text.index('"__complete_here__"')
            file = tmp_path / "model_configs" / f"{example.stem}-{len(requests)}.json"
            file.parent.mkdir(exist_ok=True)
            file.write_text(text.replace('"__complete_here__"', ""), encoding="utf-8")
            requests.append(_offset_position(file, text, offset))
            expected.append((example.stem, path, labels))
    answers = editor.run(complete=requests)["completions"]
    covered = set()
    for (name, path, labels), answer in zip(expected, answers, strict=True):
        offered = {item["label"] for item in answer["items"]}
        assert labels <= offered, (name, path, labels - offered)
        covered |= labels
    declared = {s["label"] for _, node in SNIPPETS for s in node["defaultSnippets"]}
    assert declared <= covered, f"snippets no example reaches: {declared - covered}"


def test_enum_completion_shows_each_value_with_its_description(editor, tmp_path):
    config = load_json(REPO / "examples" / "diffusion_cond_tiny_dit.json")
    config.pop("$schema")
    config["model"]["diffusion"]["config"]["global_cond_type"] = "__complete_here__"
    text = json.dumps(config, indent=2)
    path = tmp_path / "model_configs" / "enum.json"
    path.parent.mkdir()
    path.write_text(text.replace('"__complete_here__"', ""), encoding="utf-8")
    request = _offset_position(path, text, text.index('"__complete_here__"'))
    items = editor.run(complete=[request])["completions"][0]["items"]
    offered = {item["label"].strip('"'): item["documentation"] for item in items}
    enum = BUNDLE["$defs"]["DitGlobalCondType"]
    assert enum["x-enumDescriptions"]
    assert offered == dict(zip(enum["enum"], enum["markdownEnumDescriptions"], strict=True))


@pytest.mark.parametrize(("schema", "component"), [
    ("OobleckEncoderConfig", {"type": "oobleck"}),
    ("VaeBottleneckConfig", {"type": "vae"}),
    ("DiffusionCondDitBackbone", {"type": "dit"}),
    ("T5ConditionerConfig", {"type": "t5"}),
    ("NumberConditionerConfig", {"type": "number"}),
    ("TrainingOptimizerConfig", {"optimizer": {"type": "AdamW"}}),
])
def test_snippets_for_the_common_components(schema, component):
    def matches(body: Any, want: Any) -> bool:
        if isinstance(want, dict):
            return isinstance(body, dict) and all(matches(body.get(k), v) for k, v in want.items())
        return bool(body == want)

    assert any(matches(s["body"], component) for s in BUNDLE["$defs"][schema]["defaultSnippets"])
