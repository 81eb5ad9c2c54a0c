"""The ``sat-config`` command line: ``validate`` and ``fix`` config files, ``print-config`` with upstream's
defaults, ``build`` / ``inspect`` them with stable-audio-tools, and print the bundled ``schema``.

Exit codes (every command):

====  ==========================================================================================================
0     every file valid (warnings alone do not fail, unless ``--strict``); ``fix``: valid after the fix
1     a file is invalid: an error (or, with ``--strict``, a warning), a file that does not parse, a model that
      cannot be built; ``fix``: problems remain (listed as ``validate`` lists them)
2     usage errors, files that cannot be read or written (``fix``: a file that changed while being fixed)
130   interrupted (Ctrl-C)
====  ==========================================================================================================
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, NoReturn

from .api import judging, problems_in_document
from .errors import ConfigError, ConfigWarning, ExtensionError, FactoryUnavailableError, TrainingProblemsWarning
from .loader import YAML_SUFFIXES, Document, LoadError, read_document
from .reference import DEFAULT_DOC_BASE, DOC_BASE_ENV, doc_base, doc_url
from .reporters import FORMATS, FileResult, JsonReporter, Report, SarifReporter, make_reporter, version
from .targets import TargetError, detected, schema_for_target, targets
from .validation import Judging, load_bundled_schema

CONFIG_SUFFIXES = (".json",) + YAML_SUFFIXES
EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
_SKIPPED_DIRS = ("node_modules",)


def _walk(directory: Path) -> list[Path]:
    """Config-like files under ``directory``, skipping hidden folders (.git, .venv) and node_modules."""
    found = []
    for path in directory.rglob("*"):
        inner = path.relative_to(directory).parts
        if any(part.startswith(".") or part in _SKIPPED_DIRS for part in inner[:-1]):
            continue
        if path.suffix.lower() in CONFIG_SUFFIXES and path.is_file():
            found.append(path)
    return sorted(found)


def _targets(paths: Sequence[str]) -> Iterator[tuple[Path, bool]]:
    """Each file to check, and whether it was named explicitly (else found by walking a directory)."""
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found = _walk(path)
            if not found:
                raise LoadError(f"{path}: directory holds no *.json, *.yaml or *.yml files")
            yield from ((p, False) for p in found)
        else:
            yield path, True


def _expand(paths: Sequence[str]) -> list[Path]:
    """The files to build or inspect: every file named, and the model configs of the directories named (what
    else a directory walk found is counted on standard error, as ``validate`` counts it)."""
    files, skipped = [], 0
    for path, explicit in _targets(paths):
        try:
            model_config = explicit or read_document(path).looks_like_model_config
        except LoadError:
            model_config = True  # the command reports it
        if model_config:
            files.append(path)
        else:
            skipped += 1
    if skipped:
        print(f"sat-config: {skipped} other file{'s' if skipped != 1 else ''} skipped (not model configs)",
              file=sys.stderr)
    return files


def _lenient(problem: Any) -> Any:
    return problem._replace(severity="warning") if problem.kind == "unknown_key" else problem


def _judge(args: argparse.Namespace) -> Judging:
    """What the command judges against (--target, --torch, --unknown-types, --extension), made once per run.
    An unknown target or a broken extension raises TargetError / ExtensionError: usage errors (exit 2)."""
    if getattr(args, "judge", None) is None:
        args.judge = judging(args.target, args.torch, args.unknown_types, args.extension)
    judge: Judging = args.judge
    return judge


def _judged(args: argparse.Namespace) -> dict[str, Any]:
    """What the reports say they judged against."""
    judge = _judge(args)
    return judge.env.to_dict() | {"extensions": list(judge.extensions)}


def _new_report(args: argparse.Namespace) -> Report:
    return Report(strict=args.strict, judged=_judged(args))


def _check(path: Path, doc: Document, lenient: bool, judge: Judging) -> FileResult:
    problems = problems_in_document(doc, judge)
    return FileResult(str(path), [_lenient(p) for p in problems] if lenient else problems)


def _report(report: Report, args: argparse.Namespace) -> None:
    reporter = make_reporter(args.format, sys.stdout, doc_base=doc_base(args.doc_base), quiet=args.quiet)
    reporter.report(report)
    if report.skipped and not args.quiet and isinstance(reporter, (JsonReporter, SarifReporter)):
        print(f"sat-config: {report.skipped} other file{'s' if report.skipped != 1 else ''} skipped (not model "
              "configs)", file=sys.stderr)  # machine formats: keep standard output one document


def _cmd_validate(args: argparse.Namespace) -> int:
    report = _new_report(args)
    unreadable = False
    files = list(_targets(args.files))  # LoadError: a usage error, reported by main()
    for path, explicit in files:
        try:
            doc = read_document(path)
        except LoadError as exc:
            print(f"sat-config: cannot read {exc}", file=sys.stderr)
            unreadable = True
            continue
        if not explicit and not doc.looks_like_model_config:
            report.skipped += 1
            continue
        report.files.append(_check(path, doc, args.lenient, _judge(args)))
    _report(report, args)
    if unreadable:
        return EXIT_USAGE
    return EXIT_INVALID if report.failed else EXIT_OK


def _render(problem: Any, source: str, base: str | None) -> str:
    """One problem as a text line, its reference link absolute."""
    return str(problem._replace(doc=doc_url(problem.doc, doc_base(base))).render(source))


@contextlib.contextmanager
def third_party_output(verbose: bool) -> Iterator[list[warnings.WarningMessage]]:
    """Hold back what imported libraries print and warn (deprecations, "flash_attn not installed") while
    upstream builds: shown on standard error with ``--verbose``, dropped otherwise. Yields the warnings
    recorded, so a caller can report its own (``TrainingProblemsWarning``)."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        try:
            yield caught
        finally:
            if verbose:
                sys.stderr.write(printed.getvalue())
                for w in caught:
                    if not isinstance(w.message, TrainingProblemsWarning):
                        sys.stderr.write(warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line))


