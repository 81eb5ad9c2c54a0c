"""Paths of the configs the tests read: examples, data-driven cases, and upstream's example configs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from .edits import apply_ops

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples").glob("*.json"))
CASES = REPO / "tests" / "cases"
FAMILIES = ("top_level", "autoencoder", "diffusion", "conditioning", "lm", "training")

# Upstream's ten example configs are kept once for every developer and CI run, beside the repository.
UPSTREAM_CONFIGS = REPO.parent / "shared" / "reference" / "upstream-configs"
UPSTREAM_ABSENT = (f"upstream's example configs are read from {UPSTREAM_CONFIGS}, which does not exist here "
                   "(a clone outside the workplace); put them there to run these tests")
UPSTREAM = sorted(UPSTREAM_CONFIGS.glob("*.json"))


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


# --- cases ------------------------------------------------------------------------------------------------------


def case_files(kind: str, family: str | None = None) -> list[Path]:
    """The cases of ``kind`` (positive or negative), of one family folder or of all."""
    return sorted((CASES / kind).glob(f"{family or '*'}/*.json"))


def case_path(kind: str, stem: str) -> Path:
    """The case file called ``stem`` (whichever family folder holds it)."""
    [path] = (CASES / kind).glob(f"*/{stem}.json")
    return path


def case_config(case: dict[str, Any]) -> Any:
    """The config a case describes: ``base`` (a path from the repo root) edited by its ops, or ``config``."""
    if "config" in case:
        return case["config"]
    return apply_ops(load_json(REPO / case["base"]), case)


# --- upstream's example configs ---------------------------------------------------------------------------------


def require_upstream() -> None:
    """Skip the calling test, saying why, when upstream's configs are absent; fail it instead under CI."""
    if not UPSTREAM:
        (pytest.fail if os.environ.get("CI") else pytest.skip)(UPSTREAM_ABSENT)


def upstream_params(paths: list[Path]) -> list[Any]:
    """``paths`` for ``parametrize``; when upstream's configs are absent, one parameter that skips (or fails,
    under CI) with the reason, so that no test silently runs on nothing."""
    if UPSTREAM:
        return list(paths)
    return [*paths, pytest.param(None, id="upstream-configs-absent", marks=pytest.mark.upstream_configs)]


def upstream_config(stem: str) -> Path:
    """The path of one of upstream's configs (skipping the calling test when they are absent)."""
    require_upstream()
    return UPSTREAM_CONFIGS / f"{stem}.json"
