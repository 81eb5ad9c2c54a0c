"""The fidelity harness: does "the schema accepts it" agree with "stable-audio-tools builds it"?

Everything is driven by the bundled schema (generated/schema.json), so it covers whatever the schemas declare:

- soundness: whole configs are drawn along the schema (hypothesis; hypothesis-jsonschema for every leaf, sizes
  bounded), then nudged towards the cross-field rules (``repair``); every config the validator accepts must build
  upstream, and every type marked unsupported must fail upstream;
- completeness: systematic mutations of valid configs (drop each required key, one-letter typo of each key,
  a made-up tag and every other tag at each tagged union, a wrong type in each leaf, each bounded number pushed
  past its bound) must be rejected at the mutated path, and upstream must fail too — unless upstream silently
  ignores the key and the problem kind is ``unknown_key``;
- equivalence: sat_config's build equals upstream's (same seed, same state_dict) for every example, every
  fixture, and one accepted config per (tagged union, tag) the draws reach.

"Upstream builds it" means what train.py does: ``create_model_from_config`` (on the meta device, CPU when a layer
needs real tensors), then, when the config has a ``training`` section, ``create_training_wrapper_from_config``,
``configure_optimizers()`` and ``create_demo_callback_from_config`` on the same dict. Downloads are replaced by
``sat_config.placeholders``.

``make fuzz`` runs ``python tests/fidelity.py`` (many draws) and prints the figures; tests/test_fidelity.py runs
the same code with a modest budget.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import math
import os
import random
import re
import sys
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script by `make fuzz`
    sys.path.insert(0, str(REPO))

from sat_config.errors import Problem, json_path  # noqa: E402
from sat_config.validation import find_problems, load_bundled_schema, validator  # noqa: E402

EXAMPLES = sorted((REPO / "examples").glob("*.json"))
FIXTURES = sorted((REPO / "tests" / "fixtures" / "upstream").glob("*.json"))
POSITIVE_CASES = sorted((REPO / "tests" / "cases" / "positive").glob("*.json"))

# Disagreements verified by hand to be real mismatches that their owners have not resolved yet: a regular
# expression matching Finding.signature -> why. The tests mark them xfail; any other disagreement fails.
KNOWN: dict[str, str] = {
    r"not_rejected completeness:(typo|wrong_type) \$\.training\.demo\.demo_cond\[\*\]\..+": (
        "training.demo.demo_cond entries are free-form metadata: no rule checks that each names every conditioner "
        "id with a value of the right type, so a misspelt id or a wrong value is accepted; upstream builds the "
        "demo callback and fails at the first demo (MultiConditioner.forward: 'Conditioner key ... not found')"),
    r"false_acceptance completeness:swap_tag \$\.training\.optimizer_configs\.\w+\.optimizer\.type": (
        "the optimizer FusedAdam is accepted, but it needs deepspeed, which stable-audio-tools does not declare and "
        "the pinned environment does not install: upstream fails in configure_optimizers (ModuleNotFoundError)"),
    r"false_acceptance soundness <model> KeyError: 'module name can.*": (
        "a conditioner id that is empty or contains '.' is accepted, but torch's ModuleDict refuses it as a module "
        "name (KeyError at construction): conditioning ids need minLength 1 and no '.'"),
    r"false_acceptance soundness <model> TypeError: empty\(\): argument '…' failed to unpack .*but got None.*": (
        "a pretransform or source_mix conditioner with use_model_pretransform on an audiocraft_pretrained "
        "pretransform is accepted, but that pretransform never sets encoded_channels, so the conditioner's "
        "projection is sized None (TypeError at construction, conditioners.py:30)"),
    r"false_acceptance soundness <model> RuntimeError: Storage size calculation overflowed.*": (
        "sizes no machine can hold are accepted (e.g. a wavelet pretransform with 29 levels: 12 x 2^29 latent "
        "channels, which the rules then require of io_channels); torch refuses the storage even on the meta "
        "device; the schema sets no upper bound on widths or wavelet levels"),
    r"false_rejection soundness \$\.model(\..+)?\.(encoder|decoder)\.type": (
        "local_attn and taae are x-unsupported (their attention layers fail to build), but with every depth 0 "
        "upstream builds them, without attention; the schema rejects the types outright on purpose, as its "
        "message says"),
    r"false_rejection soundness \$\.training\.optimizer_configs\.discriminator\..+": (
        "optimizer_configs.discriminator is read only by ARC (training.arc) for diffusion models; without arc "
        "upstream never builds it, so an unsupported scheduler there is rejected although upstream builds the "
        "config (the schema could flag the whole entry as ignored instead)"),
}


def known_reason(signature: str) -> str | None:
    """Why a disagreement is known, or None when it is new."""
    return next((why for pattern, why in KNOWN.items() if re.fullmatch(pattern, signature)), None)


# Size bounds for drawn configs: every draw builds on the meta device well within a second.
INT_CAP = 64
INT_POOL = (0, 1, 2, 3, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048)
NUMBER_CAP = 1000.0
ITEMS_CAP = 3
STRING_CAP = 12
# Models with more parameters than this are compared by structure on the meta device, smaller ones by value.
VALUE_COMPARE_LIMIT = 5_000_000

ANNOTATIONS = {"title", "description", "markdownDescription", "examples", "default", "defaultSnippets",
               "$comment", "deprecationMessage", "x-factory", "x-rules", "discriminator"}


# --- the upstream oracle ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What upstream did with a config: built it, or failed at a stage (model, training, demo)."""

    ok: bool
    stage: str | None = None
    error: str | None = None
    unchecked: str | None = None  # why upstream's verdict cannot be had here (network, memory)

    @property
    def reason(self) -> str:
        return f"{self.stage}: {self.error}" if not self.ok else "built"


