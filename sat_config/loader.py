"""Read config files (JSON or YAML) safely, and find where a JSON path sits in the source text.

Nothing here raises a traceback at the user: unreadable files raise ``LoadError``; text that does not parse,
duplicate keys, NaN/Infinity, integers too long to convert, absurd sizes and nesting, and YAML aliases that
expand beyond ``MAX_NODES`` values ("billion laughs") become ``parse`` problems.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from .errors import ConfigError, Problem, json_path

MAX_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 200
MAX_NODES = 1_000_000  # values in a YAML document once its aliases are expanded
YAML_SUFFIXES = (".yaml", ".yml")


class LoadError(OSError):
    """The file cannot be read at all (missing, a directory, no permission)."""


class _ParseFailure(Exception):
    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.line, self.column = line, column


class Document:
    """A loaded config file: its data, the problems found while parsing, and a way back to line/column."""

    def __init__(self, source: str, text: str, is_yaml: bool, data: Any = None,
                 problems: list[Problem] | None = None) -> None:
        self.source, self.text, self.is_yaml, self.data = source, text, is_yaml, data
        self.problems: list[Problem] = [] if problems is None else problems
        self._positions: dict[tuple[Any, ...], tuple[int, int]] | None = None

    def __repr__(self) -> str:
        return f"Document({self.source!r}, is_yaml={self.is_yaml}, problems={self.problems!r})"

    @property
    def parsed(self) -> bool:
        return not any(p.kind == "parse" and p.path == "$" for p in self.problems)

    @property
    def looks_like_model_config(self) -> bool:
        """An object with ``model_type`` or a ``model`` object; text that does not parse, if it names model_type."""
        if isinstance(self.data, dict):
            return "model_type" in self.data or isinstance(self.data.get("model"), dict)
        return not self.parsed and "model_type" in self.text

    def locate(self, parts: Iterable[Any]) -> tuple[int, int] | None:
        """1-based (line, column) of the key at ``parts`` or, if absent, of its nearest existing ancestor."""
        if self._positions is None:
            self._positions = _positions(self.text, self.is_yaml)
        parts = tuple(parts)
        while parts and parts not in self._positions:
            parts = parts[:-1]
        return self._positions.get(parts)


def _reject_constant(name: str) -> Any:
    raise _ParseFailure(f"{name} is not valid JSON (stable-audio-tools would read it as a float {name.lower()})")


def _pairs_checker(duplicates: list[str]) -> Any:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                duplicates.append(key)
            out[key] = value
        return out

    return hook


def _depth_exceeds(data: Any, limit: int) -> bool:
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _long_integer(text: str) -> _ParseFailure:
    """The problem for an integer literal longer than Python converts (``sys.get_int_max_str_digits``)."""
    limit = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 4300
    found = re.search(rf"\d{{{limit + 1},}}", text)
    digits = len(found.group()) if found else limit + 1
    message = f"an integer with {digits:,} digits (more than {limit:,}) cannot be read; no config needs one"
    if not found:
        return _ParseFailure(message)
    line = text.count("\n", 0, found.start()) + 1
    return _ParseFailure(message, line, found.start() - text.rfind("\n", 0, found.start()))


def _parse_float(literal: str) -> float:
    value = float(literal)
    if value in (float("inf"), float("-inf")):
        raise _ParseFailure(f"number {literal} is too large (stable-audio-tools would read it as infinity)")
    return value


def _parse_json(text: str, duplicates: list[str]) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_pairs_checker(duplicates), parse_constant=_reject_constant,
                          parse_float=_parse_float)
    except json.JSONDecodeError as exc:
        raise _ParseFailure(f"invalid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except RecursionError:
        raise _ParseFailure(f"nesting is deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # int() refused a literal longer than sys.get_int_max_str_digits()
        raise _long_integer(text) from None


def _parse_yaml(text: str, duplicates: list[str]) -> Any:
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        _check_expansion(node)
        _yaml_duplicates(node, duplicates)
        return loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise _ParseFailure(f"invalid YAML: {exc.problem or exc}", line, column) from None
    except yaml.YAMLError as exc:
        raise _ParseFailure(f"invalid YAML: {exc}") from None
    except RecursionError:
        raise _ParseFailure(f"nesting is deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # int() refused a literal longer than sys.get_int_max_str_digits()
        raise _long_integer(text) from None
    finally:
        loader.dispose()


def _children(node: Any) -> list[Any]:
    import yaml

    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _check_expansion(root: Any) -> None:
    """Refuse a YAML node graph whose aliases expand to more than MAX_NODES values, or refer to themselves.
    Linear in the graph's size: each node's expanded size is computed once."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)] if root is not None else []
    while stack:
        node, finished = stack.pop()
        if finished:
            open_nodes.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in _children(node))
            if sizes[id(node)] > MAX_NODES:
                raise _ParseFailure(f"aliases expand this document to more than {MAX_NODES:,} values (a \"billion "
                                    "laughs\" document?); refused", node.start_mark.line + 1,
                                    node.start_mark.column + 1)
        elif id(node) in open_nodes:
            raise _ParseFailure("an alias refers to a node that contains it (a recursive document)",
                                node.start_mark.line + 1, node.start_mark.column + 1)
        elif id(node) not in sizes:
            open_nodes.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


