"""Data-driven acceptance tests: tests/cases/{positive,negative}/<family>/*.json.

A case names a ``base`` config (path from the repo root) and edits (``set`` {json-pointer: value},
``delete`` [json-pointer]), or gives a whole ``config``. Negative cases list the exact problems expected
(``path``, ``kind``, ``severity`` when it is a warning, and, where given, ``suggestion``) and optionally the
upstream-compatible ``exception``.
"""

from __future__ import annotations

import builtins

import pytest
from support.files import CASES, FAMILIES, case_config, case_files, load_json

import sat_config
from sat_config import ConfigError, problems_in


@pytest.mark.parametrize("path", case_files("positive"), ids=lambda p: p.stem)
def test_positive_case_is_valid(path):
    config = case_config(load_json(path))
    assert problems_in(config) == []
    assert sat_config.validate_config(config) == config


@pytest.mark.parametrize("path", case_files("negative"), ids=lambda p: p.stem)
def test_negative_case_reports_exactly_the_expected_problems(path):
    case = load_json(path)
    config = case_config(case)
    problems = problems_in(config)
    got = sorted((p.path, p.kind, p.severity) for p in problems)
    want = sorted((e["path"], e["kind"], e.get("severity", "error")) for e in case["errors"])
    assert got == want, "\n".join(p.render() for p in problems)
    for expected in case["errors"]:
        if "suggestion" in expected:
            match = next(p for p in problems if (p.path, p.kind) == (expected["path"], expected["kind"]))
            assert match.suggestion == expected["suggestion"]
    errors = [p for p in problems if p.is_error]
    if not errors:  # warnings only (a failure only a later use meets): valid, and said so
        with pytest.warns(sat_config.ConfigWarning):
            assert sat_config.validate_config(config) == config
        return
    exception = getattr(builtins, case.get("exception", "ValueError"))
    with pytest.raises(ConfigError) as info:
        sat_config.validate_config(config)
    assert isinstance(info.value, exception)
    assert [p.path for p in info.value.errors] == [p.path for p in errors]


def test_every_case_is_in_a_family_folder():
    """A case file directly under positive/ or negative/, or in an unknown folder, would be read by no test."""
    for kind in ("positive", "negative"):
        assert {p.name for p in (CASES / kind).iterdir()} <= set(FAMILIES), kind
        assert len(case_files(kind)) == len(list((CASES / kind).rglob("*.json"))), kind
