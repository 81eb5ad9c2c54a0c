"""The ``sat-config`` command line: ``validate`` config files and print the bundled ``schema``.

Exit codes: 0 every file valid; 1 any file invalid (including files that do not parse); 2 usage errors and
files that cannot be read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .api import problems_in_document
from .loader import YAML_SUFFIXES, LoadError, read_document
from .validation import load_bundled_schema

CONFIG_SUFFIXES = (".json",) + YAML_SUFFIXES
EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def _expand(paths: Sequence[str]) -> Iterator[Path]:
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in CONFIG_SUFFIXES and p.is_file())
            if not found:
                raise LoadError(f"{path}: directory holds no *.json, *.yaml or *.yml files")
            yield from found
        else:
            yield path


class _Style:
    def __init__(self, stream: Any) -> None:
        self.on = hasattr(stream, "isatty") and stream.isatty() and "NO_COLOR" not in os.environ

    def __call__(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.on else text


def _cmd_validate(args: argparse.Namespace) -> int:
    results: list[dict[str, Any]] = []
    style = _Style(sys.stdout)
    unreadable = False
    invalid = 0
    files = list(_expand(args.files))  # LoadError: a usage error, reported by main()
    for path in files:
        try:
            doc = read_document(path)
        except LoadError as exc:
            print(f"sat-config: cannot read {exc}", file=sys.stderr)
            unreadable = True
            continue
        problems = problems_in_document(doc)
        errors = [p for p in problems if not (args.lenient and p.kind == "unknown_key")]
        warnings = [p for p in problems if args.lenient and p.kind == "unknown_key"]
        invalid += bool(errors)
        results.append({"file": str(path), "valid": not errors,
                        "errors": [p.to_dict() for p in errors], "warnings": [p.to_dict() for p in warnings]})
        if args.format == "text":
            for problem in errors:
                print(style(problem.render(str(path)), "31"))
            for problem in warnings:
                print(style("warning: " + problem.render(str(path)), "33"))
    if args.format == "json":
        print(json.dumps(results, indent=2))
    elif results:
        count = sum(len(r["errors"]) for r in results)
        summary = f"{len(results) - invalid} of {len(results)} file{'s' if len(results) != 1 else ''} valid"
        summary += f", {count} problem{'s' if count != 1 else ''}" if count else ""
        print(style(summary, "31" if invalid else "32"))
    if unreadable:
        return EXIT_USAGE
    return EXIT_INVALID if invalid else EXIT_OK


def _cmd_build(args: argparse.Namespace) -> int:
    import contextlib
    import time

    from .api import create_model_from_config_path
    from .errors import ConfigError, FactoryUnavailableError

    status = EXIT_OK
    files = list(_expand(args.files))  # LoadError: a usage error, reported by main()
    for path in files:
        start = time.perf_counter()
        try:
            with contextlib.redirect_stdout(sys.stderr):  # upstream prints import-time notices
                model = create_model_from_config_path(path)
        except LoadError as exc:
            print(f"sat-config: cannot read {exc}", file=sys.stderr)
            status = EXIT_USAGE
            continue
        except ConfigError as exc:
            print(f"{path}: invalid, not built\n" + "\n".join("  " + p.render(str(path)) for p in exc.errors))
            status = max(status, EXIT_INVALID)
            continue
        except FactoryUnavailableError as exc:
            print(f"{path}: {'skipped' if args.skip_unavailable else 'not built'}: {exc}")
            if not args.skip_unavailable:
                status = max(status, EXIT_INVALID)
            continue
        params = sum(p.numel() for p in model.parameters())
        print(f"{path}: built {type(model).__name__} ({params:,} parameters) in {time.perf_counter() - start:.2f} s")
    return status


def _cmd_inspect(args: argparse.Namespace) -> int:
    import contextlib
    import warnings

    from .errors import ConfigError, FactoryUnavailableError
    from .inspection import BuildError, inspect_config_path, render_text

    status = EXIT_OK
    results: list[dict[str, Any]] = []
    files = list(_expand(args.files))  # LoadError: a usage error, reported by main()
    for path in files:
        result: dict[str, Any] = {"file": str(path)}
        try:
            with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():  # upstream's notices
                warnings.simplefilter("ignore")
                report = inspect_config_path(path)
        except LoadError as exc:
            print(f"sat-config: cannot read {exc}", file=sys.stderr)
            status = EXIT_USAGE
            continue
        except ConfigError as exc:
            result.update(valid=False, built=False, errors=[p.to_dict() for p in exc.errors])
            text = f"{path}: invalid, not inspected\n" + "\n".join("  " + p.render(str(path)) for p in exc.errors)
        except (BuildError, FactoryUnavailableError) as exc:  # valid, but upstream cannot build it
            result.update(valid=True, built=False, errors=[], error=str(exc))
            text = f"{path}: valid, but stable-audio-tools could not build it: {exc}"
        else:  # problems confined to `training` still let the model be inspected; the file stays invalid
            problems = report.pop("problems")
            result.update(valid=not problems, built=True, **report, errors=[p.to_dict() for p in problems])
            text = "\n".join([render_text(report, str(path))] + [
                f"  training problem (the model above is unaffected): {p.render(str(path))}" for p in problems])
        status = max(status, EXIT_OK if result["valid"] and result["built"] else EXIT_INVALID)
        results.append(result)
        if args.format == "text":
            print(text)
    if args.format == "json":
        print(json.dumps(results, indent=2))
    return status


def _cmd_schema(args: argparse.Namespace) -> int:
    text = json.dumps(load_bundled_schema(), indent=2, ensure_ascii=False) + "\n"
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"sat-config: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sat-config", description="Check stable-audio-tools model configs.")
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="validate config files (JSON or YAML; directories recurse)")
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.add_argument("--format", choices=("text", "json"), default="text")
    validate.add_argument("--lenient", action="store_true", help="report unknown keys as warnings, not errors")
    validate.set_defaults(run=_cmd_validate)
    build = commands.add_parser("build", help="validate, then build each config with stable-audio-tools (CPU)")
    build.add_argument("files", nargs="+", metavar="FILE")
    build.add_argument("--skip-unavailable", action="store_true",
                       help="report model types with no installed constructor (hyperencoder) without failing")
    build.set_defaults(run=_cmd_build)
    inspect = commands.add_parser("inspect", help="validate, then build without weights (meta device) and report "
                                  "parameters, the audio-to-latent chain and the conditioning inputs")
    inspect.add_argument("files", nargs="+", metavar="FILE")
    inspect.add_argument("--format", choices=("text", "json"), default="text")
    inspect.set_defaults(run=_cmd_inspect)
    schema = commands.add_parser("schema", help="print the bundled JSON Schema (every reference internal)")
    schema.add_argument("--output", "-o", metavar="FILE", help="write it to FILE instead of standard output")
    schema.set_defaults(run=_cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except LoadError as exc:
        print(f"sat-config: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
