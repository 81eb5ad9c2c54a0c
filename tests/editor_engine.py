"""Drive VS Code's JSON language service (editor-test/validate.mjs, node) from the tests.

The engine is installed by `make test` (npm ci in editor-test/, from the committed lock file) or, when node
is present but the packages are not, by the ``editor`` fixture itself. Tests using it are skipped, with the
reason shown, only when node is absent -- and fail instead under CI (``CI`` set), which must run them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from support.files import REPO

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


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    types = {float: "number", dict: "object", list: "array", str: "string", type(None): "null"}
    return types.get(type(value), "")


class SchemaWalker:
    """Follow a config's own path through the bundled schema: references, tagged unions (by the config's tag),
    ``X or null`` unions (by the value's type), properties, pattern properties and items."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.root = schema
        self.defs: dict[str, Any] = schema.get("$defs", {})

    def deref(self, node: Any) -> Any:
        for _ in range(32):
            ref = node.get("$ref") if isinstance(node, dict) else None
            if ref == "#":
                node = self.root
            elif isinstance(ref, str) and ref.startswith("#/$defs/"):
                node = self.defs[ref[len("#/$defs/"):]]
            else:
                break
        return node

    def settle(self, node: Any, value: Any) -> Any:
        """The schema that applies to ``value``: references resolved, union branches chosen."""
        for _ in range(32):
            node = self.deref(node)
            branches = node.get("oneOf") or node.get("anyOf") if isinstance(node, dict) else None
            if not isinstance(branches, list):
                return node
            discriminator = node.get("discriminator", {}).get("propertyName")
            if discriminator:
                tag = value.get(discriminator) if isinstance(value, dict) else None
                chosen = [b for b in branches
                          if self.deref(b).get("properties", {}).get(discriminator, {}).get("const", ...) == tag]
            else:
                chosen = [b for b in branches if _json_type(value) in _types(self.deref(b))]
            if len(chosen) != 1:
                return node
            node = chosen[0]
        return node

    def step(self, node: Any, key: Any) -> Any:
        """The (unsettled) schema of ``key`` in an instance of ``node``, or None."""
        if not isinstance(node, dict):
            return None
        if isinstance(key, int):
            prefix = node.get("prefixItems", [])
            return prefix[key] if key < len(prefix) else node.get("items")
        if key in node.get("properties", {}):
            return node["properties"][key]
        for pattern, sub in node.get("patternProperties", {}).items():
            if re.search(pattern, key):
                return sub
        additional = node.get("additionalProperties")
        return additional if isinstance(additional, dict) else None

    def at(self, config: Any, path: Iterable[Any]) -> Any:
        """The settled schema of the value at ``path`` in ``config``."""
        node, value = self.settle(self.root, config), config
        for key in path:
            value = value[key]
            node = self.settle(self.step(node, key), value)
        return node


def _types(schema: Any) -> list[str]:
    types = schema.get("type") if isinstance(schema, dict) else None
    names = types if isinstance(types, list) else [types] if types else list(_ALL_TYPES)
    return names + (["integer"] if "number" in names else [])


_ALL_TYPES = ("object", "array", "string", "number", "integer", "boolean", "null")
