"""Systematic mutations of a valid config, each with the problem it must cause."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from support.edits import delete_at, rename_at, set_at

from .schema_view import Node, SchemaView, json_type


@dataclass
class Mutation:
    """One systematic change to a valid config, and the problem it must cause (kind, at path) if any."""

    kind: str
    parts: tuple[Any, ...]
    detail: str
    config: Any
    expect: str | None  # the problem kind expected at ``parts``; "any" for any kind; None: no expectation


def typo(word: str, taken: Any) -> str:
    """A one-letter typo of ``word`` (a letter dropped, else doubled) that is not in ``taken``."""
    candidates = [word[:i] + word[i + 1:] for i in range(len(word) // 2, len(word))]
    candidates += [word[:i] + word[i] + word[i:] for i in range(len(word))]
    for candidate in candidates:
        if candidate and candidate != word and candidate not in taken and not candidate.startswith("_"):
            return candidate
    return word + "x"


def wrong_value(allowed: set[str] | None, current: Any) -> Any:
    """A value of a JSON type outside ``allowed`` (or, unconstrained, of another type than ``current``)."""
    allowed = allowed if allowed is not None else {json_type(current)}
    if "string" not in allowed:
        return "wrong"
    if "integer" not in allowed:
        return 7
    if "number" not in allowed:
        return 1.5
    for kind, value in (("boolean", True), ("array", []), ("object", {}), ("null", None)):
        if kind not in allowed:
            return value
    return None


def _past_bounds(node: Node, value: Any) -> Iterator[tuple[str, Any]]:
    integer = isinstance(value, int) and not isinstance(value, bool)
    step = 1 if integer else 0.5
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if node.keyword("minimum") is not None:
            yield f"minimum {node.keyword('minimum')}", node.keyword("minimum") - step
        if node.keyword("exclusiveMinimum") is not None:
            yield f"exclusiveMinimum {node.keyword('exclusiveMinimum')}", node.keyword("exclusiveMinimum")
        if node.keyword("maximum") is not None:
            yield f"maximum {node.keyword('maximum')}", node.keyword("maximum") + step
        if node.keyword("exclusiveMaximum") is not None:
            yield f"exclusiveMaximum {node.keyword('exclusiveMaximum')}", node.keyword("exclusiveMaximum")
    if isinstance(value, list) and value:
        if node.keyword("minItems"):
            yield f"minItems {node.keyword('minItems')}", value[: node.keyword("minItems") - 1]
        if node.keyword("maxItems") is not None:
            extra = node.keyword("maxItems") + 1 - len(value)
            yield f"maxItems {node.keyword('maxItems')}", value + [value[-1]] * extra


def mutations(view: SchemaView, config: Any, all_tags: bool = True) -> Iterator[Mutation]:
    """Every systematic mutation of ``config`` (a valid config)."""
    for parts, value, node in view.walk(config):
        if parts and isinstance(parts[0], str) and parts[0].startswith("_"):
            continue  # top-level comments are free-form
        if parts and isinstance(parts[-1], int) and parts[-1] > 0 and not isinstance(value, (dict, list)):
            continue  # items of a list of numbers or strings share one schema: the first stands for all
        if isinstance(value, dict):
            props = node.properties()
            for key in node.required():
                if key in value:
                    yield Mutation("drop_required", parts + (key,), f"delete required {key!r}",
                                   delete_at(config, parts + (key,)), "required")
            for key in value:
                free = key not in props and (node.open_map() or node.pattern_match(key))  # a map's own keys
                if key.startswith("_") or key == "$schema" or free:
                    continue
                new = typo(key, set(props) | set(value))
                expect = "unknown_key" if node.closed() else "any"  # in an open object only a rule can object
                yield Mutation("typo", parts + (new,), f"{key!r} -> {new!r}", rename_at(config, parts + (key,), new),
                               expect)
            for _site, prop, table, _ in node.unions:
                tag = value.get(prop)
                if tag not in table:
                    continue
                made_up = typo(str(tag), table)
                yield Mutation("wrong_tag", parts + (prop,), f"{tag!r} -> {made_up!r}",
                               set_at(config, parts + (prop,), made_up), "unknown_tag")
                others = [t for t in table if t != tag]
                for other in others if all_tags else others[:1]:
                    yield Mutation("swap_tag", parts + (prop,), f"{tag!r} -> {other!r}",
                                   set_at(config, parts + (prop,), other), None)
        if not parts or isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, (dict, list))
                                                                                  for v in value)):
            continue
        if node.schemas and node.types() is None and not any("enum" in s or "const" in s for s in node.schemas):
            continue  # declared free-form
        wrong = wrong_value(node.types(), value)
        yield Mutation("wrong_type", parts, f"{json.dumps(value)[:40]} -> {json.dumps(wrong)}",
                       set_at(config, parts, wrong), "any")
        for bound, past in _past_bounds(node, value):
            yield Mutation("out_of_bounds", parts, f"{bound}: {json.dumps(past)[:40]}", set_at(config, parts, past),
                           "range")