def _not_the_installed_code(args: argparse.Namespace) -> None:
    """Say so once when the chosen target is not what is installed: building runs the installed code."""
    env, installed = _judge(args).env, detected()
    if not getattr(args, "told", False) and (env.target != installed.target or not installed.installed):
        args.told = True
        what = f"{installed.target.name} ({installed.target_how})" if installed.installed else "no stable-audio-tools"
        print(f"note: judged against {env.target.name}, but building runs the installed code: {what}",
              file=sys.stderr)


def _cmd_build(args: argparse.Namespace) -> int:
    import time

    from .api import create_model_from_config_path

    status = EXIT_OK
    files = _expand(args.files)  # LoadError: a usage error, reported by main()
    for path in files:
        start = time.perf_counter()
        try:
            with third_party_output(args.verbose) as caught:
                model = create_model_from_config_path(path, judge=_judge(args))
        except LoadError as exc:
            print(f"sat-config: cannot read {exc}", file=sys.stderr)
            status = EXIT_USAGE
            continue
        except ConfigError as exc:
            print(f"{path}: invalid, not built\n" + "\n".join("  " + _render(p, str(path), args.doc_base)
                                                              for p in exc.errors))
            status = max(status, EXIT_INVALID)
            continue
        except FactoryUnavailableError as exc:
            print(f"{path}: {'skipped' if args.skip_unavailable else 'not built'}: {exc}")
            if not args.skip_unavailable:
                status = max(status, EXIT_INVALID)
            continue
        _not_the_installed_code(args)
        params = sum(p.numel() for p in model.parameters())
        print(f"{path}: built {type(model).__name__} ({params:,} parameters) in {time.perf_counter() - start:.2f} s")
        for w in caught:
            if isinstance(w.message, ConfigWarning):
                print("\n".join("  " + _render(p, str(path), args.doc_base) for p in w.message.warnings))
            if isinstance(w.message, TrainingProblemsWarning):
                print("  but its training section has problems (training would fail):\n" + "\n".join(
                    "  " + _render(p, str(path), args.doc_base) for p in w.message.errors))
    return status


