"""Editor annotations derived from the hand-written schemas when they are bundled.

VS Code's JSON language service (and the YAML language server built on it) reads a few non-standard keywords.
They are derived here, so the schema files only declare each fact once:

- ``markdownDescription`` from ``description`` (rendered as markdown in hovers and completions);
- on the tag of each branch of a discriminated ``oneOf``: a ``markdownDescription`` naming what that tag builds,
  so completing ``"type": `` lists every tag with its own explanation;
- ``enumDescriptions`` / ``markdownEnumDescriptions`` from ``x-enumDescriptions`` (an object mapping each enum
  value -- its JSON text when it is not a string -- to a description; every value must be described);
- ``deprecationMessage`` from ``x-unsupported``, with the same text as the validator's ``unsupported`` problem,
  where the validator blames it: on the object's ``type`` when it has one, else on the object itself.

``defaultSnippets`` are written by hand in the schema files (each is tested to validate against its branch).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

from sat_config import schemawalk
from sat_config.targets import unsupported_message

from .bundle import BundleError


def schema_nodes(node: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(JSON pointer, schema object) for ``node`` and every subschema in it (``sat_config.schemawalk``'s walk)."""
    return ((schemawalk.pointer(parts), sub) for parts, sub in schemawalk.subschemas(node))


def resolve(bundle: dict[str, Any], node: Any) -> Any:
    """``node`` with its internal ``$ref``s followed."""
    seen = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"] not in seen:
        seen.add(node["$ref"])
        ref = node["$ref"]
        node = bundle if ref == "#" else bundle["$defs"].get(ref.removeprefix("#/$defs/"), {})
    return node


def enum_key(value: Any) -> str:
    """How ``x-enumDescriptions`` names an enum value: the string itself, else its JSON text."""
    return value if isinstance(value, str) else json.dumps(value)


def _enum_descriptions(pointer: str, node: dict[str, Any]) -> None:
    described = node["x-enumDescriptions"]
    values = node.get("enum")
    if not isinstance(values, list) or not isinstance(described, dict):
        raise BundleError(f"{pointer}: x-enumDescriptions must be an object, next to an enum")
    keys = [enum_key(v) for v in values]
    missing = [k for k in keys if k not in described]
    extra = sorted(set(described) - set(keys))
    if missing or extra:
        raise BundleError(f"{pointer}: x-enumDescriptions must describe exactly the enum values "
                          f"(undescribed: {missing}, not in the enum: {extra})")
    node.setdefault("enumDescriptions", [described[k] for k in keys])
    node.setdefault("markdownEnumDescriptions", [described[k] for k in keys])


def _tag_descriptions(bundle: dict[str, Any], node: dict[str, Any]) -> None:
    prop = node["discriminator"].get("propertyName")
    for branch in node["oneOf"]:
        target = resolve(bundle, branch)
        tag = target.get("properties", {}).get(prop) if isinstance(target, dict) else None
        if not isinstance(tag, dict) or "const" not in tag or "$ref" in tag:
            continue
        what = target.get("description") or target.get("title")
        if what and "markdownDescription" not in tag:
            lead = tag.get("description", "")
            tag["markdownDescription"] = f"{lead}\n\n`{tag['const']}`: {what}".strip()


def target_titles(bundle: dict[str, Any]) -> dict[str, str]:
    return {name: target["title"] for name, target in bundle.get("x-targets", {}).get("targets", {}).items()}


def _deprecation(node: dict[str, Any], titles: dict[str, str]) -> None:
    """Warn where the validator blames an unsupported type: on ``type`` when the object has one, else on it."""
    message = unsupported_message(node["x-unsupported"], titles=titles)
    tag = node.get("properties", {}).get("type")
    if isinstance(tag, dict) and "$ref" not in tag:
        tag.setdefault("deprecationMessage", message)
        return
    # Annotation-only subschemas: they never fail, and declare no key for additionalProperties.
    node.setdefault("allOf", []).append({
        "if": {"required": ["type"]},
        "then": {"properties": {"type": {"deprecationMessage": message}}},
        "else": {"deprecationMessage": message},
    })


def enrich(bundle: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``bundle`` with the editor annotations added (the validation keywords are left untouched)."""
    out = copy.deepcopy(bundle)
    nodes = list(schema_nodes(out))
    for pointer, node in nodes:
        if "x-enumDescriptions" in node:
            _enum_descriptions(pointer, node)
        if "x-unsupported" in node:
            if not isinstance(node["x-unsupported"], dict) or not {"what", "reason"} <= node["x-unsupported"].keys():
                raise BundleError(f"{pointer}: x-unsupported needs 'what' and 'reason'")
            _deprecation(node, target_titles(out))
        if isinstance(node.get("oneOf"), list) and isinstance(node.get("discriminator"), dict):
            _tag_descriptions(out, node)
    for _, node in nodes:
        description = node.get("description")
        if isinstance(description, str) and "markdownDescription" not in node:
            node["markdownDescription"] = description
    return out
