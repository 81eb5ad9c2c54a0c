"""Drawing configs from the bundled schema (soundness), nudging them towards the cross-field rules, and drawing
on purpose for the tagged-union types no config reaches."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from support.edits import delete_at, get_at, paths_in, set_at

from sat_config.errors import Problem
from sat_config.validation import find_problems, load_bundled_schema

from .oracle import upstream_builds
from .schema_view import SchemaView

# Size bounds for drawn configs: every draw builds on the meta device well within a second.
INT_CAP = 64
INT_POOL = (0, 1, 2, 3, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048)
NUMBER_CAP = 1000.0
ITEMS_CAP = 3
STRING_CAP = 12

ANNOTATIONS = {"title", "description", "markdownDescription", "examples", "default", "defaultSnippets",
               "$comment", "deprecationMessage", "x-factory", "x-rules", "discriminator"}


class Drawer:
    """A hypothesis strategy for whole configs, composed along the bundled schema.

    hypothesis-jsonschema draws every leaf (scalars, arrays of scalars, free-form objects) from its own subschema,
    with sizes capped; objects, tagged unions, references and arrays of objects are composed here, so the strategy
    is built in well under a second where hypothesis-jsonschema on the whole 140 kB schema takes many minutes,
    and recursive references (an autoencoder pretransform inside an autoencoder) are followed ``recursion``
    times, then left out where optional.
    """

    def __init__(self, schema: dict[str, Any], recursion: int = 1, buildable_only: bool = False) -> None:
        from jsonschema import Draft202012Validator

        self.root, self.defs, self.recursion = schema, schema.get("$defs", {}), recursion
        self.buildable_only = buildable_only  # leave out the branches marked x-unsupported
        self.memo: dict[Any, Any] = {}
        self.refs = {name: set(self._refs(body)) for name, body in [("#", schema), *self.defs.items()]}
        reach = {name: self._reach(name) for name in self.refs}
        self.cyclic = {name for name, seen in reach.items() if name in seen}
        self.touches_cycle = {name for name, seen in reach.items() if seen & self.cyclic or name in self.cyclic}
        self.plain = Draft202012Validator(schema)
        self.pool = sorted(set(INT_POOL) | set(_integer_literals(schema)))

    def _refs(self, node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str):
                    yield value.rsplit("/", 1)[-1] if value != "#" else "#"
                elif key != "$defs":
                    yield from self._refs(value)
        elif isinstance(node, list):
            for item in node:
                yield from self._refs(item)

    def _reach(self, name: str) -> set[str]:
        seen: set[str] = set()
        todo = list(self.refs[name])
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo += self.refs.get(current, ())
        return seen

    def strategy(self) -> Any:
        strategy = self.build(self.root, ("#",))
        assert strategy is not None
        return strategy

    def build(self, node: Any, stack: tuple[str, ...]) -> Any:
        """A strategy for ``node``, or None when it cannot be drawn without recursing too deep."""
        from hypothesis import strategies as st

        if not isinstance(node, dict):
            return self.leaf(node)
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1] if node["$ref"] != "#" else "#"
            if name in self.cyclic and stack.count(name) > self.recursion:
                return None
            depth = tuple(sorted(Counter(d for d in stack if d in self.cyclic).items()))
            key = (name, depth if name in self.touches_cycle else ())
            if key not in self.memo:
                self.memo[key] = None  # a cycle reached again at this depth is cut
                self.memo[key] = self.build(self.root if name == "#" else self.defs[name], stack + (name,))
            return self.memo[key]
        original = node
        node = _strip(node)
        parts, constrained = [], False
        for keyword in ("oneOf", "anyOf"):
            branches = node.pop(keyword, None)
            if not branches:
                continue
            if all(self.kind(b) != "structure" for b in branches):
                constrained = True  # e.g. oneOf of "required" lists: checked on the drawn object
                continue
            if self.buildable_only:
                branches = [b for b in branches if "x-unsupported" not in self.resolve(b)]
            built = [b for b in (self.build(b, stack) for b in branches) if b is not None]
            if not built:
                return None
            parts.append(st.one_of(built))
            constrained |= keyword == "oneOf" and "discriminator" not in original
        for sub in node.pop("allOf", []):
            kind = self.kind(sub)
            if kind == "constraint":
                constrained = True
            elif kind == "structure":
                built = self.build(sub, stack)
                if built is None:
                    return None
                parts.append(built)
        for keyword in ("if", "then", "else", "not", "dependentRequired", "dependentSchemas"):
            constrained |= node.pop(keyword, None) is not None
        if not parts or any(k in node for k in ("properties", "additionalProperties", "items", "prefixItems")):
            own = self.own(node, stack)
            if own is None:
                return None
            parts.insert(0, own)
        strategy = parts[0] if len(parts) == 1 else st.tuples(*parts).map(_merge)
        if constrained:
            check = self.plain.evolve(schema=original)
            strategy = strategy.filter(check.is_valid)
        return strategy

    def resolve(self, node: Any) -> Any:
        """``node`` with its references followed (their siblings kept)."""
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            node = {**(self.root if ref == "#" else self.defs[ref.rsplit("/", 1)[-1]]),
                    **{k: v for k, v in node.items() if k != "$ref"}}
        return node

    def kind(self, node: Any) -> str:
        """"structure" (something to draw), "constraint" (only checks a drawn value) or "empty" (annotations)."""
        node = self.resolve(node)
        node = _strip(node) if isinstance(node, dict) else node
        if not node:
            return "empty"
        if {"properties", "type", "items", "additionalProperties", "const", "enum"} & set(node):
            return "structure"
        branches = node.get("oneOf", []) + node.get("anyOf", []) + node.get("allOf", [])
        return "structure" if any(self.kind(b) == "structure" for b in branches) else "constraint"

    def own(self, node: dict[str, Any], stack: tuple[str, ...]) -> Any:
        from hypothesis import strategies as st

        types = node.get("type")
        types = set(types if isinstance(types, list) else [types] if types else [])
        structural = "properties" in node or isinstance(node.get("additionalProperties"), dict) or \
            isinstance(node.get("items"), dict) and self._has_structure(node["items"])
        if not structural:
            return self.leaf(node)
        choices = []
        if "object" in types or not types and "properties" in node:
            choices.append(self.object(node, stack))
        if "array" in types:
            items = self.build(node.get("items", {}), stack)
            if items is not None:
                low = node.get("minItems", 0)
                choices.append(st.lists(items, min_size=low, max_size=max(low, min(node.get("maxItems", ITEMS_CAP),
                                                                                  ITEMS_CAP))))
        for other in sorted(types - {"object", "array"}):
            choices.append(self.leaf({"type": other}))
        choices = [c for c in choices if c is not None]
        return st.one_of(choices) if choices else None

    def _has_structure(self, node: Any) -> bool:
        return isinstance(node, dict) and bool({"$ref", "properties", "oneOf", "anyOf", "allOf"} & set(node))

    def object(self, node: dict[str, Any], stack: tuple[str, ...]) -> Any:
        from hypothesis import strategies as st

        required = set(node.get("required", []))
        fixed, optional = {}, {}
        for key, sub in node.get("properties", {}).items():
            built = self.build(sub, stack)
            if built is None:
                if key in required:
                    return None
                continue
            (fixed if key in required else optional)[key] = built
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and not fixed and not optional:
            values = self.build(extra, stack)
            if values is None:
                return st.just({})
            keys = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
            return st.dictionaries(keys, values, min_size=node.get("minProperties", 0),
                                   max_size=max(node.get("minProperties", 0), ITEMS_CAP))
        return st.fixed_dictionaries(fixed, optional=optional)

    def leaf(self, node: Any) -> Any:
        """hypothesis-jsonschema's strategy for a subschema without structure (references inlined, capped).
        Integers also come from a pool of the widths, ratios and defaults configs use, so that values which
        must agree (latent widths, strides and ratios) agree often enough for draws to pass the rules."""
        from hypothesis import strategies as st
        from hypothesis_jsonschema import from_schema

        node = _cap_all(self._inline(node))
        key = json.dumps(node, sort_keys=True)
        if key not in self.memo:
            strategy = from_schema(node)
            if node.get("type") == "integer" and not {"enum", "const", "multipleOf"} & set(node):
                low = node.get("minimum", node.get("exclusiveMinimum", -math.inf) + 1)
                high = node.get("maximum", node.get("exclusiveMaximum", math.inf) - 1)
                pool = [v for v in self.pool if low <= v <= high]
                if pool:
                    strategy = st.one_of(st.sampled_from(pool), strategy)
            self.memo[key] = strategy
        return self.memo[key]

    def _inline(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self._inline(n) for n in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            return self._inline(self.root if node["$ref"] == "#" else self.defs[node["$ref"].rsplit("/", 1)[-1]])
        return {k: self._inline(v) for k, v in _strip(node).items()}

    def valid(self, instance: Any) -> bool:
        """Valid by the plain schema (x- keywords and the discriminator annotation aside)."""
        return bool(self.plain.is_valid(instance))


def _integer_literals(node: Any) -> Iterator[int]:
    """Integer defaults and examples anywhere in the schema."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("default", "examples"):
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, int) and not isinstance(item, bool) and abs(item) <= INT_POOL[-1]:
                        yield item
            else:
                yield from _integer_literals(value)
    elif isinstance(node, list):
        for item in node:
            yield from _integer_literals(item)


