"""Problems found in a config, and the exceptions that carry them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal, NamedTuple, get_args

# The kinds of problem, from the CLI's JSON contract (README: "Kinds").
Kind = Literal[
    "parse",  # the file is not JSON/YAML, or holds a value no config can (NaN, a 5,000-digit integer, ...)
    "type",
    "required",
    "unknown_key",
    "unknown_tag",
    "enum",
    "range",
    "cross_field",  # a rule across several keys
    "unsupported",  # valid JSON that the target's stable-audio-tools cannot build
    "unchecked",  # open world: a type or key sat-config does not know, left unchecked (a warning)
    "internal",  # a rule of sat-config itself raised: a bug to report, never a silent pass
]
KINDS: tuple[str, ...] = get_args(Kind)
Severity = Literal["error", "warning"]


def json_path(parts: Iterable[Any]) -> str:
    """Render path parts as a JSONPath: ``$.model.encoder.configs[0]``."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.isidentifier():
            out += f".{part}"
        else:
            out += "[" + _quote(str(part)) + "]"
    return out


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Problem(NamedTuple):
    """One thing wrong with a config: where (``path``), what (``kind``, ``message``), and a likely fix. An
    immutable record: ``problem._replace(line=3)`` makes a changed copy."""

    path: str
    kind: Kind
    message: str
    suggestion: str | None = None
    parts: tuple[Any, ...] = ()
    line: int | None = None
    column: int | None = None
    doc: str | None = None  # the reference section that documents the key: "docs/reference.md#<anchor>"
    severity: Severity = "error"  # a warning never makes a config invalid (unless the user asks: --strict)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def to_dict(self) -> dict[str, Any]:
        data = self._asdict()
        del data["parts"]
        return data

    def render(self, source: str | None = None) -> str:
        where = ""
        if source is not None:
            where = f"{source}:{self.line}:{self.column}: " if self.line is not None else f"{source}: "
        hint = f" (did you mean {self.suggestion!r}?)" if self.suggestion else ""
        from .reference import doc_base, doc_url

        link = doc_url(self.doc, doc_base())
        doc = f" see {link}" if link else ""
        level = "warning: " if self.severity == "warning" else ""
        return f"{where}{level}{self.path}: {self.message}{hint} [{self.kind}]{doc}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def _lines(problems: Sequence[Problem], source: str | None) -> str:
    """One indented line per problem, as the CLI prints them."""
    return "\n".join("  " + p.render(source) for p in problems)


class ConfigError(ValueError):
    """A config is invalid. ``errors`` lists every problem found, each with a JSON path."""

    def __init__(self, errors: Sequence[Problem], source: str | None = None) -> None:
        self.errors = list(errors)
        self.source = source
        super().__init__(self.render())

    def render(self) -> str:
        where = "the config" if self.source is None else self.source
        return f"{_plural(len(self.errors), 'problem')} in {where}:\n{_lines(self.errors, self.source)}"


class MissingModelTypeError(ConfigError, AssertionError):
    """``model_type`` is missing: also an AssertionError with upstream's message."""

    def render(self) -> str:
        return "model_type must be specified in model config"


class UnknownModelTypeError(ConfigError, NotImplementedError):
    """``model_type`` names no builder: also a NotImplementedError with upstream's message."""

    def __init__(self, errors: Sequence[Problem], model_type: Any, source: str | None = None) -> None:
        self.model_type = model_type
        super().__init__(errors, source)

    def render(self) -> str:
        return f"Unknown model type: {self.model_type}"


class ExtensionError(ValueError):
    """An extension cannot be used: ``source`` (its file), ``path`` (a JSON path in it) and what is wrong."""

    def __init__(self, source: str, path: str, message: str) -> None:
        self.source, self.path, self.problem = source, path, message
        super().__init__(f"{source}: {path}: {message}")


class FactoryUnavailableError(NotImplementedError):
    """The installed packages provide no constructor for a valid ``model_type``."""


class ConfigWarning(UserWarning):
    """A config has warnings: nothing that stops it on the judged environment, but something to know (a failure
    this environment cannot decide, types left unchecked, a problem only a downstream use meets)."""

    def __init__(self, problems: Sequence[Problem], source: str | None = None) -> None:
        self.warnings = list(problems)
        where = "the config" if source is None else source
        super().__init__(f"{_plural(len(self.warnings), 'warning')} in {where}:\n{_lines(self.warnings, source)}")


class TrainingProblemsWarning(UserWarning):
    """A model was built although its ``training`` section has problems (training it would fail)."""

    def __init__(self, problems: Sequence[Problem], source: str | None = None) -> None:
        self.errors = list(problems)
        super().__init__(f"built the model, but its training section has {_plural(len(self.errors), 'problem')} "
                         "(stable-audio-tools' model builders never read it; training would fail):\n"
                         + _lines(self.errors, source))
