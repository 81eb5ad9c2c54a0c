"""The schema's defaults, applied to a config: filled into a copy (``fill_defaults``, for ``print-config``) or
seen through a read-only view (``with_defaults``, what the cross-field rules read, at the cost of the keys they
touch). Both find defaults with the one schema walker, ``sat_config.schemawalk``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

from .schemawalk import Location, Node, Parts, SchemaWalker, bundled_walker


def fill_defaults(config: Any, schema: Node | None = None) -> tuple[Any, list[Parts]]:
    """A copy of ``config`` with every default of ``schema`` (default: the bundled schema) filled in where the
    key is absent, nested defaults included, and the path of each filled key, in walk order. ``config`` is not
    modified."""
    walker = bundled_walker() if schema is None else SchemaWalker(schema)
    filled = copy.deepcopy(config)
    paths: list[Parts] = []
    for parts, value, node in walker.walk(filled):
        if not isinstance(value, dict):
            continue
        for key, default in walker.defaults((node,)).items():
            if key not in value:
                value[key] = copy.deepcopy(default)
                paths.append(parts + (key,))
    return filled, paths


_ABSENT = object()


class WithDefaults(Mapping[str, Any]):
    """A read-only view of a config object in which absent keys read as the schema's defaults (nested objects
    and lists of objects are views too, made once per key). ``given(key)`` tells whether the config itself holds
    ``key``."""

    __slots__ = ("raw", "_at", "_defaults", "_memo", "scratch")

    def __init__(self, raw: Mapping[str, Any], at: Location) -> None:
        self.raw = raw
        self._at = at
        self._defaults = at.defaults
        self._memo: dict[str, Any] = {}
        self.scratch: dict[str, Any] = {}  # what readers derive from this object once (e.g. the rules' helpers)

    def given(self, key: str) -> bool:
        """Whether the config holds ``key`` (rather than the default providing it)."""
        return key in self.raw

    def __getitem__(self, key: str) -> Any:
        value = self.get(key, _ABSENT)
        if value is _ABSENT:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        value = self._memo.get(key, _ABSENT)
        if value is not _ABSENT:
            return value
        value = self.raw.get(key, _ABSENT)
        if value is _ABSENT:
            value = self._defaults.get(key, _ABSENT)
            if value is _ABSENT:
                return default
        if type(value) is dict or type(value) is list:
            value = _view(value, self._at.child(key))
        self._memo[key] = value
        return value

    def __contains__(self, key: object) -> bool:
        return key in self.raw or key in self._defaults

    def __iter__(self) -> Iterator[str]:
        yield from self.raw
        yield from (key for key in self._defaults if key not in self.raw)

    def __len__(self) -> int:
        return len(self.raw) + sum(1 for key in self._defaults if key not in self.raw)

    def __repr__(self) -> str:
        return f"WithDefaults({dict(self)!r})"


class ListWithDefaults(Sequence[Any]):
    """A read-only view of a list of objects whose items read through ``WithDefaults``."""

    __slots__ = ("raw", "_at", "_memo")

    def __init__(self, raw: list[Any], at: Location) -> None:
        self.raw = raw
        self._at = at
        self._memo: dict[int, Any] = {}

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self.raw)))]
        position = index + len(self.raw) if index < 0 else index
        value = self._memo.get(position, _ABSENT)
        if value is not _ABSENT:
            return value
        value = _view(self.raw[index], self._at.child(position))
        self._memo[position] = value
        return value

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(len(self.raw)))

    def __len__(self) -> int:
        return len(self.raw)

    def __repr__(self) -> str:
        return f"ListWithDefaults({list(self)!r})"


def _view(value: Any, at: Location) -> Any:
    if isinstance(value, dict):
        return WithDefaults(value, at.applied(value))
    if isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
        return ListWithDefaults(value, at)
    return value


def with_defaults(obj: Mapping[str, Any], node: Node, walker: SchemaWalker | None = None) -> WithDefaults:
    """``obj`` (a config object that the schema object ``node`` applies to) seen with its defaults."""
    walker = bundled_walker() if walker is None else walker
    return WithDefaults(obj, walker.location((node,)).applied(obj))
