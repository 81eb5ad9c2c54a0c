"""Shared test helpers: paths, case files, and building models with a fixed seed."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((REPO / "examples").glob("*.json"))
UPSTREAM = sorted((REPO / "tests" / "fixtures" / "upstream").glob("*.json"))
CASES = REPO / "tests" / "cases"


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def apply_ops(config: Any, ops: dict[str, Any]) -> Any:
    """Apply a case's edits to a copy: ``set`` {pointer: value} and ``delete`` [pointer, ...]."""
    config = copy.deepcopy(config)
    for pointer, value in ops.get("set", {}).items():
        parent, key = _parent(config, pointer)
        if isinstance(parent, list):
            parent[int(key)] = value
        else:
            parent[key] = value
    for pointer in ops.get("delete", []):
        parent, key = _parent(config, pointer)
        del parent[int(key) if isinstance(parent, list) else key]
    return config


def _parent(config: Any, pointer: str) -> tuple[Any, str]:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    node = config
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node, parts[-1]


def case_files(kind: str) -> list[Path]:
    return sorted((CASES / kind).glob("*.json"))


def case_config(case: dict[str, Any]) -> Any:
    """The config a case describes: ``base`` (a path from the repo root) edited by its ops, or ``config``."""
    if "config" in case:
        return case["config"]
    return apply_ops(load_json(REPO / case["base"]), case)


def state_dict_signature(model: Any) -> dict[str, Any]:
    return {k: (tuple(v.shape), str(v.dtype)) for k, v in model.state_dict().items()}


def build_seeded(factory: Any, config: Any, seed: int = 0) -> Any:
    import torch

    torch.manual_seed(seed)
    return factory(copy.deepcopy(config))


@pytest.fixture(scope="session")
def upstream_factory() -> Any:
    pytest.importorskip("stable_audio_tools")
    from stable_audio_tools.models.factory import create_model_from_config

    return create_model_from_config
