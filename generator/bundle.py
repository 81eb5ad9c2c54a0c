"""Bundle the hand-written schema files into one document whose references are all internal.

Every file's root schema becomes ``$defs[<its title>]``; every ``$defs`` entry of every file is hoisted into the
bundle's ``$defs`` under its own name. Names must therefore be unique across files: a clash is an error, not a
silent rename, so the generated class names stay predictable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT_SCHEMA = "config.schema.json"
TARGETS = "targets.json"  # the targets (data): bundled as the root's ``x-targets``


class BundleError(Exception):
    """The schema files are inconsistent (missing file, missing title, clashing names)."""


class _Bundler:
    def __init__(self, schema_dir: Path) -> None:
        self.schema_dir = schema_dir.resolve()
        self.defs: dict[str, Any] = {}
        self.owner: dict[str, str] = {}  # def name -> file that defined it
        self.file_titles: dict[Path, str] = {}

    def _load(self, path: Path) -> dict[str, Any]:
        try:
            with path.open(encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, json.JSONDecodeError) as exc:
            raise BundleError(f"{path}: {exc}") from exc
        if not isinstance(doc, dict):
            raise BundleError(f"{path}: a schema file must hold a JSON object")
        return doc

    def _claim(self, name: str, value: Any, path: Path) -> None:
        rel = str(path.relative_to(self.schema_dir))
        if name in self.owner and self.owner[name] != rel:
            raise BundleError(f"$defs name {name!r} is defined in both {self.owner[name]} and {rel}")
        self.owner[name] = rel
        self.defs[name] = value

    def add_file(self, path: Path) -> str:
        """Inline one file (once); return the $defs name of its root schema."""
        path = path.resolve()
        if path in self.file_titles:
            return self.file_titles[path]
        doc = self._load(path)
        title = doc.get("title")
        if not isinstance(title, str) or not title:
            raise BundleError(f"{path}: the root schema needs a 'title' (it names the generated class)")
        self.file_titles[path] = title
        local_defs = doc.pop("$defs", {})
        doc.pop("$schema", None)
        rewritten = self._rewrite(doc, path)
        self._claim(title, rewritten, path)
        for name, sub in local_defs.items():
            self._claim(name, None, path)  # reserve before recursing (self-references)
            self.defs[name] = self._rewrite(sub, path)
        return title

    def _rewrite(self, node: Any, path: Path) -> Any:
        if isinstance(node, list):
            return [self._rewrite(item, path) for item in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out[key] = self._rewrite_ref(value, path)
            elif key in ("properties", "$defs", "patternProperties"):
                out[key] = {k: self._rewrite(v, path) for k, v in value.items()}
            else:
                out[key] = self._rewrite(value, path)
        return out

    def _rewrite_ref(self, ref: str, path: Path) -> str:
        target, _, fragment = ref.partition("#")
        if not target:
            if fragment in ("", "/"):
                return "#" if path == self.root_path else f"#/$defs/{self.file_titles[path]}"
            return f"#{fragment}"
        other = (path.parent / target).resolve()
        if not other.is_file():
            raise BundleError(f"{path.relative_to(self.schema_dir)}: $ref {ref!r} names a missing file")
        if other == self.root_path:
            return f"#{fragment}" if fragment not in ("", "/") else self._root_alias()
        title = self.add_file(other)
        if fragment in ("", "/"):
            return f"#/$defs/{title}"
        if not fragment.startswith("/$defs/"):
            raise BundleError(f"{path}: $ref {ref!r}: only whole files or '#/$defs/<name>' may be referenced")
        return f"#{fragment}"

    def _root_alias(self) -> str:
        """Where another file's reference to the whole root schema points: a copy of the root, ``$defs[<title>Ref]``
        (filled in by ``bundle``). datamodel-code-generator inlines a referenced root model and drops its class,
        and the root's class is the public entry point."""
        name = f"{self.file_titles[self.root_path]}Ref"
        if name not in self.defs:
            self._claim(name, None, self.root_path)
        return f"#/$defs/{name}"

    def bundle(self) -> dict[str, Any]:
        self.root_path = (self.schema_dir / ROOT_SCHEMA).resolve()
        root = self._load(self.root_path)
        schema_uri = root.pop("$schema", None)
        root_defs = root.pop("$defs", {})
        self.file_titles[self.root_path] = root.get("title", "")
        for name in root_defs:
            self._claim(name, None, self.root_path)
        for name, sub in root_defs.items():
            self.defs[name] = self._rewrite(sub, self.root_path)
        body = self._rewrite(root, self.root_path)
        alias = f"{self.file_titles[self.root_path]}Ref"
        if alias in self.defs:
            self.defs[alias] = {**body, "title": alias}
        out: dict[str, Any] = {"$schema": schema_uri} if schema_uri else {}
        out.update(body)
        out["x-targets"] = self._targets()
        out["$defs"] = self.defs
        _check_conditions(out)
        return out

    def _targets(self) -> dict[str, Any]:
        doc = self._load(self.schema_dir / TARGETS)
        doc.pop("$comment", None)
        targets = doc.get("targets")
        if not isinstance(targets, dict) or doc.get("default") not in targets:
            raise BundleError(f"{TARGETS}: needs 'targets' (an object) and a 'default' naming one of them")
        for name, target in targets.items():
            missing = {"title", "distribution", "version", "fingerprint"} - set(target)
            if missing:
                raise BundleError(f"{TARGETS}: target {name!r} lacks {sorted(missing)}")
        return doc


_CLAUSES = {"target", "torch", "missing"}


def _check_conditions(bundle: dict[str, Any]) -> None:
    """Every ``x-unsupported.when`` alternative uses known clauses and names declared targets."""
    from sat_config.schemawalk import subschemas

    targets = bundle["x-targets"]["targets"]
    for _, node in subschemas(bundle):
        spec = node.get("x-unsupported")
        for alternative in spec.get("when", []) if isinstance(spec, dict) else []:
            unknown = set(alternative) - _CLAUSES
            if unknown or not alternative:
                raise BundleError(f"x-unsupported of {spec.get('what')!r}: a 'when' alternative takes "
                                  f"{sorted(_CLAUSES)} (got {sorted(alternative)})")
            if "target" in alternative and alternative["target"] not in targets:
                raise BundleError(f"x-unsupported of {spec.get('what')!r}: unknown target "
                                  f"{alternative['target']!r} (targets.json has {sorted(targets)})")


def bundle_schemas(schema_dir: Path) -> dict[str, Any]:
    """Return the single-document schema for ``schema_dir`` (deterministic: order of first reference)."""
    return _Bundler(schema_dir).bundle()
