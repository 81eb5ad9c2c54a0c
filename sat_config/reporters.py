"""Print validation results: collecting them (``Report``) is separate from printing them (one ``Reporter`` per
output format: ``text``, ``json``, ``github`` workflow commands and ``sarif`` 2.1.0).

A problem is an error or a warning (``Problem.severity``); a file fails when it has an error, or any problem
under ``strict``. Every format shows warnings as warnings and links each problem to the reference docs under
``doc_base`` (see ``sat_config.reference``).
"""

from __future__ import annotations

import abc
import json
import os
from pathlib import Path
from typing import Any, TextIO

from .errors import Problem
from .reference import doc_url, kind_url

FORMATS = ("auto", "text", "json", "github", "sarif")
TOOL_URI = "https://github.com/sat-config/sat-config"
# One line per problem kind: the SARIF rules' short descriptions.
KIND_SUMMARIES = {
    "parse": "The file is not JSON or YAML, or holds a value no config can (NaN, a 5,000-digit integer, ...).",
    "type": "A value has the wrong JSON type.",
    "required": "A required key is missing.",
    "unknown_key": "A key the schema does not know (often a misspelling of one it does).",
    "unknown_tag": "A type tag that names no known type.",
    "enum": "A value outside the allowed set.",
    "range": "A number or size out of bounds.",
    "cross_field": "Keys that disagree with each other (a cross-field rule).",
    "unsupported": "Valid JSON that the target's stable-audio-tools cannot build.",
    "unchecked": "A type or key sat-config does not know, left unchecked.",
    "internal": "A rule of sat-config itself raised: a bug to report.",
}


def version() -> str:
    """The installed sat-config's version."""
    from .installed import find

    dist = find("sat-config")
    return dist.version if dist else "unknown (not installed)"


class FileResult:
    """The problems of one checked file."""

    __slots__ = ("file", "problems")

    def __init__(self, file: str, problems: list[Problem] | None = None) -> None:
        self.file = file
        self.problems: list[Problem] = [] if problems is None else problems

    def __repr__(self) -> str:
        return f"FileResult({self.file!r}, {self.problems!r})"

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]


class Report:
    """Everything one command checked: per-file results, and how many files a directory walk skipped."""

    __slots__ = ("files", "skipped", "strict", "judged")

    def __init__(self, files: list[FileResult] | None = None, skipped: int = 0, strict: bool = False,
                 judged: dict[str, Any] | None = None) -> None:
        self.files: list[FileResult] = [] if files is None else files
        self.skipped = skipped
        self.strict = strict
        self.judged = judged  # the environment judged against (sat_config.targets.Environment.to_dict)

    def __repr__(self) -> str:
        return f"Report({self.files!r}, skipped={self.skipped}, strict={self.strict}, judged={self.judged!r})"

    def valid(self, result: FileResult) -> bool:
        return not (result.problems if self.strict else result.errors)

    @property
    def failed(self) -> bool:
        return not all(self.valid(r) for r in self.files)

    def summary(self) -> str:
        valid = sum(self.valid(r) for r in self.files)
        errors = sum(len(r.errors) for r in self.files)
        warnings = sum(len(r.warnings) for r in self.files)
        text = f"{valid} of {len(self.files)} file{'s' if len(self.files) != 1 else ''} valid"
        text += f", {_count(errors, 'problem')}" if errors else ""
        text += f", {_count(warnings, 'warning')}" if warnings else ""
        if self.skipped:
            text += f"; {self.skipped} other file{'s' if self.skipped != 1 else ''} skipped (not model configs)"
        return text + (f" ({judged_text(self.judged)})" if self.judged else "")


def judged_text(judged: dict[str, Any]) -> str:
    """``judged against sat-0.0.19 (detected), torch 2.9.1 (detected)[, extensions: ...]``."""
    torch = f"torch {judged['torch']} ({judged['torch_source']})" if judged["torch"] else "torch unknown"
    text = f"judged against {judged['target']} ({judged['target_source']}), {torch}"
    if judged.get("extensions"):
        text += ", extensions: " + "; ".join(judged["extensions"])
    return text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


class Reporter(abc.ABC):
    """Prints a ``Report`` to ``stream`` in one format."""

    def __init__(self, stream: TextIO, *, doc_base: str, quiet: bool = False) -> None:
        self.stream, self.doc_base, self.quiet = stream, doc_base, quiet

    def linked(self, problem: Problem) -> Problem:
        """``problem`` with its ``doc`` as a link the user can open."""
        return problem._replace(doc=doc_url(problem.doc, self.doc_base))

    def write(self, text: str) -> None:
        self.stream.write(text + "\n")

    @abc.abstractmethod
    def report(self, report: Report) -> None:
        """Print every problem of ``report`` (and, unless quiet, a summary)."""