def _error(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 300 else text[:297] + "..."


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence upstream's prints and warnings while it builds."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@contextlib.contextmanager
def shape_only_weight_norm() -> Iterator[None]:
    """Weight norm on the meta device runs PyTorch's Python reference code (~7 ms a layer, most of a build's
    time); meta tensors have no values, so compute only the shapes while the harness builds."""
    import importlib

    import torch

    module = importlib.import_module("torch.nn.utils.weight_norm")  # the package re-exports a function by this name
    real_norm, real_except_dim = module._weight_norm, module.norm_except_dim

    def weight(v: Any, g: Any, dim: int) -> Any:
        return torch.empty_like(v) if v.is_meta else real_norm(v, g, dim)

    def norm(v: Any, pow: Any = 2, dim: int = 0) -> Any:
        if not v.is_meta:
            return real_except_dim(v, pow, dim)
        shape = [1] * v.dim() if dim != -1 else []
        if dim != -1:
            shape[dim] = v.shape[dim]
        return torch.empty(shape, dtype=v.dtype, device="meta")

    module._weight_norm, module.norm_except_dim = weight, norm
    try:
        yield
    finally:
        module._weight_norm, module.norm_except_dim = real_norm, real_except_dim


def upstream_builds(config: dict[str, Any]) -> Outcome:
    """Build ``config`` the way train.py does, without weights or network."""
    import torch
    from stable_audio_tools.models.factory import create_model_from_config

    from sat_config.inspection import build_dry
    from sat_config.placeholders import PlaceholderUnavailableError, network_placeholders

    config = copy.deepcopy(config)
    config.pop("$schema", None)
    with quiet(), shape_only_weight_norm():
        try:
            build = build_dry(create_model_from_config, config)
        except PlaceholderUnavailableError as exc:
            return Outcome(False, "model", _error(exc), unchecked="needs the network")
        except Exception as exc:
            return Outcome(False, "model", _error(exc), unchecked=_too_large(exc))
        if not isinstance(config.get("training"), dict):
            return Outcome(True)
        from stable_audio_tools.training.factory import (
            create_demo_callback_from_config,
            create_training_wrapper_from_config,
        )

        def wrap(model: Any, given: dict[str, Any], device: str) -> None:
            with network_placeholders(), torch.device(device):
                wrapper = create_training_wrapper_from_config(copy.deepcopy(given), model)
                wrapper.configure_optimizers()

        stage = "training"
        try:
            try:
                wrap(build.model, build.config, build.device)
            except Exception as exc:
                if build.device == "cpu" or "meta" not in str(exc).lower():
                    raise
                # a loss, discriminator or EMA copy needs real tensors: model and wrapper again, on the CPU
                given = copy.deepcopy(config)
                with network_placeholders():
                    model = create_model_from_config(given)
                wrap(model, given, "cpu")
            stage = "demo"
            with network_placeholders():
                create_demo_callback_from_config(copy.deepcopy(build.config), demo_dl=[])
        except Exception as exc:
            return Outcome(False, stage, _error(exc), unchecked=_too_large(exc))
    return Outcome(True)


def _too_large(exc: BaseException) -> str | None:
    """A CPU fallback that ran out of the memory ``limit_memory`` allows is not upstream's verdict."""
    too_large = isinstance(exc, MemoryError) or "can't allocate memory" in str(exc)
    return "too large for the CPU fallback" if too_large else None


def limit_memory(gigabytes: float) -> None:
    """Cap this process's heap, so that a drawn config that must be built on the CPU cannot exhaust the
    machine (``make fuzz`` workers; never the test process)."""
    import resource

    limit = int(gigabytes * 2**30)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, resource.getrlimit(resource.RLIMIT_DATA)[1]))


def has_constructor(config: Any) -> bool:
    from sat_config.errors import FactoryUnavailableError
    from sat_config.factories import resolve_factory

    try:
        resolve_factory(config["model_type"])
    except FactoryUnavailableError:
        return False
    return True


# --- walking a config alongside the schema ----------------------------------------------------------------------


@dataclass
class Node:
    """The schema nodes that apply to one value of a config, flattened ($ref, allOf, chosen oneOf/anyOf)."""

    schemas: list[dict[str, Any]]
    # (union name, tag property, tag -> branch index, branches) of each tagged union that applies here
    unions: list[tuple[str, str, dict[Any, int], list[Any]]] = field(default_factory=list)

    def types(self) -> set[str] | None:
        """The JSON types allowed here, or None when nothing constrains them."""
        allowed: set[str] | None = None
        for schema in self.schemas:
            here: set[str] | None = None
            if "type" in schema:
                here = set(schema["type"] if isinstance(schema["type"], list) else [schema["type"]])
                if "number" in here:
                    here.add("integer")
            elif "const" in schema or "enum" in schema:
                here = {_json_type(v) for v in (schema["enum"] if "enum" in schema else [schema["const"]])}
            if here is not None:
                allowed = here if allowed is None else allowed & here
        return allowed

    def keyword(self, name: str) -> Any:
        for schema in self.schemas:
            if name in schema:
                return schema[name]
        return None

    def properties(self) -> dict[str, list[dict[str, Any]]]:
        props: dict[str, list[dict[str, Any]]] = {}
        for schema in self.schemas:
            for key, sub in schema.get("properties", {}).items():
                props.setdefault(key, []).append(sub)
        return props

    def required(self) -> list[str]:
        return list(dict.fromkeys(k for s in self.schemas for k in s.get("required", [])))

    def closed(self) -> bool:
        return any(s.get("additionalProperties") is False for s in self.schemas)

    def open_map(self) -> bool:
        """Keys are free (a map): additionalProperties (true or a schema) or patternProperties declare them."""
        return any(isinstance(s.get("additionalProperties"), dict) or s.get("additionalProperties") is True
                   or s.get("patternProperties") for s in self.schemas)

    def pattern_match(self, key: str) -> bool:
        return any(re.search(p, key) for s in self.schemas for p in s.get("patternProperties", {}))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}.get(type(value), "unknown")


