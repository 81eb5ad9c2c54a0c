"""Capture the optimizers and LR schedulers of the installed torch into ``schemas/snapshots/torch_optim.schema.json``.

stable-audio-tools builds ``optimizer_configs.<name>.optimizer`` as ``getattr(torch.optim, type)(params, **config)``
(or deepspeed's ``FusedAdam``) and ``scheduler`` as ``getattr(torch.optim.lr_scheduler, type)(optimizer, **config)``
(or its own ``InverseLR``), training/utils.py:62-98. Validation never imports torch, so this script records, for the
installed torch: every class name, each constructor parameter with its JSON type (from the annotations), its default
and description (from the signature and docstring), the numeric bounds the constructor enforces (found by
constructing the class on a grid of values), and which classes cannot work at all in stable-audio-tools (found by
building one and taking a step, as the training wrappers do). ``tests/test_training.py`` fails when the installed
torch no longer produces the committed file.

    python -m generator.torch_optim_snapshot          # print the schema
    python -m generator.torch_optim_snapshot --write  # rewrite schemas/snapshots/torch_optim.schema.json
"""

from __future__ import annotations

import argparse
import collections.abc
import inspect
import json
import math
import re
import sys
import types
import typing
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).resolve().parent.parent / "schemas" / "snapshots" / "torch_optim.schema.json"

# Values for required parameters (and alternative complete configs) used when constructing a class. A value is
# in bounds when every base accepts it; OneCycleLR checks epochs/steps_per_epoch only without total_steps.
PROBE_BASES: dict[str, list[dict[str, Any]]] = {
    "StepLR": [{"step_size": 10}],
    "MultiStepLR": [{"milestones": [10]}],
    "ExponentialLR": [{"gamma": 0.99}],
    "CosineAnnealingLR": [{"T_max": 10}],
    "CyclicLR": [{"base_lr": 1e-4, "max_lr": 1e-3}],
    "CosineAnnealingWarmRestarts": [{"T_0": 10}],
    "OneCycleLR": [{"max_lr": 1e-3, "total_steps": 100}, {"max_lr": 1e-3, "epochs": 2, "steps_per_epoch": 50}],
}

# String parameters whose accepted values the annotations do not say; each list is checked by construction.
STRING_ENUMS: dict[tuple[str, str], list[str | None]] = {
    ("LBFGS", "line_search_fn"): [None, "strong_wolfe"],
    ("Muon", "adjust_lr_fn"): [None, "original", "match_rms_adamw"],
}

# Why a class that fails when probed cannot be used; the probe's own error is appended.
REASONS = {
    "Optimizer": "it is the abstract base class of torch optimizers",
    "Muon": "it only accepts 2-D parameters, and stable-audio-tools hands it every model parameter "
    "(biases, convolution kernels)",
    "SparseAdam": "it only accepts sparse gradients, and stable-audio-tools models produce dense ones",
    "LRScheduler": "it is the abstract base class of torch LR schedulers",
    "ChainedScheduler": "its first argument is a list of schedulers, where stable-audio-tools passes the optimizer",
    "ReduceLROnPlateau": "it needs the monitored metric at every step, and stable-audio-tools neither steps it "
    "with one nor gives Lightning a `monitor`",
    "InverseLR": "the 0.0.19 wheel passes `verbose` positionally to LRScheduler.__init__, which torch 2.7 and "
    "newer no longer accept (fixed on upstream main)",
    "FusedAdam": "stable-audio-tools imports it from deepspeed (training/utils.py), which it does not declare as a "
    "dependency: without deepspeed, configure_optimizers fails (ModuleNotFoundError: No module named 'deepspeed')",
}

# When a class that cannot work here does work: ``x-unsupported.when`` alternatives (schemas/targets.json names
# the targets). A class not listed fails on every target.
WHEN: dict[str, list[dict[str, str]]] = {
    "InverseLR": [{"target": "sat-0.0.19", "torch": ">=2.7"}],
    "FusedAdam": [{"missing": "deepspeed"}],
}

