"""One walker over a JSON Schema and a config: which schema objects apply to each value of the config.

A value's schema objects are found by following ``$ref`` (resolved with the public ``referencing`` API),
``allOf``, the branch of a discriminated ``oneOf`` that the value's tag names, and the branches of an
``anyOf``/plain ``oneOf`` whose declared type accepts the value (``X`` or ``null``). Children come from
``properties``, ``patternProperties``, ``additionalProperties``, ``prefixItems`` and ``items``. Lookups that do not
depend on the config are cached by the identity of schema objects (which live as long as the walker's schema),
so walking the same schema again is cheap.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache, lru_cache
from typing import Any

Node = Mapping[str, Any]
Parts = tuple[str | int, ...]

BUNDLE_URI = "urn:sat-config:schema"
_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number"}


def json_type(value: Any) -> str:
    """The JSON type name of a Python value (``null`` for None)."""
    return "null" if value is None else _JSON_TYPES.get(type(value), type(value).__name__)


def _accepts(types: frozenset[str], value: Any) -> bool:
    kind = json_type(value)
    return not types or kind in types or (kind == "integer" and "number" in types)


class SchemaWalker:
    """Resolves the schema objects that apply to the values of a config, for one schema document."""

    def __init__(self, schema: Node, uri: str = BUNDLE_URI) -> None:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        resource = Resource.from_contents(schema, default_specification=DRAFT202012)
        self.root = schema
        self._resolver = Registry().with_resource(uri, resource).resolver(base_uri=uri)  # type: ignore[call-arg]
        self._flat: dict[int, tuple[Node, ...]] = {}
        self._types: dict[int, frozenset[str]] = {}
        self._tags: dict[int, dict[Any, Node]] = {}
        self._children: dict[tuple[tuple[int, ...], str | int], tuple[Node, ...]] = {}
        self._defaults: dict[tuple[int, ...], dict[str, Any]] = {}

    def lookup(self, ref: str) -> Node:
        """The schema object a ``$ref`` names."""
        contents: Node = self._resolver.lookup(ref).contents
        return contents

    def flatten(self, node: Node) -> tuple[Node, ...]:
        """The schema objects that apply to any value ``node`` applies to: itself, its ``$ref`` target and its
        ``allOf`` members, recursively (not the value-dependent ``oneOf``/``anyOf`` branches)."""
        cached = self._flat.get(id(node))
        if cached is None:
            found: list[Node] = [node]
            if isinstance(node.get("$ref"), str):
                found += self.flatten(self.lookup(node["$ref"]))
            for member in node.get("allOf", ()):
                found += self.flatten(member)
            cached = self._flat[id(node)] = tuple(found)
        return cached

    def declared_types(self, node: Node) -> frozenset[str]:
        """The JSON types ``node`` allows (empty: any)."""
        cached = self._types.get(id(node))
        if cached is None:
            types: set[str] = set()
            for part in self.flatten(node):
                declared = part.get("type")
                types |= set(declared) if isinstance(declared, list) else {declared} if declared else set()
                if "const" in part:
                    types.add(json_type(part["const"]))
            cached = self._types[id(node)] = frozenset(types)
        return cached

    def _tag_table(self, branches: list[Node], prop: str) -> dict[Any, Node]:
        cached = self._tags.get(id(branches))
        if cached is None:
            cached = {}
            for branch in branches:
                for part in self.flatten(branch):
                    tag = part.get("properties", {}).get(prop)
                    for tag_part in self.flatten(tag) if isinstance(tag, Mapping) else ():
                        if "const" in tag_part:
                            cached[tag_part["const"]] = branch
            self._tags[id(branches)] = cached
        return cached

    def applicable(self, nodes: tuple[Node, ...], value: Any) -> tuple[Node, ...]:
        """Every schema object that applies to ``value`` given the schema objects ``nodes`` of its location,
        including the chosen branches of ``oneOf``/``anyOf``."""
        found: list[Node] = []
        for node in nodes:
            for part in self.flatten(node):
                found.append(part)
                branches = part.get("oneOf") or part.get("anyOf")
                if not branches:
                    continue
                discriminator = part.get("discriminator") if "oneOf" in part else None
                if discriminator:
                    tag = value.get(discriminator["propertyName"]) if isinstance(value, dict) else None
                    chosen = self._tag_table(branches, discriminator["propertyName"]).get(tag) if isinstance(
                        tag, (str, int)) else None
                    found += self.applicable((chosen,), value) if chosen is not None else ()
                else:
                    matching = tuple(b for b in branches if _accepts(self.declared_types(b), value))
                    found += self.applicable(matching, value) if len(matching) == 1 else ()
        return tuple(found)

    def children(self, nodes: tuple[Node, ...], key: str | int) -> tuple[Node, ...]:
        """The schema objects of the member ``key`` (a property name or a list index) of a value whose
        applicable schema objects are ``nodes``."""
        cache_key = (tuple(map(id, nodes)), key)
        cached = self._children.get(cache_key)
        if cached is None:
            cached = self._children[cache_key] = tuple(c for node in nodes for c in _member(node, key))
        return cached

    def defaults(self, nodes: tuple[Node, ...]) -> dict[str, Any]:
        """Property name -> the schema's default, for an object whose applicable schema objects are ``nodes``."""
        cache_key = tuple(map(id, nodes))
        cached = self._defaults.get(cache_key)
        if cached is None:
            cached = {}
            for node in nodes:
                for key, sub in node.get("properties", {}).items():
                    default = next((p["default"] for p in self.flatten(sub) if "default" in p), _NONE)
                    if default is not _NONE and key not in cached:
                        cached[key] = default
            self._defaults[cache_key] = cached
        return cached

    def walk(self, value: Any, node: Node | None = None) -> Iterator[tuple[Parts, Any, Node]]:
        """(path parts, value, schema object) for every value of ``value`` and every schema object that applies
        to it, parents before children. A consumer may add keys to a yielded object before the walk reaches its
        children; they are walked too."""
        yield from self._walk(value, (self.root if node is None else node,), ())

    def _walk(self, value: Any, nodes: tuple[Node, ...], parts: Parts) -> Iterator[tuple[Parts, Any, Node]]:
        applicable = self.applicable(nodes, value)
        for node in applicable:
            yield parts, value, node
        if isinstance(value, dict):
            for key in list(value):
                yield from self._walk(value[key], self.children(applicable, key), parts + (key,))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                yield from self._walk(item, self.children(applicable, index), parts + (index,))


_NONE = object()


def _member(node: Node, key: str | int) -> tuple[Node, ...]:
    if isinstance(key, int):
        prefix = node.get("prefixItems", ())
        if key < len(prefix):
            return (prefix[key],)
        items = node.get("items")
        return (items,) if isinstance(items, Mapping) else ()
    properties = node.get("properties", {})
    if key in properties:
        return (properties[key],)
    matched = tuple(s for p, s in node.get("patternProperties", {}).items() if _pattern(p).search(key))
    if matched:
        return matched
    extra = node.get("additionalProperties")
    return (extra,) if isinstance(extra, Mapping) else ()


@cache
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


@lru_cache(maxsize=1)
def bundled_walker() -> SchemaWalker:
    """The walker over sat-config's bundled schema (``generated/schema.json``)."""
    from .validation import load_bundled_schema

    return SchemaWalker(load_bundled_schema())
