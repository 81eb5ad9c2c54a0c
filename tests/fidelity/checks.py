"""Judging one config (drawn or named), one mutation, or one build comparison against upstream: a Verdict, with a
Finding when it is worth listing."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sat_config.errors import Problem, json_path
from sat_config.validation import find_problems

from .known import known_reason
from .mutations import Mutation
from .oracle import Outcome, equivalence, error_text, has_constructor, unverifiable, upstream_builds

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
        why = unverifiable(exc)
        if why:
            return Verdict(True, None, why)
        difference = f"building it failed: {error_text(exc)}"
    if difference:
        return Verdict(True, False, NOT_EQUIVALENT,
                       Finding(NOT_EQUIVALENT, "equivalence", "$", difference, "built", source, config))
    return Verdict(True, True, AGREE)


def _blame(outcome: Outcome) -> str:
    """Group false acceptances by upstream's error, with numbers and short quoted values (names) abstracted."""
    text = re.sub(r"\d+", "N", outcome.error or "")
    return f"<{outcome.stage}> " + re.sub(r"'(?:[^'\\]|\\.){0,24}'", "'…'", text)[:160]
