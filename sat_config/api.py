"""The Python API: validate a config, then build it with stable-audio-tools (drop-in for upstream's factory)."""

from __future__ import annotations

import copy
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

from .errors import ConfigError, MissingModelTypeError, Problem, TrainingProblemsWarning, UnknownModelTypeError
from .factories import resolve_factory
from .loader import Document, read_document
from .validation import find_problems

DISCRIMINATOR = "model_type"


def to_plain(config: Any) -> Any:
    """A private deep copy of ``config`` as plain JSON-like data (typed objects keep only the keys set)."""
    if hasattr(config, "model_dump"):
        return config.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return copy.deepcopy(config)


def problems_in(config: Any) -> list[Problem]:
    """Every problem in ``config`` (a dict or a generated typed object); empty when it is valid."""
    return find_problems(to_plain(config))


def raise_for_problems(problems: list[Problem], config: Any, source: str | None = None) -> None:
    """Raise the exception upstream would raise first, carrying every problem; no-op when there are none."""
    if not problems:
        return
    for problem in problems:
        if problem.parts == (DISCRIMINATOR,) and problem.kind == "required":
            raise MissingModelTypeError(problems, source)
        if problem.parts == (DISCRIMINATOR,) and problem.kind == "unknown_tag":
            raise UnknownModelTypeError(problems, config.get(DISCRIMINATOR), source)
    raise ConfigError(problems, source)


def validate_config(config: Any) -> dict[str, Any]:
    """Check ``config``; return a plain copy when valid, else raise ConfigError (see ``raise_for_problems``)."""
    plain = to_plain(config)
    raise_for_problems(find_problems(plain), plain)
    return plain  # type: ignore[no-any-return]


def model_problems(problems: list[Problem]) -> list[Problem]:
    """The problems that stop a model from being built: upstream's model builders never read ``training``."""
    return [p for p in problems if p.parts[:1] != ("training",)]


def create_model_from_config(model_config: Any) -> Any:
    """Validate, then build with upstream's constructor for ``model_type``: same argument and result as
    ``stable_audio_tools.models.factory.create_model_from_config``. Upstream gets a copy of the user's values
    (upstream mutates some dicts in place) with ``$schema`` removed, and no injected defaults. Problems in
    ``training`` do not stop the build (upstream's model builders never read it): they are issued as a
    ``TrainingProblemsWarning``, and ``validate_config`` raises for them."""
    plain = to_plain(model_config)
    return _build(plain, find_problems(plain))


def _build(plain: Any, problems: list[Problem], source: str | None = None) -> Any:
    raise_for_problems(model_problems(problems), plain, source)
    ignored = [p for p in problems if p.parts[:1] == ("training",)]
    if ignored:
        warnings.warn(TrainingProblemsWarning(ignored, source), stacklevel=3)
    plain.pop("$schema", None)
    return resolve_factory(plain[DISCRIMINATOR])(plain)


def problems_in_document(doc: Document) -> list[Problem]:
    """Every problem in a loaded file (parse problems, then validation), located and in source order."""
    problems = list(doc.problems)
    if doc.parsed:
        problems += find_problems(doc.data)
    located = []
    for problem in problems:
        position = doc.locate(problem.parts) if problem.line is None and doc.parsed else None
        located.append(replace(problem, line=position[0], column=position[1]) if position else problem)
    located.sort(key=lambda p: (p.line is None, p.line or 0, p.column or 0))
    return located


def create_model_from_config_path(model_config_path: str | Path) -> Any:
    """``create_model_from_config`` on a JSON (or YAML) file; problems carry line and column.
    Raises LoadError (an OSError) when the file cannot be read."""
    doc = read_document(Path(model_config_path))
    return _build(doc.data, problems_in_document(doc), doc.source)