def _strip(node: dict[str, Any]) -> dict[str, Any]:
    """``node`` without annotations and ``x-`` keywords (plain JSON Schema ignores those)."""
    return {k: v for k, v in node.items() if k not in ANNOTATIONS and k != "$defs" and not k.startswith("x-")}


def _merge(parts: tuple[Any, ...]) -> Any:
    if all(isinstance(p, dict) for p in parts):
        merged: dict[str, Any] = {}
        for part in parts:
            merged.update(part)
        return merged
    return parts[-1]


def _cap_all(node: Any) -> Any:
    """``_cap`` on every subschema of ``node``."""
    if isinstance(node, list):
        return [_cap_all(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties", "dependentSchemas"):
            out[key] = {name: _cap_all(sub) for name, sub in value.items()}
        elif key in ("enum", "const", "required"):
            out[key] = value
        else:
            out[key] = _cap_all(value)
    return _cap(out)


def _cap(node: dict[str, Any]) -> dict[str, Any]:
    types = node.get("type")
    types = set(types if isinstance(types, list) else [types] if types else [])
    if "integer" in types or "number" in types:
        cap = INT_CAP if "number" not in types else NUMBER_CAP
        low = node.get("minimum", node.get("exclusiveMinimum", -cap))
        if "maximum" not in node and "exclusiveMaximum" not in node:
            node["maximum"] = low + cap if low >= cap else cap
        if "minimum" not in node and "exclusiveMinimum" not in node:
            node["minimum"] = -cap
    if "array" in types or "items" in node:
        node["maxItems"] = max(node.get("minItems", 0), min(node.get("maxItems", ITEMS_CAP), ITEMS_CAP))
    if "object" in types and "properties" not in node:
        node["maxProperties"] = max(node.get("minProperties", 0), min(node.get("maxProperties", 3), 3))
    if "string" in types and not {"enum", "const", "pattern", "format"} & set(node):
        node["maxLength"] = max(node.get("minLength", 0), min(node.get("maxLength", STRING_CAP), STRING_CAP))
    return node


def _integers(value: Any) -> Iterator[int]:
    """Integers in a config, and the product of each list of integers (strides multiply to ratios)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _integers(item)
    elif isinstance(value, list):
        if value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            yield math.prod(value)
        for item in value:
            yield from _integers(item)
    elif isinstance(value, int) and not isinstance(value, bool):
        yield value


def repair(config: Any, rounds: int = 8) -> Any:
    """Greedy local search towards the cross-field rules: for each value a rule blames, try the fixes ``_fixes``
    proposes; keep the first that leaves fewer problems and no new structural one. The result is as schema-valid
    as the draw."""
    problems = find_problems(config)
    for _ in range(rounds):
        better = None
        for problem in [p for p in problems if p.kind == "cross_field" and p.parts]:
            for candidate in _fixes(config, problem):
                after = find_problems(candidate)
                if len(after) < len(problems) and structural(after) <= structural(problems):
                    better = candidate, after
                    break
            if better:
                break
        if better is None:
            break
        config, problems = better
        if not problems:
            break
    return config


def _fixes(config: Any, problem: Problem) -> Iterator[Any]:
    """Edits of ``config`` that may satisfy the rule behind ``problem``: at the blamed value, the numbers the
    message names, the config's own numbers (and list products), the opposite boolean, or leaving an optional key
    out; inside a blamed object or list, each key the message names set to each number it names."""
    named = [int(n) for n in re.findall(r"(?<![\w.])-?\d+(?![\w.])", problem.message)]
    try:
        current = get_at(config, problem.parts)
    except (KeyError, IndexError, TypeError):  # the rule wants a key that is absent
        current = ABSENT
    numbers = list(dict.fromkeys(named + [n for n, _ in Counter(_integers(config)).most_common()]))
    candidates: list[Any] = []
    if isinstance(current, bool):
        candidates = [not current]
    elif isinstance(current, int):
        candidates = [n for n in numbers if n != current]
    elif isinstance(current, list) and current:
        candidates = [current[:n] if n <= len(current) else current + current[-1:] * (n - len(current))
                      for n in dict.fromkeys(named) if 0 <= n <= 8 and n != len(current)]
    elif current is ABSENT:
        candidates = [*named[:3], 1, 1e-4, True]
    if current is not ABSENT:
        candidates.append(ABSENT)
    for candidate in candidates:
        yield delete_at(config, problem.parts) if candidate is ABSENT else set_at(config, problem.parts, candidate)
    if isinstance(current, (dict, list)):
        keys = set(re.findall(r"\b[a-z]+(?:_[a-z]+)+\b", problem.message))
        for parts, node in paths_in(current):
            if isinstance(node, dict):
                for key in sorted(keys):
                    for number in dict.fromkeys(named):
                        yield set_at(config, problem.parts + parts + (key,), number)


ABSENT = object()


def structural(problems: list[Problem]) -> set[tuple[str, str]]:
    return {(p.path, p.kind) for p in problems if p.kind != "cross_field"}


def draw_configs(count: int, seed: int | None = None) -> tuple[list[Any], int]:
    """``count`` configs drawn along the schema and repaired towards the rules (deterministic unless ``seed`` is
    given), and how many draws the plain schema rejects (a limit of the composed strategy; they are not used)."""
    drawer = Drawer(load_bundled_schema())
    drawn = examples(drawer.strategy(), count, seed)
    valid = [repair(config) for config in drawn if drawer.valid(config)]
    return valid, len(drawn) - len(valid)


def examples(strategy: Any, count: int, seed: int | None = None) -> list[Any]:
    """``count`` values of a hypothesis strategy (derandomized unless ``seed`` is given), without a test: the
    tests' FUZZ settings, generating only (nothing to shrink), remembering nothing between runs."""
    import warnings

    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis.errors import HypothesisWarning
    from support.fuzzing import FUZZ

    values: list[Any] = []

    @settings(FUZZ, max_examples=count, database=None, phases=[Phase.generate], derandomize=seed is None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(value: Any) -> None:
        values.append(value)

    with warnings.catch_warnings():  # hypothesis warns that the repr of a whole-config strategy is large
        warnings.simplefilter("ignore", HypothesisWarning)
        (collect if seed is None else hypothesis_seed(seed)(collect))()
    return values


def cover_types(view: SchemaView, configs: list[tuple[str, Any]], missing: set[tuple[str, Any]],
                tries: int = 60, hosts: int = 3) -> list[tuple[str, Any]]:
    """For each (tagged union, tag) no config reaches: in up to ``hosts`` configs that have that union, put drawn
    instances of the branch (types marked unsupported left out, the replaced value's other keys such as a
    conditioner's id kept) in its place, nudge the result towards the rules (``repair``), and keep the first that
    is valid and builds upstream."""
    drawer = Drawer(view.root, buildable_only=True)
    found: list[tuple[str, Any]] = []
    for site, tag in sorted(missing, key=str):
        slots = [(name, config, parts, value, prop, branches[table[tag]]) for name, config in configs
                 for parts, value, node in view.walk(config) for union, prop, table, branches in node.unions
                 if union == site and tag in table and isinstance(value, dict)]
        first = list({slot[0]: slot for slot in reversed(slots)}.values())[::-1]  # the first slot of each config
        for name, config, parts, old, prop, branch in first[:hosts]:
            strategy = drawer.build(branch, ("#",))
            instances = examples(strategy, tries) if strategy is not None else []
            declared = set(drawer.resolve(branch).get("properties", {})) - {prop, "config"}
            kept = {k: v for k, v in old.items() if k in declared}
            candidates = (repair(set_at(config, parts, {**instance, **kept}) if parts else instance)
                          for instance in instances)
            hit = next((c for c in candidates if not find_problems(c) and upstream_builds(c).ok), None)
            if hit is not None:
                found.append((f"targeted draw in {name}", hit))
                break
    return found