def _cmd_inspect(args: argparse.Namespace) -> int:
    from .checkpoint_read import CheckpointError
    from .inspection import BuildError, inspect_config_path, render_text

    checkpoints = {"checkpoint": args.ckpt, "pretransform_checkpoint": args.pretransform_ckpt}
    status = EXIT_OK
    results: list[dict[str, Any]] = []
    files = _expand(args.files)  # LoadError: a usage error, reported by main()
    base = doc_base(args.doc_base)
    for path in files:
        result: dict[str, Any] = {"file": str(path), "environment": _judged(args)}
        try:
            with third_party_output(args.verbose):
                report = inspect_config_path(path, judge=_judge(args), **checkpoints)
        except LoadError as exc:
            print(f"sat-config: cannot read {exc}", file=sys.stderr)
            status = EXIT_USAGE
            continue
        except CheckpointError as exc:
            print(f"sat-config: cannot check the checkpoint: {exc}", file=sys.stderr)
            status = EXIT_USAGE
            continue
        except ConfigError as exc:
            result.update(valid=False, built=False, errors=[_linked(p, base) for p in exc.errors], warnings=[])
            text = f"{path}: invalid, not inspected\n" + "\n".join("  " + _render(p, str(path), args.doc_base)
                                                                   for p in exc.errors)
        except (BuildError, FactoryUnavailableError) as exc:  # valid, but upstream cannot build it
            result.update(valid=True, built=False, errors=[], warnings=[], error=str(exc))
            text = f"{path}: valid, but stable-audio-tools could not build it: {exc}"
        else:  # problems confined to `training` still let the model be inspected; the file stays invalid
            _not_the_installed_code(args)
            problems = report.pop("problems")
            errors, warned = [p for p in problems if p.is_error], [p for p in problems if not p.is_error]
            result.update(valid=not errors, built=True, **report, errors=[_linked(p, base) for p in errors],
                          warnings=[_linked(p, base) for p in warned])
            text = "\n".join([render_text(report, str(path))] + [
                f"  training problem (the model above is unaffected): {_render(p, str(path), args.doc_base)}"
                for p in errors] + ["  " + _render(p, str(path), args.doc_base) for p in warned])
        fits = all(result[key]["loads"] == "strict" for key in checkpoints if key in result)  # exit 0: strict
        status = max(status, EXIT_OK if result["valid"] and result["built"] and fits else EXIT_INVALID)
        results.append(result)
        if args.format == "text":
            print(text)
    if args.format == "json":
        print(json.dumps(results, indent=2))
    return status


def _linked(problem: Any, base: str) -> dict[str, Any]:
    """A problem as JSON, its reference link absolute."""
    data: dict[str, Any] = problem.to_dict()
    data["doc"] = doc_url(problem.doc, base)
    return data


