"""Regenerate generated/ from schemas/: ``python -m generator [--output DIR] [--check]``.

Steps: bundle the schema files (and targets.json) into one document; emit pydantic v2 classes from it with
datamodel-code-generator; write the editor schema (schema.json, with annotations), the validation schema
(validation.json) and the dispatch table (a jinja2 template); check that every x-rules id names a rule of
sat_config/rules; render the reference documentation (docs/reference.md) from the same bundle.
Output is deterministic (no timestamps, stable ordering), so ``--check`` can diff it byte for byte.

For a fork: ``python -m generator --extension FILE [--extension FILE ...] --out DIR`` merges the extensions
(docs/extensions.md) into the bundle and writes to DIR the typed pydantic classes (models.py), the merged editor
schema (schema.json) and the reference docs (reference.md) of the merged schema.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from .bundle import BundleError
from .docs import reference_context
from .editor import enrich
from .emit import _bundle, _env, _header, emit_all, pydantic_models

REPO = Path(__file__).resolve().parent.parent


def _diff(expected_dir: Path, actual_dir: Path, owned: bool = True) -> list[str]:
    """Differences between a fresh output and the committed one (``owned``: no other file may be there)."""
    expected = {p.name for p in expected_dir.iterdir() if p.is_file()}
    actual = {p.name for p in actual_dir.iterdir() if p.is_file()} if actual_dir.is_dir() else set()
    problems = [f"missing: {name}" for name in sorted(expected - actual)]
    if owned:
        problems += [f"not generated (stale?): {name}" for name in sorted(actual - expected) if name != "__pycache__"]
    for name in sorted(expected & actual):
        if not filecmp.cmp(expected_dir / name, actual_dir / name, shallow=False):
            problems.append(f"differs: {name}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator", description=__doc__)
    parser.add_argument("--schemas", type=Path, default=REPO / "schemas")
    parser.add_argument("--output", type=Path, default=REPO / "generated")
    parser.add_argument("--docs", type=Path, default=REPO / "docs", help="where the reference docs go")
    parser.add_argument("--check", action="store_true", help="regenerate into a temporary directory and diff")
    parser.add_argument("--extension", type=Path, action="append", default=[], metavar="FILE",
                        help="a schema extension to merge (repeatable; needs --out)")
    parser.add_argument("--out", type=Path, help="where the files for the extended schema go")
    args = parser.parse_args(argv)
    if args.extension or args.out:
        return _extended(parser, args)
    try:
        if not args.check:
            for path in emit_all(args.schemas, args.output, args.docs):
                print(f"wrote {path.relative_to(args.output.resolve().parent) if path.is_relative_to(REPO) else path}")
            return 0
        with tempfile.TemporaryDirectory() as tmp:
            emit_all(args.schemas, Path(tmp) / "generated", Path(tmp) / "docs")
            problems = _diff(Path(tmp) / "generated", args.output)
            problems += [f"docs/{p}" for p in _diff(Path(tmp) / "docs", args.docs, owned=False)]
    except BundleError as exc:
        print(f"generator: {exc}", file=sys.stderr)
        return 2
    if problems:
        print("generated/ or docs/ is stale; run `make gen` and commit:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print("generated/ and docs/ match schemas/")
    return 0


def extended_files(schema_dir: Path, extensions: list[Any]) -> dict[str, str]:
    """models.py, schema.json and reference.md of the bundle of ``schema_dir`` with ``extensions`` merged in."""
    from sat_config.extensions import merge

    merged = merge(_bundle(schema_dir), extensions)
    names = ", ".join(ext.name for ext in extensions)
    editor = enrich(merged)
    context = reference_context(editor, f"{_header().lstrip('# ')} With the extensions: {names}.")
    docs = _env.get_template("reference.md.jinja2").render(**context) + _extension_rules_section(merged)
    return {
        "models.py": pydantic_models(merged),
        "schema.json": json.dumps(editor, indent=2, ensure_ascii=False) + "\n",
        "reference.md": docs,
    }


def _extension_rules_section(merged: dict[str, Any]) -> str:
    """The extensions' declarative rules (``x-extension-rules``), one row each, for the reference docs."""
    from sat_config.extension_rules import KEYWORD

    from .docs import anchor

    rows = []
    for name, definition in merged["$defs"].items():
        for rule in definition.get(KEYWORD, []) if isinstance(definition, dict) else []:
            conditions = [" and ".join(_condition(c) for c in rule.get(part, [])) for part in ("when", "require")]
            message = rule["message"].replace("|", "\\|")
            rows.append(f"| `{rule['id']}` | [{name}](#{anchor(name)}) | {conditions[0] or '—'} | {conditions[1]} | "
                        f"{rule.get('severity', 'error')} | {message} |")
    if not rows:
        return ""
    head = ("\n## Extension rules\n\nCross-field rules the extensions declare (docs/extensions.md), checked on every "
            "instance of their schema.\n\n| Rule | Schema | When | Requires | Severity | Message |\n"
            "|---|---|---|---|---|---|\n")
    return head + "\n".join(rows) + "\n"


def _condition(condition: dict[str, Any]) -> str:
    left = ".".join(map(str, condition["path"]))
    left = f"len({left})" if condition.get("of") == "length" else left
    if condition["op"] in ("present", "absent"):
        return f"`{left}` {condition['op']}"
    right = ".".join(map(str, condition["to"])) if "to" in condition else json.dumps(condition.get("value"))
    return f"`{left} {condition['op']} {right}`"


def _extended(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """``--extension FILE ... --out DIR``: the classes, editor schema and docs of the merged schema."""
    from sat_config.extensions import ExtensionError, load_extension

    if not args.extension or not args.out or args.check:
        parser.error("--extension FILE and --out DIR go together (and not with --check)")
    try:
        extensions = [load_extension(path) for path in args.extension]
        files = extended_files(args.schemas, extensions)
    except (ExtensionError, BundleError) as exc:
        print(f"generator: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