class SchemaView:
    """Resolve which parts of the bundled schema apply to each value of a config."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.root = schema
        self.defs = schema.get("$defs", {})
        self._validator = validator()
        self._union_names: dict[int, str] = {}
        for name, body in [("ModelConfig", schema), *self.defs.items()]:
            self._name_unions(body, name)

    def _name_unions(self, node: Any, name: str) -> None:
        """Name each untitled tagged union after the definition and property path that hold it."""
        if isinstance(node, list):
            for item in node:
                self._name_unions(item, name)
        elif isinstance(node, dict):
            if "oneOf" in node and "discriminator" in node:
                self._union_names.setdefault(id(node), node.get("title", name))
            for key, value in node.items():
                if key == "properties":
                    for prop, sub in value.items():
                        self._name_unions(sub, f"{name}.{prop}")
                elif key != "$defs":
                    self._name_unions(value, name)

    def union_name(self, node: dict[str, Any]) -> str:
        return str(node.get("title") or self._union_names.get(id(node), "?"))

    def resolve(self, node: Any, site: str) -> tuple[dict[str, Any], str]:
        while isinstance(node, dict) and "$ref" in node:  # siblings of $ref apply too (draft 2020-12)
            ref, extra = node["$ref"], {k: v for k, v in node.items() if k != "$ref"}
            site = "ModelConfig" if ref == "#" else ref.rsplit("/", 1)[-1]
            node = {**(self.root if ref == "#" else self.defs[site]), **extra}
        return (node if isinstance(node, dict) else {}), site

    def _valid(self, schema: Any, instance: Any) -> bool:
        return bool(self._validator.evolve(schema=schema).is_valid(instance))

    def node(self, schemas: list[Any], instance: Any, site: str = "ModelConfig") -> Node:
        out = Node([])
        for schema in schemas:
            self._collect(schema, instance, site, out)
        return out

    def _collect(self, schema: Any, instance: Any, site: str, out: Node) -> None:
        schema, site = self.resolve(schema, site)
        if not schema:
            return
        out.schemas.append(schema)
        for sub in schema.get("allOf", []):
            self._collect(sub, instance, site, out)
        if "if" in schema:
            branch = schema.get("then") if self._valid(schema["if"], instance) else schema.get("else")
            if branch is not None:
                self._collect(branch, instance, site, out)
        for keyword in ("oneOf", "anyOf"):
            branches = schema.get(keyword)
            if not branches:
                continue
            discriminator = schema.get("discriminator")
            if discriminator and keyword == "oneOf":
                prop = discriminator["propertyName"]
                table = self._tags(branches, prop, site)
                out.unions.append((self.union_name(schema), prop, table, branches))
                tag = instance.get(prop) if isinstance(instance, dict) else None
                if isinstance(tag, (str, int)) and not isinstance(tag, bool) and tag in table:
                    self._collect(branches[table[tag]], instance, site, out)
                continue
            for branch in branches:
                if self._valid(branch, instance):
                    self._collect(branch, instance, site, out)
                    break

    def _tags(self, branches: list[Any], prop: str, site: str) -> dict[Any, int]:
        table = {}
        for index, branch in enumerate(branches):
            resolved, _ = self.resolve(branch, site)
            tag_schema, _ = self.resolve(resolved.get("properties", {}).get(prop, {}), site)
            if "const" in tag_schema:
                table[tag_schema["const"]] = index
        return table

    def child(self, node: Node, key: Any, value: Any, site: str) -> Node:
        schemas: list[Any] = []
        for schema in node.schemas:
            if isinstance(key, int):
                prefix = schema.get("prefixItems", [])
                if key < len(prefix):
                    schemas.append(prefix[key])
                elif isinstance(schema.get("items"), dict):
                    schemas.append(schema["items"])
                continue
            if key in schema.get("properties", {}):
                schemas.append(schema["properties"][key])
                continue
            matched = [sub for pattern, sub in schema.get("patternProperties", {}).items() if re.search(pattern, key)]
            schemas += matched
            extra = schema.get("additionalProperties")
            if not matched and (isinstance(extra, dict) or extra is True):
                schemas.append(extra if isinstance(extra, dict) else {})  # true: declared free-form
        return self.node(schemas, value, site)

    def walk(self, config: Any) -> Iterator[tuple[tuple[Any, ...], Any, Node]]:
        """(path parts, value, node) for every value of ``config``, parents first."""
        stack: list[tuple[tuple[Any, ...], Any, Node]] = [((), config, self.node([self.root], config))]
        while stack:
            parts, value, node = stack.pop()
            yield parts, value, node
            items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
            children = [(parts + (k,), v, self.child(node, k, v, "ModelConfig")) for k, v in items]
            stack.extend(reversed(children))

    def model_tags(self) -> dict[tuple[str, Any], str | None]:
        """Every (tagged union, tag) a model can use — those reachable from the root other than via ``training``,
        which model building never reads — and why it cannot be built, if it cannot (x-unsupported, or no
        installed constructor)."""
        found: dict[tuple[str, Any], str | None] = {}
        seen: set[str] = set()
        stack: list[tuple[Any, str]] = [(self.root, "ModelConfig")]
        while stack:
            node, site = stack.pop()
            if isinstance(node, list):
                stack += [(item, site) for item in node]
                continue
            if not isinstance(node, dict):
                continue
            ref = node.get("$ref")
            if isinstance(ref, str):
                name = "ModelConfig" if ref == "#" else ref.rsplit("/", 1)[-1]
                if name not in seen:
                    seen.add(name)
                    stack.append((self.root if ref == "#" else self.defs[name], name))
            if "oneOf" in node and "discriminator" in node:
                prop = node["discriminator"]["propertyName"]
                for tag, index in self._tags(node["oneOf"], prop, site).items():
                    branch, _ = self.resolve(node["oneOf"][index], site)
                    why = "x-unsupported" if "x-unsupported" in branch else None
                    if prop == "model_type" and not has_constructor({"model_type": tag}):
                        why = "no constructor installed"
                    found[(self.union_name(node), tag)] = why
            for key, value in node.items():
                if key == "properties":
                    stack += [(sub, site) for name, sub in value.items() if name != "training"]
                elif key not in ("$defs", "$ref", "enum", "const", "default", "examples") and \
                        isinstance(value, (dict, list)):
                    stack.append((value, site))
        return found


def tags_used(view: SchemaView, config: Any) -> set[tuple[str, Any]]:
    """The (tagged union, tag) pairs a config's model uses."""
    used = set()
    for parts, value, node in view.walk(config):
        if parts[:1] == ("training",):
            continue
        for site, prop, table, _ in node.unions:
            if isinstance(value, dict) and value.get(prop) in table:
                used.add((site, value[prop]))
    return used


# --- mutations --------------------------------------------------------------------------------------------------


@dataclass
class Mutation:
    """One systematic change to a valid config, and the problem it must cause (kind, at path) if any."""

    kind: str
    parts: tuple[Any, ...]
    detail: str
    config: Any
    expect: str | None  # the problem kind expected at ``parts``; "any" for any kind; None: no expectation