class TextReporter(Reporter):
    """``file:line:col: [warning: ]$.path: message (did you mean ...?) [kind] see <link>``; errors red, warnings
    yellow on a terminal."""

    def __init__(self, stream: TextIO, *, doc_base: str, quiet: bool = False) -> None:
        super().__init__(stream, doc_base=doc_base, quiet=quiet)
        self.color = hasattr(stream, "isatty") and stream.isatty() and "NO_COLOR" not in os.environ

    def style(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def line(self, problem: Problem, source: str) -> str:
        return self.style(self.linked(problem).render(source), "31" if problem.is_error else "33")

    def report(self, report: Report) -> None:
        for result in report.files:
            for problem in result.problems:
                self.write(self.line(problem, result.file))
        if report.files and not self.quiet:
            self.write(self.style(report.summary(), "31" if report.failed else "32"))


class JsonReporter(Reporter):
    """One object per file: ``{"file", "valid", "errors": [...], "warnings": [...]}`` (quiet: files with problems)."""

    def problem(self, problem: Problem) -> dict[str, Any]:
        return self.linked(problem).to_dict()

    def report(self, report: Report) -> None:
        self.write(json.dumps([
            {"file": r.file, "valid": report.valid(r), "errors": [self.problem(p) for p in r.errors],
             "warnings": [self.problem(p) for p in r.warnings], "environment": report.judged}
            for r in report.files if r.problems or not self.quiet], indent=2))


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


class GithubReporter(Reporter):
    """GitHub Actions workflow commands: ``::error file=…,line=…,col=…,title=…::message`` (``::warning``)."""

    def annotation(self, problem: Problem, source: str) -> str:
        problem = self.linked(problem)
        props = {"file": source, "line": problem.line, "col": problem.column,
                 "title": f"sat-config {problem.kind}: {problem.path}"}
        head = ",".join(f"{k}={_escape_property(str(v))}" for k, v in props.items() if v is not None)
        hint = f" (did you mean {problem.suggestion!r}?)" if problem.suggestion else ""
        doc = f" see {problem.doc}" if problem.doc else ""
        command = "error" if problem.is_error else "warning"
        return f"::{command} {head}::{_escape_data(f'{problem.path}: {problem.message}{hint}{doc}')}"

    def report(self, report: Report) -> None:
        for result in report.files:
            for problem in result.problems:
                self.write(self.annotation(problem, result.file))
        if report.files and not self.quiet:
            self.write(report.summary())


def _artifact_uri(source: str) -> str:
    """A path relative to the working directory (as code scanning expects), else a file: URI."""
    path = Path(source)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.resolve().as_uri()


class SarifReporter(Reporter):
    """A SARIF 2.1.0 log: one rule per problem kind (help link: its reference section), one result per problem."""

    def rule(self, kind: str) -> dict[str, Any]:
        return {"id": kind, "name": "".join(w.capitalize() for w in kind.split("_")),
                "shortDescription": {"text": KIND_SUMMARIES.get(kind, f"A problem of kind {kind!r}.")},
                "helpUri": kind_url(kind, self.doc_base)}

    def result(self, problem: Problem, source: str, rules: dict[Any, int]) -> dict[str, Any]:
        problem = self.linked(problem)
        hint = f" (did you mean {problem.suggestion!r}?)" if problem.suggestion else ""
        location: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": _artifact_uri(source)}},
                                    "logicalLocations": [{"fullyQualifiedName": problem.path, "kind": "member"}]}
        if problem.line is not None:
            region = {"startLine": problem.line}
            if problem.column is not None:
                region["startColumn"] = problem.column
            location["physicalLocation"]["region"] = region
        result: dict[str, Any] = {
            "ruleId": problem.kind, "ruleIndex": rules[problem.kind],
            "level": "error" if problem.is_error else "warning",
            "message": {"text": f"{problem.path}: {problem.message}{hint}"}, "locations": [location]}
        if problem.doc:
            result["properties"] = {"doc": problem.doc}
        return result

    def report(self, report: Report) -> None:
        kinds = sorted({p.kind for r in report.files for p in r.problems})
        rules = {kind: index for index, kind in enumerate(kinds)}
        log = {
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {"name": "sat-config", "version": version(), "informationUri": TOOL_URI,
                                    "rules": [self.rule(kind) for kind in kinds]}},
                "results": [self.result(p, r.file, rules) for r in report.files for p in r.problems],
            }],
        }
        self.write(json.dumps(log, indent=2))


REPORTERS: dict[str, type[Reporter]] = {
    "text": TextReporter, "json": JsonReporter, "github": GithubReporter, "sarif": SarifReporter}


def resolve_format(name: str) -> str:
    """``auto``: ``github`` inside GitHub Actions, else ``text``."""
    if name == "auto":
        return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    return name


def make_reporter(name: str, stream: TextIO, *, doc_base: str, quiet: bool = False) -> Reporter:
    return REPORTERS[resolve_format(name)](stream, doc_base=doc_base, quiet=quiet)
