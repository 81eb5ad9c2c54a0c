"""``sat-config fix``: apply the edits the diagnostics are sure of, and nothing else.

A sure edit is a misspelt key or tag (a problem of kind ``unknown_key`` or ``unknown_tag`` with a suggestion, or a
cross-field problem blaming a key that names an id with its suggestion: a misspelt conditioner id in a
``demo_cond`` entry) renamed to its suggestion. Each is made in the source text at the key's (or tag's)
position, so everything else -- comments, key order, indentation, quoting, number formatting, line endings --
stays byte for byte as it was
(a YAML round-trip through ruamel.yaml re-indents and re-spaces; a positional edit does not). An edit is kept only
when the edited text parses to exactly the data expected. Renaming can reveal more sure edits (a repaired tag
selects the schema its keys are checked against), so fixing repeats until nothing is left to fix.
"""

from __future__ import annotations

import codecs
import copy
import difflib
import json
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .api import problems_in_document
from .errors import Problem
from .loader import MAX_BYTES, YAML_SUFFIXES, Document, LoadError, Span, parse_document, read_document, spans
from .validation import Judging

SURE_KINDS = ("unknown_key", "unknown_tag")
MAX_ROUNDS = 20


class FileChangedError(LoadError):
    """The file changed on disk between reading it and writing the fix: nothing was written."""


@dataclass(frozen=True)
class Rename:
    """One sure edit: at ``parts`` (a key, or a tag value), ``old`` becomes ``new``; ``line`` in the source read."""

    parts: tuple[Any, ...]
    old: str
    new: str
    line: int
    is_key: bool

    def describe(self) -> str:
        what = "key" if self.is_key else "tag"
        return f"line {self.line}: {what} {self.old!r} -> {self.new!r}"


@dataclass
class Fix:
    """The outcome of fixing one file's text: the edits made, the new text and the problems left in it."""

    source: str
    original: str
    text: str
    renames: list[Rename] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.text != self.original

    def diff(self) -> str:
        return "".join(difflib.unified_diff(self.original.splitlines(keepends=True),
                                            self.text.splitlines(keepends=True),
                                            f"a/{self.source}", f"b/{self.source}"))


def _quoted(new: str, style: str | None, is_yaml: bool) -> str:
    """``new`` written in the quoting style of the text it replaces (double quotes where plain cannot hold it)."""
    if is_yaml and style == "'":
        return "'" + new.replace("'", "''") + "'"
    if is_yaml and style is None:
        import yaml

        if new.replace("_", "").replace("-", "").isalnum() and yaml.safe_load(new) == new:
            return new
    return json.dumps(new, ensure_ascii=False)


def _get(data: Any, parts: tuple[Any, ...]) -> Any:
    for part in parts:
        data = data[part]
    return data


def _sure(problem: Problem, data: Any) -> bool:
    """Whether the problem names one rename: a misspelt key or tag, or a rule's misspelt id written as a key."""
    if problem.kind in SURE_KINDS:
        return True
    parent = _get(data, problem.parts[:-1])
    return problem.kind == "cross_field" and isinstance(parent, dict) and problem.parts[-1] in parent


def _sure_renames(doc: Document, problems: list[Problem]) -> list[tuple[Rename, Span]]:
    """The renames the problems are sure of, with where each sits in the text."""
    try:
        located = spans(doc.text, doc.is_yaml)
    except Exception:  # no positions (a source-map library's limit): then nothing is sure
        return []
    found: dict[int, tuple[Rename, Span]] = {}  # by position: a YAML anchor's key is one edit for all its aliases
    for problem in problems:
        if not problem.suggestion or not problem.parts or not _sure(problem, doc.data):
            continue
        span = located.get(problem.parts)
        if span is None:
            continue
        is_key = problem.kind != "unknown_tag"
        old = problem.parts[-1] if is_key else _get(doc.data, problem.parts)
        parent = _get(doc.data, problem.parts[:-1])
        if not isinstance(old, str) or old == problem.suggestion or (is_key and problem.suggestion in parent):
            continue  # not a string, nothing to change, or the right key is already there (a duplicate)
        line = doc.text.count("\n", 0, (span.key or span.value)[0]) + 1
        found.setdefault((span.key or span.value)[0] if is_key else span.value[0],
                         (Rename(problem.parts, old, problem.suggestion, line, is_key), span))
    return list(found.values())


