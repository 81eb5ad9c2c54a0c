"""Validate a config against the bundled schema with ``jsonschema``, and turn errors into ``Problem``s.

The Draft 2020-12 validator is extended with four keywords, each implemented once here:

- ``oneOf`` next to ``discriminator``: dispatch on the tag and report only the matching branch's errors
  (an unknown tag is reported with the valid tags and a did-you-mean);
- ``anyOf``: when only one branch can apply to the instance's JSON type (``X`` or ``null``), report its errors;
- ``additionalProperties: false``: one error per unknown key, each with a did-you-mean;
- ``x-unsupported`` / ``x-rules``: types upstream cannot build, and cross-field rules compiled into
  ``sat_config.generated.rules`` by the generator.

Valid configs are confirmed by a compiled jsonschema-rs validator over the same schema (fast); only configs
with problems pay for the detailed python-jsonschema pass.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from contextvars import ContextVar
from functools import cache, lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # python-jsonschema is imported only when a config has problems
    from jsonschema.exceptions import ValidationError

from .errors import Problem, json_path
from .reference import doc_link

_RANGE = {
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems",
    "minLength", "maxLength", "multipleOf", "minProperties", "maxProperties",
}
_KINDS = {"type": "type", "required": "required", "enum": "enum", "const": "enum"}
_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number"}


def json_type(value: Any) -> str:
    """The JSON name of a Python value's type."""
    return "null" if value is None else _JSON_TYPES.get(type(value), type(value).__name__)


def closest(word: Any, candidates: Any) -> str | None:
    """The candidate closest to ``word`` (a likely typo), or None."""
    if not isinstance(word, str) or not word:
        return None
    names = [c for c in candidates if isinstance(c, str)]
    folded = [c for c in names if c.casefold() == word.casefold()]
    if folded:
        return folded[0]
    matches = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    if matches:
        return matches[0]
    prefixed = [c for c in names if c.startswith(word)] if len(word) >= 2 else []
    return prefixed[0] if len(prefixed) == 1 else None


def _error(message: str, kind: str, path: tuple[Any, ...] = (), suggestion: str | None = None) -> ValidationError:
    from jsonschema.exceptions import ValidationError

    err = ValidationError(message, path=path)
    err.sat_kind = kind  # type: ignore[attr-defined]
    err.sat_suggestion = suggestion  # type: ignore[attr-defined]
    return err


def _resolve(validator: Any, subschema: Any) -> Any:
    while isinstance(subschema, dict) and "$ref" in subschema:
        subschema = validator._resolver.lookup(subschema["$ref"]).contents
    return subschema


_TAG_TABLES: dict[int, tuple[Any, dict[Any, int]]] = {}


def _tag_table(validator: Any, branches: list[Any], prop: str) -> dict[Any, int]:
    """Map each branch's ``const`` tag to its index (cached per schema list)."""
    cached = _TAG_TABLES.get(id(branches))
    if cached is not None and cached[0] is branches:
        return cached[1]
    table: dict[Any, int] = {}
    for index, branch in enumerate(branches):
        tag_schema = _resolve(validator, _resolve(validator, branch).get("properties", {}).get(prop, {}))
        if "const" in tag_schema:
            table[tag_schema["const"]] = index
    _TAG_TABLES[id(branches)] = (branches, table)
    return table


def _branch_keys(validator: Any, branches: list[Any]) -> set[str]:
    """Every property name some branch of a tagged union declares."""
    return {key for branch in branches for key in _resolve(validator, branch).get("properties", {})}


