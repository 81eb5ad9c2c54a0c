"""Pytest fixtures and hooks; the helpers themselves are in ``tests/support`` (re-exported here for older imports)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support.building import build, build_seeded, state_dict_signature  # noqa: F401
from support.edits import apply_ops  # noqa: F401
from support.files import (  # noqa: F401
    CASES,
    EXAMPLES,
    REPO,
    UPSTREAM,
    case_config,
    case_files,
    load_json,
    require_upstream,
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "upstream_configs: needs upstream's example configs (../shared/reference)")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("upstream_configs"):
        require_upstream()


@pytest.fixture(scope="session")
def upstream_factory() -> Any:
    pytest.importorskip("stable_audio_tools")
    from stable_audio_tools.models.factory import create_model_from_config

    return create_model_from_config


@pytest.fixture
def offline() -> Iterator[None]:
    """Upstream's constructors with their download points (T5, CLAP, tokenizers, g2p_en, DAC, audiocraft) replaced
    by the stand-ins of ``sat_config.placeholders``."""
    from sat_config.placeholders import network_placeholders

    with network_placeholders():
        yield