def typo(word: str, taken: Any) -> str:
    """A one-letter typo of ``word`` (a letter dropped, else doubled) that is not in ``taken``."""
    candidates = [word[:i] + word[i + 1:] for i in range(len(word) // 2, len(word))]
    candidates += [word[:i] + word[i] + word[i:] for i in range(len(word))]
    for candidate in candidates:
        if candidate and candidate != word and candidate not in taken and not candidate.startswith("_"):
            return candidate
    return word + "x"


def _set(config: Any, parts: tuple[Any, ...], value: Any) -> Any:
    config = copy.deepcopy(config)
    node = config
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value
    return config


def _rename(config: Any, parts: tuple[Any, ...], new: str) -> Any:
    config = copy.deepcopy(config)
    node = config
    for part in parts[:-1]:
        node = node[part]
    items = list(node.items())
    node.clear()
    node.update((new if k == parts[-1] else k, v) for k, v in items)
    return config


def _delete(config: Any, parts: tuple[Any, ...]) -> Any:
    config = copy.deepcopy(config)
    node = config
    for part in parts[:-1]:
        node = node[part]
    del node[parts[-1]]
    return config


def wrong_value(allowed: set[str] | None, current: Any) -> Any:
    """A value of a JSON type outside ``allowed`` (or, unconstrained, of another type than ``current``)."""
    allowed = allowed if allowed is not None else {_json_type(current)}
    if "string" not in allowed:
        return "wrong"
    if "integer" not in allowed:
        return 7
    if "number" not in allowed:
        return 1.5
    for kind, value in (("boolean", True), ("array", []), ("object", {}), ("null", None)):
        if kind not in allowed:
            return value
    return None


def _past_bounds(node: Node, value: Any) -> Iterator[tuple[str, Any]]:
    integer = isinstance(value, int) and not isinstance(value, bool)
    step = 1 if integer else 0.5
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if node.keyword("minimum") is not None:
            yield f"minimum {node.keyword('minimum')}", node.keyword("minimum") - step
        if node.keyword("exclusiveMinimum") is not None:
            yield f"exclusiveMinimum {node.keyword('exclusiveMinimum')}", node.keyword("exclusiveMinimum")
        if node.keyword("maximum") is not None:
            yield f"maximum {node.keyword('maximum')}", node.keyword("maximum") + step
        if node.keyword("exclusiveMaximum") is not None:
            yield f"exclusiveMaximum {node.keyword('exclusiveMaximum')}", node.keyword("exclusiveMaximum")
    if isinstance(value, list) and value:
        if node.keyword("minItems"):
            yield f"minItems {node.keyword('minItems')}", value[: node.keyword("minItems") - 1]
        if node.keyword("maxItems") is not None:
            extra = node.keyword("maxItems") + 1 - len(value)
            yield f"maxItems {node.keyword('maxItems')}", value + [value[-1]] * extra


def mutations(view: SchemaView, config: Any, all_tags: bool = True) -> Iterator[Mutation]:
    """Every systematic mutation of ``config`` (a valid config)."""
    for parts, value, node in view.walk(config):
        if parts and isinstance(parts[0], str) and parts[0].startswith("_"):
            continue  # top-level comments are free-form
        if parts and isinstance(parts[-1], int) and parts[-1] > 0 and not isinstance(value, (dict, list)):
            continue  # items of a list of numbers or strings share one schema: the first stands for all
        if isinstance(value, dict):
            props = node.properties()
            for key in node.required():
                if key in value:
                    yield Mutation("drop_required", parts + (key,), f"delete required {key!r}",
                                   _delete(config, parts + (key,)), "required")
            for key in value:
                free = key not in props and (node.open_map() or node.pattern_match(key))  # a map's own keys
                if key.startswith("_") or key == "$schema" or free:
                    continue
                new = typo(key, set(props) | set(value))
                yield Mutation("typo", parts + (new,), f"{key!r} -> {new!r}", _rename(config, parts + (key,), new),
                               "unknown_key")
            for _site, prop, table, _ in node.unions:
                tag = value.get(prop)
                if tag not in table:
                    continue
                made_up = typo(str(tag), table)
                yield Mutation("wrong_tag", parts + (prop,), f"{tag!r} -> {made_up!r}",
                               _set(config, parts + (prop,), made_up), "unknown_tag")
                others = [t for t in table if t != tag]
                for other in others if all_tags else others[:1]:
                    yield Mutation("swap_tag", parts + (prop,), f"{tag!r} -> {other!r}",
                                   _set(config, parts + (prop,), other), None)
        if not parts or isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, (dict, list))
                                                                                  for v in value)):
            continue
        if node.schemas and node.types() is None and not any("enum" in s or "const" in s for s in node.schemas):
            continue  # declared free-form
        wrong = wrong_value(node.types(), value)
        yield Mutation("wrong_type", parts, f"{json.dumps(value)[:40]} -> {json.dumps(wrong)}",
                       _set(config, parts, wrong), "any")
        for bound, past in _past_bounds(node, value):
            yield Mutation("out_of_bounds", parts, f"{bound}: {json.dumps(past)[:40]}", _set(config, parts, past),
                           "range")


# --- findings and figures ---------------------------------------------------------------------------------------

AGREE, IGNORED, DEFERRED = "agree", "ignored", "deferred"
NOT_REJECTED, FALSE_ACCEPTANCE, FALSE_REJECTION, NOT_EQUIVALENT = (
    "not_rejected", "false_acceptance", "false_rejection", "not_equivalent")
DISAGREEMENTS = (NOT_REJECTED, FALSE_ACCEPTANCE, FALSE_REJECTION, NOT_EQUIVALENT)


def generalize(parts: tuple[Any, ...]) -> str:
    """A JSON path with list indices replaced by ``*``: the signature of a schema location."""
    return json_path(["*" if isinstance(p, int) else p for p in parts]).replace("['*']", "[*]")


@dataclass
class Finding:
    category: str
    check: str  # soundness | completeness:<mutation kind> | equivalence
    path: str
    detail: str
    outcome: str
    source: str
    config: Any = None

    @property
    def signature(self) -> str:
        return f"{self.category} {self.check} {self.path}"

    def render(self) -> str:
        reason = known_reason(self.signature)
        known = f"  [known: {reason}]" if reason else ""
        text = f"{self.category:<16} {self.check:<26} {self.path}  ({self.detail}; upstream: {self.outcome}; " \
               f"from {self.source}){known}"
        if self.config is not None:
            text += "\n    config: " + json.dumps(self.config, separators=(",", ":"))[:4000]
        return text


@dataclass(frozen=True)
class Verdict:
    """The result of checking one config: the validator's verdict, upstream's (None: not asked), and the
    category it falls in, with a Finding when it is worth listing."""

    accepted: bool
    built: bool | None
    category: str
    finding: Finding | None = None
    config: Any = None  # an accepted config that built: a candidate for the equivalence check


@dataclass
class Tally:
    tried: int = 0
    accepted: int = 0
    built: int = 0
    rejected: int = 0
    known: int = 0  # disagreements whose signature is in KNOWN
    categories: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)

    def record(self, verdict: Verdict) -> None:
        self.tried += 1
        self.accepted += verdict.accepted
        self.rejected += not verdict.accepted
        self.built += bool(verdict.built)
        self.categories[verdict.category] += 1
        finding = verdict.finding
        if finding is not None and finding.category in DISAGREEMENTS and known_reason(finding.signature):
            self.known += 1
        if finding is not None and (finding.category in DISAGREEMENTS or finding.category == DEFERRED):
            if not any(f.signature == finding.signature for f in self.findings):
                self.findings.append(finding)

    def disagreements(self) -> list[Finding]:
        return [f for f in self.findings if f.category in DISAGREEMENTS]

    def unknown(self) -> list[Finding]:
        return [f for f in self.disagreements() if known_reason(f.signature) is None]


def _at(problems: list[Problem], parts: tuple[Any, ...]) -> list[Problem]:
    path = json_path(parts)
    return [p for p in problems if p.path == path]