def _one_of(validator: Any, branches: list[Any], instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    discriminator = schema.get("discriminator")
    if not discriminator:
        yield from _builtin("oneOf")(validator, branches, instance, schema)
        return
    if not validator.is_type(instance, "object"):
        if "type" not in schema:  # otherwise the sibling "type" reports it
            yield _error(f"expected object, got {json_type(instance)} {_short(instance)}", "type")
        return
    prop = discriminator["propertyName"]
    table = _tag_table(validator, branches, prop)
    if prop not in instance:
        yield _error(f"required key {prop!r} is missing (one of: {_listing(table)})", "required", (prop,))
        known = _branch_keys(validator, branches)
        for key in instance:  # a misspelt tag key is the likely cause: say so where it is
            if key not in known and closest(key, [prop]) == prop:
                yield _error(f"unknown key {key!r}", "unknown_key", (key,), prop)
        return
    tag = instance[prop]
    index = table.get(tag) if isinstance(tag, (str, int)) and not isinstance(tag, bool) else None
    if index is None:
        yield _error(
            f"unknown {prop} {tag!r}; valid values: {_listing(table)}", "unknown_tag", (prop,), closest(tag, table)
        )
        return
    if _PRUNE.get() and instance is not _PRUNE.get() and _branch_valid_fast(branches[index], instance):
        return  # the compiled engine confirms this whole component is valid: nothing to report inside
    yield from validator.descend(instance, branches[index], schema_path=index)


def _listing(values: Any) -> str:
    return ", ".join(repr(v) for v in values)


def _any_of(validator: Any, branches: list[Any], instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    applicable, expected = [], []
    for index, branch in enumerate(branches):
        errors = list(validator.descend(instance, branch, schema_path=index))
        if not errors:
            return
        mismatches = [e for e in errors if e.validator == "type" and not e.relative_path]
        if mismatches:
            expected += [t for e in mismatches for t in _as_list(e.validator_value) if t not in expected]
        else:
            applicable.append(errors)
    if len(applicable) == 1:
        yield from applicable[0]
    elif not applicable:
        yield _error(f"expected {' or '.join(expected)}, got {json_type(instance)} {_short(instance)}", "type")
    else:
        yield from _builtin("anyOf")(validator, branches, instance, schema)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _additional_properties(
    validator: Any, value: Any, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if value is not False or not validator.is_type(instance, "object"):
        yield from _builtin("additionalProperties")(validator, value, instance, schema)
        return
    known = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    for key in instance:
        if key in known or any(_compiled(p).search(key) for p in patterns):
            continue
        yield _error(f"unknown key {key!r}", "unknown_key", (key,), closest(key, known))


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _unsupported(validator: Any, value: Any, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    path = ("type",) if "type" in instance else ()
    yield _error(f"{value['what']} cannot be built with the installed stable-audio-tools: {value['reason']}",
                 "unsupported", path)


_SKIPPED = (KeyError, TypeError, IndexError, ValueError, AttributeError, ZeroDivisionError, OverflowError)


def rule_failures(rules: list[dict[str, Any]], instance: Any) -> Iterator[tuple[tuple[Any, ...], str]]:
    """(relative path, message) for each failed cross-field rule on ``instance``."""
    from .generated.rules import CHECKS

    if not isinstance(instance, dict):
        return
    for rule in rules:
        try:
            failures = list(CHECKS[rule["id"]](instance))
        except _SKIPPED:
            continue  # malformed data: the structural errors already say what is wrong
        yield from failures


def _rules(
    validator: Any, rules: list[dict[str, Any]], instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    for path, message in rule_failures(rules, instance):
        yield _error(message, "cross_field", tuple(path))


def _builtin(keyword: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator.VALIDATORS[keyword]


def load_bundled_schema() -> dict[str, Any]:
    """The single-document schema emitted by ``make gen``."""
    text = resources.files("sat_config.generated").joinpath("schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@lru_cache(maxsize=1)
def validator() -> Any:
    """The one cached validator over the bundled schema."""
    from jsonschema import Draft202012Validator, validators
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    keywords = {
        "oneOf": _one_of,
        "anyOf": _any_of,
        "additionalProperties": _additional_properties,
        "x-unsupported": _unsupported,
        "x-rules": _rules,
    }
    # upstream passes integers to constructors that reject 2.0 (nn.Conv1d(2.0, ...) raises TypeError), so an
    # integer must be written as one; JSON Schema alone would count 2.0 as an integer
    checker = Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool)
    )
    sat_validator = validators.extend(Draft202012Validator, keywords, type_checker=checker)
    schema = load_bundled_schema()
    resource = Resource.from_contents(schema, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(_BUNDLE_URI, resource)
    return sat_validator(schema, registry=registry)


def _message(error: ValidationError) -> tuple[str, tuple[Any, ...]]:
    path = tuple(error.absolute_path)
    if error.validator == "required":
        missing = error.message.split("'")[1] if error.message.count("'") >= 2 else str(error.message)
        return f"required key {missing!r} is missing", path + (missing,)
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"expected {expected}, got {json_type(error.instance)} {_short(error.instance)}", path
    if error.validator in ("enum", "const"):
        allowed = error.validator_value if error.validator == "enum" else [error.validator_value]
        return f"{_short(error.instance)} is not one of: {_listing(allowed)}", path
    if error.validator in _BOUNDS:
        return _BOUNDS[str(error.validator)].format(v=error.validator_value, got=_short(error.instance),
                                                    n=_size(error.instance)), path
    if error.validator == "anyOf":
        return f"{_short(error.instance)} matches none of the allowed forms", path
    return error.message, path


_BOUNDS = {
    "minimum": "must be at least {v}, got {got}",
    "maximum": "must be at most {v}, got {got}",
    "exclusiveMinimum": "must be greater than {v}, got {got}",
    "exclusiveMaximum": "must be less than {v}, got {got}",
    "minItems": "needs at least {v} items, got {n}",
    "maxItems": "takes at most {v} items, got {n}",
    "minLength": "needs at least {v} characters, got {n}",
    "maxLength": "takes at most {v} characters, got {n}",
    "multipleOf": "must be a multiple of {v}, got {got}",
}


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, (list, str, dict)) else None


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(error: ValidationError) -> str:
    kind = getattr(error, "sat_kind", None)
    if kind:
        return str(kind)
    if error.validator in _RANGE:
        return "range"
    return _KINDS.get(str(error.validator), "type")


def _suggestion(error: ValidationError) -> str | None:
    suggestion = getattr(error, "sat_suggestion", None)
    if suggestion is None and error.validator == "enum":
        suggestion = closest(error.instance, error.validator_value)
    return suggestion


class _RsUnsupported:
    """``x-unsupported`` for jsonschema-rs: reaching the schema object with an object instance is invalid."""

    def __init__(self, parent_schema: Any, value: Any, schema_path: Any) -> None:
        del parent_schema, value, schema_path

    def validate(self, instance: Any) -> None:
        if isinstance(instance, dict):
            raise ValueError("unsupported")


class _RsRules:
    """``x-rules`` for jsonschema-rs: the same compiled checks as the python-jsonschema keyword."""

    def __init__(self, parent_schema: Any, value: Any, schema_path: Any) -> None:
        del parent_schema, schema_path
        self.rules = value

    def validate(self, instance: Any) -> None:
        for _ in rule_failures(self.rules, instance):
            raise ValueError("cross-field rule failed")


@lru_cache(maxsize=1)
def fast_validator() -> Any:
    """A compiled (jsonschema-rs) validator over the same bundled schema and custom keywords, used only to
    confirm that a config is valid; every rejected config is re-checked by python-jsonschema for its problems."""
    import jsonschema_rs

    return jsonschema_rs.validator_for(_marked_schema(), keywords=_RS_KEYWORDS, offline=True)


@cache
def _marked_schema() -> dict[str, Any]:
    return _mark_integers(load_bundled_schema())  # type: ignore[no-any-return]


_STRICT_INT = "x-strict-integer"


class _RsStrictInt:
    """Where the schema wants an integer, a float such as 2.0 is invalid (as in the python-jsonschema pass)."""

    def __init__(self, parent_schema: Any, value: Any, schema_path: Any) -> None:
        del parent_schema, value, schema_path

    def validate(self, instance: Any) -> None:
        if isinstance(instance, float):
            raise ValueError("integer written as a float")


_RS_KEYWORDS: dict[str, Any] = {"x-unsupported": _RsUnsupported, "x-rules": _RsRules, _STRICT_INT: _RsStrictInt}


def _mark_integers(node: Any) -> Any:
    """A copy of the schema with the strict-integer keyword beside every ``"type"`` that allows integers
    (and not numbers in general)."""
    if isinstance(node, list):
        return [_mark_integers(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: (v if k in ("enum", "const", "default", "examples") else _mark_integers(v)) for k, v in node.items()}
    types = node.get("type")
    types = types if isinstance(types, list) else [types]
    if "integer" in types and "number" not in types:
        out[_STRICT_INT] = True
    return out


# During a fast find_problems, the config (already known invalid): components below it are checked by the
# compiled engine first, and only invalid ones are walked by python-jsonschema.
_PRUNE: ContextVar[Any] = ContextVar("sat_config_prune", default=None)


_BUNDLE_URI = "urn:sat-config:schema"


@cache
def _rs_registry() -> Any:
    import jsonschema_rs

    return jsonschema_rs.Registry([(_BUNDLE_URI, _marked_schema())])


@cache
def _branch_validator(ref: str) -> Any:
    import jsonschema_rs

    schema = {"$ref": _BUNDLE_URI + ref}
    return jsonschema_rs.validator_for(schema, registry=_rs_registry(), keywords=_RS_KEYWORDS, offline=True)


def _branch_valid_fast(branch: Any, instance: Any) -> bool:
    ref = branch.get("$ref") if isinstance(branch, dict) and len(branch) == 1 else None
    return isinstance(ref, str) and ref.startswith("#/$defs/") and _branch_validator(ref).is_valid(instance)


def find_problems(config: Any, fast: bool = True) -> list[Problem]:
    """Every problem in ``config`` (a plain JSON-like value), in schema order; empty when it is valid.

    With ``fast`` a valid config is confirmed by the compiled validator alone (tests/test_fast_path.py proves
    the two engines agree); the detailed python-jsonschema pass runs only for configs with problems."""
    if fast and fast_validator().is_valid(config):
        return []
    token = _PRUNE.set(config if fast and isinstance(config, dict) else None)
    try:
        errors = list(validator().iter_errors(config))
    finally:
        _PRUNE.reset(token)
    problems: list[Problem] = []
    seen: set[tuple[str, str, str]] = set()
    for error in errors:
        if getattr(error, "sat_kind", None):
            message, parts = error.message, tuple(error.absolute_path)
        else:
            message, parts = _message(error)
        doc = doc_link(validator().schema, error.schema)
        problem = Problem(json_path(parts), _kind(error), message, _suggestion(error), parts, doc=doc)
        key = (problem.path, problem.kind, problem.message)
        if key not in seen:
            seen.add(key)
            problems.append(problem)
    return problems
