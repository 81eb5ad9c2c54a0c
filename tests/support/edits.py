"""Reading and editing configs at a path: tuples of keys and indices (``parts``), or a case's JSON pointers.
Every edit returns a changed copy and leaves its argument alone."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any


def paths_in(value: Any, parts: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """(parts, value) of ``value`` itself and of everything inside it, parents first."""
    yield parts, value
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from paths_in(child, parts + (key,))


def get_at(config: Any, parts: tuple[Any, ...]) -> Any:
    for part in parts:
        config = config[part]
    return config


def set_at(config: Any, parts: tuple[Any, ...], value: Any) -> Any:
    config = copy.deepcopy(config)
    get_at(config, parts[:-1])[parts[-1]] = value
    return config


def delete_at(config: Any, parts: tuple[Any, ...]) -> Any:
    config = copy.deepcopy(config)
    del get_at(config, parts[:-1])[parts[-1]]
    return config


def rename_at(config: Any, parts: tuple[Any, ...], new: str) -> Any:
    """The key at ``parts`` renamed to ``new``, in its place among its siblings."""
    config = copy.deepcopy(config)
    node = get_at(config, parts[:-1])
    items = list(node.items())
    node.clear()
    node.update((new if k == parts[-1] else k, v) for k, v in items)
    return config


def apply_ops(config: Any, ops: dict[str, Any]) -> Any:
    """Apply a case's edits: ``set`` {pointer: value} and ``delete`` [pointer, ...]."""
    for pointer, value in ops.get("set", {}).items():
        config = set_at(config, _parts(config, pointer), value)
    for pointer in ops.get("delete", []):
        config = delete_at(config, _parts(config, pointer))
    return copy.deepcopy(config)


def _parts(config: Any, pointer: str) -> tuple[Any, ...]:
    """A JSON pointer as parts (a list index as an int)."""
    parts: list[Any] = []
    for token in pointer.split("/")[1:]:
        key = token.replace("~1", "/").replace("~0", "~")
        parts.append(int(key) if isinstance(get_at(config, tuple(parts)), list) else key)
    return tuple(parts)
