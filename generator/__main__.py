"""Regenerate generated/ from schemas/: ``python -m generator [--output DIR] [--check]``.

Steps: bundle the schema files into one document; emit pydantic v2 classes from it with
datamodel-code-generator; render the dispatch table and the compiled cross-field rules with jinja2 templates;
render the reference documentation (docs/reference.md) from the same bundle.
Output is deterministic (no timestamps, stable ordering), so ``--check`` can diff it byte for byte.
"""

from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from pathlib import Path

from .bundle import BundleError
from .emit import emit_all

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
    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())