def _cmd_fix(args: argparse.Namespace) -> int:
    from .fix import FileChangedError, read_for_fix, write_fix

    report = _new_report(args)
    status = EXIT_OK
    for path, explicit in list(_targets(args.files)):  # LoadError: a usage error, reported by main()
        try:
            raw, doc, fix = read_for_fix(path, _judge(args))
        except LoadError as exc:
            print(f"sat-config: cannot read {exc}", file=sys.stderr)
            status = EXIT_USAGE
            continue
        if not explicit and not doc.looks_like_model_config:
            report.skipped += 1
            continue
        if fix.changed and args.diff:
            sys.stdout.write(fix.diff())
        elif fix.changed:
            try:
                write_fix(path, raw, fix)
            except FileChangedError as exc:
                print(f"sat-config: {exc}", file=sys.stderr)
                status = EXIT_USAGE
                continue
            except OSError as exc:
                print(f"sat-config: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
                status = EXIT_USAGE
                continue
        for rename in fix.renames:
            print(f"{path}: {'would fix' if args.diff else 'fixed'} {rename.describe()}", file=sys.stderr)
        report.files.append(FileResult(str(path), [_lenient(p) for p in fix.problems] if args.lenient
                                       else fix.problems))
    _report(report, args)
    return max(status, EXIT_INVALID if report.failed else EXIT_OK)


def _cmd_print_config(args: argparse.Namespace) -> int:
    from .print_config import render_json, render_yaml, with_defaults

    doc = read_document(Path(args.file))  # LoadError: reported by main()
    problems = problems_in_document(doc, _judge(args))
    if any(p.is_error for p in problems):
        print(f"{args.file}: invalid; fix these problems first:", file=sys.stderr)
        for problem in problems:
            print("  " + _render(problem, args.file, args.doc_base), file=sys.stderr)
        return EXIT_INVALID
    config, filled = with_defaults(doc.data, _judge(args).schema)
    sys.stdout.write((render_json if args.format == "json" else render_yaml)(config, filled))
    return EXIT_OK


def _cmd_schema(args: argparse.Namespace) -> int:
    if args.extension_meta:
        from .extensions import meta_schema

        schema = meta_schema()
    else:
        judge = _judge(args)
        schema = judge.schema if judge.schema is not None else load_bundled_schema()
        if args.target or args.torch:
            schema = schema_for_target(judge.env.target.name, args.torch, schema)
    text = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"sat-config: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's help formatter, given the terminal's width up front: left to find it, argparse imports shutil
    whenever it makes a formatter (every ``add_argument`` does), a few milliseconds of every run."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, _columns() - 2 if width is None else width)


def _columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size`` finds it: $COLUMNS, else the terminal, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns if sys.__stdout__ else 0
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


class _SharedOptions:
    """Options several commands share (made only for the commands in the parser): how problems are reported,
    where their links point, and what configs are judged against."""

    @cached_property
    def links(self) -> argparse.ArgumentParser:
        links = argparse.ArgumentParser(add_help=False, formatter_class=_Formatter)
        links.add_argument("--doc-base", metavar="URL",
                           help="where problem links point: the reference page's URL or path (default: "
                           f"${DOC_BASE_ENV}, else {DEFAULT_DOC_BASE})")
        return links

    @cached_property
    def judge(self) -> argparse.ArgumentParser:
        judge = argparse.ArgumentParser(add_help=False, formatter_class=_Formatter)
        judge.add_argument("--target", metavar="NAME", help=f"the stable-audio-tools code that will run the configs: "
                           f"{', '.join(targets())} (default: the installed one, detected without importing it; "
                           f"else {next(iter(targets()))})")
        judge.add_argument("--torch", metavar="VERSION", help="the torch version that will run them (default: the "
                           "installed one; else unknown, and what depends on it is a warning)")
        judge.add_argument("--unknown-types", choices=("error", "warn"), default="error",
                           help="warn: a type or key that is no plausible typo of a known one is a warning (kind "
                           "unchecked) and left unchecked, everything else is still checked (default: error)")
        judge.add_argument("--extension", action="append", default=[], metavar="FILE",
                           help="a schema extension (repeatable; also $SAT_CONFIG_EXTENSIONS and installed packages' "
                           "sat_config.extensions entry points)")
        return judge

    @cached_property
    def output(self) -> argparse.ArgumentParser:
        output = argparse.ArgumentParser(add_help=False, parents=[self.links, self.judge],
                                         formatter_class=_Formatter)
        output.add_argument("--format", choices=FORMATS, default="auto",
                            help="text, json, github (workflow annotations) or sarif (2.1.0); auto (default): github "
                            "when GITHUB_ACTIONS=true, else text")
        output.add_argument("--quiet", "-q", action="store_true", help="print the problems only, no summary")
        output.add_argument("--strict", action="store_true", help="warnings fail too (exit 1)")
        output.add_argument("--lenient", action="store_true", help="report unknown keys as warnings, not errors")
        return output


class _Version(argparse.Action):
    """``--version``: computed only when asked (finding the environment is not free)."""

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        env = detected()
        print(f"sat-config {version()} (judges configs for {env.target.title}: {env.describe()}; targets: "
              f"{', '.join(targets())})")
        parser.exit()


Commands = Any  # argparse's subparsers action (a private class)


def _add_validate(commands: Commands, shared: _SharedOptions) -> None:
    validate = commands.add_parser("validate", formatter_class=_Formatter, parents=[shared.output],
                                   help="validate config files (JSON or YAML; directories recurse and skip files "
                                   "that are not model configs)")
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.set_defaults(run=_cmd_validate)


def _add_build(commands: Commands, shared: _SharedOptions) -> None:
    build = commands.add_parser("build", formatter_class=_Formatter, parents=[shared.links, shared.judge],
                                help="validate, then build each config with stable-audio-tools (CPU)")
    build.add_argument("files", nargs="+", metavar="FILE")
    build.add_argument("--skip-unavailable", action="store_true",
                       help="report model types with no installed constructor (hyperencoder) without failing")
    build.add_argument("--verbose", "-v", action="store_true",
                       help="show what imported libraries print and warn (deprecations, optional packages)")
    build.set_defaults(run=_cmd_build)


def _add_fix(commands: Commands, shared: _SharedOptions) -> None:
    fix = commands.add_parser("fix", formatter_class=_Formatter, parents=[shared.output],
                              help="rename misspelt keys and tags to their single suggestion, nothing else; then "
                              "report what remains as validate does")
    fix.add_argument("files", nargs="+", metavar="FILE")
    fix.add_argument("--diff", action="store_true", help="print the edits as a unified diff; write nothing")
    fix.set_defaults(run=_cmd_fix)


def _add_print_config(commands: Commands, shared: _SharedOptions) -> None:
    print_config = commands.add_parser("print-config", formatter_class=_Formatter, parents=[shared.links, shared.judge],
                                       help="print a valid config as upstream sees it: every default filled in "
                                       "and marked")
    print_config.add_argument("file", metavar="FILE")
    print_config.add_argument("--format", choices=("yaml", "json"), default="yaml",
                              help="yaml (default): defaults marked '# default'; json: {config, defaults: [paths]}")
    print_config.set_defaults(run=_cmd_print_config)


def _add_inspect(commands: Commands, shared: _SharedOptions) -> None:
    inspect = commands.add_parser("inspect", formatter_class=_Formatter, parents=[shared.links, shared.judge],
                                  help="validate, then build without weights (meta device) and report "
                                  "parameters, the audio-to-latent chain and the conditioning inputs")
    inspect.add_argument("files", nargs="+", metavar="FILE")
    inspect.add_argument("--format", choices=("text", "json"), default="text")
    inspect.add_argument("--ckpt", metavar="FILE", help="check that the model's weights in FILE (safetensors, "
                         ".ckpt, .pt) fit the config, and suggest config edits when they do not (exit 0 only "
                         "when they load with strict=True)")
    inspect.add_argument("--pretransform-ckpt", metavar="FILE", help="the same for the pretransform's weights "
                         "alone (train.py's --pretransform-ckpt-path)")
    inspect.add_argument("--verbose", "-v", action="store_true",
                         help="show what imported libraries print and warn (deprecations, optional packages)")
    inspect.set_defaults(run=_cmd_inspect)


def _add_schema(commands: Commands, shared: _SharedOptions) -> None:
    schema = commands.add_parser("schema", formatter_class=_Formatter, parents=[shared.judge],
                                 help="print the editor schema (every reference internal): the bundled one, or with "
                                 "--target/--torch what that environment builds, with --extension the merged one")
    schema.add_argument("--output", "-o", metavar="FILE", help="write it to FILE instead of standard output")
    schema.add_argument("--extension-meta", action="store_true",
                        help="print the meta-schema of extension files instead (editors check extensions with it)")
    schema.set_defaults(run=_cmd_schema)


COMMANDS = {"validate": _add_validate, "build": _add_build, "fix": _add_fix, "print-config": _add_print_config,
            "inspect": _add_inspect, "schema": _add_schema}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line parser: every command, or with ``only`` that command alone (what a run of it needs)."""
    parser = argparse.ArgumentParser(prog="sat-config", description="Check stable-audio-tools model configs.",
                                     epilog="exit codes: 0 valid, 1 invalid (problems remain), 2 usage error or "
                                     "unreadable file, 130 interrupted",
                                     formatter_class=_Formatter)
    parser.add_argument("--version", action=_Version, nargs=0,
                        help="print sat-config's version and the environment it judges configs for, then exit")
    shared = _SharedOptions()
    commands = parser.add_subparsers(dest="command", required=True)
    for name, add in COMMANDS.items():
        if only is None or name == only:
            add(commands, shared)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv[0] if argv and argv[0] in COMMANDS else None).parse_args(argv)
    try:
        return int(args.run(args))
    except (LoadError, TargetError, ExtensionError) as exc:
        print(f"sat-config: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


def run() -> NoReturn:
    """The ``sat-config`` command: ``main``, then exit with its code. The objects left at exit (the parsed and
    compiled schema, every module) are frozen out of the garbage collector first: the collections Python runs
    while it shuts down would otherwise walk them all, a sixth of what a one-file ``validate`` costs."""
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
