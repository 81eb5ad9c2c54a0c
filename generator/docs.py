"""The reference documentation (docs/reference.md), computed from the bundled schema.

One section per schema: the root (``ModelConfig``) and every ``$defs`` entry, each under a heading that is
exactly its name, so its anchor is ``#<name lowercased>`` -- the anchor ``sat-config validate`` appends to
each problem (sat_config/reference.py). This module prepares plain strings; the template lays them out.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sat_config.rules import RULES, Rule
from sat_config.targets import describe_condition, unsupported_message

from .bundle import BundleError
from .editor import resolve, schema_nodes, target_titles

_NAME = re.compile(r"^[A-Za-z0-9_]+$")
# Headings of the fixed sections; their anchors contain '-' so they never clash with a schema's anchor.
FIXED_SECTIONS = ("Model types", "Targets", "Unsupported types", "Cross-field rules", "Schemas")


def anchor(name: str) -> str:
    """GitHub's anchor for a heading that is exactly ``name``."""
    return re.sub(r"[^a-z0-9_\- ]", "", name.lower()).replace(" ", "-")


def _cell(text: Any) -> str:
    """Text safe inside a markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _code(value: Any) -> str:
    text = value if isinstance(value, str) and value.startswith("/") else json.dumps(value, ensure_ascii=False)
    return "`` " + text + " ``" if "`" in text else f"`{text}`"


def _ref_name(bundle: dict[str, Any], ref: str) -> str:
    return bundle["title"] if ref == "#" else ref.removeprefix("#/$defs/")


def _link(name: str) -> str:
    return f"[{name}](#{anchor(name)})"


class _Renderer:
    def __init__(self, bundle: dict[str, Any]) -> None:
        self.bundle = bundle

    def resolve(self, node: Any) -> Any:
        return resolve(self.bundle, node)

    def type_text(self, schema: Any) -> str:
        """A schema's type in words, with links to the sections of referenced schemas."""
        if schema is True or schema == {}:
            return "any"
        if not isinstance(schema, dict):
            return "nothing"
        if isinstance(schema.get("$ref"), str):
            return _link(_ref_name(self.bundle, schema["$ref"]))
        if "const" in schema:
            return _code(schema["const"])
        for keyword in ("oneOf", "anyOf"):
            if isinstance(schema.get(keyword), list):
                return " or ".join(dict.fromkeys(self.type_text(b) for b in schema[keyword]))
        types = schema.get("type")
        if types is None and "enum" in schema:
            types = sorted({_JSON_NAMES.get(type(v), "any") for v in schema["enum"]})
        names = types if isinstance(types, list) else [types] if types else ["any"]
        return " or ".join(self._one_type(name, schema) for name in names)

    def _one_type(self, name: str, schema: dict[str, Any]) -> str:
        if name == "array":
            if isinstance(schema.get("prefixItems"), list):
                return "[" + ", ".join(self.type_text(s) for s in schema["prefixItems"]) + "]"
            if "items" in schema:
                return f"array of {self.type_text(schema['items'])}"
        if name == "object" and isinstance(schema.get("additionalProperties"), dict) and not schema.get("properties"):
            return f"object of {self.type_text(schema['additionalProperties'])}"
        return str(name)

    def bounds(self, schema: Any) -> list[str]:
        """Numeric, length and value restrictions of a schema (looking through ``X or null``)."""
        if not isinstance(schema, dict):
            return []
        out = []
        exact = schema.get("minItems") is not None and schema.get("minItems") == schema.get("maxItems")
        for keyword, template in _BOUNDS:
            if keyword in schema and not (exact and keyword in ("minItems", "maxItems")):
                out.append(template.format(_code(schema[keyword]).strip("`")))
        if exact:
            out.append(f"exactly {schema['minItems']} items")
        if schema.get("uniqueItems"):
            out.append("unique items")
        if "enum" in schema:
            out.append("one of " + ", ".join(_code(v) for v in schema["enum"]))
        items = schema.get("items")
        if isinstance(items, dict) and "$ref" not in items:
            out += [f"each {b}" for b in self.bounds(items)]
        for keyword in ("anyOf", "oneOf"):
            branches = [b for b in schema.get(keyword, []) if isinstance(b, dict) and "$ref" not in b]
            for branch in branches:
                out += self.bounds(branch)
        return out

    def rows(self, schema: dict[str, Any], prefix: str = "") -> list[dict[str, str]]:
        """One row per key (inline nested objects flattened as ``parent.child``)."""
        rows = []
        required = set(schema.get("required", []))
        for key, prop in schema.get("properties", {}).items():
            rows.append(self.row(prefix + key, prop, key in required))
            if isinstance(prop, dict) and "$ref" not in prop and isinstance(prop.get("properties"), dict):
                rows += self.rows(prop, prefix + key + ".")
        for pattern, prop in schema.get("patternProperties", {}).items():
            rows.append(self.row(f"{prefix}/{pattern}/", prop, False))
        return rows

    def row(self, key: str, prop: Any, required: bool) -> dict[str, str]:
        prop = prop if isinstance(prop, dict) else {}
        target = self.resolve(prop)
        description = prop.get("description") or (target.get("description", "") if isinstance(target, dict) else "")
        examples = prop.get("examples") or (target.get("examples") if isinstance(target, dict) else None)
        if examples:
            description += " Examples: " + ", ".join(_code(e) for e in examples) + "."
        if "$ref" not in prop and prop.get("enumDescriptions"):
            description += " " + _values(prop)
        default = prop.get("default", target.get("default") if isinstance(target, dict) else None)
        has_default = "default" in prop or (isinstance(target, dict) and "default" in target)
        return {
            "key": _cell(f"keys matching `{key}`" if key.startswith("/") else f"`{key}`"),
            "type": _cell(self.type_text(prop)),
            "default": "**required**" if required else _cell(_code(default)) if has_default else "—",
            "bounds": _cell("; ".join(self.bounds(prop) or (self.bounds(target) if target is not prop else []))),
            "description": _cell(description) or "—",
        }


