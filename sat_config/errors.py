"""Problems found in a config, and the exceptions that carry them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

# The kinds of problem, from the CLI's JSON contract.
KINDS = (
    "parse",
    "type",
    "required",
    "unknown_key",
    "unknown_tag",
    "enum",
    "range",
    "cross_field",
    "unsupported",
)


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


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config: where (``path``), what (``kind``, ``message``), and a likely fix."""

    path: str
    kind: str
    message: str
    suggestion: str | None = None
    parts: tuple[Any, ...] = ()
    line: int | None = None
    column: int | None = None
    doc: str | None = None  # the reference section that documents the key: "docs/reference.md#<anchor>"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["parts"]
        return data

    def render(self, source: str | None = None) -> str:
        where = ""
        if source is not None:
            where = f"{source}:{self.line}:{self.column}: " if self.line is not None else f"{source}: "
        hint = f" (did you mean {self.suggestion!r}?)" if self.suggestion else ""
        doc = f" see {self.doc}" if self.doc else ""
        return f"{where}{self.path}: {self.message}{hint} [{self.kind}]{doc}"


class ConfigError(ValueError):
    """A config is invalid. ``errors`` lists every problem found, each with a JSON path."""

    def __init__(self, errors: Sequence[Problem], source: str | None = None) -> None:
        self.errors = list(errors)
        self.source = source
        super().__init__(self.render())

    def render(self) -> str:
        count = len(self.errors)
        head = f"{count} problem{'s' if count != 1 else ''} in {'the config' if self.source is None else self.source}"
        return head + ":\n" + "\n".join("  " + p.render(self.source) for p in self.errors)


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


class FactoryUnavailableError(NotImplementedError):
    """The installed packages provide no constructor for a valid ``model_type``."""


class TrainingProblemsWarning(UserWarning):
    """A model was built although its ``training`` section has problems (training it would fail)."""

    def __init__(self, problems: Sequence[Problem], source: str | None = None) -> None:
        self.errors = list(problems)
        count = len(self.errors)
        lines = "\n".join("  " + p.render(source) for p in self.errors)
        super().__init__(f"built the model, but its training section has {count} problem{'s' if count != 1 else ''} "
                         f"(stable-audio-tools' model builders never read it; training would fail):\n{lines}")