def check_mutation(mutation: Mutation, source: str, verify: bool = True) -> Verdict:
    """Is the mutation rejected where expected, and does upstream agree? With ``verify`` False, upstream is
    asked only when the validator's verdict alone cannot settle it (not rejected, or accepted)."""
    problems = find_problems(mutation.config)
    if not problems and not has_constructor(mutation.config):  # e.g. swapped to hyperencoder
        return Verdict(True, None, "no_constructor")
    hits = [p for p in _at(problems, mutation.parts) if mutation.expect in ("any", p.kind)]
    if not verify and problems and (hits or mutation.expect is None):
        return Verdict(False, None, "rejected, upstream not asked")
    outcome = upstream_builds(mutation.config)
    if outcome.unchecked:
        return Verdict(not problems, None, outcome.unchecked)

    def verdict(category: str, detail: str) -> Verdict:
        finding = Finding(category, f"completeness:{mutation.kind}", generalize(mutation.parts),
                          f"{mutation.detail}; {detail}", outcome.reason, source,
                          mutation.config if category in DISAGREEMENTS else None)
        usable = mutation.config if outcome.ok and not problems else None
        return Verdict(not problems, outcome.ok, category, finding, usable)

    if mutation.expect is None:  # another valid tag: only the verdicts must agree
        if not problems:
            return verdict(AGREE if outcome.ok else FALSE_ACCEPTANCE, "accepted")
        if not outcome.ok:
            return verdict(AGREE, "rejected")
        kinds = sorted({p.kind for p in problems})
        return verdict(IGNORED if kinds == ["unknown_key"] else DEFERRED,
                       "rejected: " + ", ".join(f"{p.path} [{p.kind}]" for p in problems[:3]))
    if not hits:
        where = ", ".join(f"{p.path} [{p.kind}]" for p in problems[:3]) or "accepted"
        return verdict(NOT_REJECTED, f"expected [{mutation.expect}] here; got: {where}")
    if not outcome.ok:
        return verdict(AGREE, hits[0].kind)
    if any(p.kind == "unknown_key" for p in hits):
        return verdict(IGNORED, "unknown_key; upstream ignores it")
    return verdict(DEFERRED, f"[{hits[0].kind}] {hits[0].message}")


def check_config(config: Any, source: str = "draw") -> Verdict:
    """A config on its own (drawn, example or fixture): accepted ones must build; rejected ones are compared
    with upstream (category "rules_only": only cross-field rules reject it, and upstream builds it)."""
    problems = find_problems(config)
    if not problems and not has_constructor(config):
        return Verdict(True, None, "no_constructor")
    outcome = upstream_builds(config)
    if outcome.unchecked:
        return Verdict(not problems, None, outcome.unchecked)
    if not problems:
        if outcome.ok:
            return Verdict(True, True, AGREE, config=config)
        return Verdict(True, False, FALSE_ACCEPTANCE,
                       Finding(FALSE_ACCEPTANCE, "soundness", _blame(outcome), "accepted", outcome.reason, source,
                               config))
    if not outcome.ok:
        return Verdict(False, False, AGREE)
    if {p.kind for p in problems} == {"cross_field"}:
        return Verdict(False, True, "rules_only")  # builds; the rule says it fails later (forward, training)
    first = next(p for p in problems if p.kind != "cross_field")
    return Verdict(False, True, FALSE_REJECTION,
                   Finding(FALSE_REJECTION, "soundness", first.path, f"{first.message} [{first.kind}]",
                           outcome.reason, source, config))


def check_equivalence(config: Any, source: str) -> Verdict:
    try:
        difference = equivalence(config)
    except Exception as exc:
        if _too_large(exc):
            return Verdict(True, None, "too large for the CPU fallback")
        difference = f"building it failed: {_error(exc)}"
    if difference:
        return Verdict(True, False, NOT_EQUIVALENT,
                       Finding(NOT_EQUIVALENT, "equivalence", "$", difference, "built", source, config))
    return Verdict(True, True, AGREE)


def _blame(outcome: Outcome) -> str:
    """Group false acceptances by upstream's error, with numbers and short quoted values (names) abstracted."""
    text = re.sub(r"\d+", "N", outcome.error or "")
    return f"<{outcome.stage}> " + re.sub(r"'(?:[^'\\]|\\.){0,24}'", "'…'", text)[:160]


# --- soundness: drawing configs from the schema -----------------------------------------------------------------