_JSON_NAMES = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null", list: "array",
               dict: "object"}
_BOUNDS = (
    ("minimum", "≥ {}"), ("exclusiveMinimum", "> {}"), ("maximum", "≤ {}"), ("exclusiveMaximum", "< {}"),
    ("multipleOf", "multiple of {}"), ("minLength", "at least {} characters"), ("maxLength", "at most {} characters"),
    ("pattern", "matches {}"), ("minItems", "at least {} items"), ("maxItems", "at most {} items"),
    ("minProperties", "at least {} keys"), ("maxProperties", "at most {} keys"),
)


def _values(schema: dict[str, Any]) -> str:
    """``x-enumDescriptions`` in words: each value with what it means."""
    pairs = zip(schema["enum"], schema["enumDescriptions"], strict=True)
    return "Values: " + "; ".join(f"{_code(v)}: {d.rstrip('.')}" for v, d in pairs) + "."


def _owner(pointer: str, root_title: str) -> tuple[str, str]:
    """(section name, dotted location inside it) of a JSON pointer into the bundle."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    if parts[:1] == ["$defs"] and len(parts) > 1:
        name, parts = parts[1], parts[2:]
    else:
        name = root_title
    keys = [parts[i + 1] for i in range(len(parts) - 1) if parts[i] == "properties"]
    return name, ".".join(keys)


def _join(*parts: str) -> str:
    return ".".join(p for p in parts if p)


def _rule_row(rule: Rule, owner: str, where: str) -> dict[str, str]:
    """One use of a rule in a schema section."""
    at = "(computed)" if rule.at is None else ".".join(str(p) for p in rule.at) or "(the object itself)"
    return {"id": rule.id, "section": owner, "anchor": anchor(owner), "at": _join(where, at), "blames": at,
            "description": _cell(rule.description), "severity": rule.severity, "fails_when": _cell(rule.fails_when)}


def _rule_table(uses: dict[str, list[dict[str, str]]]) -> list[dict[str, Any]]:
    """One row per rule: where it applies (every section that names it), what it blames and checks."""
    table: dict[str, dict[str, Any]] = {}
    for rows in uses.values():
        for row in rows:
            entry = table.setdefault(row["id"], {**row, "sections": []})
            if (row["section"], row["anchor"]) not in entry["sections"]:
                entry["sections"].append((row["section"], row["anchor"]))
    return [table[rule_id] for rule_id in sorted(table)]


def reference_context(bundle: dict[str, Any], header: str) -> dict[str, Any]:
    """Everything the reference template shows, as plain strings and lists."""
    r = _Renderer(bundle)
    root_title = bundle.get("title")
    if not isinstance(root_title, str):
        raise BundleError("the root schema needs a 'title'")
    schemas = {root_title: {k: v for k, v in bundle.items() if k not in ("$defs", "$comment", "$schema")}}
    schemas.update(bundle["$defs"])
    anchors: dict[str, str] = {anchor(s): s for s in FIXED_SECTIONS}
    for name in schemas:
        if not _NAME.match(name):
            raise BundleError(f"schema name {name!r}: use letters, digits and '_' only (it is a heading anchor)")
        if anchor(name) in anchors:
            raise BundleError(f"schema names {name!r} and {anchors[anchor(name)]!r} give the same anchor")
        anchors[anchor(name)] = name

    rules: dict[str, list[dict[str, str]]] = {name: [] for name in schemas}
    unsupported: dict[str, list[dict[str, str]]] = {name: [] for name in schemas}
    used_by: dict[str, list[str]] = {name: [] for name in schemas}
    for pointer, node in schema_nodes(bundle):
        owner, where = _owner(pointer, root_title)
        ref = node.get("$ref")
        if isinstance(ref, str) and owner not in used_by.get(_ref_name(bundle, ref), [owner]):
            used_by[_ref_name(bundle, ref)].append(owner)
        for rule_id in node.get("x-rules", []):
            rules[owner].append(_rule_row(RULES[rule_id], owner, where))
        if "x-unsupported" in node:
            tag = node.get("properties", {}).get("type", {})
            unsupported[owner].append({
                "section": owner, "anchor": anchor(owner), "where": where,
                "tag": _code(tag["const"]) if isinstance(tag, dict) and "const" in tag else "—",
                "message": _cell(unsupported_message(node["x-unsupported"], titles=target_titles(bundle))),
                "reason": _cell(node["x-unsupported"]["reason"]),
                "fails": _cell("fails " + describe_condition(node["x-unsupported"]["when"], target_titles(bundle))
                               if node["x-unsupported"].get("when") else "every target"),
            })

    sections = []
    for name, schema in schemas.items():
        schema = schema if isinstance(schema, dict) else {}
        branches = []
        discriminator = schema.get("discriminator", {}).get("propertyName") if isinstance(
            schema.get("discriminator"), dict) else None
        if discriminator and isinstance(schema.get("oneOf"), list):
            for branch in schema["oneOf"]:
                target = r.resolve(branch)
                tag = target.get("properties", {}).get(discriminator, {}) if isinstance(target, dict) else {}
                branches.append({
                    "tag": _code(tag.get("const")) if isinstance(tag, dict) and "const" in tag else "—",
                    "schema": r.type_text(branch),
                    "description": _cell(target.get("description", "") if isinstance(target, dict) else ""),
                    "unsupported": isinstance(target, dict) and "x-unsupported" in target,
                })
        is_object = isinstance(schema.get("properties"), dict) or isinstance(schema.get("patternProperties"), dict)
        additional = schema.get("additionalProperties")
        sections.append({
            "name": name,
            "anchor": anchor(name),
            "description": schema.get("description", ""),
            "factory": schema.get("x-factory"),
            "discriminator": discriminator,
            "branches": branches,
            "rows": r.rows(schema) if is_object else [],
            "closed": is_object and additional is False,
            "type": "" if is_object or branches else r.type_text(schema),
            "default": _code(schema["default"]) if "default" in schema else "",
            "bounds": "; ".join(r.bounds(schema)) if not is_object else "",
            "examples": ", ".join(_code(e) for e in schema.get("examples", [])),
            "value_notes": _cell(_values(schema)) if schema.get("enumDescriptions") and not is_object else "",
            "rules": rules[name],
            "unsupported": unsupported[name],
            "used_by": [_link(u) for u in used_by[name] if u != name],
        })

    root = schemas[root_title]
    prop = root.get("discriminator", {}).get("propertyName", "model_type")
    model_types = []
    for branch in root.get("oneOf", []):
        name = _ref_name(bundle, branch["$ref"])
        target = r.resolve(branch)
        model_types.append({
            "tag": _code(target["properties"][prop]["const"]), "section": _link(name),
            "factory": target.get("x-factory", ""), "description": _cell(target.get("description", "")),
        })
    return {
        "header": header,
        "title": root_title,
        "root_anchor": anchor(root_title),
        "discriminator": prop,
        "model_types": model_types,
        "sections": sections,
        "all_rules": _rule_table(rules),
        "all_unsupported": [u for name in schemas for u in unsupported[name]],
        "targets": [{"name": name, "runtime_differences": [], **target}
                    for name, target in bundle["x-targets"]["targets"].items()],
        "default_target": bundle["x-targets"]["default"],
    }
