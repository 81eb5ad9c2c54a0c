"""Targets: which stable-audio-tools code and which torch will run a config, detected without importing either.

A target (``schemas/targets.json``, bundled as the schema's ``x-targets``) names a stable-audio-tools flavour; the
environment pairs it with a torch version and says how each was learnt: ``chosen`` (``--target`` / ``--torch``),
``detected`` (package metadata and a fingerprint in the installed source) or ``assumed`` / unknown.

Facts that differ between environments are ``x-unsupported.when`` conditions on schema nodes: a list of
alternatives, each a conjunction of clauses ``target`` (a target name), ``torch`` (a version specifier such as
``>=2.7``) and ``missing`` (a distribution that must be absent). ``verdict`` decides one condition three-valued:
True (it fails here: an error), False (it works here) or None (cannot tell here: a warning naming the condition).
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Mapping
from functools import cache
from typing import Any, Literal, NamedTuple

from . import installed

How = Literal["chosen", "detected", "assumed", "unknown"]


class TargetError(ValueError):
    """A target or torch version the user named does not exist or does not parse."""


class Target(NamedTuple):
    name: str
    title: str
    distribution: str
    version: str
    fingerprint: Mapping[str, str]
    description: str = ""
    runtime_differences: tuple[str, ...] = ()


class Environment(NamedTuple):
    """What a config is judged against, and how each part of it was learnt."""

    target: Target
    target_how: How
    torch: str | None = None
    torch_how: How = "unknown"
    note: str | None = None  # why detection fell back, e.g. an installed version no target describes

    @property
    def installed(self) -> bool:
        """The target's own code is installed here, so optional packages beside it can be checked."""
        return self.target_how == "detected"

    def describe(self) -> str:
        torch = f"torch {self.torch} ({self.torch_how})" if self.torch else "torch unknown"
        return f"{self.target.name} ({self.target_how}), {torch}"

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target.name, "target_source": self.target_how, "torch": self.torch,
                "torch_source": self.torch_how, "note": self.note}


def _targets_data() -> dict[str, Any]:
    from .schema_source import shared_validation_schema

    data: dict[str, Any] = shared_validation_schema()["x-targets"]
    return data


@cache
def targets() -> dict[str, Target]:
    """Every declared target by name, the default first."""
    data = _targets_data()
    out = {}
    for name in sorted(data["targets"], key=lambda n: n != data["default"]):
        entry = data["targets"][name]
        out[name] = Target(name, entry["title"], entry["distribution"], entry["version"], entry["fingerprint"],
                           entry.get("description", ""), tuple(entry.get("runtime_differences", ())))
    return out


def default_target() -> Target:
    return next(iter(targets().values()))


def target_named(name: str) -> Target:
    try:
        return targets()[name]
    except KeyError:
        raise TargetError(f"unknown target {name!r}; known targets: {', '.join(targets())}") from None


# A plain release (2.9.1, or 2.9.1+cu121) and a comparison with one (>=2.7) are read here; anything else through
# packaging, whose import costs more than a validation (tests/test_targets.py checks that both agree).
_PLAIN_VERSION = re.compile(r"\s*v?(\d+(?:\.\d+)*)(?:\+[0-9A-Za-z.]+)?\s*")
_PLAIN_CLAUSE = re.compile(r"\s*(>=|<=|==|!=|>|<)\s*(\d+(?:\.\d+)*)\s*")
_COMPARE = {">=": operator.ge, "<=": operator.le, "==": operator.eq, "!=": operator.ne, ">": operator.gt,
            "<": operator.lt}


def _release(version: str) -> tuple[int, ...]:
    plain = _PLAIN_VERSION.fullmatch(version)
    if plain:
        return tuple(int(part) for part in plain.group(1).split("."))
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version).release
    except InvalidVersion:
        raise TargetError(f"not a version: {version!r} (e.g. --torch 2.6 or 2.9.1)") from None


def version_matches(specifier: str, version: str) -> bool:
    """Whether the release of ``version`` satisfies ``specifier`` (PEP 440, pre-releases included)."""
    release = _release(version)
    clauses = [_PLAIN_CLAUSE.fullmatch(clause) for clause in specifier.split(",")]
    if all(clauses):
        return all(_COMPARE[m.group(1)](*_padded(release, tuple(int(p) for p in m.group(2).split("."))))
                   for m in clauses if m)
    from packaging.specifiers import SpecifierSet

    return SpecifierSet(specifier).contains(".".join(map(str, release)), prereleases=True)


def _padded(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)), b + (0,) * (width - len(b))


def _detect_target() -> tuple[Target, How, str | None]:
    default = default_target()
    dist = installed.find(default.distribution)
    if dist is None:
        return default, "assumed", f"{default.distribution} is not installed"
    candidates = [t for t in targets().values() if t.distribution == default.distribution and
                  t.version == dist.version]
    if not candidates:
        return default, "assumed", f"{default.distribution} {dist.version} is installed, which no target describes"
    for target in candidates:
        path = dist.source_file(target.fingerprint["file"])
        try:
            text = path.read_text(encoding="utf-8", errors="replace") if path else ""
        except OSError:
            text = ""
        if target.fingerprint["contains"] in text:
            return target, "detected", None
    return default, "assumed", f"{default.distribution} {dist.version} is installed, but its source matches no " \
                               "target"


