"""Helpers available to the cross-field rules that schemas declare in ``x-rules``.

Rules are Python expressions over ``self`` (the object the rule is declared on); the generator compiles them
into ``sat_config.generated.rules``. Helpers return None when the data they need is absent, so a rule can say
``x is None or ...``; a rule that trips over malformed data is skipped (the schema errors already cover it).
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["get", "product", "ids"]


def get(obj: Any, dotted: str, default: Any = None) -> Any:
    """``obj["a"]["b"]...`` for ``"a.b"`` (list indices as digits), or ``default`` when any step is missing."""
    for part in dotted.split("."):
        if isinstance(obj, dict) and part in obj:
            obj = obj[part]
        elif isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            return default
    return default if obj is None else obj


def product(values: Any) -> int:
    """The product of a list of integers (1 for an empty list)."""
    return math.prod(values)


def ids(entries: Any) -> list[Any]:
    """The ``id`` of each entry of a list of objects (e.g. conditioners)."""
    return [e.get("id") for e in entries or [] if isinstance(e, dict)]
