"""One walker over a JSON Schema and a config: which schema objects apply to each value of the config.

A value's schema objects are found by following ``$ref`` (resolved with the public ``referencing`` API),
``allOf``, the branch of a discriminated ``oneOf`` that the value's tag names, the branch of an ``anyOf``/plain
``oneOf`` whose declared type alone accepts the value (``X`` or ``null``), and the ``then``/``else`` of an ``if``
made of type/const/enum/required/properties. Children come from
``properties``, ``patternProperties``, ``additionalProperties``, ``prefixItems`` and ``items``. Lookups that do not
depend on the config are cached by the identity of schema objects (which live as long as the walker's schema),
so walking the same schema again is cheap.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache
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
        self.root = schema
        self.uri = uri
        self._resolver: Any = None
        self._flat: dict[int, tuple[Node, ...]] = {}
        self._types: dict[int, frozenset[str]] = {}
        self._tags: dict[int, dict[Any, Node]] = {}
        self._static: dict[tuple[int, ...], tuple[tuple[Node, ...], bool]] = {}
        self._children: dict[tuple[tuple[int, ...], str | int], tuple[Node, ...]] = {}
        self._defaults: dict[tuple[int, ...], dict[str, Any]] = {}
        self._locations: dict[tuple[int, ...], Location] = {}

    def lookup(self, ref: str) -> Node:
        """The schema object a ``$ref`` names: ``#`` and ``#/$defs/<name>`` (all the bundler writes) directly,
        anything else through the ``referencing`` library (imported only then: it costs more than a validation)."""
        if ref == "#":
            return self.root
        defs = self.root.get("$defs", {})
        name = ref.removeprefix("#/$defs/")
        if name != ref and name in defs:
            found: Node = defs[name]
            return found
        if self._resolver is None:
            from referencing import Registry, Resource
            from referencing.jsonschema import DRAFT202012

            resource = Resource.from_contents(self.root, default_specification=DRAFT202012)
            registry: Any = Registry().with_resource(self.uri, resource)
            self._resolver = registry.resolver(base_uri=self.uri)
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
        including the chosen branches of ``oneOf``/``anyOf`` and ``if``."""
        key = tuple(map(id, nodes))
        static = self._static.get(key)
        if static is None:
            flat = tuple(part for node in nodes for part in self.flatten(node))
            chooses = any("if" in part or "oneOf" in part or "anyOf" in part for part in flat)
            static = self._static[key] = (flat, chooses)
        return self._choose(nodes, value) if static[1] else static[0]

    def _choose(self, nodes: tuple[Node, ...], value: Any) -> tuple[Node, ...]:
        found: list[Node] = []
        for node in nodes:
            for part in self.flatten(node):
                found.append(part)
                if "if" in part:
                    holds = _matches(part["if"], value)
                    chosen = part.get("then") if holds else part.get("else") if holds is False else None
                    found += self._choose((chosen,), value) if isinstance(chosen, Mapping) else ()
                branches = part.get("oneOf") or part.get("anyOf")
                if not branches:
                    continue
                discriminator = part.get("discriminator") if "oneOf" in part else None
                if discriminator:
                    tag = value.get(discriminator["propertyName"]) if isinstance(value, dict) else None
                    chosen = self._tag_table(branches, discriminator["propertyName"]).get(tag) if isinstance(
                        tag, (str, int)) else None
                    found += self._choose((chosen,), value) if chosen is not None else ()
                else:
                    matching = tuple(b for b in branches if _accepts(self.declared_types(b), value))
                    found += self._choose(matching, value) if len(matching) == 1 else ()
        return tuple(found)

    def location(self, nodes: tuple[Node, ...]) -> Location:
        """The interned ``Location`` of the schema objects ``nodes``."""
        key = tuple(map(id, nodes))
        found = self._locations.get(key)
        if found is None:
            found = self._locations[key] = Location(self, nodes)
        return found

    def deciders(self, nodes: tuple[Node, ...], seen: set[int] | None = None) -> set[str]:
        """Property names whose values choose among the union and ``if`` branches below ``nodes``."""
        seen = set() if seen is None else seen
        names: set[str] = set()
        for part in (p for node in nodes for p in self.flatten(node)):
            if id(part) in seen:
                continue
            seen.add(id(part))
            condition = part.get("if")
            if isinstance(condition, Mapping):
                names |= set(condition.get("properties", {})) | set(condition.get("required", ()))
            if isinstance(part.get("discriminator"), Mapping):
                names.add(part["discriminator"]["propertyName"])
            below = [*part.get("oneOf", ()), *part.get("anyOf", ()),
                     *(part[k] for k in ("then", "else") if isinstance(part.get(k), Mapping))]
            names |= self.deciders(tuple(below), seen) if below else set()
        return names

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


