"""Validate a config against the schema with ``jsonschema``, and turn errors into ``Problem``s.

The Draft 2020-12 validator is extended with these keywords, each implemented once here:

- ``oneOf`` next to ``discriminator``: dispatch on the tag and report only the matching branch's errors
  (an unknown tag is reported with the valid tags and a did-you-mean; in the open world a tag that is no
  plausible typo is an ``unchecked`` warning and its object is skipped);
- ``anyOf``: when only one branch can apply to the instance's JSON type (``X`` or ``null``), report its errors;
- ``additionalProperties: false``: one error per unknown key, each with a did-you-mean (open world: likewise);
- ``x-unsupported``: types or keys a target cannot build; a ``when`` condition makes it depend on the
  environment (``sat_config.targets``): an error where it holds, a warning where the environment cannot tell;
- ``x-rules``: cross-field rules (``sat_config.rules``); ``x-extension-rules``: an extension's declarative rules
  (``sat_config.extension_rules``).

- ``$ref``: a part the fast engine confirms valid is skipped (nothing inside it to report).

Valid configs are confirmed by the fast engine (``Engine.valid``): a jsonschema-rs validator of the config's model
type, compiled on first use, that calls no Python (``x-unsupported`` gates decided per environment; strict integers
only for configs that write 2.0), then the cross-field rules on the config seen with its defaults. Only configs
with problems pay for the detailed python-jsonschema pass.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextvars import ContextVar
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

if TYPE_CHECKING:  # python-jsonschema is imported only when a config has problems
    from jsonschema.exceptions import ValidationError

    from .targets import Environment

from .compiled import jsonschema_rs
from .defaults import WithDefaults, seen, with_defaults
from .errors import Kind, Problem, Severity, json_path
from .extension_rules import KEYWORD as EXTENSION_RULES
from .extension_rules import failures as extension_failures
from .extension_rules import jsonschema_keyword
from .reference import doc_link
from .rules import RULES
from .schema_source import (
    INTEGER_PLACES,
    STRICT_INT,
    integer_places,
    load_bundled_schema,
    on_objects,
    shared_validation_schema,
    validation_schema,
)
from .schemawalk import BUNDLE_URI, Location, SchemaWalker, json_type
from .suggest import closest, is_typo

__all__ = ["Judging", "closest", "find_problems", "json_type", "load_bundled_schema", "validator"]

UnknownTypes = Literal["error", "warn"]

_RANGE = {
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems",
    "minLength", "maxLength", "multipleOf", "minProperties", "maxProperties", "pattern",
}
_KINDS: dict[str, Kind] = {"type": "type", "required": "required", "enum": "enum", "const": "enum"}


class Judging(NamedTuple):
    """What a config is judged against: the environment (target, torch), the open or closed world, and the
    schema (the bundled one, or one assembled with extensions; ``judging._replace(schema=...)`` swaps it)."""

    env: Environment
    unknown_types: UnknownTypes = "error"
    schema: dict[str, Any] | None = None
    extensions: tuple[str, ...] = ()  # one line per extension merged into ``schema``

    @property
    def engine(self) -> Engine:
        return engine(self.schema)


def default_judging() -> Judging:
    """The installed environment, with the extensions of $SAT_CONFIG_EXTENSIONS and installed packages."""
    judging: Judging = _api().judging()
    return judging


@cache
def _api() -> Any:
    """``sat_config.api`` (which imports this module), imported on first use rather than on every call."""
    from . import api

    return api


class _Run:
    """One validation in progress: what it judges against, and what the detailed pass knows of the config."""

    __slots__ = ("judging", "engine", "prune", "config", "views")

    def __init__(self, judging: Judging, engine: Engine) -> None:
        self.judging, self.engine = judging, engine
        self.prune: Any = None  # the config (known invalid): parts below it the fast engine confirms are skipped
        self.config: Any = None  # the config of the detailed pass, whose objects rules read as ``views`` show them
        self.views: dict[int, WithDefaults] | None = None

    def view(self, instance: dict[str, Any], node: Any) -> WithDefaults:
        """``instance`` as its rules read it: seen with its defaults, as the fast engine sees it in the config
        (a place the config walk does not reach is seen from the schema object ``node`` alone)."""
        if self.views is None:
            sites = seen(self.config, self.engine.root).sites if self.config is not None else []
            self.views = {id(view.raw): view for view, _ in sites}
        found = self.views.get(id(instance))
        return found if found is not None and found.raw is instance else with_defaults(instance, node,
                                                                                      self.engine.walker)


_RUN: ContextVar[_Run | None] = ContextVar("sat_config_run", default=None)


def _current() -> _Run:
    run = _RUN.get()
    if run is None:  # the keywords were called outside find_problems (e.g. a test's own iter_errors)
        judging = default_judging()
        run = _Run(judging, judging.engine)
    return run


def _error(message: str, kind: Kind, path: tuple[Any, ...] = (), suggestion: str | None = None,
           severity: Severity = "error") -> ValidationError:
    from jsonschema.exceptions import ValidationError

    err = ValidationError(message, path=path)
    err.sat_kind = kind  # type: ignore[attr-defined]
    err.sat_suggestion = suggestion  # type: ignore[attr-defined]
    err.sat_severity = severity  # type: ignore[attr-defined]
    return err


def _unchecked(what: str, path: tuple[Any, ...]) -> ValidationError:
    target = _current().judging.env.target.name
    return _error(f"{what} is not known for target {target}; {'its settings were' if path else 'it was'} not "
                  "checked", "unchecked", path, severity="warning")


def _resolve(subschema: Any) -> Any:
    engine = _current().engine
    while isinstance(subschema, dict) and "$ref" in subschema:
        subschema = engine.lookup(subschema["$ref"])
    return subschema


_TAG_TABLES: dict[int, tuple[Any, dict[Any, int]]] = {}


def _tag_table(branches: list[Any], prop: str) -> dict[Any, int]:
    """Map each branch's ``const`` tag to its index (cached per schema list)."""
    cached = _TAG_TABLES.get(id(branches))
    if cached is not None and cached[0] is branches:
        return cached[1]
    table: dict[Any, int] = {}
    for index, branch in enumerate(branches):
        tag_schema = _resolve(_resolve(branch).get("properties", {}).get(prop, {}))
        if "const" in tag_schema:
            table[tag_schema["const"]] = index
    _TAG_TABLES[id(branches)] = (branches, table)
    return table


