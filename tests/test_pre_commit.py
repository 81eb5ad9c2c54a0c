""".pre-commit-hooks.yaml: other repositories can run `sat-config validate` as a pre-commit hook."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLES, REPO

HOOKS = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
HOOK = next(h for h in HOOKS if h["id"] == "sat-config-validate")
FIX_HOOK = next(h for h in HOOKS if h["id"] == "sat-config-fix")


def test_hook_is_well_formed():
    assert {"id", "name", "entry", "language"} <= HOOK.keys()
    assert HOOK["language"] == "python"  # pre-commit installs this package (validation only) in its own env
    assert set(HOOK["types_or"]) == {"json", "yaml"}


def test_entry_names_a_console_script_and_subcommand_that_exist():
    from sat_config.cli import build_parser

    program, *args = shlex.split(HOOK["entry"])
    assert program in {e.name for e in entry_points(group="console_scripts")}
    parser = build_parser()
    assert parser.parse_args([*args, "x.json"]).files == ["x.json"]


@pytest.mark.parametrize(("path", "matched"), [
    ("model_config.json", True),
    ("checkpoints/run1/model_config.yaml", True),
    ("stable_audio_tools/configs/model_configs/autoencoders/stable_audio_2_0_vae.json", True),
    ("model_configs/txt2audio/stable_audio_open.yml", True),
    ("package.json", False),
    ("configs/dataset_configs/local_training.json", False),
])
def test_default_files_pattern(path, matched):
    assert bool(re.search(HOOK["files"], path)) is matched


def _run_entry(files: list[Path], hook: dict = HOOK) -> subprocess.CompletedProcess[str]:
    """Run the entry the way pre-commit does: the entry's words, then the matching file names."""
    program, *args = shlex.split(hook["entry"])
    script = Path(sys.executable).with_name(program)
    return subprocess.run([str(script), *args, *map(str, files)], capture_output=True, text=True, timeout=120)


def test_entry_passes_valid_files_and_fails_invalid_ones(tmp_path):
    assert _run_entry(EXAMPLES).returncode == 0
    bad = tmp_path / "model_config.json"
    bad.write_text(EXAMPLES[0].read_text().replace('"io_channels"', '"io_chanels"'))
    result = _run_entry([EXAMPLES[0], bad])
    assert result.returncode == 1
    assert "did you mean 'io_channels'?" in result.stdout


def test_fix_hook_repairs_a_typo_and_fails_only_while_problems_remain(tmp_path):
    assert FIX_HOOK["files"] == HOOK["files"] and FIX_HOOK["language"] == "python"
    typo = tmp_path / "model_config.json"
    typo.write_text(EXAMPLES[0].read_text().replace('"io_channels"', '"io_chanels"'))
    result = _run_entry([typo], FIX_HOOK)
    assert result.returncode == 0, result.stdout + result.stderr  # pre-commit itself fails the run: files changed
    assert typo.read_text() == EXAMPLES[0].read_text()
    wrong = tmp_path / "model_configs" / "wrong.json"
    wrong.parent.mkdir()
    wrong.write_text(EXAMPLES[0].read_text().replace('"io_channels": 2', '"io_channels": "2"'))
    assert _run_entry([wrong], FIX_HOOK).returncode == 1
    assert wrong.read_text() == EXAMPLES[0].read_text().replace('"io_channels": 2', '"io_channels": "2"')


def test_readme_shows_how_to_use_the_hook():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", readme, re.S) if "repos:" in b)
    hook = yaml.safe_load(block)["repos"][0]["hooks"][0]
    assert hook["id"] == HOOK["id"]
    assert re.search(hook["files"], "configs/my_model.json")