# Parameters that exist on some targets only: ``x-unsupported`` on the parameter, with the targets lacking it.
PARAMETER_WHEN: dict[tuple[str, str], dict[str, Any]] = {
    ("InverseLR", "verbose"): {
        "what": "InverseLR's `verbose` argument",
        "reason": "upstream main's InverseLR takes no `verbose` (training/utils.py at 50049e3; TypeError: "
        "unexpected keyword argument 'verbose')",
        "when": [{"target": "sat-main"}],
    },
}

# Descriptions for parameters some docstrings leave out.
FALLBACK_DOCS = {"last_epoch": "The index of the last epoch."}

# Cross-field rules the constructors enforce between parameters (found by reading them; the probe finds bounds and
# holes of single parameters). Each is a function in sat_config/rules/torch_optim.py; the schema names its id.
RULES: dict[str, list[dict[str, str]]] = {
    "SGD": [{"id": "torch.SGD.nesterov", "finding": "nesterov needs momentum > 0 and dampening 0"}],
    "OneCycleLR": [{"id": "torch.OneCycleLR.total_steps",
                    "finding": "OneCycleLR needs total_steps, or both epochs and steps_per_epoch"}],
}

# deepspeed is not a dependency of stable-audio-tools (and not installed here): FusedAdam's constructor, from
# deepspeed/ops/adam/fused_adam.py, is recorded by hand (amsgrad=True raises RuntimeError there).
FUSED_ADAM: dict[str, Any] = {
    "description": "deepspeed's fused CUDA Adam/AdamW (deepspeed.ops.adam.FusedAdam); needs deepspeed installed "
    "and a CUDA device.",
    "properties": {
        "lr": {"type": "number", "description": "Learning rate.", "default": 0.001},
        "bias_correction": {"type": "boolean", "description": "Apply Adam's bias correction.", "default": True},
        "betas": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2,
                  "description": "Coefficients of the running averages of the gradient and its square.",
                  "default": [0.9, 0.999]},
        "eps": {"type": "number", "description": "Term added to the denominator for numerical stability.",
                "default": 1e-08},
        "adam_w_mode": {"type": "boolean", "description": "Decoupled weight decay (AdamW) instead of L2.",
                        "default": True},
        "weight_decay": {"type": "number", "description": "Weight decay coefficient.", "default": 0.0},
        "amsgrad": {"type": "boolean", "const": False, "default": False,
                    "description": "Not supported: FusedAdam raises RuntimeError when it is true."},
        "set_grad_none": {"type": "boolean", "description": "Set gradients to None (not zero) in zero_grad().",
                          "default": True},
    },
}

_GRID: dict[str, list[Any]] = {"number": [-1.0, 0.0, 0.5, 1.0, 2.0], "integer": [-2, -1, 0, 1, 2]}


class SnapshotError(Exception):
    """The installed torch does something this script cannot describe; a human should look."""


# --- building and stepping, as stable-audio-tools' training wrappers do -------------------------------------------

def _parameters() -> list[Any]:
    """Parameters shaped like a stable-audio-tools model's: a matrix, a bias and a convolution kernel."""
    import torch

    gen = torch.Generator().manual_seed(0)
    shapes = [(4, 4), (4,), (4, 2, 3)]
    return [torch.nn.Parameter(torch.randn(*shape, generator=gen)) for shape in shapes]


def _step(optimizer: Any, params: list[Any]) -> None:
    def closure() -> Any:
        optimizer.zero_grad()
        loss = sum((p**2).sum() for p in params)
        loss.backward()
        return loss

    closure()
    optimizer.step(closure)


def _try_optimizer(cls: Any, config: dict[str, Any]) -> Exception | None:
    try:
        params = _parameters()
        _step(cls(params, **config), params)
    except Exception as exc:  # any failure means stable-audio-tools fails the same way
        return exc
    return None


def _try_scheduler(cls: Any, config: dict[str, Any]) -> Exception | None:
    import torch

    try:
        params = _parameters()
        optimizer = torch.optim.SGD(params, lr=1e-3, momentum=0.9)  # momentum: CyclicLR/OneCycleLR cycle it
        scheduler = cls(optimizer, **config)
        _step(optimizer, params)
        scheduler.step()
    except Exception as exc:
        return exc
    return None


# --- JSON types from annotations -----------------------------------------------------------------------------------