def _branch_keys(branches: list[Any]) -> set[str]:
    """Every property name some branch of a tagged union declares."""
    return {key for branch in branches for key in _resolve(branch).get("properties", {})}


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
    table = _tag_table(branches, prop)
    if prop not in instance:
        yield _error(f"required key {prop!r} is missing (one of: {_listing(table)})", "required", (prop,))
        known = _branch_keys(branches)
        for key in instance:  # a misspelt tag key is the likely cause: say so where it is
            if key not in known and closest(key, [prop]) == prop:
                yield _error(f"unknown key {key!r}", "unknown_key", (key,), prop)
        return
    tag = instance[prop]
    index = table.get(tag) if isinstance(tag, (str, int)) and not isinstance(tag, bool) else None
    if index is None:
        suggestion = closest(tag, table)
        if _current().judging.unknown_types == "warn" and not is_typo(tag, table):
            yield _unchecked(f"{prop} {tag!r}", (prop,))
            return
        yield _error(f"unknown {prop} {tag!r}; valid values: {_listing(table)}", "unknown_tag", (prop,), suggestion)
        return
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
    open_world = _current().judging.unknown_types == "warn"
    for key in instance:
        if key in known or any(_compiled(p).search(key) for p in patterns):
            continue
        if open_world and not is_typo(key, known):
            yield _unchecked(f"key {key!r}", (key,))
        else:
            yield _error(f"unknown key {key!r}", "unknown_key", (key,), closest(key, known))


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _unsupported(validator: Any, value: Any, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    if on_objects(schema) and not validator.is_type(instance, "object"):
        return  # on a type (or a conditional about one): a non-object is reported by "type"
    from .targets import unsupported_message, verdict

    env = _current().judging.env
    holds = verdict(value.get("when"), env)
    if holds is False:
        return
    path = ("type",) if isinstance(instance, dict) and "type" in instance else ()
    yield _error(unsupported_message(value, holds, env), "unsupported", path,
                 severity="error" if holds else "warning")


def rule_failures(rule_ids: list[str], seen_object: WithDefaults) -> Iterator[tuple[tuple[Any, ...], str, Kind,
                                                                                 Severity, str | None]]:
    """(relative path, message, kind, severity, suggestion) for each failed cross-field rule on a config object
    seen with its defaults. A rule that raises is a bug in sat-config: it is reported (kind ``internal``), never
    skipped."""
    for rule_id in rule_ids:
        try:
            rule = RULES[rule_id]
            failures = rule.failures(seen_object)
        except Exception as exc:  # noqa: BLE001 - any exception in a rule is a bug to report
            yield (), (f"rule {rule_id!r} raised {type(exc).__name__}: {exc} (a bug in sat-config: please report "
                       "it; the rule's check was skipped)"), "internal", "error", None
            continue
        for path, message, suggestion in failures:
            yield tuple(path), message, "cross_field", rule.severity, suggestion


def _rules(validator: Any, rules: list[str], instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    if not isinstance(instance, dict):
        return
    for path, message, kind, severity, suggestion in rule_failures(rules, _current().view(instance, schema)):
        yield _error(message, kind, path, suggestion, severity=severity)


def _site_fails(view: WithDefaults, place: Location) -> bool:
    """Whether a rule at ``place`` (registered ones, looked up when they run, and an extension's declarative ones)
    fails (or raises) on a config object there, seen with its defaults."""
    try:
        for rule_id in place.rule_ids:
            outcome = RULES[rule_id].outcome(view)
            if outcome is not None and (type(outcome) is str or len(outcome) > 0):
                return True
        for declared in place.declared_rules:
            if next(extension_failures(declared, view.raw), None) is not None:
                return True
    except Exception:  # noqa: BLE001 - the detailed pass reports the rule that raises (kind "internal")
        return True
    return False


def _ref(validator: Any, ref: str, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    run = _current()
    if run.prune is not None and instance is not run.prune and run.engine.def_valid(ref, instance):
        return  # the compiled engine confirms this whole part is valid: nothing to report inside
    yield from _builtin("$ref")(validator, ref, instance, schema)


def _builtin(keyword: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator.VALIDATORS[keyword]


@cache
def _validator_class() -> Any:
    """Draft 2020-12 with sat-config's keywords and strict integers."""
    from jsonschema import Draft202012Validator, validators

    keywords = {
        "$ref": _ref,
        "oneOf": _one_of,
        "anyOf": _any_of,
        "additionalProperties": _additional_properties,
        "x-unsupported": _unsupported,
        "x-rules": _rules,
        EXTENSION_RULES: jsonschema_keyword,  # an extension's declarative rules (data, never code)
    }
    # upstream passes integers to constructors that reject 2.0 (nn.Conv1d(2.0, ...) raises TypeError), so an
    # integer must be written as one; JSON Schema alone would count 2.0 as an integer
    checker = Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool)
    )
    return validators.extend(Draft202012Validator, keywords, type_checker=checker)


class _RsStrictInt:
    """Where the schema wants an integer, a float such as 2.0 is invalid (as in the python-jsonschema pass).
    Compiled only for configs that write one (a Python keyword costs a call per integer of the config)."""

    def __init__(self, parent_schema: Any, value: Any, schema_path: Any) -> None:
        del parent_schema, value, schema_path

    def validate(self, instance: Any) -> None:
        if isinstance(instance, float):
            raise ValueError("integer written as a float")


def _gate(gate: dict[str, Any], env: Environment) -> Any:
    """What an ``x-unsupported`` gate (``sat_config.schema_source``) is for the compiled engine in ``env``: true
    where the condition does not hold, else false (for a type: false for objects, whose other values "type"
    reports)."""
    from .targets import verdict

    if verdict(gate["when"], env) is False:
        return True
    return {"not": {"type": "object"}} if gate["on_object"] else False


class Engine:
    """The two validators over one schema document: python-jsonschema (problems) and jsonschema-rs (a fast
    yes for valid configs, compiled per model type on first use)."""

    def __init__(self, schema: dict[str, Any], prepared: bool = False) -> None:
        """``schema``: an editor schema (made ready here), or with ``prepared`` a validation schema."""
        self.schema: dict[str, Any] = schema if prepared else validation_schema(schema)
        self._branches: dict[tuple[Any, ...], Any] = {}
        self._registries: dict[tuple[bool, ...], Any] = {}
        self._env_keys: dict[tuple[str | None, ...], tuple[bool, ...]] = {}
        self._ref_nodes: dict[str, dict[str, Any]] = {}
        self._last_env: tuple[Environment | None, tuple[Any, ...]] = (None, ())

    def lookup(self, ref: str) -> Any:
        """The schema object an internal ``$ref`` names (``#`` or ``#/$defs/<name>``, as the bundler writes them;
        anything else through the referencing library)."""
        if ref == "#":
            return self.schema
        name = ref.removeprefix("#/$defs/")
        if name != ref and "/" not in name and name in self.schema.get("$defs", {}):
            return self.schema["$defs"][name]
        return self.walker.lookup(ref)

    @cached_property
    def walker(self) -> SchemaWalker:
        return SchemaWalker(self.schema)

    @cached_property
    def py(self) -> Any:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        resource = Resource.from_contents(self.schema, default_specification=DRAFT202012)
        registry: Registry[Any] = Registry().with_resource(BUNDLE_URI, resource)
        return _validator_class()(self.schema, registry=registry)

    @cached_property
    def root(self) -> Location:
        return self.walker.location((self.schema,))

    @cached_property
    def _gates(self) -> dict[str, dict[str, Any]]:
        return {name: d["x-gate"] for name, d in self.schema.get("$defs", {}).items() if "x-gate" in d}

    def _registry(self, env: Environment) -> tuple[Any, ...]:
        """The jsonschema-rs registry of the schema as ``env`` sees it (its gates decided), and its key."""
        last = self._last_env
        if last[0] is env:  # most calls judge against the environment of the previous one
            return last[1]
        facts = (env.target.name, env.target_how, env.torch)  # all a condition reads of an environment
        key = self._env_keys.get(facts)
        if key is None:
            key = self._env_keys[facts] = tuple(_gate(gate, env) is True for gate in self._gates.values())
        registry = self._registries.get(key)
        if registry is None:
            defs = {**self.schema.get("$defs", {}), **{name: _gate(gate, env) for name, gate in self._gates.items()}}
            registry = self._registries[key] = jsonschema_rs().Registry([(BUNDLE_URI, {**self.schema, "$defs": defs})])
        self._last_env = (env, (key, registry))
        return key, registry

    def _compiled(self, ref: str, env: Environment, strict: bool) -> Any:
        key, registry = self._registry(env)
        compiled = self._branches.get((key, ref, strict))
        if compiled is None:
            compiled = self._branches[key, ref, strict] = jsonschema_rs().validator_for(
                {"$ref": BUNDLE_URI + ref}, registry=registry, keywords={STRICT_INT: _RsStrictInt} if strict else None,
                offline=True)
        return compiled

    def valid(self, instance: Any, ref: str, at: Location, env: Environment) -> bool:
        """The fast verdict on ``instance`` at the place ``at`` of the schema object ``ref`` names: the compiled
        structure (gates decided for ``env``; integers checked strictly only when the config writes a float such
        as 2.0), then every cross-field rule on the config seen with its defaults (rules raise nothing here: one
        that fails or raises sends the config to the detailed pass)."""
        if not self._compiled(ref, env, False).is_valid(instance):
            return False
        found = seen(instance, at)
        if found.integral_floats and self._may_be_integers(found.integral_floats) and not self._compiled(
                ref, env, True).is_valid(instance):
            return False
        for view, place in found.sites:
            if _site_fails(view, place):
                return False
        return True

    def _may_be_integers(self, keys: list[str | int | None]) -> bool:
        """Whether a float such as 2.0 under one of ``keys`` (a property name, a list index, or None for the value
        itself) may sit where the schema wants an integer (``schema_source.integer_places``): only then does the
        strict check differ."""
        names, any_name, items = self._integer_places
        for key in keys:
            if key is None or (items if type(key) is int else any_name or key in names):
                return True
        return False

    @cached_property
    def _integer_places(self) -> tuple[frozenset[str], bool, bool]:
        """``schema_source.integer_places`` of the schema: written into the bundled one by ``make gen``, worked out
        on first need for one assembled with extensions."""
        places = self.schema.get(INTEGER_PLACES) or integer_places(self.schema)
        return frozenset(places["names"]), places["any_name"], places["items"]

    def def_valid(self, ref: str, instance: Any) -> bool:
        """The compiled engine's verdict on a part of a config that ``{"$ref": "#/$defs/<name>"}`` describes."""
        if not ref.startswith("#/$defs/") or "/" in ref[len("#/$defs/"):]:
            return False
        return self.valid(instance, ref, self.walker.location((self._ref_node(ref),)), _current().judging.env)

    def _ref_node(self, ref: str) -> dict[str, Any]:
        node = self._ref_nodes.get(ref)
        if node is None:
            node = self._ref_nodes[ref] = {"$ref": ref}  # kept: locations are interned by schema object identity
        return node

    def is_valid(self, config: Any, judging: Judging | None = None) -> bool:
        """The fast verdict on a whole config: its model type's branch, compiled on first use."""
        env = (judging or default_judging()).env
        if not isinstance(config, dict) or not self._model_refs:
            return self.valid(config, "#", self.root, env)
        tag = config.get(self._model_refs[0])
        ref = self._model_refs[1].get(tag) if _hashable(tag) else None
        return ref is not None and self.valid(config, ref, self.root, env)

    @cached_property
    def _model_refs(self) -> tuple[str, dict[Any, str]] | None:
        """(the root's tag property, tag -> ``$ref`` of its branch), when the root is a tagged union of refs."""
        discriminator = self.schema.get("discriminator")
        if not discriminator:
            return None
        prop = discriminator["propertyName"]
        refs: dict[Any, str] = {}
        for branch in self.schema["oneOf"]:
            ref = branch.get("$ref") if isinstance(branch, dict) and len(branch) == 1 else None
            tag = self.walker.lookup(ref).get("properties", {}).get(prop, {}).get("const") if ref else None
            if isinstance(ref, str) and _hashable(tag):
                refs[tag] = ref
        return prop, refs


def _hashable(value: Any) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool)


_ENGINES: dict[int, tuple[dict[str, Any], Engine]] = {}


def engine(schema: dict[str, Any] | None = None) -> Engine:
    """The engine over ``schema`` (an assembled schema, kept alive here), or over the bundled schema."""
    if schema is None:
        return _bundled_engine()
    cached = _ENGINES.get(id(schema))
    if cached is None or cached[0] is not schema:
        cached = _ENGINES[id(schema)] = (schema, Engine(schema))
    return cached[1]


@cache
def _bundled_engine() -> Engine:
    return Engine(shared_validation_schema(), prepared=True)


def validator() -> Any:
    """The python-jsonschema validator over the bundled schema."""
    return _bundled_engine().py


def fast_validator() -> Engine:
    """The compiled engine over the bundled schema (``.is_valid(config)``)."""
    return _bundled_engine()


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
    "pattern": "must match the pattern {v!r} (see its description), got {got}",
}


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, (list, str, dict)) else None


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(error: ValidationError) -> Kind:
    kind: Kind | None = getattr(error, "sat_kind", None)
    if kind:
        return kind
    if error.validator in _RANGE:
        return "range"
    return _KINDS.get(str(error.validator), "type")


