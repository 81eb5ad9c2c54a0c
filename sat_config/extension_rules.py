"""Declarative cross-field rules of schema extensions (``x-extension-rules``): data, never code.

A rule sits on an object of the schema and compares values at paths relative to that object::

    {"id": "v2a.abs_pos_emb_needs_context",
     "when": [{"path": ["use_abs_pos_emb"], "op": "==", "value": true}],
     "require": [{"path": ["cond_token_dim"], "op": ">", "value": 0}],
     "at": ["use_abs_pos_emb"],
     "message": "use_abs_pos_emb adds the cross-attention context ({cond_token_dim}) ...",
     "severity": "error"}

Every condition of ``when`` must hold for the rule to apply; then every condition of ``require`` must hold, or
the rule fails at ``at`` with ``message``, whose ``{dotted.path}`` placeholders are replaced by the JSON text of
the values there. A condition compares the value at ``path`` (its length with ``"of": "length"``; ``default``
when the key is absent) with a literal ``value`` or with the value at another relative path ``to`` (``to_default``
when that is absent). A condition
whose values are absent or of incomparable types is not applicable: in ``when`` the rule does not apply, in
``require`` it passes (the structural checks report missing and mistyped keys).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

KEYWORD = "x-extension-rules"

_ABSENT = object()
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: bool(a == b),
    "!=": lambda a, b: bool(a != b),
    "<": lambda a, b: bool(a < b),
    "<=": lambda a, b: bool(a <= b),
    ">": lambda a, b: bool(a > b),
    ">=": lambda a, b: bool(a >= b),
    "in": lambda a, b: a in b,
    "not_in": lambda a, b: a not in b,
    "multiple_of": lambda a, b: a % b == 0,
    "divides": lambda a, b: b % a == 0,
}
_NUMERIC = {"<", "<=", ">", ">=", "multiple_of", "divides"}
OPERATORS = (*_COMPARE, "present", "absent")
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.\-]+)\}")


def _lookup(instance: Any, path: list[Any]) -> Any:
    node = instance
    for part in path:
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            node = node[part]
        elif isinstance(node, list) and type(part) is int and -len(node) <= part < len(node):
            node = node[part]
        else:
            return _ABSENT
    return node


def _value(instance: Any, condition: dict[str, Any], path_key: str) -> Any:
    value = _lookup(instance, condition[path_key])
    if value is _ABSENT:
        value = condition.get("default" if path_key == "path" else "to_default", _ABSENT)
    if value is not _ABSENT and condition.get("of") == "length" and path_key == "path":
        value = len(value) if isinstance(value, (list, str, dict)) else _ABSENT
    return value


def holds(condition: dict[str, Any], instance: Any) -> bool | None:
    """True or False, or None when the condition does not apply (absent values, incomparable types)."""
    op = condition["op"]
    left = _value(instance, condition, "path")
    if op in ("present", "absent"):
        return (left is not _ABSENT) == (op == "present")
    right = _value(instance, condition, "to") if "to" in condition else condition.get("value", _ABSENT)
    if left is _ABSENT or right is _ABSENT:
        return None
    if op in _NUMERIC and (isinstance(left, bool) or isinstance(right, bool)):
        return None  # True > 0 is not a comparison a config means
    try:
        return _COMPARE[op](left, right)
    except (TypeError, ZeroDivisionError, ValueError):
        return None


def render(message: str, instance: Any) -> str:
    """``message`` with each ``{dotted.path}`` replaced by the JSON text of the value there (or ``absent``)."""

    def fill(match: re.Match[str]) -> str:
        parts: list[Any] = [int(p) if p.lstrip("-").isdigit() else p for p in match.group(1).split(".")]
        value = _lookup(instance, parts)
        return "absent" if value is _ABSENT else json.dumps(value, ensure_ascii=False)

    return _PLACEHOLDER.sub(fill, message)


def failures(rules: list[dict[str, Any]], instance: Any) -> Iterator[tuple[tuple[Any, ...], str, str]]:
    """(relative path, message, severity) for each failed rule on ``instance``."""
    if not isinstance(instance, dict):
        return
    for rule in rules:
        if not all(holds(c, instance) is True for c in rule.get("when", [])):
            continue
        if any(holds(c, instance) is False for c in rule["require"]):
            yield tuple(rule.get("at", [])), render(rule["message"], instance), rule.get("severity", "error")


def jsonschema_keyword(validator: Any, rules: Any, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    """The keyword for python-jsonschema (``validators.extend(..., {KEYWORD: jsonschema_keyword})``): one
    ``cross_field`` error per failed rule, carrying ``sat_severity``."""
    from jsonschema.exceptions import ValidationError

    for path, message, severity in failures(rules, instance):
        error = ValidationError(message, path=path)
        error.sat_kind = "cross_field"  # type: ignore[attr-defined]
        error.sat_suggestion = None  # type: ignore[attr-defined]
        error.sat_severity = severity  # type: ignore[attr-defined]
        yield error