class Drawer:
    """A hypothesis strategy for whole configs, composed along the bundled schema.

    hypothesis-jsonschema draws every leaf (scalars, arrays of scalars, free-form objects) from its own subschema,
    with sizes capped; objects, tagged unions, references and arrays of objects are composed here, so the strategy
    is built in well under a second where hypothesis-jsonschema on the whole 140 kB schema takes many minutes,
    and recursive references (an autoencoder pretransform inside an autoencoder) are followed ``recursion``
    times, then left out where optional.
    """

    def __init__(self, schema: dict[str, Any], recursion: int = 1) -> None:
        from jsonschema import Draft202012Validator

        self.root, self.defs, self.recursion = schema, schema.get("$defs", {}), recursion
        self.memo: dict[Any, Any] = {}
        self.refs = {name: set(self._refs(body)) for name, body in [("#", schema), *self.defs.items()]}
        reach = {name: self._reach(name) for name in self.refs}
        self.cyclic = {name for name, seen in reach.items() if name in seen}
        self.touches_cycle = {name for name, seen in reach.items() if seen & self.cyclic or name in self.cyclic}
        self.plain = Draft202012Validator(schema)
        self.pool = sorted(set(INT_POOL) | set(_integer_literals(schema)))

    def _refs(self, node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str):
                    yield value.rsplit("/", 1)[-1] if value != "#" else "#"
                elif key != "$defs":
                    yield from self._refs(value)
        elif isinstance(node, list):
            for item in node:
                yield from self._refs(item)

    def _reach(self, name: str) -> set[str]:
        seen: set[str] = set()
        todo = list(self.refs[name])
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo += self.refs.get(current, ())
        return seen

    def strategy(self) -> Any:
        strategy = self.build(self.root, ("#",))
        assert strategy is not None
        return strategy

    def build(self, node: Any, stack: tuple[str, ...]) -> Any:
        """A strategy for ``node``, or None when it cannot be drawn without recursing too deep."""
        from hypothesis import strategies as st

        if not isinstance(node, dict):
            return self.leaf(node)
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1] if node["$ref"] != "#" else "#"
            if name in self.cyclic and stack.count(name) > self.recursion:
                return None
            depth = tuple(sorted(Counter(d for d in stack if d in self.cyclic).items()))
            key = (name, depth if name in self.touches_cycle else ())
            if key not in self.memo:
                self.memo[key] = None  # a cycle reached again at this depth is cut
                self.memo[key] = self.build(self.root if name == "#" else self.defs[name], stack + (name,))
            return self.memo[key]
        original = node
        node = _strip(node)
        parts, constrained = [], False
        for keyword in ("oneOf", "anyOf"):
            branches = node.pop(keyword, None)
            if not branches:
                continue
            if all(self.kind(b) != "structure" for b in branches):
                constrained = True  # e.g. oneOf of "required" lists: checked on the drawn object
                continue
            built = [b for b in (self.build(b, stack) for b in branches) if b is not None]
            if not built:
                return None
            parts.append(st.one_of(built))
            constrained |= keyword == "oneOf" and "discriminator" not in original
        for sub in node.pop("allOf", []):
            kind = self.kind(sub)
            if kind == "constraint":
                constrained = True
            elif kind == "structure":
                built = self.build(sub, stack)
                if built is None:
                    return None
                parts.append(built)
        for keyword in ("if", "then", "else", "not", "dependentRequired", "dependentSchemas"):
            constrained |= node.pop(keyword, None) is not None
        if not parts or any(k in node for k in ("properties", "additionalProperties", "items", "prefixItems")):
            own = self.own(node, stack)
            if own is None:
                return None
            parts.insert(0, own)
        strategy = parts[0] if len(parts) == 1 else st.tuples(*parts).map(_merge)
        if constrained:
            check = self.plain.evolve(schema=original)
            strategy = strategy.filter(check.is_valid)
        return strategy

    def kind(self, node: Any) -> str:
        """"structure" (something to draw), "constraint" (only checks a drawn value) or "empty" (annotations)."""
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            node = {**(self.root if ref == "#" else self.defs[ref.rsplit("/", 1)[-1]]),
                    **{k: v for k, v in node.items() if k != "$ref"}}
        node = _strip(node) if isinstance(node, dict) else node
        if not node:
            return "empty"
        if {"properties", "type", "items", "additionalProperties", "const", "enum"} & set(node):
            return "structure"
        branches = node.get("oneOf", []) + node.get("anyOf", []) + node.get("allOf", [])
        return "structure" if any(self.kind(b) == "structure" for b in branches) else "constraint"

    def own(self, node: dict[str, Any], stack: tuple[str, ...]) -> Any:
        from hypothesis import strategies as st

        types = node.get("type")
        types = set(types if isinstance(types, list) else [types] if types else [])
        structural = "properties" in node or isinstance(node.get("additionalProperties"), dict) or \
            isinstance(node.get("items"), dict) and self._has_structure(node["items"])
        if not structural:
            return self.leaf(node)
        choices = []
        if "object" in types or not types and "properties" in node:
            choices.append(self.object(node, stack))
        if "array" in types:
            items = self.build(node.get("items", {}), stack)
            if items is not None:
                low = node.get("minItems", 0)
                choices.append(st.lists(items, min_size=low, max_size=max(low, min(node.get("maxItems", ITEMS_CAP),
                                                                                  ITEMS_CAP))))
        for other in sorted(types - {"object", "array"}):
            choices.append(self.leaf({"type": other}))
        choices = [c for c in choices if c is not None]
        return st.one_of(choices) if choices else None

    def _has_structure(self, node: Any) -> bool:
        return isinstance(node, dict) and bool({"$ref", "properties", "oneOf", "anyOf", "allOf"} & set(node))

    def object(self, node: dict[str, Any], stack: tuple[str, ...]) -> Any:
        from hypothesis import strategies as st

        required = set(node.get("required", []))
        fixed, optional = {}, {}
        for key, sub in node.get("properties", {}).items():
            built = self.build(sub, stack)
            if built is None:
                if key in required:
                    return None
                continue
            (fixed if key in required else optional)[key] = built
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and not fixed and not optional:
            values = self.build(extra, stack)
            if values is None:
                return st.just({})
            keys = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
            return st.dictionaries(keys, values, min_size=node.get("minProperties", 0),
                                   max_size=max(node.get("minProperties", 0), ITEMS_CAP))
        return st.fixed_dictionaries(fixed, optional=optional)

    def leaf(self, node: Any) -> Any:
        """hypothesis-jsonschema's strategy for a subschema without structure (references inlined, capped).
        Integers also come from a pool of the widths, ratios and defaults configs use, so that values which
        must agree (latent widths, strides and ratios) agree often enough for draws to pass the rules."""
        from hypothesis import strategies as st
        from hypothesis_jsonschema import from_schema

        node = _cap_all(self._inline(node))
        key = json.dumps(node, sort_keys=True)
        if key not in self.memo:
            strategy = from_schema(node)
            if node.get("type") == "integer" and not {"enum", "const", "multipleOf"} & set(node):
                low = node.get("minimum", node.get("exclusiveMinimum", -math.inf) + 1)
                high = node.get("maximum", node.get("exclusiveMaximum", math.inf) - 1)
                pool = [v for v in self.pool if low <= v <= high]
                if pool:
                    strategy = st.one_of(st.sampled_from(pool), strategy)
            self.memo[key] = strategy
        return self.memo[key]

    def _inline(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self._inline(n) for n in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            return self._inline(self.root if node["$ref"] == "#" else self.defs[node["$ref"].rsplit("/", 1)[-1]])
        return {k: self._inline(v) for k, v in _strip(node).items()}

    def valid(self, instance: Any) -> bool:
        """Valid by the plain schema (x- keywords and the discriminator annotation aside)."""
        return bool(self.plain.is_valid(instance))


def _integer_literals(node: Any) -> Iterator[int]:
    """Integer defaults and examples anywhere in the schema."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("default", "examples"):
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, int) and not isinstance(item, bool) and abs(item) <= INT_POOL[-1]:
                        yield item
            else:
                yield from _integer_literals(value)
    elif isinstance(node, list):
        for item in node:
            yield from _integer_literals(item)


def _strip(node: dict[str, Any]) -> dict[str, Any]:
    """``node`` without annotations and ``x-`` keywords (plain JSON Schema ignores those)."""
    return {k: v for k, v in node.items() if k not in ANNOTATIONS and k != "$defs" and not k.startswith("x-")}


def _merge(parts: tuple[Any, ...]) -> Any:
    if all(isinstance(p, dict) for p in parts):
        merged: dict[str, Any] = {}
        for part in parts:
            merged.update(part)
        return merged
    return parts[-1]


def _cap_all(node: Any) -> Any:
    """``_cap`` on every subschema of ``node``."""
    if isinstance(node, list):
        return [_cap_all(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties", "dependentSchemas"):
            out[key] = {name: _cap_all(sub) for name, sub in value.items()}
        elif key in ("enum", "const", "required"):
            out[key] = value
        else:
            out[key] = _cap_all(value)
    return _cap(out)


def _cap(node: dict[str, Any]) -> dict[str, Any]:
    types = node.get("type")
    types = set(types if isinstance(types, list) else [types] if types else [])
    if "integer" in types or "number" in types:
        cap = INT_CAP if "number" not in types else NUMBER_CAP
        low = node.get("minimum", node.get("exclusiveMinimum", -cap))
        if "maximum" not in node and "exclusiveMaximum" not in node:
            node["maximum"] = low + cap if low >= cap else cap
        if "minimum" not in node and "exclusiveMinimum" not in node:
            node["minimum"] = -cap
    if "array" in types or "items" in node:
        node["maxItems"] = max(node.get("minItems", 0), min(node.get("maxItems", ITEMS_CAP), ITEMS_CAP))
    if "object" in types and "properties" not in node:
        node["maxProperties"] = max(node.get("minProperties", 0), min(node.get("maxProperties", 3), 3))
    if "string" in types and not {"enum", "const", "pattern", "format"} & set(node):
        node["maxLength"] = max(node.get("minLength", 0), min(node.get("maxLength", STRING_CAP), STRING_CAP))
    return node


def _integers(value: Any) -> Iterator[int]:
    """Integers in a config, and the product of each list of integers (strides multiply to ratios)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _integers(item)
    elif isinstance(value, list):
        if value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            yield math.prod(value)
        for item in value:
            yield from _integers(item)
    elif isinstance(value, int) and not isinstance(value, bool):
        yield value


def _get(config: Any, parts: tuple[Any, ...]) -> Any:
    for part in parts:
        config = config[part]
    return config


def repair(config: Any, rounds: int = 8) -> Any:
    """Greedy local search towards the cross-field rules: for each value a rule blames, try the numbers the
    message names, the config's own numbers (and list products), the opposite boolean, or leaving an optional
    key out; keep a change when it leaves fewer problems. The result is as schema-valid as the draw."""
    problems = find_problems(config)
    for _ in range(rounds):
        improved = False
        for problem in [p for p in problems if p.kind == "cross_field" and p.parts]:
            named = [int(n) for n in re.findall(r"(?<![\w.])-?\d+(?![\w.])", problem.message)]
            try:
                current = _get(config, problem.parts)
            except (KeyError, IndexError, TypeError):  # the rule wants a key that is absent
                current = _DELETE
            numbers = list(dict.fromkeys(named + [n for n, _ in Counter(_integers(config)).most_common()]))
            candidates: list[Any] = []
            if isinstance(current, bool):
                candidates = [not current]
            elif isinstance(current, int):
                candidates = [n for n in numbers if n != current]
            elif isinstance(current, list) and current:
                candidates = [current[:n] if n <= len(current) else current + current[-1:] * (n - len(current))
                              for n in dict.fromkeys(named) if 0 <= n <= 8 and n != len(current)]
            elif current is _DELETE:
                candidates = [*named[:3], 1, 1e-4, True]
            if current is not _DELETE:
                candidates.append(_DELETE)
            for candidate in candidates:
                changed = _delete(config, problem.parts) if candidate is _DELETE else \
                    _set(config, problem.parts, candidate)
                after = find_problems(changed)
                if len(after) < len(problems) and _structural(after) <= _structural(problems):
                    config, problems, improved = changed, after, True
                    break
            if improved:
                break
        if not improved or not problems:
            break
    return config


_DELETE = object()


def _structural(problems: list[Problem]) -> set[tuple[str, str]]:
    return {(p.path, p.kind) for p in problems if p.kind != "cross_field"}


def draw_configs(count: int, seed: int | None = None) -> tuple[list[Any], int]:
    """``count`` configs drawn along the schema and repaired towards the rules (deterministic unless ``seed`` is
    given), and how many draws the plain schema rejects (a limit of the composed strategy; they are not used)."""
    drawer = Drawer(load_bundled_schema())
    drawn = examples(drawer.strategy(), count, seed)
    valid = [repair(config) for config in drawn if drawer.valid(config)]
    return valid, len(drawn) - len(valid)


# --- equivalence ------------------------------------------------------------------------------------------------


def equivalence(config: Any) -> str | None:
    """None when sat_config and upstream build the same model (same seed), else what differs."""
    import torch
    from stable_audio_tools.models.factory import create_model_from_config as upstream

    import sat_config
    from sat_config.placeholders import network_placeholders

    plain = copy.deepcopy(config)
    plain.pop("$schema", None)
    with quiet(), network_placeholders(), shape_only_weight_norm():  # it touches meta tensors only
        try:
            with torch.device("meta"):
                size = sum(p.numel() for p in upstream(copy.deepcopy(plain)).parameters())
        except Exception:
            size = 0  # needs real tensors while building: small enough for a CPU comparison in practice
        device = "cpu" if size <= VALUE_COMPARE_LIMIT else "meta"
        with torch.device(device):
            torch.manual_seed(0)
            ours = sat_config.create_model_from_config(plain)
            torch.manual_seed(0)
            theirs = upstream(copy.deepcopy(plain))
    if type(ours) is not type(theirs):
        return f"class {type(ours).__name__} != {type(theirs).__name__}"
    a, b = ours.state_dict(), theirs.state_dict()
    if list(a) != list(b):
        return f"state_dict keys differ: {sorted(set(a) ^ set(b))[:5]}"
    for key in a:
        if a[key].shape != b[key].shape or a[key].dtype != b[key].dtype:
            return f"{key}: {tuple(a[key].shape)} {a[key].dtype} != {tuple(b[key].shape)} {b[key].dtype}"
        if device == "cpu" and not torch.equal(a[key], b[key]):
            return f"{key}: values differ"
    if [p.requires_grad for p in ours.parameters()] != [p.requires_grad for p in theirs.parameters()]:
        return "requires_grad differs"
    return None


# --- the whole run ----------------------------------------------------------------------------------------------


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def named_configs(paths: list[Path] | None = None, cases: bool = True) -> list[tuple[str, Any]]:
    """(name, config) of the examples and fixtures (or of ``paths``), and of the positive cases."""
    from conftest import case_config

    named = [(path.stem, load(path)) for path in (EXAMPLES + FIXTURES if paths is None else paths)]
    return named + [(f"case {path.stem}", case_config(load(path))) for path in POSITIVE_CASES if cases]


@dataclass
class Report:
    soundness: Tally = field(default_factory=Tally)
    completeness: Tally = field(default_factory=Tally)
    equivalence: Tally = field(default_factory=Tally)
    coverage: tuple[int, int, list[str]] = (0, 0, [])
    unbuildable: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def tallies(self) -> dict[str, Tally]:
        return {"soundness": self.soundness, "completeness": self.completeness, "equivalence": self.equivalence}

    def unknown(self) -> list[Finding]:
        return [f for t in self.tallies().values() for f in t.unknown()]

    def render(self) -> str:
        lines = ["Fidelity: the bundled schema vs stable-audio-tools 0.0.19", "",
                 f"{'check':<14}{'tried':>8}{'accepted':>10}{'built':>8}{'rejected':>10}{'disagreements':>15}"
                 f"{'(known)':>9}"]
        for name, tally in self.tallies().items():
            lines.append(f"{name:<14}{tally.tried:>8}{tally.accepted:>10}{tally.built:>8}{tally.rejected:>10}"
                         f"{sum(tally.categories[c] for c in DISAGREEMENTS):>15}{tally.known:>9}")
        covered, total, missing = self.coverage
        lines += ["", f"buildable tagged-union types built and compared for equivalence: {covered} of {total}"
                  + (f" (not reached: {', '.join(missing)})" if missing else ""),
                  f"not buildable by design: {', '.join(self.unbuildable) or 'none'}"]
        for name, tally in self.tallies().items():
            if tally.categories:
                lines.append(f"{name} outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.categories.items())))
        deferred = [f for t in self.tallies().values() for f in t.findings if f.category == DEFERRED]
        if deferred:
            lines += ["", f"Rejected, but upstream builds it ({len(deferred)} locations; the value is only used "
                      "later — training, the first forward — or never):"]
            lines += [f"  {f.check.split(':')[-1]:<14} {f.path}  ({f.detail[:110]}; from {f.source})"
                      for f in deferred]
        disagreements = [f for t in self.tallies().values() for f in t.disagreements()]
        if disagreements:
            lines += ["", f"Disagreements ({len(disagreements)} distinct):"]
            lines += ["  " + f.render() for f in disagreements]
        lines += ["", f"({self.seconds:.0f} s)"]
        return "\n".join(lines)


def examples(strategy: Any, count: int, seed: int | None = None) -> list[Any]:
    """``count`` values of a hypothesis strategy (derandomized unless ``seed`` is given), without a test."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    values: list[Any] = []

    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), derandomize=seed is None)
    @given(strategy)
    def collect(value: Any) -> None:
        values.append(value)

    (collect if seed is None else hypothesis_seed(seed)(collect))()
    return values


def cover_types(view: SchemaView, configs: list[tuple[str, Any]], missing: set[tuple[str, Any]],
                tries: int = 60) -> list[tuple[str, Any]]:
    """For each (tagged union, tag) no config reaches: put drawn instances of that branch in place of the union
    in a config that has it, nudge the result towards the rules (``repair``), and keep the first that is valid
    and builds upstream."""
    drawer = Drawer(view.root)
    found: list[tuple[str, Any]] = []
    for site, tag in sorted(missing, key=str):
        slots = [(name, config, parts, branches[table[tag]]) for name, config in configs
                 for parts, value, node in view.walk(config) for union, _, table, branches in node.unions
                 if union == site and tag in table and isinstance(value, dict)]
        hosts = list({slot[0]: slot for slot in reversed(slots)}.values())[::-1]  # the first slot of each config
        for name, config, parts, branch in hosts[:3]:  # a few different hosts: the rules may suit one better
            strategy = drawer.build(branch, ("#",))
            instances = examples(strategy, tries) if strategy is not None else []
            candidates = (repair(_set(config, parts, instance) if parts else instance) for instance in instances)
            hit = next((c for c in candidates if not find_problems(c) and upstream_builds(c).ok), None)
            if hit is not None:
                found.append((f"{name} with {site} {tag!r}", hit))
                break
    return found


def _apply(task: tuple[Any, ...]) -> Any:
    function, *args = task
    return function(*args)


def _cover(configs: list[tuple[str, Any]], missing: set[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return cover_types(SchemaView(load_bundled_schema()), configs, missing)


@contextlib.contextmanager
def _workers(jobs: int, memory: float | None) -> Iterator[Any]:
    """A ``map`` over tasks ``(function, *args)``: in ``jobs`` worker processes, each with ``memory`` GB of heap,
    forked once, before this process has run torch (whose thread pools do not survive a fork); or in this one."""
    if jobs <= 1:
        yield lambda tasks: map(_apply, tasks)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    initializer, arguments = (limit_memory, (memory,)) if memory else (None, ())
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"), initializer=initializer,
                             initargs=arguments) as pool:
        yield lambda tasks: pool.map(_apply, tasks, chunksize=4)


def run(draws: int, seed: int | None = None, named: list[tuple[str, Any]] | None = None,
        mutate: list[str] | None = None, all_tags: bool = True, verify_every: int = 1, jobs: int = 1,
        memory: float | None = None, cover: bool = False, progress: bool = False) -> Report:
    """The whole fidelity check: soundness over the named configs (examples and fixtures by default) and
    ``draws`` drawn ones; completeness over every mutation of each named config that builds (or of those in
    ``mutate``), asking upstream about every ``verify_every``-th rejected one; equivalence over the named
    configs that build and one drawn config per type they do not reach."""
    start = time.perf_counter()
    report = Report()
    view = SchemaView(load_bundled_schema())

    def say(text: str) -> None:
        if progress:
            print(f"  [{time.perf_counter() - start:6.0f} s] {text}", file=sys.stderr, flush=True)

    named = named_configs() if named is None else named
    drawn, invalid = draw_configs(draws, seed) if draws else ([], 0)
    say(f"drew {len(drawn)} configs")
    report.soundness.categories["draws_outside_schema"] += invalid
    with _workers(jobs, memory) as apply:
        configs = named + [(f"draw {i}", config) for i, config in enumerate(drawn)]
        bases, built = [], []
        verdicts = apply([(check_config, c, n) for n, c in configs])
        for (name, config), verdict in zip(configs, verdicts, strict=True):
            report.soundness.record(verdict)
            if verdict.built and verdict.accepted:
                (bases if not name.startswith("draw ") else built).append((name, config))
        say(f"soundness: {report.soundness.tried} configs")
        tasks = [(check_mutation, mutation, name, index % verify_every == 0)
                 for name, config in bases if mutate is None or name in mutate
                 for index, mutation in enumerate(mutations(view, config, all_tags))]
        for (_, _, name, _), verdict in zip(tasks, apply(tasks), strict=True):
            report.completeness.record(verdict)
            if verdict.config is not None:
                built.append((f"{name}, mutated", verdict.config))
        say(f"completeness: {report.completeness.tried} mutations")
        types = view.model_tags()
        everything = {key for key, why in types.items() if why is None}
        chosen = list(bases)
        covered = set().union(*(tags_used(view, c) for _, c in bases)) if bases else set()
        for name, config in sorted(built, key=lambda item: len(json.dumps(item[1]))):
            new = tags_used(view, config) - covered
            if new:
                chosen.append((name, config))
                covered |= new
        if cover:
            [found] = apply([(_cover, chosen, everything - covered)])
            for name, config in found:
                chosen.append((name, config))
                covered |= tags_used(view, config)
            say(f"types: {len(everything & covered)} of {len(everything)} reached")
        for verdict in apply([(check_equivalence, c, n) for n, c in chosen]):
            report.equivalence.record(verdict)
    say(f"equivalence: {report.equivalence.tried} configs")
    missing = sorted(f"{site}:{tag}" for site, tag in everything - covered)
    report.coverage = (len(everything & covered), len(everything), missing)
    report.unbuildable = sorted(f"{site}:{tag} ({why})" for (site, tag), why in types.items() if why)
    report.seconds = time.perf_counter() - start
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure how well the schema agrees with stable-audio-tools.")
    parser.add_argument("--draws", type=int, default=2000, help="configs to draw from the schema")
    parser.add_argument("--seed", type=int, default=None, help="hypothesis seed (default: a new random one)")
    parser.add_argument("--verify-every", type=int, default=1, metavar="N",
                        help="ask upstream about every N-th rejected mutation only (default: all)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: CPUs)")
    parser.add_argument("--memory", type=float, default=None, metavar="GB",
                        help="heap limit per process (default: a share of the machine's memory)")
    args = parser.parse_args(argv)
    seed = random.randrange(2**32) if args.seed is None else args.seed
    jobs = max(1, args.jobs)
    memory = args.memory or max(2.0, os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30 / (jobs + 1))
    if jobs == 1:
        limit_memory(memory)
    report = run(args.draws, seed, verify_every=args.verify_every, jobs=jobs, memory=memory, cover=True,
                 progress=True)
    print(report.render())
    print(f"(draws seeded with --seed {seed})")
    return 1 if report.unknown() else 0


if __name__ == "__main__":
    sys.exit(main())
