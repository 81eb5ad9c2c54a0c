"""The whole fidelity run, and its command line (``python tests/fidelity``)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from support.files import EXAMPLES, UPSTREAM, case_config, case_files, load_json

from sat_config.validation import load_bundled_schema

from .checks import check_config, check_equivalence, check_mutation
from .draw import cover_types, draw_configs
from .mutations import mutations
from .oracle import limit_memory
from .report import Report
from .schema_view import SchemaView, tags_used


def named_configs(paths: list[Path] | None = None, cases: bool = True) -> list[tuple[str, Any]]:
    """(name, config) of the examples and upstream's configs (or of ``paths``), and of the positive cases."""
    named = [(path.stem, load_json(path)) for path in (EXAMPLES + UPSTREAM if paths is None else paths)]
    return named + [(f"case {path.stem}", case_config(load_json(path))) for path in case_files("positive") if cases]


def _apply(task: tuple[Any, ...]) -> Any:
    function, *args = task
    return function(*args)


def _cover(configs: list[tuple[str, Any]], missing: set[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return cover_types(SchemaView(load_bundled_schema()), configs, missing)


@contextlib.contextmanager
def _workers(jobs: int, memory: float | None) -> Iterator[Any]:
    """A ``map`` over tasks ``(function, *args)``: in ``jobs`` worker processes, each with ``memory`` GB of heap,
    forked once, before this process has run torch (whose thread pools do not survive a fork); or in this one."""
    if jobs <= 1:
        yield lambda tasks: map(_apply, tasks)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    initializer, arguments = (limit_memory, (memory,)) if memory else (None, ())
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"), initializer=initializer,
                             initargs=arguments) as pool:
        yield lambda tasks: pool.map(_apply, tasks, chunksize=4)


def run(draws: int, seed: int | None = None, named: list[tuple[str, Any]] | None = None,
        mutate: list[str] | None = None, all_tags: bool = True, verify_every: int = 1, jobs: int = 1,
        memory: float | None = None, cover: bool = False, progress: bool = False) -> Report:
    """The whole fidelity check: soundness over the named configs (examples, upstream's configs and positive cases
    by default) and ``draws`` drawn ones; completeness over every mutation of each named config that builds (or of
    those in ``mutate``), asking upstream about every ``verify_every``-th rejected one; equivalence over the named
    configs that build and one built config per type they do not reach (with ``cover``, drawn on purpose for the
    types no draw or mutation reached)."""
    start = time.perf_counter()
    report = Report()
    view = SchemaView(load_bundled_schema())

    def say(text: str) -> None:
        if progress:
            print(f"  [{time.perf_counter() - start:6.0f} s] {text}", file=sys.stderr, flush=True)

    named = named_configs() if named is None else named
    drawn, invalid = draw_configs(draws, seed) if draws else ([], 0)
    say(f"drew {len(drawn)} configs")
    report.soundness.categories["draws_outside_schema"] += invalid
    with _workers(jobs, memory) as apply:
        configs = named + [(f"draw {i}", config) for i, config in enumerate(drawn)]
        bases, built = [], []
        verdicts = apply([(check_config, c, n) for n, c in configs])
        for (name, config), verdict in zip(configs, verdicts, strict=True):
            report.soundness.record(verdict)
            if verdict.built and verdict.accepted:
                (bases if not name.startswith("draw ") else built).append((name, config))
        say(f"soundness: {report.soundness.tried} configs")
        tasks = [(check_mutation, mutation, name, index % verify_every == 0)
                 for name, config in bases if mutate is None or name in mutate
                 for index, mutation in enumerate(mutations(view, config, all_tags))]
        for (_, _, name, _), verdict in zip(tasks, apply(tasks), strict=True):
            report.completeness.record(verdict)
            if verdict.config is not None:
                built.append((f"{name}, mutated", verdict.config))
        say(f"completeness: {report.completeness.tried} mutations")
        types = view.model_tags()
        reached: dict[tuple[str, Any], str] = {}

        def reaches_new(name: str, config: Any) -> bool:
            new = tags_used(view, config) - set(reached)
            reached.update(dict.fromkeys(new, name))
            return bool(new)

        chosen = list(bases)
        for name, config in bases:
            reaches_new(name, config)
        chosen += [(n, c) for n, c in sorted(built, key=lambda item: len(json.dumps(item[1]))) if reaches_new(n, c)]
        buildable = {key for key, why in types.items() if why is None}
        if cover:
            [found] = apply([(_cover, chosen, buildable - set(reached))])
            chosen += [(name, config) for name, config in found if reaches_new(name, config)]
            # a type no draw could be nudged into (widths that must agree across several objects): the first
            # positive case that uses it, written by hand and verified, stands for it, and the report says so
            chosen += [(f"{name} (no draw reached it)", config) for name, config in named_configs([], cases=True)
                       if tags_used(view, config) & (buildable - set(reached)) and reaches_new(name, config)]
            say(f"types: {len(buildable & set(reached))} of {len(buildable)} reached")
        for verdict in apply([(check_equivalence, c, n) for n, c in chosen]):
            report.equivalence.record(verdict)
    say(f"equivalence: {report.equivalence.tried} configs")
    report.reached = {f"{site}:{tag}": reached.get((site, tag)) for site, tag in buildable}
    report.unbuildable = sorted(f"{site}:{tag} ({why})" for (site, tag), why in types.items() if why)
    report.seconds = time.perf_counter() - start
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure how well the schema agrees with stable-audio-tools.")
    parser.add_argument("--draws", type=int, default=2000, help="configs to draw from the schema")
    parser.add_argument("--seed", type=int, default=None, help="hypothesis seed (default: a new random one)")
    parser.add_argument("--verify-every", type=int, default=1, metavar="N",
                        help="ask upstream about every N-th rejected mutation only (default: all)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: CPUs)")
    parser.add_argument("--memory", type=float, default=None, metavar="GB",
                        help="heap limit per process (default: a share of the machine's memory)")
    args = parser.parse_args(argv)
    seed = random.randrange(2**32) if args.seed is None else args.seed
    jobs = max(1, args.jobs)
    memory = args.memory or max(2.0, os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30 / (jobs + 1))
    if jobs == 1:
        limit_memory(memory)
    report = run(args.draws, seed, verify_every=args.verify_every, jobs=jobs, memory=memory, cover=True,
                 progress=True)
    print(report.render())
    print(f"(draws seeded with --seed {seed})")
    if report.unreached:
        print(f"FAILED: {len(report.unreached)} buildable types were never reached: {', '.join(report.unreached)}")
    if report.unknown():
        print(f"FAILED: {len(report.unknown())} new disagreements (above, without [known: ...])")
    return 1 if report.unknown() or report.unreached else 0

