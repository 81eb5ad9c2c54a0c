"""The Python API: validate a config, then build it with stable-audio-tools (drop-in for upstream's factory)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from . import installed
from .errors import (
    ConfigError,
    ConfigWarning,
    MissingModelTypeError,
    Problem,
    TrainingProblemsWarning,
    UnknownModelTypeError,
)
from .factories import resolve_factory
from .loader import Document, read_document
from .targets import environment
from .validation import Judging, UnknownTypes, find_problems

ENV_VAR = "SAT_CONFIG_EXTENSIONS"  # extension files, separated by os.pathsep
EXTENSION_GROUP = "sat_config.extensions"  # entry points naming installed packages' extension files

DISCRIMINATOR = "model_type"


def to_plain(config: Any) -> Any:
    """``config`` as plain JSON-like data: a typed object dumped (only the keys set), anything else as it is (not
    copied: validation only reads it)."""
    if hasattr(config, "model_dump"):
        return config.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return config


def for_upstream(plain: Any) -> Any:
    """What upstream's constructors get: a private copy (some mutate their dict in place: seanet reverses its
    ``ratios``) without ``$schema``. Made only when a model is about to be built."""
    from copy import deepcopy  # imported here: validation alone never copies

    return {k: deepcopy(v) for k, v in plain.items() if k != "$schema"}


def judging(target: str | None = None, torch: str | None = None, unknown_types: UnknownTypes = "error",
            extensions: Sequence[str | Path] = ()) -> Judging:
    """What to judge configs against: ``target`` (a name from ``sat_config.targets.targets()``; default: the
    installed stable-audio-tools, detected without importing it, else ``sat-0.0.19``), the ``torch`` version that
    will run them (default: the installed one, else unknown), the open world (``unknown_types="warn"``: unknown
    types and keys that are no plausible typo become ``unchecked`` warnings) and schema extension files (beside
    those named by ``SAT_CONFIG_EXTENSIONS`` and installed packages' ``sat_config.extensions`` entry points).
    Raises TargetError for an unknown target or unparsable version, ExtensionError for a broken extension."""
    if unknown_types not in ("error", "warn"):
        raise ValueError(f"unknown_types must be 'error' or 'warn', not {unknown_types!r}")
    schema, used = assembled_schema(tuple(map(str, extensions)) if extensions else (), os.environ.get(ENV_VAR, ""))
    return Judging(environment(target, torch), unknown_types, schema, used)


@cache
def assembled_schema(paths: tuple[str, ...], env_value: str) -> tuple[dict[str, Any] | None, tuple[str, ...]]:
    """The bundled schema merged with every extension in use (None when there is none), and a line describing
    each extension (cached per process: the entry-point scan and the merge run once)."""
    if not paths and not env_value.strip() and not installed.entry_points(EXTENSION_GROUP):
        return None, ()  # no extension anywhere: the extensions module is not even imported
    from .extensions import discover, merge
    from .schema_source import bundled_schema

    extensions = discover(paths, {ENV_VAR: env_value})
    if not extensions:
        return None, ()
    return merge(bundled_schema(), extensions), tuple(ext.describe() for ext in extensions)


def problems_in(config: Any, *, judge: Judging | None = None, **options: Any) -> list[Problem]:
    """Every problem in ``config`` (a dict or a generated typed object), errors and warnings (``.severity``);
    empty when it is valid without warnings. ``options`` are those of ``judging`` (or pass ``judge``)."""
    return find_problems(to_plain(config), judging=judge or (judging(**options) if options else None))


def errors_only(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.is_error]


def raise_for_problems(problems: list[Problem], config: Any, source: str | None = None) -> None:
    """Raise the exception upstream would raise first, carrying every error; no-op when there are none
    (warnings never raise)."""
    if not problems:
        return
    problems = errors_only(problems)
    if not problems:
        return
    for problem in problems:
        if problem.parts == (DISCRIMINATOR,) and problem.kind == "required":
            raise MissingModelTypeError(problems, source)
        if problem.parts == (DISCRIMINATOR,) and problem.kind == "unknown_tag":
            raise UnknownModelTypeError(problems, config.get(DISCRIMINATOR), source)
    raise ConfigError(problems, source)


def validate_config(config: Any, *, judge: Judging | None = None, **options: Any) -> dict[str, Any]:
    """Check ``config``; when it has no errors return it as plain data (a dict as it is, never copied or changed;
    a typed object dumped), else raise ConfigError (see ``raise_for_problems``). Warnings are issued as
    ``ConfigWarning``. ``options``: see ``judging``."""
    plain = to_plain(config)
    problems = find_problems(plain, judging=judge or (judging(**options) if options else None))
    raise_for_problems(problems, plain)
    _warn([p for p in problems if not p.is_error])
    return plain  # type: ignore[no-any-return]


def _warn(problems: list[Problem], source: str | None = None) -> None:
    if problems:
        warnings.warn(ConfigWarning(problems, source), stacklevel=3)


def model_problems(problems: list[Problem]) -> list[Problem]:
    """The problems that stop a model from being built: upstream's model builders never read ``training``."""
    return [p for p in problems if p.parts[:1] != ("training",)]


def create_model_from_config(model_config: Any, *, judge: Judging | None = None, **options: Any) -> Any:
    """Validate, then build with upstream's constructor for ``model_type``: same argument and result as
    ``stable_audio_tools.models.factory.create_model_from_config``. Upstream gets a copy of the user's values
    (upstream mutates some dicts in place) with ``$schema`` removed, and no injected defaults. Problems in
    ``training`` do not stop the build (upstream's model builders never read it): they are issued as a
    ``TrainingProblemsWarning``, and ``validate_config`` raises for them. Warnings (environment-dependent
    breakage this environment cannot decide, open-world ``unchecked`` types, downstream-only rule failures) never
    stop the build: they are issued as ``ConfigWarning``. ``options``: see ``judging``."""
    plain = to_plain(model_config)
    judge = judge or judging(**options)
    return _build(plain, find_problems(plain, judging=judge), judge)


def _build(plain: Any, problems: list[Problem], judge: Judging, source: str | None = None) -> Any:
    raise_for_problems(model_problems(problems), plain, source)
    ignored = [p for p in errors_only(problems) if p.parts[:1] == ("training",)]
    if ignored:
        warnings.warn(TrainingProblemsWarning(ignored, source), stacklevel=3)
    _warn([p for p in problems if not p.is_error], source)
    return resolve_factory(plain[DISCRIMINATOR], judge.schema)(for_upstream(plain))


def problems_in_document(doc: Document, judge: Judging | None = None) -> list[Problem]:
    """Every problem in a loaded file (parse problems, then validation), located and in source order."""
    problems = list(doc.problems)
    if doc.parsed:
        problems += find_problems(doc.data, judging=judge)
    located = []
    for problem in problems:
        position = doc.locate(problem.parts) if problem.line is None and doc.parsed else None
        located.append(problem._replace(line=position[0], column=position[1]) if position else problem)
    located.sort(key=lambda p: (p.line is None, p.line or 0, p.column or 0))
    return located


def create_model_from_config_path(model_config_path: str | Path, *, judge: Judging | None = None,
                                  **options: Any) -> Any:
    """``create_model_from_config`` on a JSON (or YAML) file; problems carry line and column.
    Raises LoadError (an OSError) when the file cannot be read."""
    doc = read_document(Path(model_config_path))
    judge = judge or judging(**options)
    return _build(doc.data, problems_in_document(doc, judge), judge, doc.source)