def _suggestion(error: ValidationError) -> str | None:
    suggestion = getattr(error, "sat_suggestion", None)
    if suggestion is None and error.validator == "enum":
        suggestion = closest(error.instance, error.validator_value)
    return suggestion


def find_problems(config: Any, fast: bool = True, judging: Judging | None = None) -> list[Problem]:
    """Every problem in ``config`` (a plain JSON-like value), errors and warnings, in schema order; empty when
    it is valid without warnings.

    With ``fast`` a valid config is confirmed by the compiled validator alone (tests/test_fast_path.py proves
    the two engines agree); the detailed python-jsonschema pass runs only for configs with problems."""
    judging = judging or default_judging()
    if fast and judging.engine.is_valid(config, judging):
        return []
    run = _Run(judging, judging.engine)
    token = _RUN.set(run)
    try:
        run.prune = config if fast and isinstance(config, dict) else None
        run.config = config
        errors = list(run.engine.py.iter_errors(config))
    finally:
        _RUN.reset(token)
    problems: list[Problem] = []
    seen: set[tuple[str, str, str]] = set()
    for error in errors:
        if getattr(error, "sat_kind", None):
            message, parts = error.message, tuple(error.absolute_path)
        else:
            message, parts = _message(error)
        doc = doc_link(run.engine.schema, error.schema)
        problem = Problem(json_path(parts), _kind(error), message, _suggestion(error), parts, doc=doc,
                          severity=getattr(error, "sat_severity", "error"))
        key = (problem.path, problem.kind, problem.message)
        if key not in seen:
            seen.add(key)
            problems.append(problem)
    return _one_problem_per_typo(problems)


def _one_problem_per_typo(problems: list[Problem]) -> list[Problem]:
    """A misspelt required key is one mistake: drop "required key 'd_model' is missing" where the same object
    has an unknown key whose suggestion is 'd_model' (the typo's problem says so)."""
    typos = {p.parts[:-1] + (p.suggestion,) for p in problems if p.kind == "unknown_key" and p.suggestion}
    if not typos:
        return problems
    return [p for p in problems if not (p.kind == "required" and p.parts in typos)]