class Location:
    """The schema objects of one place in a config (interned per walker): which apply to a value there
    (``applied``), the places of its members (``child``) and its defaults, each computed once."""

    __slots__ = ("walker", "nodes", "_fixed", "_fixed_place", "_deciders", "_applied", "children", "defaults",
                 "nested_defaults", "default_views", "checks", "rule_ids", "declared_rules")

    def __init__(self, walker: SchemaWalker, nodes: tuple[Node, ...]) -> None:
        self.walker, self.nodes = walker, nodes
        flat = tuple(part for node in nodes for part in walker.flatten(node))
        chooses = any("if" in part or "oneOf" in part or "anyOf" in part for part in flat)
        self._fixed: tuple[Node, ...] | None = None if chooses else flat
        self._fixed_place: Location | None = None  # the place of ``_fixed`` once asked for
        self._deciders: tuple[str, ...] | None = None
        self._applied: dict[Any, Location] = {}
        self.children: dict[str | int, Location] = {}  # member -> its place, filled in by ``child``
        # what every object seen here reads (sat_config.defaults.seen): computed once, read as plain attributes
        self.defaults: dict[str, Any] = walker.defaults(nodes)  # property name -> default
        self.nested_defaults = tuple(k for k, v in self.defaults.items() if isinstance(v, (dict, list)))
        self.default_views: dict[str, Any] = {}  # nested default -> how it is seen (built once by defaults.seen)
        self.checks = tuple(node for node in nodes if any(k in node for k in RULE_KEYWORDS))  # nodes with rules
        registered, declared = RULE_KEYWORDS  # rule ids (looked up when they run), an extension's rules as data
        self.rule_ids = tuple(rule_id for node in self.checks for rule_id in node.get(registered, ()))
        self.declared_rules = tuple(node[declared] for node in self.checks if node.get(declared))

    def applied(self, value: Any) -> Location:
        """The place of ``value`` with the branches it chooses (``nodes``: every schema object that applies)."""
        found = self._fixed_place
        if found is not None:
            return found
        if self._fixed is not None:
            found = self._fixed_place = self.walker.location(self._fixed)
            return found
        key = self._decision(value)
        found = self._applied.get(key) if key is not None else None
        if found is None:
            found = self.walker.location(self.walker.applicable(self.nodes, value))
            if key is not None:
                self._applied[key] = found
        return found

    def _decision(self, value: Any) -> Any:
        """What the branch choice depends on: the JSON type, a scalar's value, and the properties that tags and
        ``if`` conditions read (with their types: True and 1 are equal keys but choose differently); None when
        one of them is not hashable (then nothing is cached)."""
        deciders = self._deciders
        if deciders is None:
            deciders = self._deciders = tuple(sorted(self.walker.deciders(self.nodes)))
        if not isinstance(value, dict):
            return (json_type(value), value) if not isinstance(value, list) else ("array",)
        if len(deciders) == 1:  # most unions: a tag
            tag = value.get(deciders[0], _NONE)
            kind = type(tag)
            return None if kind is dict or kind is list else (tag, kind)
        values = tuple(value.get(p, _NONE) for p in deciders)
        if any(isinstance(v, (dict, list)) for v in values):
            return None
        return values, tuple(map(type, values))

    def child(self, key: str | int) -> Location:
        """The place of member ``key`` (a property name or list index) of a value this location applies to."""
        found = self.children.get(key)
        if found is None:
            found = self.children[key] = self.walker.location(self.walker.children(self.nodes, key))
        return found


_NONE = object()
RULE_KEYWORDS = ("x-rules", "x-extension-rules")  # sat_config.rules and sat_config.extension_rules
_CONDITION_KEYWORDS = {"type", "const", "enum", "required", "properties", "description", "$comment"}


def _matches(condition: Any, value: Any) -> bool | None:
    """Whether ``value`` satisfies an ``if`` schema made of type/const/enum/required/properties; None when the
    condition uses other keywords (then neither branch is taken)."""
    if not isinstance(condition, Mapping) or set(condition) - _CONDITION_KEYWORDS:
        return None
    if "type" in condition and not _accepts(frozenset(_as_list(condition["type"])), value):
        return False
    if "const" in condition and not (value == condition["const"] and type(value) is type(condition["const"])):
        return False
    if "enum" in condition and value not in condition["enum"]:
        return False
    if not isinstance(value, dict):
        return True
    if any(key not in value for key in condition.get("required", ())):
        return False
    verdicts = [_matches(sub, value[key]) for key, sub in condition.get("properties", {}).items() if key in value]
    return None if None in verdicts else all(verdicts)


# Where JSON Schema keywords hold subschemas (everything else is data or an annotation).
SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
SCHEMA_LISTS = ("oneOf", "anyOf", "allOf", "prefixItems")
SCHEMA_SINGLE = ("items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
                 "unevaluatedProperties", "unevaluatedItems")


def subschemas(node: Any, parts: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    """(path parts, schema object) for ``node`` and every schema object in it, parents first: the one walk over a
    schema's structure (no config involved) that the generator, the docs, the extensions and the targets share."""
    if not isinstance(node, dict):
        return
    yield parts, node
    for key, value in node.items():
        if key in SCHEMA_MAPS and isinstance(value, dict):
            for name, sub in value.items():
                yield from subschemas(sub, (*parts, key, name))
        elif key in SCHEMA_LISTS and isinstance(value, list):
            for index, sub in enumerate(value):
                yield from subschemas(sub, (*parts, key, index))
        elif key in SCHEMA_SINGLE:
            yield from subschemas(value, (*parts, key))


def pointer(parts: tuple[Any, ...]) -> str:
    """The JSON pointer (``#/properties/a~1b``) of path parts."""
    return "#" + "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


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


_WALKERS: dict[int, tuple[Node, SchemaWalker]] = {}


def walker_for(schema: Node) -> SchemaWalker:
    """The (cached) walker over the schema document ``schema``, which must stay alive and unchanged."""
    cached = _WALKERS.get(id(schema))
    if cached is None or cached[0] is not schema:
        cached = _WALKERS[id(schema)] = (schema, SchemaWalker(schema))
    return cached[1]


def bundled_walker() -> SchemaWalker:
    """The walker over sat-config's bundled schema (``generated/schema.json``)."""
    from .schema_source import bundled_schema

    return walker_for(bundled_schema())