def _union(parts: list[dict[str, Any]]) -> dict[str, Any]:
    if len(parts) == 1:
        return parts[0]
    if all(set(p) == {"type"} and isinstance(p["type"], str) for p in parts):
        return {"type": list(dict.fromkeys(p["type"] for p in parts))}
    if all(set(p) <= {"enum", "type"} for p in parts) and all(p.get("type") in (None, "null") for p in parts):
        return {"enum": [v for p in parts for v in p.get("enum", [None])]}
    return {"anyOf": parts}


def _merge_items(items: list[dict[str, Any]]) -> dict[str, Any]:
    """One schema for every item of a tuple (``tuple[float | None, float]`` -> number or null)."""
    unique = list({json.dumps(i, sort_keys=True): i for i in items}.values())
    if all(set(i) == {"type"} for i in unique):
        names = [t for i in unique for t in (i["type"] if isinstance(i["type"], list) else [i["type"]])]
        names = list(dict.fromkeys(names))
        return {"type": names[0] if len(names) == 1 else names}
    return _union(unique)


def _json_type(tp: Any) -> dict[str, Any] | None:
    """The JSON Schema of an annotation, or None when no JSON value can be one (tensors, callables, optimizers)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    simple = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}
    if tp is Any:
        return {}
    if tp in simple:
        return {"type": simple[tp]}
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin in (typing.Union, types.UnionType):
        parts = [s for s in map(_json_type, args) if s is not None]
        return _union(parts) if parts else None
    if origin is tuple and args and Ellipsis not in args:
        items = [_json_type(a) for a in args]
        known = [i for i in items if i is not None]
        if len(known) < len(items):
            return None
        return {"type": "array", "items": _merge_items(known), "minItems": len(args), "maxItems": len(args)}
    if origin in (list, collections.abc.Iterable, collections.abc.Sequence):
        item = _json_type(args[0]) if args else {}
        return None if item is None else {"type": "array", "items": item}
    if origin is dict or tp is dict:
        return {"type": "object"}
    return None


def _type_from_default(default: Any) -> dict[str, Any]:
    for py, name in ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string")):
        if isinstance(default, py):
            return {"type": name}
    raise SnapshotError(f"no annotation and no usable default: {default!r}")


def _jsonable(value: Any) -> Any:
    return [_jsonable(v) for v in value] if isinstance(value, tuple | list) else value


def _allow_null(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` widened to accept null (a parameter annotated ``float`` but defaulting to None)."""
    if "enum" in schema:
        return schema if None in schema["enum"] else {**schema, "enum": [*schema["enum"], None]}
    types_ = schema.get("type")
    if isinstance(types_, str):
        return schema if types_ == "null" else {**schema, "type": [types_, "null"]}
    if isinstance(types_, list):
        return schema if "null" in types_ else {**schema, "type": [*types_, "null"]}
    if "anyOf" in schema and {"type": "null"} not in schema["anyOf"]:
        return {**schema, "anyOf": [*schema["anyOf"], {"type": "null"}]}
    return schema


# --- descriptions from docstrings ----------------------------------------------------------------------------------

_PARAM_LINE = re.compile(r"^(\s+)(\w+) \(([^)]*)\)\s*:\s*(.*)$")


def _param_docs(cls: Any) -> dict[str, str]:
    """First sentence of each parameter's entry in the class docstring's ``Args:``/``Arguments:`` section."""
    doc = inspect.getdoc(cls) or ""
    lines = doc.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() in ("Args:", "Arguments:")), None)
    if start is None:
        return {}
    docs: dict[str, list[str]] = {}
    current, indent = None, None
    for line in lines[start + 1:]:
        match = _PARAM_LINE.match(line)
        if match and (indent is None or len(match.group(1)) == indent):
            indent, current = len(match.group(1)), match.group(2)
            docs[current] = [match.group(4)]
        elif current and line.strip() and indent is not None and len(line) - len(line.lstrip()) > indent:
            docs[current].append(line.strip())
        elif line.strip():
            break
    return {name: _first_sentence(" ".join(text)) for name, text in docs.items()}


