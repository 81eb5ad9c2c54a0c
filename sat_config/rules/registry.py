"""The rule registry: each cross-field rule is a typed function registered under the id that schemas name in
``x-rules``.

A rule receives the object it is declared on seen with the schema's defaults (``sat_config.defaults``), so it
never restates a default. It returns None when the object is fine, a message (blamed at the rule's ``at`` path),
or a list of (path, message) failures when it blames computed paths. A rule lists in ``needs`` the values it
reads and the JSON types they must have: when one is absent or of another type, the structural errors already
describe the object and the rule does not run. Any exception a rule raises beyond that is a bug in the rule,
reported as a problem of kind ``internal`` by the validator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, NamedTuple, TypeGuard, TypeVar

from ..defaults import ListWithDefaults, WithDefaults

Obj = Mapping[str, Any]
T = TypeVar("T")
Path = tuple[str | int, ...]
Failure = tuple[Path, str] | tuple[Path, str, str | None]  # (blamed path, message[, did-you-mean suggestion])
Outcome = str | Sequence[Failure] | None
Check = Callable[[Obj], Outcome]
TypeName = Literal["int", "number", "str", "bool", "list", "object", "ints"]


def is_int(value: Any) -> TypeGuard[int]:
    """An integer as JSON has it (not a bool)."""
    return type(value) is int


def is_number(value: Any) -> TypeGuard[int | float]:
    """A JSON number (an integer or a float, not a bool)."""
    return is_int(value) or isinstance(value, float)


def is_list(value: Any) -> TypeGuard[Sequence[Any]]:
    """A JSON array (a list, or a list read with defaults)."""
    return isinstance(value, list)


def written(obj: Any) -> Any:
    """The object or list as the config itself holds it (without the defaults a rule sees)."""
    return getattr(obj, "raw", obj)


def given(obj: Any, key: str) -> bool:
    """Whether the config object ``obj`` holds ``key`` itself (rather than its default)."""
    return isinstance(obj, Mapping) and key in written(obj)


def once(obj: Any, name: str, compute: Callable[[], T]) -> T:
    """``compute()``, computed once per config object that several rules read (kept in the view's scratch)."""
    scratch = getattr(obj, "scratch", None)
    if scratch is None:
        return compute()
    if name not in scratch:
        scratch[name] = compute()
    value: T = scratch[name]
    return value


_TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "int": is_int,
    "number": is_number,
    "str": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "list": is_list,
    "object": lambda v: isinstance(v, dict),
    "ints": lambda v: is_list(v) and all(type(i) is int for i in written(v)),
}
# the exact Python types of each JSON type as rules see it (a config's dicts and lists, or their views with
# defaults): a guard on a top-level key is then one dict read and one set test
_EXACT_TYPES: dict[str, frozenset[type]] = {
    "int": frozenset((int,)),
    "number": frozenset((int, float)),
    "str": frozenset((str,)),
    "bool": frozenset((bool,)),
    "list": frozenset((list, ListWithDefaults)),
    "object": frozenset((dict, WithDefaults)),
}

_MISSING = object()


def get(obj: Any, dotted: str, default: Any = None) -> Any:
    """``obj["a"]["b"]...`` for ``"a.b"`` (list indices as digits); ``default`` when a step is missing or the
    value is null."""
    for part, index in _PATHS.get(dotted) or _split(dotted):
        if isinstance(obj, dict):
            obj = obj.get(part)
        elif index is not None and isinstance(obj, list) and index < len(obj):
            obj = obj[index]
        else:
            return default
    return default if obj is None else obj


def member(obj: Any, key: str) -> Any:
    """``obj[key]`` when ``obj`` is a config object, else None: one step of ``get``, for rules that read a value
    in a passing path (``get`` parses its dotted path on every call)."""
    return obj.get(key) if isinstance(obj, dict) else None


_PATHS: dict[str, tuple[tuple[str, int | None], ...]] = {}


def _split(dotted: str) -> tuple[tuple[str, int | None], ...]:
    """(key, list index or None) per part of a dotted path (cached)."""
    parts = _PATHS[dotted] = tuple((p, int(p) if p.isdigit() else None) for p in dotted.split("."))
    return parts


class Rule(NamedTuple):
    """A registered cross-field rule (``rule._replace(check=...)`` makes a changed copy)."""

    id: str
    check: Check
    at: Path | None = None  # None: the rule returns the paths it blames
    keys: tuple[tuple[str, frozenset[type]], ...] = ()  # (key, its exact types) per top-level value it needs
    guards: tuple[tuple[str, Callable[[Any], bool]], ...] = ()  # (dotted path, type check) per other value
    severity: Literal["error", "warning"] = "error"
    fails_when: str = ""  # for warnings: the downstream use that fails

    @property
    def description(self) -> str:
        """The rule's docstring: what it checks and what fails upstream otherwise."""
        from inspect import cleandoc

        return cleandoc(self.check.__doc__ or "")

    def outcome(self, obj: Obj) -> Outcome:
        """The rule's outcome on ``obj``: None when it passes or does not apply (a value it reads is absent or of
        another type than it needs); exceptions propagate (a bug in the rule)."""
        for key, types in self.keys:
            if type(obj.get(key)) not in types:
                return None
        for path, check in self.guards:
            if not check(get(obj, path, _MISSING)):
                return None
        return self.check(obj)

    def failures(self, obj: Obj) -> list[tuple[Path, str, str | None]]:
        """(path relative to ``obj``, message, suggestion) for each failure; exceptions propagate (a bug in the
        rule)."""
        outcome = self.outcome(obj)
        if outcome is None:
            return []
        if isinstance(outcome, str):
            if self.at is None:
                raise TypeError(f"rule {self.id!r} returned a message but declares no 'at' path to blame")
            return [(self.at, outcome, None)]
        return [(failure[0], failure[1], failure[2] if len(failure) > 2 else None) for failure in outcome]


RULES: dict[str, Rule] = {}


def rule(rule_id: str, *, at: Path | None = None, needs: Mapping[str, TypeName] | None = None,
         severity: Literal["error", "warning"] = "error", fails_when: str = "") -> Callable[[Check], Check]:
    """Register the decorated function as the rule ``rule_id`` (schemas name it in ``x-rules``)."""

    def register(check: Check) -> Check:
        if rule_id in RULES:
            raise ValueError(f"rule {rule_id!r} is registered twice")
        if severity == "warning" and not fails_when:
            raise ValueError(f"rule {rule_id!r}: a warning must say which downstream use fails (fails_when)")
        reads = dict(needs or {})
        exact = {path: _EXACT_TYPES[kind] for path, kind in reads.items() if "." not in path and kind in _EXACT_TYPES}
        keys = tuple(exact.items())
        guards = tuple((path, _TYPE_CHECKS[kind]) for path, kind in reads.items() if path not in exact)
        RULES[rule_id] = Rule(rule_id, check, at, keys, guards, severity, fails_when)
        return check

    return register
