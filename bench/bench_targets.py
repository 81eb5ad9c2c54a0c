"""Figures of the targets / open-world work (registered in bench/run.py): what start-up, detection and judging
per target cost, each against a baseline measured in the same run."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from run import BIN, FIXTURES, LARGEST, REPO, paired, wall

ONE_FILE = REPO / "examples" / "diffusion_cond_tiny_dit.json"

_DETECT = """
import time
start = time.perf_counter()
from sat_config.targets import detected
imported = time.perf_counter()
env = detected()
print(time.perf_counter() - imported, imported - start)
"""


def _fresh(code: str) -> list[float]:
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return [float(x) for x in out.split()]


def detection(repeats: int) -> dict[str, Any]:
    """Target detection in a fresh process: package metadata and one source file, no imports of either."""
    runs = [_fresh(_DETECT) for _ in range(max(repeats, 5))]
    detect = statistics.median(r[0] for r in runs)
    imported = statistics.median(r[1] for r in runs)
    return {"detect_ms": round(detect * 1e3, 2), "import_targets_ms": round(imported * 1e3, 2),
            "targets": {"detection <= 10 ms per process": [round(detect * 1e3, 2), detect <= 0.010]}}


def per_target(repeats: int) -> dict[str, Any]:
    """In-process validation of the same configs judged for each target: the same work, the same time."""
    import sat_config
    from sat_config.validation import find_problems

    judges = {"installed": sat_config.judging(), "sat-main": sat_config.judging(target="sat-main"),
              "torch 2.6": sat_config.judging(torch="2.6"), "open world": sat_config.judging(unknown_types="warn")}
    # the same verdict in every environment (upstream's InverseLR configs are invalid only for the installed one,
    # and an invalid config pays for the detailed pass): the examples, and upstream's configs without InverseLR
    configs = [json.loads(p.read_text()) for p in [*sorted((REPO / "examples").glob("*.json")), *FIXTURES]
               if '"InverseLR"' not in p.read_text()]
    for judge in judges.values():
        for config in configs:
            find_problems(config, judging=judge)
    times = paired({name: (lambda judge=judge: [find_problems(c, judging=judge) for c in configs])
                    for name, judge in judges.items()}, repeats, inner=5)
    base = times["installed"]
    ratios = {name: round(t / base, 2) for name, t in times.items()}
    worst = max(ratios["sat-main"], ratios["torch 2.6"])
    return {"ms_all_configs": {k: round(v * 1e3, 2) for k, v in times.items()}, "ratio_to_installed": ratios,
            "targets": {"other targets within 1.25x of the installed one (noise)": [worst, worst <= 1.25]}}


def one_file(repeats: int) -> dict[str, Any]:
    """``sat-config validate FILE`` (what pre-commit and editors-on-save run) against a bare interpreter, both
    with their bytecode cached (the first, unmeasured, run writes it): in this environment (an editable install,
    whose path finder makes every interpreter import pathlib, re and urllib at start), and in a regular
    validation-only install like the one pre-commit makes (built here in a temporary venv; skipped with the
    reason when pip cannot install it)."""
    here = _one_file_times(BIN, repeats)
    ratio = here["sat_config_validate"] / here["python_pass"]
    result: dict[str, Any] = {"file": ONE_FILE.name, "ms": {k: round(v * 1e3, 1) for k, v in here.items()},
                              "ratio": round(ratio, 2)}
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True)
        installed = made.returncode == 0 and subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "-c", str(REPO / "constraints.txt"), str(REPO)],
            capture_output=True, text=True).returncode == 0
        if installed:
            regular = _one_file_times(venv / "bin", repeats)
            result["regular_install"] = {"ms": {k: round(v * 1e3, 1) for k, v in regular.items()},
                                         "ratio": round(regular["sat_config_validate"] / regular["python_pass"], 2)}
        else:
            result["regular_install"] = {"skipped": "pip could not install sat-config into a fresh venv"}
    result["targets"] = {"validate one file <= 2.5x python -c pass": [round(ratio, 2), ratio <= 2.5]}
    return result


def _one_file_times(bin_dir: Path, repeats: int) -> dict[str, float]:
    ours = [str(bin_dir / "sat-config"), "validate", str(ONE_FILE)]
    bare = [str(bin_dir / "python"), "-c", "pass"]
    for cmd in (ours, bare):
        wall(cmd)
    return paired({"sat_config_validate": lambda: wall(ours), "python_pass": lambda: wall(bare)}, max(repeats, 9))


def validate_vs_pydantic(repeats: int) -> dict[str, Any]:
    """``validate_config`` of a valid config against the generated pydantic classes' ``model_validate``, with its
    parts alone beside it: the compiled structural check (jsonschema-rs), seeing the config with its defaults (what
    the rules read), and each rule that applies called directly on that (no dispatch, no guards). The floor of any
    design that keeps the rules as Python functions is the check plus the bare rule calls (pydantic runs no
    cross-field rule)."""
    from sat_config.generated.models import ModelConfig

    import sat_config
    from sat_config.defaults import seen
    from sat_config.validation import default_judging

    judge = default_judging()
    engine = judge.engine
    rows = []
    largest = json.loads(LARGEST.read_text())
    runnable = json.loads(json.dumps(largest).replace('"InverseLR"', '"ExponentialLR"'))
    for scheduler in _schedulers(runnable):
        scheduler["config"] = {"gamma": 0.999}
    configs = {p.name: json.loads(p.read_text()) for p in sorted(Path(REPO / "examples").glob("*.json"))}
    configs[f"{LARGEST.stem} (ExponentialLR)"] = runnable
    for name, config in configs.items():
        sat_config.validate_config(config)
        try:
            ModelConfig.model_validate(config)
        except ValueError:  # the classes cannot express top-level "_" comment keys (tests/test_agreement.py)
            continue
        ref = f"#/$defs/{type(ModelConfig.model_validate(config).root).__name__}"
        structure = engine._compiled(ref, judge.env, False)  # the compiled check alone, no rules
        times = paired({"validate_config": lambda c=config: sat_config.validate_config(c),
                        "pydantic": lambda c=config: ModelConfig.model_validate(c),
                        "structure_only": lambda c=config, s=structure: s.is_valid(c),
                        "seen_with_defaults": lambda c=config: seen(c, engine.root),
                        "rules_bare": _bare_rules(config, engine)}, repeats, inner=20)
        floor = times["structure_only"] + times["rules_bare"]
        rows.append({"config": name, "us": {k: round(v * 1e6, 1) for k, v in times.items()},
                     "ratio": round(times["validate_config"] / times["pydantic"], 2),
                     "structure_over_pydantic": round(times["structure_only"] / times["pydantic"], 2),
                     "floor_over_pydantic": round(floor / times["pydantic"], 2)})
    worst = max(r["ratio"] for r in rows)
    return {"rows": rows, "targets": {"validate_config no slower than pydantic model_validate": [worst, worst <= 1.0]}}


def _bare_rules(config: Any, engine: Any) -> Callable[[], None]:
    """One pass of the rules that apply to ``config`` (their ``needs`` met), each check called directly on the
    object seen with its defaults, from empty scratch as in a fresh validation."""
    from sat_config.defaults import seen
    from sat_config.rules import RULES

    calls = []
    for view, place in seen(config, engine.root).sites:
        for rule_id in place.rule_ids:
            rule = RULES[rule_id]
            if rule._replace(check=lambda _: "applies").outcome(view) == "applies":
                calls.append((rule.check, view))
    views = list({id(view): view for _, view in calls}.values())

    def run() -> None:
        for view in views:
            view.scratch.clear()
        for check, view in calls:
            check(view)

    return run


def _schedulers(config: Any) -> list[dict[str, Any]]:
    found = []
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "ExponentialLR":
                found.append(node)
            stack += node.values()
        elif isinstance(node, list):
            stack += node
    return found


FIGURES = {
    "7_target_detection": detection,
    "8_validation_per_target": per_target,
    "9_validate_one_file": one_file,
    "10_validate_config_vs_pydantic": validate_vs_pydantic,
}
