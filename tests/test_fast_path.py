"""The compiled pre-check (jsonschema-rs) and python-jsonschema agree on valid/invalid for every config we
have and for systematic mutants of them, so confirming validity with the fast engine alone is sound."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from support.files import EXAMPLES, UPSTREAM, case_config, case_files, load_json, upstream_params

from sat_config.validation import fast_validator, find_problems

SOURCES = upstream_params(EXAMPLES + UPSTREAM)


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, node
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from _leaves(child, path + (key,))


def _edit(config: Any, path: tuple[Any, ...], value: Any = None, drop: bool = False) -> Any:
    config = copy.deepcopy(config)
    node = config
    for part in path[:-1]:
        node = node[part]
    if drop:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return config


_WRONG = {dict: 1, list: {"x": 1}, str: 1.5, bool: "yes", int: "1", float: [1.0], type(None): {"x": None}}


def mutants(config: Any) -> Iterator[Any]:
    """Drop each key and put a wrong-typed value in each position (one change per mutant)."""
    for path, value in _leaves(config):
        if not path:
            continue
        yield _edit(config, path, _WRONG[type(value)])
        if isinstance(path[-1], str):
            yield _edit(config, path, drop=True)


def _agree(config: Any) -> None:
    slow_valid = find_problems(config, fast=False) == []
    assert fast_validator().is_valid(config) == slow_valid


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_engines_agree_on_every_mutant(path):
    config = load_json(path)
    _agree(config)
    for mutant in mutants(config):
        _agree(mutant)


@pytest.mark.parametrize("path", case_files("positive") + case_files("negative"), ids=lambda p: p.stem)
def test_engines_agree_on_every_case(path):
    config = case_config(load_json(path))
    _agree(config)
    # components the compiled engine confirms valid are skipped by the detailed pass: same problems either way
    assert find_problems(config) == find_problems(config, fast=False)


def test_fast_path_reports_the_same_problems_as_the_slow_path():
    config = load_json(EXAMPLES[0])
    config["sample_rate"] = 0
    assert find_problems(config) == find_problems(config, fast=False) != []