def _yaml_duplicates(node: Any, duplicates: list[str]) -> None:
    import yaml

    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            keys = [k.value for k, _ in current.value if isinstance(k, yaml.ScalarNode)]
            duplicates.extend(k for i, k in enumerate(keys) if k in keys[:i])
            stack.extend(v for _, v in current.value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)


def read_document(path: Path) -> Document:
    """Load ``path``; raise LoadError when it cannot be read, record parse problems otherwise."""
    try:
        if path.is_dir():
            raise LoadError(f"{path}: is a directory")
        size = path.stat().st_size
        if size > MAX_BYTES:
            doc = Document(str(path), "", path.suffix.lower() in YAML_SUFFIXES)
            doc.problems.append(Problem("$", "parse", f"file is {size / 2**20:.1f} MiB; configs over "
                                        f"{MAX_BYTES // 2**20} MiB are refused", None, ()))
            return doc
        raw = path.read_bytes()
    except LoadError:
        raise
    except OSError as exc:
        raise LoadError(f"{path}: {exc.strerror or exc}") from None
    return parse_document(raw, str(path), path.suffix.lower() in YAML_SUFFIXES)


def parse_document(raw: bytes, source: str, is_yaml: bool = False) -> Document:
    """Parse bytes as JSON (or YAML), recording every parse problem."""
    doc = Document(source, "", is_yaml)
    try:
        doc.text = raw.decode("utf-8-sig")
        if b"\x00" in raw:
            raise _ParseFailure("file contains NUL bytes: is it a binary file?")
        if not doc.text.strip():
            raise _ParseFailure("file is empty")
        duplicates: list[str] = []
        doc.data = (_parse_yaml if is_yaml else _parse_json)(doc.text, duplicates)
        if _depth_exceeds(doc.data, MAX_DEPTH):
            doc.data = None
            raise _ParseFailure(f"nesting is deeper than {MAX_DEPTH} levels")
    except UnicodeDecodeError as exc:
        doc.problems.append(Problem("$", "parse", f"not UTF-8 text (byte {exc.start}): is it a binary file?"))
        return doc
    except _ParseFailure as exc:
        doc.data = None
        doc.problems.append(Problem("$", "parse", str(exc), None, (), exc.line, exc.column))
        return doc
    for key in dict.fromkeys(duplicates):
        doc.problems.append(Problem(json_path([]), "parse", f"duplicate key {key!r}: only the last value is kept",
                                    None, ()))
    return doc


def load_config_file(path: str | Path) -> Any:
    """The data of a JSON/YAML config file; LoadError if unreadable, ConfigError if it does not parse."""
    doc = read_document(Path(path))
    if doc.problems:
        raise ConfigError(doc.problems, doc.source)
    return doc.data


def _positions(text: str, is_yaml: bool) -> dict[tuple[Any, ...], tuple[int, int]]:
    try:
        return _yaml_positions(text) if is_yaml else _json_positions(text)
    except Exception:  # positions are a courtesy: never fail validation over them (e.g. RecursionError)
        return {}


