"""The cross-field rules (sat_config.rules): every rule runs on every case, example and upstream config without
raising, every rule fails on some negative case, a rule that raises is an internal problem, and the schemas and
the registry agree."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.edits import paths_in, set_at
from support.files import EXAMPLES, UPSTREAM, case_config, case_files, load_json, upstream_params

from sat_config import problems_in
from sat_config.defaults import WithDefaults, seen
from sat_config.rules import RULES
from sat_config.rules.registry import Rule
from sat_config.schemawalk import bundled_walker

CONFIGS = [*EXAMPLES, *UPSTREAM, *case_files("positive"), *case_files("negative")]


def _config(path: Path) -> Any:
    data = load_json(path)
    return case_config(data) if "cases" in path.parts else data


def _rule_sites(config: Any) -> Iterator[tuple[WithDefaults, list[str]]]:
    """(object seen with its defaults, rule ids) for every object the schema gives rules, as the validator sees
    them."""
    walker = bundled_walker()
    for view, place in seen(config, walker.location((walker.root,))).sites:
        for node in place.checks:
            yield view, node.get("x-rules", [])


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_no_rule_raises_where_the_schema_applies_it(path):
    for view, rule_ids in _rule_sites(_config(path)):
        for rule_id in rule_ids:
            RULES[rule_id].failures(view)  # raises on a bug


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_no_rule_raises_on_any_object_of_the_config(path):
    """A rule guards the data it reads (``needs``, type checks), so even an object it was not written for passes
    through it without an exception."""
    sites = list(_rule_sites(_config(path)))
    for view, _ in sites:
        for rule in RULES.values():
            rule.failures(view)


def test_every_model_rule_fails_on_some_negative_case():
    """(The training and torch rules are proven against upstream in tests/test_training.py.)"""
    fired: set[str] = set()
    for path in case_files("negative"):
        for view, rule_ids in _rule_sites(_config(path)):
            fired |= {rule_id for rule_id in rule_ids if RULES[rule_id].failures(view)}
    assert {r for r in RULES if not r.startswith(("training.", "torch."))} - fired == set()


def test_negative_cases_name_registered_rules():
    named = {load_json(p).get("rule") for p in case_files("negative")} - {None}
    assert named - set(RULES) == set()


def test_a_rule_that_raises_is_an_internal_problem(monkeypatch):
    def broken(model: Any) -> None:
        raise ZeroDivisionError("division by zero")

    rule = RULES["autoencoder.vae_input"]
    monkeypatch.setitem(RULES, rule.id, Rule(rule.id, broken, rule.at))
    config = json.loads((EXAMPLES[0].parent / "autoencoder_tiny_vae.json").read_text())
    problems = problems_in(config)
    assert [(p.path, p.kind) for p in problems] == [("$.model", "internal")]
    assert "'autoencoder.vae_input' raised ZeroDivisionError" in problems[0].message


def test_a_rule_does_not_run_when_what_it_needs_is_malformed():
    config = json.loads((EXAMPLES[0].parent / "autoencoder_tiny_vae.json").read_text())
    config["model"]["latent_dim"] = "wide"
    assert {p.kind for p in problems_in(config)} == {"type"}


def test_no_rule_restates_a_default():
    """Rules read defaults from the schema: no ``obj.get(key, default)`` or ``get(obj, path, default)`` in the rules
    package (the registry's own ``get`` is where a default argument is defined, not used)."""
    for path in (Path(__file__).resolve().parents[1] / "sat_config" / "rules").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if path.name != "registry.py" else ():
            if not isinstance(node, ast.Call):
                continue
            method = isinstance(node.func, ast.Attribute) and node.func.attr == "get" and len(node.args) > 1
            helper = isinstance(node.func, ast.Name) and node.func.id == "get" and len(node.args) > 2
            assert not (method or helper), f"{path.name}:{node.lineno} passes a default"


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_every_rule_says_what_it_checks(rule_id):
    assert RULES[rule_id].description


def test_a_warning_rule_gives_a_warning_and_the_config_stays_usable(monkeypatch):
    import warnings

    import sat_config

    rule = RULES["autoencoder.latent_dim"]
    monkeypatch.setitem(RULES, rule.id, rule._replace(severity="warning",
                                                            fails_when="the autoencoder is used as a pretransform"))
    config = json.loads((EXAMPLES[0].parent / "autoencoder_tiny_vae.json").read_text())
    config["model"]["latent_dim"] += 1
    [problem] = problems_in(config)
    assert (problem.path, problem.kind, problem.severity) == ("$.model.latent_dim", "cross_field", "warning")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert sat_config.validate_config(config) == config
    assert caught


def test_exact_type_guards_agree_with_the_type_checks():
    """A rule's guard on a top-level key tests the value's exact type; it accepts what the general type check
    accepts, for every value a config (or its view with defaults) can hold."""
    from sat_config.defaults import ListWithDefaults
    from sat_config.rules.registry import _EXACT_TYPES, _TYPE_CHECKS

    views = WithDefaults(), ListWithDefaults()
    values = [None, True, False, 0, 3, -1, 2.0, 0.5, "", "x", [], [1], {}, {"a": 1}, *views]
    for kind, types in _EXACT_TYPES.items():
        for value in values:
            assert (type(value) in types) == _TYPE_CHECKS[kind](value), (kind, value)


@pytest.mark.parametrize("path", upstream_params(EXAMPLES + UPSTREAM), ids=lambda p: p.stem)
def test_no_rule_raises_on_a_list_or_object_where_a_scalar_belongs(path):
    """A type, id or name written as a list or an object (``"type": ["oobleck"]``) is the user's mistake, reported
    by the structural checks: no rule meets it with an exception (an ``internal`` problem blaming sat-config)."""
    config = load_json(path)
    raised = set()
    for where, value in paths_in(config):
        if where and isinstance(value, (str, int, float)) and not isinstance(value, bool):
            for wrong in ([value], {"x": value}):
                for view, rule_ids in _rule_sites(set_at(config, where, wrong)):
                    for rule_id in rule_ids:
                        try:
                            RULES[rule_id].failures(view)
                        except Exception as exc:  # noqa: BLE001 - every rule that raises, not only the first
                            raised.add((rule_id, where[-1], f"{type(exc).__name__}: {exc}"))
    assert sorted(raised) == []
