"""The schemas ``make gen`` writes: ``generated/schema.json`` (the editor schema: annotations for hovers,
completions and snippets) and ``generated/validation.json`` (what the validators compile: the same schema without
editor annotations, integers marked strict). Read without importlib.resources (whose import alone costs more than
parsing a schema)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from .generated import __file__ as _generated_init
from .schemawalk import SCHEMA_LISTS, SCHEMA_MAPS, SCHEMA_SINGLE, subschemas

GENERATED = Path(_generated_init).resolve().parent
SCHEMA_FILE = GENERATED / "schema.json"
VALIDATION_FILE = GENERATED / "validation.json"

# Keywords only editors read (generator/editor.py derives most of them); validation never looks at them.
EDITOR_ANNOTATIONS = frozenset({"description", "markdownDescription", "defaultSnippets", "examples", "$comment",
                                "x-enumDescriptions", "enumDescriptions", "markdownEnumDescriptions",
                                "deprecationMessage"})
# Beside every "type" that allows integers and not numbers in general: jsonschema-rs counts 2.0 as an integer, as
# JSON Schema does, and upstream's constructors do not (nn.Conv1d(2.0, ...) raises TypeError).
STRICT_INT = "x-strict-integer"
INTEGER_PLACES = "x-integer-places"  # ``integer_places``, written by make gen at the root of validation.json


def _load(path: Path) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def load_bundled_schema() -> dict[str, Any]:
    """A fresh copy of the editor schema (the caller may change it)."""
    return _load(SCHEMA_FILE)


@cache
def bundled_schema() -> dict[str, Any]:
    """The editor schema, parsed once per process: shared, never to be changed."""
    return _load(SCHEMA_FILE)


@cache
def shared_validation_schema() -> dict[str, Any]:
    """The validation schema (``validation_schema`` of the bundle, written by ``make gen``), parsed once per
    process: shared, never to be changed."""
    return _load(VALIDATION_FILE)


def validation_schema(schema: Any) -> Any:
    """A copy of ``schema`` for the validators: editor annotations dropped from every schema object,
    ``x-strict-integer`` beside every ``"type"`` that allows integers (and not numbers in general), and beside
    every ``x-unsupported`` an ``allOf`` member naming its gate, ``$defs/x-unsupported-<n>``: an always-true
    ``{"x-gate": {"when": ..., "on_object": ...}}`` here, which the compiled engine replaces by what the
    environment it judges for makes of it (``sat_config.validation``)."""
    gates: list[dict[str, Any]] = []
    out = _for_validators(schema, gates)
    if gates:
        out["$defs"] = {**out.get("$defs", {}), **{f"{GATE}-{n}": gate for n, gate in enumerate(gates)}}
    return out


def integer_places(schema: dict[str, Any]) -> dict[str, Any]:
    """Where a value of a config can meet ``x-strict-integer`` in ``schema`` (a validation schema): the property
    names whose schema can demand an integer, whether some other member of an object can (additional or pattern
    properties), and whether a list item can. A config writing 2.0 elsewhere is judged alike with strict integers
    and without (``Engine.valid`` skips the strict check for it)."""
    defs = schema.get("$defs", {})
    verdicts: dict[int, bool] = {}

    def demands(node: Any) -> bool:
        """Whether ``node``, or a schema object applying to the same value through it, carries the keyword."""
        if not isinstance(node, dict):
            return False
        known = verdicts.get(id(node))
        if known is not None:
            return known
        verdicts[id(node)] = False  # applicators that lead back to themselves would never finish validating
        ref = node.get("$ref")
        target = schema if ref == "#" else defs.get(ref[len("#/$defs/"):]) if isinstance(ref, str) and \
            ref.startswith("#/$defs/") else None
        found = (STRICT_INT in node or (isinstance(ref, str) and (target is None or demands(target)))
                 or any(demands(sub) for key in ("allOf", "anyOf", "oneOf") for sub in node.get(key, ()))
                 or any(demands(node.get(key)) for key in ("if", "then", "else", "not")))
        verdicts[id(node)] = found
        return found

    names: set[str] = set()
    any_name = items = False
    for _, node in subschemas(schema):
        names.update(name for name, sub in node.get("properties", {}).items() if demands(sub))
        any_name = any_name or any(demands(node.get(key)) for key in ("additionalProperties", "unevaluatedProperties"))
        any_name = any_name or any(demands(sub) for sub in node.get("patternProperties", {}).values())
        items = items or any(demands(node.get(key)) for key in ("items", "contains", "unevaluatedItems"))
        items = items or any(demands(sub) for sub in node.get("prefixItems", ()))
    return {"names": sorted(names), "any_name": any_name, "items": items}


GATE = "x-unsupported"


def on_objects(schema: dict[str, Any]) -> bool:
    """Whether an ``x-unsupported`` speaks of objects (a type: a non-object is reported by "type") rather than of a
    key's value of another type."""
    return schema.get("type", "object") == "object"


def _for_validators(schema: Any, gates: list[dict[str, Any]]) -> Any:
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in EDITOR_ANNOTATIONS:
            continue
        if key in SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _for_validators(sub, gates) for name, sub in value.items()}
        elif key in SCHEMA_LISTS and isinstance(value, list):
            out[key] = [_for_validators(sub, gates) for sub in value]
        elif key in SCHEMA_SINGLE:
            out[key] = _for_validators(value, gates)
        else:
            out[key] = value  # a value (const, default, enum, x-...), not a schema: kept as written
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    if "integer" in types and "number" not in types:
        out[STRICT_INT] = True
    if isinstance(schema.get(GATE), dict):
        out["allOf"] = [*out.get("allOf", []), {"$ref": f"#/$defs/{GATE}-{len(gates)}"}]
        gates.append({"x-gate": {"when": schema[GATE].get("when"), "on_object": on_objects(schema)}})
    return out