def _json_positions(text: str) -> dict[tuple[Any, ...], tuple[int, int]]:
    import json_source_map

    out: dict[tuple[Any, ...], tuple[int, int]] = {}
    for pointer, entry in json_source_map.calculate(text).items():
        parts = tuple(_unescape(p) for p in pointer.split("/")[1:]) if pointer else ()
        loc = entry.key_start or entry.value_start
        out[tuple(int(p) if p.isdigit() else p for p in parts)] = (loc.line + 1, loc.column + 1)
    return out


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def _yaml_positions(text: str) -> dict[tuple[Any, ...], tuple[int, int]]:
    import yaml

    out: dict[tuple[Any, ...], tuple[int, int]] = {}
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    stack: list[tuple[Any, tuple[Any, ...]]] = [(root, ())]
    if root is not None:
        out[()] = (root.start_mark.line + 1, root.start_mark.column + 1)
    while stack:
        node, parts = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = parts + (key.value,)
                out[child] = (key.start_mark.line + 1, key.start_mark.column + 1)
                stack.append((value, child))
        elif isinstance(node, yaml.SequenceNode):
            for index, value in enumerate(node.value):
                child = parts + (index,)
                out[child] = (value.start_mark.line + 1, value.start_mark.column + 1)
                stack.append((value, child))
    return out


class Span(NamedTuple):
    """Where a value sits in the source text (character offsets, end exclusive), and its key if it has one."""

    value: tuple[int, int]
    key: tuple[int, int] | None = None
    key_style: str | None = None  # YAML: None (plain), "'" or '"'; JSON keys are always '"'
    value_style: str | None = None


def spans(text: str, is_yaml: bool) -> dict[tuple[Any, ...], Span]:
    """Path parts -> the ``Span`` of every value of a document that parses (decoded keys)."""
    return _yaml_spans(text) if is_yaml else _json_spans(text)


def _json_spans(text: str) -> dict[tuple[Any, ...], Span]:
    import json_source_map

    out: dict[tuple[Any, ...], Span] = {}
    entries = sorted(json_source_map.calculate(text).values(), key=lambda e: e.value_start.position)
    # json_source_map names members by their raw text: rebuild each path from decoded keys, by nesting.
    stack: list[tuple[tuple[Any, ...], int, int]] = []  # (parts, value end, next list index) of open containers
    for entry in entries:
        start, end = entry.value_start.position, entry.value_end.position
        while stack and start >= stack[-1][1]:
            stack.pop()
        if not stack:
            parts: tuple[Any, ...] = ()
        elif entry.key_start is not None:
            parts = stack[-1][0] + (json.loads(text[entry.key_start.position:entry.key_end.position]),)
        else:
            parent, parent_end, index = stack[-1]
            stack[-1] = (parent, parent_end, index + 1)
            parts = parent + (index,)
        key = (entry.key_start.position, entry.key_end.position) if entry.key_start is not None else None
        out[parts] = Span((start, end), key, '"' if key else None, '"' if text[start] == '"' else None)
        if text[start] in "[{":
            stack.append((parts, end, 0))
    return out


def _yaml_spans(text: str) -> dict[tuple[Any, ...], Span]:
    import yaml

    out: dict[tuple[Any, ...], Span] = {}
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is None:
        return out
    out[()] = Span((root.start_mark.index, root.end_mark.index))
    stack: list[tuple[Any, tuple[Any, ...]]] = [(root, ())]
    while stack:
        node, parts = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = parts + (key.value,)
                out[child] = Span((value.start_mark.index, value.end_mark.index), (key.start_mark.index,
                                  key.end_mark.index), key.style, getattr(value, "style", None))
                stack.append((value, child))
        elif isinstance(node, yaml.SequenceNode):
            for index, value in enumerate(node.value):
                child = parts + (index,)
                out[child] = Span((value.start_mark.index, value.end_mark.index), None, None,
                                  getattr(value, "style", None))
                stack.append((value, child))
    return out