def _detect_torch() -> str | None:
    dist = installed.find("torch")
    return dist.version if dist else None


@cache
def detected() -> Environment:
    """The installed environment (cached for the process): dist-info folders and one source file, no imports."""
    target, how, note = _detect_target()
    torch = _detect_torch()
    return Environment(target, how, torch, "detected" if torch else "unknown", note)


def environment(target: str | None = None, torch: str | None = None) -> Environment:
    """The environment to judge against: what the user chose, else what is installed, else the default target."""
    env = detected()
    if target is not None:
        chosen = target_named(target)
        # optional packages beside the installed code only tell about the chosen target if that is what is installed
        env = Environment(chosen, "chosen" if chosen != env.target or not env.installed else "detected",
                          env.torch, env.torch_how)
    if torch is not None:
        _release(torch)
        env = Environment(env.target, env.target_how, torch, "chosen", env.note)
    return env


def _clause(key: str, value: str, env: Environment) -> bool | None:
    if key == "target":
        return None if env.target_how == "assumed" else env.target.name == value
    if key == "torch":
        if env.torch is None:
            return None
        return version_matches(value, env.torch)
    if key == "missing":
        if not env.installed:
            return None
        return installed.find(value) is None
    raise TargetError(f"unknown condition clause {key!r}")


def verdict(when: list[dict[str, str]] | None, env: Environment) -> bool | None:
    """Whether a condition holds in ``env``: True, False, or None when this environment cannot tell.
    No ``when`` means always."""
    if not when:
        return True
    outcome: bool | None = False
    for alternative in when:
        clauses = [_clause(key, value, env) for key, value in alternative.items()]
        holds = False if False in clauses else (None if None in clauses else True)
        if holds:
            return True
        if holds is None:
            outcome = None
    return outcome


def describe_condition(when: list[dict[str, str]], titles: Mapping[str, str] | None = None) -> str:
    """A condition in words: "with torch >=2.7 on stable-audio-tools 0.0.19 from the package index".
    ``titles`` names the targets (default: the bundled schema's)."""
    if titles is None:
        titles = {name: target.title for name, target in targets().items()}
    parts = []
    for alternative in when:
        words = []
        if "torch" in alternative:
            words.append(f"with torch {alternative['torch']}")
        if "target" in alternative:
            words.append(f"on {titles[alternative['target']]}")
        if "missing" in alternative:
            words.append(f"without {alternative['missing']} installed")
        parts.append(" ".join(words))
    return " or ".join(parts)


def unsupported_message(spec: Mapping[str, Any], holds: bool | None = True, env: Environment | None = None,
                        titles: Mapping[str, str] | None = None) -> str:
    """The text of an ``unsupported`` problem, and of the editor's deprecation message: for what fails on every
    target, what fails under a condition, and (a warning) what the judged environment ``env`` cannot decide."""
    when = spec.get("when")
    if not when:
        return f"{spec['what']} cannot be built by stable-audio-tools: {spec['reason']}"
    condition = describe_condition(when, titles)
    if holds is None and env is not None:
        return f"{spec['what']} fails {condition}; this environment cannot tell whether that applies (judged " \
               f"against {env.describe()}): {spec['reason']}"
    return f"{spec['what']} fails {condition}: {spec['reason']}"


def schema_for_target(name: str, torch: str | None = None, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """The editor schema (the bundled one, or a copy of ``schema``) for one target and, when given, torch version:
    what that target builds is no longer marked unsupported or deprecated; what fails there, or may, stays marked."""
    import copy

    from .schema_source import load_bundled_schema

    schema = load_bundled_schema() if schema is None else copy.deepcopy(schema)
    env = Environment(target_named(name), "chosen", torch, "chosen" if torch else "unknown")
    from .schemawalk import subschemas

    titles = {n: t.title for n, t in targets().items()}
    for _, node in list(subschemas(schema)):
        spec = node.get("x-unsupported")
        if isinstance(spec, dict) and verdict(spec.get("when"), env) is False:
            _unmark(node, unsupported_message(spec, titles=titles))
    return schema


def _unmark(node: dict[str, Any], message: str) -> None:
    """Remove ``x-unsupported`` and the deprecation annotations derived from it (generator/editor.py)."""
    del node["x-unsupported"]
    tag = node.get("properties", {}).get("type")
    if isinstance(tag, dict) and tag.get("deprecationMessage") == message:
        del tag["deprecationMessage"]
    if "allOf" in node:
        node["allOf"] = [m for m in node["allOf"] if message not in json.dumps(m)]
        if not node["allOf"]:
            del node["allOf"]
