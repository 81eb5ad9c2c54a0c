"""A fork package (tests/ext_pkg/sat_toy_fork) installed through entry points only: its extension is discovered,
and the model type it adds validates and builds end to end through ``sat_config.create_model_from_config``."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.files import REPO

import sat_config
from sat_config.api import assembled_schema
from sat_config.extensions import ExtensionError, discover, package_file

PACKAGE_DIR = REPO / "tests" / "ext_pkg"
ENTRY_POINTS = """\
[sat_config.extensions]
toy = sat_toy_fork:extension.json

[sat_config.model_factories]
toy_mlp = sat_toy_fork:create_toy_mlp_from_config
"""


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``sat_toy_fork`` importable, with a ``*.dist-info`` declaring its entry points (no pip install)."""
    dist = tmp_path / "sat_toy_fork-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: sat-toy-fork\nVersion: 0.1\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text(ENTRY_POINTS, encoding="utf-8")
    monkeypatch.syspath_prepend(str(PACKAGE_DIR))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "sat_toy_fork", raising=False)
    assembled_schema.cache_clear()  # the installed extensions changed
    yield tmp_path
    assembled_schema.cache_clear()


def toy_config(**model: Any) -> dict[str, Any]:
    return {"model_type": "toy_mlp", "sample_rate": 44100, "sample_size": 4096, "audio_channels": 2,
            "model": {"hidden_dim": 16, "depth": 2, **model}}


def test_the_extension_of_an_installed_package_is_discovered_without_importing_it(installed):
    [found] = [ext for ext in discover(env={}) if ext.name == "toy-fork"]
    assert found.origin == "entry point toy"
    assert Path(found.source) == PACKAGE_DIR / "sat_toy_fork" / "extension.json"
    assert "sat_toy_fork" not in sys.modules
    assert package_file("sat_toy_fork", "missing.json") is None


def test_an_entry_point_naming_no_file_is_a_clear_error(installed):
    (installed / "sat_toy_fork-0.1.dist-info" / "entry_points.txt").write_text(
        "[sat_config.extensions]\ntoy = sat_toy_fork:absent.json\n", encoding="utf-8")
    with pytest.raises(ExtensionError, match="entry point toy.*no such file"):
        discover(env={})


def test_the_added_model_type_validates_with_did_you_mean(installed):
    assert sat_config.problems_in(toy_config()) == []
    [problem] = sat_config.problems_in(toy_config(hiden_dim=3))
    assert (problem.path, problem.kind, problem.suggestion) == ("$.model.hiden_dim", "unknown_key", "hidden_dim")


def test_the_added_model_type_builds_end_to_end(installed):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = sat_config.create_model_from_config(toy_config())
    assert type(model).__name__ == "ToyMlp" and model.sample_rate == 44100
    assert model(torch.zeros(1, 2, 8)).shape == (1, 2, 8)
    with pytest.raises(sat_config.ConfigError, match="hidden_dim"):
        sat_config.create_model_from_config(toy_config(hidden_dim=0))


@pytest.mark.parametrize("group", ["console_scripts", "sat_config.extensions", "pytest11"])
def test_entry_points_are_read_as_importlib_metadata_reads_them(installed, group):
    from importlib.metadata import entry_points as reference

    from sat_config.extensions import entry_points

    assert sorted(entry_points(group)) == sorted((e.name, e.value) for e in reference(group=group))