def _first_sentence(text: str) -> str:
    text = re.sub(r":\w+:`([^`]*)`", r"\1", text)
    text = re.sub(r"`([^`]*)`_", r"\1", text).replace("``", "`")
    text = re.sub(r"\s*\(?\s*[Dd]efault(s)?\s*:?[^)]*\)?\.?\s*$", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    sentence = (match.group(1) if match else text).strip()
    sentence = re.sub(r"\s*\(?\s*[Dd]efault(s)?\s*:.*$", "", sentence).rstrip(" .,;:")
    return sentence[:1].upper() + sentence[1:] + "." if sentence else ""


# --- bounds, by construction on a grid -----------------------------------------------------------------------------

def _failure(trial: Callable[[dict[str, Any]], Exception | None], bases: list[dict[str, Any]], name: str,
             value: Any, index: int | None = None) -> Exception | None:
    """The error of the first base config that fails with ``name`` (or its item ``index``) set to ``value``."""
    for base in bases:
        config = dict(base)
        if index is not None:
            config[name] = list(config[name])
            config[name][index] = value
        else:
            config[name] = value
        error = trial(config)
        if error is not None:
            return error
    return None


def _accepts(trial: Callable[[dict[str, Any]], Exception | None], bases: list[dict[str, Any]], name: str,
             value: Any, index: int | None = None) -> bool:
    return _failure(trial, bases, name, value, index) is None


def _bounds(accepts: Callable[[Any], bool], kind: str, where: str) -> tuple[dict[str, Any], list[Any]]:
    """minimum/maximum (inclusive or exclusive) of the values the constructor accepts, and the single values it
    rejects inside that range (``StepLR(step_size=0)`` divides by zero, negative step sizes work)."""
    grid = _GRID[kind]
    results = [(v, accepts(v)) for v in grid]
    ok = [v for v, passed in results if passed]
    if not ok:
        raise SnapshotError(f"{where}: no value of {grid} is accepted")
    low, high = min(ok), max(ok)
    holes = [v for v, passed in results if low <= v <= high and not passed]
    for hole in holes:
        if kind == "number" and not (accepts(math.nextafter(hole, -math.inf)) and
                                     accepts(math.nextafter(hole, math.inf))):
            raise SnapshotError(f"{where}: the rejected values around {hole} are not a single point")
        if kind == "integer" and (hole - 1 in holes or hole + 1 in holes):
            raise SnapshotError(f"{where}: the rejected values around {hole} are not a single point")
    out: dict[str, Any] = {}
    below = [v for v, _ in results if v < low]
    if below:
        out.update(_edge(accepts, kind, max(below), low, "minimum", where))
    above = [v for v, _ in results if v > high]
    if above:
        out.update(_edge(accepts, kind, min(above), high, "maximum", where))
    return out, [_number(h) for h in holes]


def _edge(accepts: Callable[[Any], bool], kind: str, rejected: Any, accepted: Any, side: str,
          where: str) -> dict[str, Any]:
    if kind == "integer":
        return {side: accepted}
    if accepts(math.nextafter(rejected, accepted)):
        return {"exclusive" + side.capitalize(): _number(rejected)}
    if not accepts(math.nextafter(accepted, rejected)):
        return {side: _number(accepted)}
    raise SnapshotError(f"{where}: the {side} lies strictly between {rejected} and {accepted}")


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _numeric_kind(schema: dict[str, Any]) -> str | None:
    types_ = schema.get("type")
    types_ = types_ if isinstance(types_, list) else [types_]
    for kind in ("integer", "number"):
        if kind in types_:
            return kind
    return None


def _branch(schema: dict[str, Any], json_type: str) -> dict[str, Any] | None:
    """The part of a (possibly anyOf) schema that holds values of ``json_type``."""
    for part in schema.get("anyOf", [schema]):
        types_ = part.get("type")
        if json_type == "number" and _numeric_kind(part):
            return part
        if types_ == json_type or (isinstance(types_, list) and json_type in types_):
            return part
    return None


def _probe_parameter(trial: Callable[[dict[str, Any]], Exception | None], bases: list[dict[str, Any]],
                     cls_name: str, name: str, schema: dict[str, Any]) -> list[dict[str, Any]]:
    """Add the bounds the constructor enforces to ``schema``; return x-rules for what a schema keyword cannot say
    (single rejected values, per-item bounds of a tuple)."""
    where = f"{cls_name}.{name}"
    rules: list[dict[str, Any]] = []
    scalar = _branch(schema, "number")
    if scalar is not None:
        bounds, holes = _bounds(lambda v: _accepts(trial, bases, name, v), _numeric_kind(scalar) or "number", where)
        scalar.update(bounds)
        rules += [_hole_rule(cls_name, name, None, hole, _failure(trial, bases, name, hole)) for hole in holes]
    array = _branch(schema, "array")
    if array is None:
        return rules
    default = bases[0].get(name)
    if "minItems" in array and array.get("minItems") == array.get("maxItems"):  # a tuple: bounds per item
        kind = _numeric_kind(array["items"]) if isinstance(array["items"], dict) else None
        if kind is None or not isinstance(default, list):
            return rules
        per_item = []
        for i in range(len(default)):
            def accepts_item(v: Any, i: int = i) -> bool:
                return _accepts(trial, bases, name, v, i)

            bounds, holes = _bounds(accepts_item, kind, f"{where}[{i}]")
            per_item.append(bounds)
            rules += [_hole_rule(cls_name, name, i, hole, _failure(trial, bases, name, hole, i)) for hole in holes]
        if all(b == per_item[0] for b in per_item):
            array["items"] = {**array["items"], **per_item[0]}
        else:
            rules += [_item_rule(cls_name, name, i, b) for i, b in enumerate(per_item) if b]
        return rules
    element = default[0] if isinstance(default, list) and default else (
        default if isinstance(default, int | float) else None)
    if element is None:
        return rules
    lengths = [n for n in range(4) if _accepts(trial, bases, name, [element] * n)]
    if lengths and lengths != list(range(4)):
        if lengths != list(range(lengths[0], lengths[-1] + 1)):
            raise SnapshotError(f"{where}: accepted list lengths {lengths} are not an interval")
        array["minItems"] = lengths[0]
        if lengths[-1] < 3:
            array["maxItems"] = lengths[-1]
    return rules


_OPS = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}


