"""Walking a config alongside the bundled schema: which schema nodes (and tagged unions) apply to each value."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sat_config.schemawalk import SchemaWalker

from .oracle import has_constructor


@dataclass
class Node:
    """The schema nodes that apply to one value of a config, flattened ($ref, allOf, chosen oneOf/anyOf)."""

    schemas: list[dict[str, Any]]
    # (union name, tag property, tag -> branch index, branches) of each tagged union that applies here
    unions: list[tuple[str, str, dict[Any, int], list[Any]]] = field(default_factory=list)

    def types(self) -> set[str] | None:
        """The JSON types allowed here, or None when nothing constrains them."""
        allowed: set[str] | None = None
        for schema in self.schemas:
            here: set[str] | None = None
            if "type" in schema:
                here = set(schema["type"] if isinstance(schema["type"], list) else [schema["type"]])
                if "number" in here:
                    here.add("integer")
            elif "const" in schema or "enum" in schema:
                here = {json_type(v) for v in (schema["enum"] if "enum" in schema else [schema["const"]])}
            if here is not None:
                allowed = here if allowed is None else allowed & here
        return allowed

    def keyword(self, name: str) -> Any:
        for schema in self.schemas:
            if name in schema:
                return schema[name]
        return None

    def properties(self) -> dict[str, list[dict[str, Any]]]:
        props: dict[str, list[dict[str, Any]]] = {}
        for schema in self.schemas:
            for key, sub in schema.get("properties", {}).items():
                props.setdefault(key, []).append(sub)
        return props

    def required(self) -> list[str]:
        return list(dict.fromkeys(k for s in self.schemas for k in s.get("required", [])))

    def closed(self) -> bool:
        return any(s.get("additionalProperties") is False for s in self.schemas)

    def open_map(self) -> bool:
        """Keys are free (a map): additionalProperties (true or a schema) or patternProperties declare them."""
        return any(isinstance(s.get("additionalProperties"), dict) or s.get("additionalProperties") is True
                   or s.get("patternProperties") for s in self.schemas)

    def pattern_match(self, key: str) -> bool:
        return any(re.search(p, key) for s in self.schemas for p in s.get("patternProperties", {}))


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}.get(type(value), "unknown")


class SchemaView:
    """Resolve which parts of the bundled schema apply to each value of a config."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.root = schema
        self.defs = schema.get("$defs", {})
        self._walker = SchemaWalker(schema)
        self._union_names: dict[int, str] = {}
        for name, body in [("ModelConfig", schema), *self.defs.items()]:
            self._name_unions(body, name)

    def _name_unions(self, node: Any, name: str) -> None:
        """Name each untitled tagged union after the definition and property path that hold it."""
        if isinstance(node, list):
            for item in node:
                self._name_unions(item, name)
        elif isinstance(node, dict):
            if "oneOf" in node and "discriminator" in node:
                self._union_names.setdefault(id(node), node.get("title", name))
            for key, value in node.items():
                if key == "properties":
                    for prop, sub in value.items():
                        self._name_unions(sub, f"{name}.{prop}")
                elif key != "$defs":
                    self._name_unions(value, name)

    def union_name(self, node: dict[str, Any]) -> str:
        return str(node.get("title") or self._union_names.get(id(node), "?"))

    def resolve(self, node: Any, site: str) -> tuple[dict[str, Any], str]:
        while isinstance(node, dict) and "$ref" in node:  # siblings of $ref apply too (draft 2020-12)
            ref, extra = node["$ref"], {k: v for k, v in node.items() if k != "$ref"}
            site = "ModelConfig" if ref == "#" else ref.rsplit("/", 1)[-1]
            node = {**(self.root if ref == "#" else self.defs[site]), **extra}
        return (node if isinstance(node, dict) else {}), site

    def _tags(self, branches: list[Any], prop: str, site: str) -> dict[Any, int]:
        table = {}
        for index, branch in enumerate(branches):
            resolved, _ = self.resolve(branch, site)
            tag_schema, _ = self.resolve(resolved.get("properties", {}).get(prop, {}), site)
            if "const" in tag_schema:
                table[tag_schema["const"]] = index
        return table

    def walk(self, config: Any) -> Iterator[tuple[tuple[Any, ...], Any, Node]]:
        """(path parts, value, node) for every value of ``config``, parents first: the schema objects the
        package's walker (``sat_config.schemawalk``) finds applying to it, and the tagged unions among them."""
        yield from self._walk(config, (self.root,), ())

    def _walk(self, value: Any, nodes: tuple[Any, ...], parts: tuple[Any, ...]) -> Iterator[
            tuple[tuple[Any, ...], Any, Node]]:
        applicable = self._walker.applicable(nodes, value)
        unions = [(self.union_name(part), part["discriminator"]["propertyName"],
                   self._tags(part["oneOf"], part["discriminator"]["propertyName"], "ModelConfig"), part["oneOf"])
                  for part in applicable if "oneOf" in part and "discriminator" in part]
        yield parts, value, Node([dict(part) for part in applicable], unions)
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, item in items:
            yield from self._walk(item, self._walker.children(applicable, key), parts + (key,))

    def model_tags(self) -> dict[tuple[str, Any], str | None]:
        """Every (tagged union, tag) a model can use — those reachable from the root other than via ``training``,
        which model building never reads — and why it cannot be built, if it cannot (x-unsupported, or no
        installed constructor)."""
        found: dict[tuple[str, Any], str | None] = {}
        seen: set[str] = set()
        stack: list[tuple[Any, str]] = [(self.root, "ModelConfig")]
        while stack:
            node, site = stack.pop()
            if isinstance(node, list):
                stack += [(item, site) for item in node]
                continue
            if not isinstance(node, dict):
                continue
            ref = node.get("$ref")
            if isinstance(ref, str):
                name = "ModelConfig" if ref == "#" else ref.rsplit("/", 1)[-1]
                if name not in seen:
                    seen.add(name)
                    stack.append((self.root if ref == "#" else self.defs[name], name))
            if "oneOf" in node and "discriminator" in node:
                prop = node["discriminator"]["propertyName"]
                for tag, index in self._tags(node["oneOf"], prop, site).items():
                    branch, _ = self.resolve(node["oneOf"][index], site)
                    why = "x-unsupported" if "x-unsupported" in branch else None
                    if prop == "model_type" and not has_constructor({"model_type": tag}):
                        why = "no constructor installed"
                    found[(self.union_name(node), tag)] = why
            for key, value in node.items():
                if key == "properties":
                    stack += [(sub, site) for name, sub in value.items() if name != "training"]
                elif key not in ("$defs", "$ref", "enum", "const", "default", "examples") and \
                        isinstance(value, (dict, list)):
                    stack.append((value, site))
        return found


def tags_used(view: SchemaView, config: Any) -> set[tuple[str, Any]]:
    """The (tagged union, tag) pairs a config's model uses."""
    used = set()
    for parts, value, node in view.walk(config):
        if parts[:1] == ("training",):
            continue
        for site, prop, table, _ in node.unions:
            if isinstance(value, dict) and value.get(prop) in table:
                used.add((site, value[prop]))
    return used
