"""Drive VS Code's JSON language service (editor-test/validate.mjs, node) from the tests.

The engine is installed by `make test` (npm ci in editor-test/, from the committed lock file) or, when node
is present but the packages are not, by the ``editor`` fixture itself. Tests using it are skipped, with the
reason shown, only when node is absent -- and fail instead under CI (``CI`` set), which must run them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from support.files import REPO

from sat_config.schemawalk import SchemaWalker

ENGINE = REPO / "editor-test"
SCHEMA = REPO / "generated" / "schema.json"
# The VS Code `json.schemas` fileMatch patterns the README recommends.
FILE_MATCH = ["**/model_configs/**/*.json", "**/model_config*.json"]


class Editor:
    """One node process per call: validate files and/or complete at positions."""

    def __init__(self, node: str) -> None:
        self.node = node

    def run(self, files: Iterable[Path] = (), complete: Iterable[dict[str, Any]] = ()) -> dict[str, Any]:
        request = {"schema": str(SCHEMA), "fileMatch": FILE_MATCH, "files": [str(f) for f in files],
                   "complete": [dict(c, file=str(c["file"])) for c in complete]}
        result = subprocess.run([self.node, str(ENGINE / "validate.mjs")], input=json.dumps(request), text=True,
                                capture_output=True, timeout=120, cwd=ENGINE)
        assert result.returncode == 0, result.stderr
        answer: dict[str, Any] = json.loads(result.stdout)
        return answer

    def diagnostics(self, files: Iterable[Path]) -> dict[str, dict[str, Any]]:
        """file path -> {"schemas": [...], "diagnostics": [...]}."""
        return {entry["file"]: entry for entry in self.run(files=files)["files"]}


def _install(node: str) -> None:
    if (ENGINE / "node_modules" / "vscode-json-languageservice" / "package.json").is_file():
        return
    npm = shutil.which("npm")
    assert npm, "node is installed but npm is not: cannot install editor-test/ (npm ci)"
    result = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=ENGINE, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, "npm ci in editor-test/ failed:\n" + result.stdout + result.stderr


@pytest.fixture(scope="session", name="editor")
def editor_fixture() -> Editor:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("node is not installed, and CI must run the editor-engine tests (install node >= 18)")
        pytest.skip("node is not installed: the VS Code JSON language service tests need node >= 18")
    _install(node)
    return Editor(node)


def write_config(directory: Path, name: str, config: Any) -> Path:
    """Write ``config`` where the README's fileMatch binds it; a ``$schema`` key points at the bundled schema."""
    path = directory / "model_configs" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(config, dict) and "$schema" in config:
        config = dict(config, **{"$schema": os.path.relpath(SCHEMA, path.parent)})
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return path


def schema_at(walker: SchemaWalker, config: Any, path: Iterable[Any]) -> tuple[Mapping[str, Any], ...]:
    """The schema objects that apply to the value at ``path`` in ``config``, found by the package's walker."""
    value, nodes = config, walker.applicable((walker.root,), config)
    for key in path:
        value = value[key]
        nodes = walker.applicable(walker.children(nodes, key), value)
    return nodes
