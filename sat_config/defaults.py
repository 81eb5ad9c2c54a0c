"""The schema's defaults, applied to a config: filled into a copy (``fill_defaults``, for ``print-config``) or
seen as dicts with the defaults filled in (``seen``, ``with_defaults``: what the cross-field rules read, built in
one walk; the config itself is not modified). Both find defaults with the one schema walker,
``sat_config.schemawalk``.
"""

from __future__ import annotations

from typing import Any

from .schemawalk import Location, Node, Parts, SchemaWalker, bundled_walker


def fill_defaults(config: Any, schema: Node | None = None) -> tuple[Any, list[Parts]]:
    """A copy of ``config`` with every default of ``schema`` (default: the bundled schema) filled in where the
    key is absent, nested defaults included, and the path of each filled key, in walk order. ``config`` is not
    modified."""
    from copy import deepcopy  # imported here: validation alone never copies

    walker = bundled_walker() if schema is None else SchemaWalker(schema)
    filled = deepcopy(config)
    paths: list[Parts] = []
    for parts, value, node in walker.walk(filled):
        if not isinstance(value, dict):
            continue
        for key, default in walker.defaults((node,)).items():
            if key not in value:
                value[key] = deepcopy(default)
                paths.append(parts + (key,))
    return filled, paths


class WithDefaults(dict[str, Any]):
    """A config object as rules read it: a dict of its keys with the schema's defaults filled in where absent,
    nested objects and lists of objects likewise (built once per config; reads cost what a dict's cost). ``raw``
    is the object as the config holds it; ``given(key)`` tells whether it holds ``key`` itself."""

    __slots__ = ("raw", "scratch")

    raw: dict[str, Any]
    scratch: dict[str, Any]  # what readers derive from this object once (e.g. the rules' helpers)

    def given(self, key: str) -> bool:
        """Whether the config holds ``key`` (rather than the default providing it)."""
        return key in self.raw


class ListWithDefaults(list[Any]):
    """A list of a config whose objects read as ``WithDefaults``; ``raw`` is the list as the config holds it."""

    __slots__ = ("raw",)

    raw: list[Any]


class Seen:
    """One config seen with its defaults (``seen``): the places whose schema objects carry cross-field rules (the
    object there seen with its defaults, its location), and where it writes an integral number as a float
    (``2.0``), which only a strict integer check tells from an integer: the key of each (a list index for an
    item, None for the value itself)."""

    __slots__ = ("sites", "integral_floats")

    def __init__(self) -> None:
        self.sites: list[tuple[WithDefaults, Location]] = []
        self.integral_floats: list[str | int | None] = []


def seen(value: Any, at: Location) -> Seen:
    """``value`` (at the place ``at``) seen with the schema's defaults, in one walk of the config."""
    found = Seen()
    _value(value, at, found)
    if type(value) is float and value.is_integer():  # a part that is itself such a number (the detailed pass asks)
        found.integral_floats.append(None)
    return found


def _value(value: Any, at: Location, found: Seen) -> Any:
    kind = type(value)
    if kind is dict:
        return _object(value, at, found)
    if kind is list:
        return _list(value, at, found)
    return value


def _object(raw: dict[str, Any], at: Location, found: Seen) -> WithDefaults:
    at = at.applied(raw)
    view = WithDefaults(at.defaults)
    view.update(raw)
    view.raw, view.scratch = raw, {}
    places = at.children
    for key, value in raw.items():
        kind = type(value)
        if kind is dict or kind is list:
            place = places.get(key) or at.child(key)
            if place.nodes:  # a place no schema describes (an unknown key) has no defaults or rules below it
                view[key] = _object(value, place, found) if kind is dict else _list(value, place, found)
        elif kind is float and value.is_integer():
            found.integral_floats.append(key)
    for key in at.nested_defaults:
        if key not in raw:  # a default object or list: seen too (its floats are the schema's, not the config's)
            view[key] = _default(at, key)
    if at.checks:
        found.sites.append((view, at))
    return view


def _default(at: Location, key: str) -> Any:
    """The default object or list of ``key`` at ``at``, seen: it is the same for every config, so it is seen once
    and each config gets its own copy (an object of plain values: a shallow copy with empty scratch), or the very
    default (a list of plain values); a default holding objects is seen anew."""
    template = at.default_views.get(key)
    if template is None:
        default = at.defaults[key]
        template = _value(default, at.child(key), Seen())
        if template is not default and not (type(template) is WithDefaults and not any(
                isinstance(v, (WithDefaults, ListWithDefaults)) for v in template.values())):
            template = False  # nested views: each config sees them anew
        at.default_views[key] = template
    if template is False:
        return _value(at.defaults[key], at.child(key), Seen())
    if type(template) is not WithDefaults:
        return template
    view = WithDefaults(template)
    view.raw, view.scratch = template.raw, {}
    return view


def _list(raw: list[Any], at: Location, found: Seen) -> Any:
    containers = False
    for index, item in enumerate(raw):
        kind = type(item)
        if kind is dict or kind is list:
            containers = True
        elif kind is float and item.is_integer():
            found.integral_floats.append(index)
    if not containers:
        return raw
    view = ListWithDefaults(_value(item, place, found) if (place := at.child(index)).nodes else item
                            for index, item in enumerate(raw))
    view.raw = raw
    return view


def with_defaults(obj: dict[str, Any], node: Node, walker: SchemaWalker | None = None) -> WithDefaults:
    """``obj`` (a config object that the schema object ``node`` applies to) seen with its defaults."""
    walker = bundled_walker() if walker is None else walker
    return _object(obj, walker.location((node,)), Seen())
