"""Figures of schema extensions (registered in bench/run.py): validating and starting up with two extensions
loaded (examples/extensions/), each against the same work without them, measured in the same run."""

from __future__ import annotations

import json
import sys
from typing import Any

from run import BIN, FIXTURES, REPO, paired, wall

EXTENSIONS = sorted((REPO / "examples" / "extensions").glob("*.json"))
ONE_FILE = REPO / "examples" / "diffusion_cond_tiny_dit.json"


def in_process(repeats: int) -> dict[str, Any]:
    """find_problems over upstream's example configs, judged with and without the two fork extensions."""
    from sat_config.extensions import load_extension, merge
    from sat_config.validation import default_judging, find_problems, load_bundled_schema

    plain = default_judging()
    extended = plain._replace(schema=merge(load_bundled_schema(), [load_extension(p) for p in EXTENSIONS]))
    configs = [json.loads(p.read_text(encoding="utf-8")) for p in FIXTURES]
    for judge in (plain, extended):  # compile what the configs need, outside the timing
        for config in configs:
            find_problems(config, judging=judge)
    times = paired({name: (lambda judge=judge: [find_problems(c, judging=judge) for c in configs])
                    for name, judge in {"without": plain, "with_two_extensions": extended}.items()}, repeats, inner=5)
    ratio = times["with_two_extensions"] / times["without"]
    return {"configs": len(configs), "ms_all_configs": {k: round(v * 1e3, 2) for k, v in times.items()},
            "ratio": round(ratio, 2),
            "targets": {"validating with two extensions <= 1.5x without": [round(ratio, 2), ratio <= 1.5]}}


def start_up(repeats: int) -> dict[str, Any]:
    """`sat-config validate` of one file in a fresh process, with and without the two extensions (each process
    discovers, checks and merges them)."""
    base = [str(BIN / "sat-config"), "validate", str(ONE_FILE)]
    flags = [arg for path in EXTENSIONS for arg in ("--extension", str(path))]
    times = paired({"without": lambda: wall(base), "with_two_extensions": lambda: wall(base + flags),
                    "python_pass": lambda: wall([sys.executable, "-c", "pass"])}, max(repeats, 5))
    ratio = times["with_two_extensions"] / times["without"]
    return {"ms": {k: round(v * 1e3, 1) for k, v in times.items()}, "ratio": round(ratio, 2),
            "targets": {"start-up with two extensions <= 1.5x without": [round(ratio, 2), ratio <= 1.5]}}


FIGURES = {
    "extensions_in_process_validation": in_process,
    "extensions_start_up": start_up,
}