def _expected(data: Any, renames: list[Rename]) -> Any:
    """``data`` with the renames applied (keys keep their place)."""
    data = copy.deepcopy(data)
    for rename in renames:
        parent = _get(data, rename.parts[:-1])
        if rename.is_key:
            items = list(parent.items())
            parent.clear()
            parent.update((rename.new if k == rename.old else k, v) for k, v in items)
        else:
            parent[rename.parts[-1]] = rename.new
    return data


def _apply(doc: Document, edits: list[tuple[Rename, Span]]) -> tuple[str, list[Rename]]:
    text, done = doc.text, []
    for rename, span in sorted(edits, key=lambda e: -(e[1].key or e[1].value)[0]):
        start, end = span.key if rename.is_key and span.key else span.value
        style = span.key_style if rename.is_key else span.value_style
        text = text[:start] + _quoted(rename.new, style, doc.is_yaml) + text[end:]
        done.append(rename)
    return text, done


def fix_text(text: str, source: str, is_yaml: bool = False, judge: Judging | None = None) -> Fix:
    """Fix ``text`` (a JSON or YAML config); the result holds the new text and the problems left in it (judged as
    ``validate`` judges, by ``judge``)."""
    result = Fix(source, text, text)
    doc = parse_document(text.encode("utf-8"), source, is_yaml)
    problems = problems_in_document(doc, judge)
    for _ in range(MAX_ROUNDS):
        if not doc.parsed:
            break
        edits = _sure_renames(doc, problems)
        new_text, done = _apply(doc, edits)
        if not done:
            break
        new_doc = parse_document(new_text.encode("utf-8"), source, is_yaml)
        if not new_doc.parsed or new_doc.data != _expected(doc.data, done):
            break  # never write an edit whose result is not exactly the data expected
        # a later round's line numbers refer to the text after the earlier rounds
        result.renames += sorted(done, key=lambda r: r.line)
        doc, result.text, problems = new_doc, new_text, problems_in_document(new_doc, judge)
    result.problems = problems
    return result


def read_for_fix(path: Path, judge: Judging | None = None) -> tuple[bytes, Document, Fix]:
    """The file's bytes and document as read, and its fix (not written). LoadError when it cannot be read."""
    is_yaml = path.suffix.lower() in YAML_SUFFIXES
    try:
        too_large = path.is_file() and path.stat().st_size > MAX_BYTES
        raw = b"" if too_large else path.read_bytes()
    except OSError as exc:
        raise LoadError(f"{path}: {exc.strerror or exc}") from None
    doc = read_document(path) if too_large else parse_document(raw, str(path), is_yaml)
    if not doc.parsed:
        return raw, doc, Fix(str(path), doc.text, doc.text, problems=problems_in_document(doc, judge))
    return raw, doc, fix_text(doc.text, str(path), is_yaml, judge)


def write_fix(path: Path, raw: bytes, fix: Fix) -> None:
    """Write the fixed text atomically (a temporary file in the same folder, then a rename), keeping the file's
    byte-order mark and permissions; refuse (FileChangedError) when the file no longer holds ``raw``."""
    data = (codecs.BOM_UTF8 if raw.startswith(codecs.BOM_UTF8) else b"") + fix.text.encode("utf-8")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".sat-config-fix")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, stat.S_IMODE(path.stat().st_mode))
        if path.read_bytes() != raw:
            raise FileChangedError(f"{path}: changed since it was read; not fixed (run fix again)")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