def _label(cls_name: str, name: str, index: int | None) -> tuple[str, str]:
    """(rule id stem, display name) of a parameter or one item of it."""
    if index is None:
        return f"torch.{cls_name}.{name}", name
    return f"torch.{cls_name}.{name}.{index}", f"{name}[{index}]"


def _item_rule(cls_name: str, name: str, index: int, bounds: dict[str, Any]) -> dict[str, str]:
    stem, shown = _label(cls_name, name, index)
    text = " and ".join(f"{_OPS[k]} {v!r}" for k, v in bounds.items())
    return {"id": stem, "finding": f"{shown} must be {text} ({cls_name} raises ValueError)"}


def _hole_rule(cls_name: str, name: str, index: int | None, hole: Any, error: Exception | None) -> dict[str, str]:
    stem, shown = _label(cls_name, name, index)
    return {"id": f"{stem}.not_{str(hole).replace('-', 'minus_').replace('.', '_')}",
            "finding": f"{shown} must not be {hole!r}: {cls_name} then raises {type(error).__name__}"}


# --- one class ------------------------------------------------------------------------------------------------------

def _signature_parameters(cls: Any) -> list[inspect.Parameter]:
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]  # drop self
    params = [p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    return params[1:]  # the first argument is the parameters / optimizer stable-audio-tools passes


def _annotation_names() -> dict[str, Any]:
    """Names that torch's string annotations use but import only under TYPE_CHECKING."""
    import torch

    return {"Iterable": collections.abc.Iterable, "Sequence": collections.abc.Sequence,
            "Callable": collections.abc.Callable, "Optimizer": torch.optim.Optimizer,
            "LRScheduler": torch.optim.lr_scheduler.LRScheduler}


def _class_spec(cls: Any, name: str, kind: str, module_name: str) -> dict[str, Any]:
    """properties, required, x-rules and (when it cannot work) x-unsupported for one class."""
    hints = typing.get_type_hints(cls.__init__, localns=_annotation_names())
    docs = _param_docs(cls)
    properties: dict[str, Any] = {}
    required: list[str] = []
    not_json: list[str] = []
    for param in _signature_parameters(cls):
        schema = _json_type(hints[param.name]) if param.name in hints else _type_from_default(param.default)
        has_default = param.default is not inspect.Parameter.empty
        if schema is None:
            if not has_default:
                not_json.append(param.name)
                continue
            schema = {"type": "null"}  # e.g. a callable that defaults to None: JSON can only keep the default
        if (name, param.name) in STRING_ENUMS:
            schema = {"enum": STRING_ENUMS[(name, param.name)]}
        if has_default and param.default is None:
            schema = _allow_null(schema)
        description = docs.get(param.name) or FALLBACK_DOCS.get(param.name) or \
            f"Passed to {module_name}.{name} as `{param.name}`."
        if schema == {"type": "null"} and hints.get(param.name) not in (type(None), None):
            description += " A JSON config can only leave it at its default."
        prop = {**schema, "description": description}
        if has_default:
            prop["default"] = _jsonable(param.default)
        else:
            required.append(param.name)
        properties[param.name] = prop
    for (cls_name, pname), unsupported in PARAMETER_WHEN.items():
        if cls_name == name and pname in properties:
            properties[pname]["x-unsupported"] = unsupported
    spec: dict[str, Any] = {"properties": properties, "required": required, "rules": list(RULES.get(name, []))}
    trial = _try_optimizer if kind == "optimizer" else _try_scheduler
    bases = [dict(b) for b in PROBE_BASES.get(name, [{}])]
    error = None if not_json else trial(cls, bases[0])
    if not_json or error is not None:
        reason = REASONS.get(name) or None
        if not_json:
            what = ", ".join(f"`{p}`" for p in not_json)
            reason = reason or f"it needs {what}, which must be Python objects (callables, schedulers) " \
                "that a JSON config cannot hold"
        elif reason is None:
            raise SnapshotError(f"{name} fails when probed and has no recorded reason: {error!r}")
        else:
            reason += f" ({type(error).__name__}{': ' + str(error) if str(error) else ''})"
        spec["unsupported"] = reason
        return spec
    defaults = {p: prop["default"] for p, prop in properties.items() if "default" in prop}
    base_defaults = [{**defaults, **b} for b in bases]
    for pname, prop in properties.items():
        if (name, pname) in STRING_ENUMS:
            for value in STRING_ENUMS[(name, pname)]:
                if not _accepts(lambda c: trial(cls, c), base_defaults, pname, value):
                    raise SnapshotError(f"{name}.{pname}: recorded value {value!r} is rejected")
            if _accepts(lambda c: trial(cls, c), base_defaults, pname, "not-a-valid-choice"):
                raise SnapshotError(f"{name}.{pname}: any string is accepted; drop it from STRING_ENUMS")
            continue
        spec["rules"] += _probe_parameter(lambda c: trial(cls, c), base_defaults, name, pname, prop)
        if pname == "last_epoch" and prop.get("minimum") == prop.get("maximum") == -1:
            prop["description"] += (" Only -1 works: stable-audio-tools builds a fresh scheduler, which torch "
                                    "cannot resume from another epoch.")
    return spec


def _first_line(cls: Any) -> str:
    doc = inspect.getdoc(cls) or ""
    line = doc.strip().split("\n\n")[0].replace("\n", " ")
    line = re.sub(r":\w+:`~?([^`]*)`", r"\1", line)
    return _first_sentence(line)


def _defs_for(prefix: str, name: str, summary: str, tag_description: str, config_description: str,
              spec: dict[str, Any]) -> dict[str, Any]:
    """The tagged branch ``<prefix><name>`` and its ``config`` object ``<prefix><name>Config``."""
    config: dict[str, Any] = {
        "title": f"{prefix}{name}Config",
        "description": config_description,
        "type": "object",
        "properties": spec["properties"],
    }
    if spec["required"]:
        config["required"] = spec["required"]
    config["additionalProperties"] = False
    if spec["rules"]:
        from sat_config.rules import RULES as REGISTERED

        for found in spec["rules"]:
            if found["id"] not in REGISTERED:
                raise SnapshotError(f"{prefix}{name}: the probe found that {found['finding']}, but "
                                    f"sat_config/rules/torch_optim.py has no rule {found['id']!r}: write it")
        config["x-rules"] = [found["id"] for found in spec["rules"]]
    branch: dict[str, Any] = {
        "title": f"{prefix}{name}",
        "description": summary,
        "type": "object",
        "properties": {
            "type": {"const": name, "description": tag_description},
            "config": {"$ref": f"#/$defs/{prefix}{name}Config", "description": config_description},
        },
        "required": ["type", "config"],
        "additionalProperties": False,
    }
    if "unsupported" in spec:
        what = "optimizer" if prefix == "Optim" else "LR scheduler"
        branch["x-unsupported"] = {"what": f"{what} {name!r}", "reason": spec["unsupported"]}
        if name in WHEN:
            branch["x-unsupported"]["when"] = WHEN[name]
    return {f"{prefix}{name}": branch, f"{prefix}{name}Config": config}


def _torch_version() -> str:
    import torch

    return str(torch.__version__).split("+")[0]


def optimizer_classes() -> list[tuple[str, Any]]:
    import torch

    return [(n, getattr(torch.optim, n)) for n in torch.optim.__all__
            if inspect.isclass(getattr(torch.optim, n)) and issubclass(getattr(torch.optim, n), torch.optim.Optimizer)]


def scheduler_classes() -> list[tuple[str, Any]]:
    import torch.optim.lr_scheduler as sched

    return [(n, getattr(sched, n)) for n in sched.__all__ if inspect.isclass(getattr(sched, n))]


def build() -> dict[str, Any]:
    """The schema file's content for the installed torch and stable-audio-tools."""
    from stable_audio_tools.training.utils import InverseLR

    defs: dict[str, Any] = {}
    optimizer_names = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, cls in optimizer_classes():
            optimizer_names.append(name)
            defs.update(_defs_for(
                "Optim", name, f"torch.optim.{name}: {_first_line(cls)}", "Optimizer class: torch.optim." + name,
                f"Keyword arguments of torch.optim.{name} (the model parameters are passed by stable-audio-tools).",
                _class_spec(cls, name, "optimizer", "torch.optim")))
        optimizer_names.append("FusedAdam")
        defs.update(_defs_for(
            "Optim", "FusedAdam", FUSED_ADAM["description"], "Optimizer class: deepspeed.ops.adam.FusedAdam",
            "Keyword arguments of deepspeed's FusedAdam (the model parameters are passed by stable-audio-tools).",
            {"properties": FUSED_ADAM["properties"], "required": [], "rules": [], "unsupported": REASONS["FusedAdam"]}))
        scheduler_names = []
        for name, cls in [*scheduler_classes(), ("InverseLR", InverseLR)]:
            module = "stable_audio_tools.training.utils" if cls is InverseLR else "torch.optim.lr_scheduler"
            scheduler_names.append(name)
            defs.update(_defs_for(
                "Sched", name, f"{module}.{name}: {_first_line(cls)}", f"LR scheduler class: {module}.{name}",
                f"Keyword arguments of {module}.{name} (the optimizer is passed by stable-audio-tools).",
                _class_spec(cls, name, "scheduler", module)))
    version = _torch_version()
    defs["TorchLRScheduler"] = {
        "title": "TorchLRScheduler",
        "description": f"A learning-rate scheduler: `type` names a class of torch {version}'s "
        "torch.optim.lr_scheduler, or stable-audio-tools' `InverseLR`; `config` holds its keyword arguments.",
        "type": "object",
        "oneOf": [{"$ref": f"#/$defs/Sched{n}"} for n in scheduler_names],
        "discriminator": {"propertyName": "type"},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": f"Written by `python -m generator.torch_optim_snapshot --write` from torch {version}; "
        "do not edit by hand.",
        "title": "TorchOptimizer",
        "description": f"An optimizer: `type` names a class of torch {version}'s torch.optim, or deepspeed's "
        "`FusedAdam`; `config` holds its keyword arguments.",
        "type": "object",
        "oneOf": [{"$ref": f"#/$defs/Optim{n}"} for n in optimizer_names],
        "discriminator": {"propertyName": "type"},
        "$defs": defs,
    }


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"write {OUTPUT.relative_to(OUTPUT.parents[2])}")
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        OUTPUT.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
