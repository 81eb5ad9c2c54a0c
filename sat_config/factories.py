"""Find the constructor for a ``model_type``: upstream's module, then constructors other packages register.

The table ``model_type`` → ``"module:function"`` is generated from the schemas' ``x-factory`` annotations
(``sat_config.generated.dispatch.FACTORIES``); this module only resolves an entry when it is needed, so nothing
here imports torch until a model is actually built.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from .errors import FactoryUnavailableError
from .generated.dispatch import FACTORIES

ENTRY_POINT_GROUP = "sat_config.model_factories"

ModelFactory = Callable[[dict[str, Any]], Any]
_registered: dict[str, ModelFactory] = {}


def register_model_factory(model_type: str, factory: ModelFactory) -> None:
    """Register ``factory(config_dict) -> model`` for ``model_type`` when the installed upstream lacks one."""
    if model_type not in FACTORIES:
        raise ValueError(f"unknown model_type {model_type!r}; the schema knows: {', '.join(FACTORIES)}")
    if not callable(factory):
        raise TypeError("factory must be callable")
    _registered[model_type] = factory


def unregister_model_factory(model_type: str) -> None:
    """Undo ``register_model_factory`` (no error when nothing was registered)."""
    _registered.pop(model_type, None)


def _from_upstream(target: str) -> ModelFactory | None:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            return None
        raise
    factory = getattr(module, attr, None)
    return factory if callable(factory) else None


def entry_points(group: str) -> Any:
    """Installed entry points of ``group`` (importlib.metadata is imported only when needed)."""
    from importlib.metadata import entry_points as installed

    return installed(group=group)


def _from_entry_points(model_type: str) -> ModelFactory | None:
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name == model_type:
            factory = entry.load()
            return factory if callable(factory) else None
    return None


def _declared(model_type: str, schema: dict[str, Any] | None) -> str:
    """``"module:function"`` for ``model_type``: the generated table, else an extension's ``x-factory`` on the
    branch of the (merged) schema's root union that it adds."""
    if model_type in FACTORIES or schema is None:
        return FACTORIES[model_type]
    prop = schema["discriminator"]["propertyName"]
    for branch in schema["oneOf"]:
        name = branch.get("$ref", "").removeprefix("#/$defs/")
        target = schema["$defs"].get(name, {})
        if target.get("properties", {}).get(prop, {}).get("const") == model_type and "x-factory" in target:
            return str(target["x-factory"])
    raise KeyError(model_type)


def resolve_factory(model_type: str, schema: dict[str, Any] | None = None) -> ModelFactory:
    """The constructor for a valid ``model_type`` (of the bundled schema, or of ``schema`` merged with extensions),
    or a FactoryUnavailableError saying how to provide one."""
    target = _declared(model_type, schema)
    factory = _from_upstream(target) or _registered.get(model_type) or _from_entry_points(model_type)
    if factory is not None:
        return factory
    module_name, _, attr = target.partition(":")
    raise FactoryUnavailableError(
        f"model_type {model_type!r} is valid, but no constructor for it is installed: {module_name} has no "
        f"{attr} (stable-audio-tools 0.0.19 never shipped one). Provide one with "
        f"sat_config.register_model_factory({model_type!r}, fn), or from a package through the "
        f"{ENTRY_POINT_GROUP!r} entry-point group (name = {model_type!r})."
    )
