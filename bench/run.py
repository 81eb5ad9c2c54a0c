"""``make bench``: what users feel, each figure against its baseline measured in the same run.

Absolute times on shared machines are noisy; ratios measured side by side are not. Every figure is a median of
several repetitions, alternating contender and baseline. Results go to bench/results.json and bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
FIXTURES = sorted((REPO.parent / "shared" / "reference" / "upstream-configs").glob("*.json"))  # upstream's examples
SCHEMA = REPO / "generated" / "schema.json"
BIN = Path(sys.executable).parent
LARGEST = max(FIXTURES, key=lambda p: p.stat().st_size)


def median_time(fn: Callable[[], Any], repeats: int, inner: int = 1) -> float:
    """Median seconds per call of ``fn`` over ``repeats`` rounds of ``inner`` calls."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - start) / inner)
    return statistics.median(samples)


def paired(fns: dict[str, Callable[[], Any]], repeats: int, inner: int = 1) -> dict[str, float]:
    """Median per-call time of each function, rounds interleaved (in alternating order) so drift hits all of them
    alike."""
    samples: dict[str, list[float]] = {name: [] for name in fns}
    order = list(fns.items())
    for _ in range(repeats):
        for name, fn in order:
            samples[name].append(median_time(fn, 1, inner))
        order.reverse()  # who runs first in a round (after the previous round's garbage) alternates
    return {name: statistics.median(values) for name, values in samples.items()}


def in_process_validation(repeats: int) -> dict[str, Any]:
    from jsonschema import Draft202012Validator
    from sat_config.generated.models import ModelConfig

    from sat_config.validation import find_problems, load_bundled_schema, validator

    plain = Draft202012Validator(load_bundled_schema())
    validator()  # build once, outside the timing
    find_problems({})
    rows = []
    for path in FIXTURES:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)

        def pydantic_validate(data: Any = data) -> None:
            try:
                ModelConfig.model_validate(data)
            except ValueError:
                pass

        times = paired({
            "sat_config": lambda data=data: find_problems(data),
            "plain_jsonschema": lambda data=data: list(plain.iter_errors(data)),
            "pydantic": pydantic_validate,
            "json_loads": lambda text=text: json.loads(text),
        }, repeats, inner=20)
        rows.append({
            "file": path.name,
            "valid": find_problems(data) == [],
            "us": {k: round(v * 1e6, 1) for k, v in times.items()},
            "vs_json_loads": round(times["sat_config"] / times["json_loads"], 2),
            "plain_jsonschema_over_sat_config": round(times["plain_jsonschema"] / times["sat_config"], 1),
            "pydantic_over_sat_config": round(times["pydantic"] / times["sat_config"], 1),
        })
    largest = next(r for r in rows if r["file"] == LARGEST.name)
    return {
        "rows": rows,
        "largest": largest["file"],
        "targets": {
            "largest within 10x json.loads": [largest["vs_json_loads"], largest["vs_json_loads"] <= 10],
            "largest >= 2x faster than plain jsonschema":
                [largest["plain_jsonschema_over_sat_config"], largest["plain_jsonschema_over_sat_config"] >= 2],
        },
    }


def wall(cmd: list[str]) -> float:
    """Seconds a command takes, run as a user's shell would: with bytecode caching (this workplace's sessions set
    PYTHONDONTWRITEBYTECODE, which makes every process compile every module it imports)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def child(code: str) -> Any:
    """The JSON a Python child process prints last (its figures); its error output when it fails."""
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def cli(repeats: int) -> dict[str, Any]:
    files = [str(p) for p in FIXTURES]
    ours = [str(BIN / "sat-config"), "validate", *files]
    theirs = [str(BIN / "check-jsonschema"), "--schemafile", str(SCHEMA), *files]
    times = paired({"sat_config": lambda: wall(ours), "check_jsonschema": lambda: wall(theirs)}, repeats)
    imports = {}
    for module in ("sat_config", "jsonschema"):
        code = f"import time; s = time.perf_counter(); import {module}; print(time.perf_counter() - s)"
        samples = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout)
                   for _ in range(repeats)]
        imports[module] = statistics.median(samples)
    probe = "import sys, sat_config; print('torch' in sys.modules)"
    torch_loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip()
    ratio = times["sat_config"] / times["check_jsonschema"]
    return {
        "files": len(files),
        "s": {k: round(v, 3) for k, v in times.items()},
        "sat_config_over_check_jsonschema": round(ratio, 2),
        "import_s": {k: round(v, 4) for k, v in imports.items()},
        "import_sat_config_over_jsonschema": round(imports["sat_config"] / imports["jsonschema"], 2),
        "import_sat_config_loads_torch": torch_loaded == "True",
        "targets": {"at most half of check-jsonschema's wall time": [round(ratio, 2), ratio <= 0.5]},
    }


def scale(repeats: int) -> dict[str, Any]:
    from sat_config.validation import find_problems

    data = json.loads(LARGEST.read_text(encoding="utf-8"))
    configs = [json.loads(json.dumps(data)) for _ in range(1000)]
    for i, config in enumerate(configs):
        config["sample_size"] = 65536 * (1 + i % 7)  # distinct objects, same shape
    find_problems(configs[0])
    rows = []
    for count in (1, 10, 100, 1000):
        batch = configs[:count]
        inner = max(1, 1000 // count)  # every sample covers ~1000 validations, so timer noise is equal
        seconds = median_time(lambda batch=batch: [find_problems(c) for c in batch], repeats, inner)
        rows.append({"configs": count, "s": round(seconds, 5), "per_second": round(count / seconds)})
    per_config = [r["s"] / r["configs"] for r in rows]
    spread = max(per_config[1:]) / min(per_config[1:])
    # Linear growth keeps per-config time flat; 1000 distinct configs pay some cache misses, so allow 2x.
    return {"rows": rows, "targets": {"linear (per-config time 10..1000 within 2x)": [round(spread, 2), spread <= 2]}}


_RSS_CHILD = """
import json, resource, sys, time
sys.path.insert(0, {repo!r})
start = time.perf_counter()
{body}
print(json.dumps({{"s": time.perf_counter() - start,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def _child(body: str) -> dict[str, float]:
    figures: dict[str, float] = child(_RSS_CHILD.format(repo=str(REPO), body=body))
    return figures


def dry_run(repeats: int) -> dict[str, Any]:
    target = REPO.parent / "shared" / "reference" / "upstream-configs" / "txt2audio--stable_audio_2_0.json"
    inspect = (
        "import subprocess\n"
        f"from sat_config.inspection import inspect_config_path\n"
        f"report = inspect_config_path({str(target)!r})\n"
    )
    real = (
        "import json, torch\n"
        "from sat_config.placeholders import network_placeholders\n"
        "from stable_audio_tools.models.factory import create_model_from_config\n"
        f"config = json.load(open({str(target)!r}))\n"
        "with network_placeholders():\n"
        "    model = create_model_from_config(config)\n"
    )
    runs = {"inspect": [], "real_cpu_build": []}
    for _ in range(repeats):
        runs["inspect"].append(_child(inspect))
        runs["real_cpu_build"].append(_child(real))
    med = {k: {m: statistics.median(r[m] for r in v) for m in ("s", "peak_mib")} for k, v in runs.items()}
    return {
        "config": target.name,
        "inspect": {k: round(v, 2) for k, v in med["inspect"].items()},
        "real_cpu_build": {k: round(v, 2) for k, v in med["real_cpu_build"].items()},
        "time_ratio": round(med["inspect"]["s"] / med["real_cpu_build"]["s"], 3),
        "peak_rss_ratio": round(med["inspect"]["peak_mib"] / med["real_cpu_build"]["peak_mib"], 3),
        "targets": {"inspect peak RSS under 1 GiB": [round(med["inspect"]["peak_mib"]),
                                                     med["inspect"]["peak_mib"] < 1024]},
    }


def overhead(repeats: int) -> dict[str, Any]:
    import copy

    import torch
    from stable_audio_tools.models.factory import create_model_from_config as upstream

    import sat_config

    shipped = REPO.parent / "shared/reference/upstream-configs/autoencoders--stable_audio_2_0_vae.json"
    config = json.loads(shipped.read_text())
    torch.manual_seed(0)
    with warnings.catch_warnings():  # the shipped training section uses InverseLR: reported, not the point here
        warnings.simplefilter("ignore")
        upstream(copy.deepcopy(config))  # warm imports and allocator
        sat_config.create_model_from_config(config)  # warm the validators
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        times = paired({
            "sat_config": lambda: sat_config.create_model_from_config(config),
            "upstream": lambda: upstream(copy.deepcopy(config)),
        }, max(repeats, 15))  # a 0.5 s build varies by a few percent from run to run: more rounds for a 2% target
    ratio = times["sat_config"] / times["upstream"]
    return {"config": "autoencoders--stable_audio_2_0_vae.json", "s": {k: round(v, 3) for k, v in times.items()},
            "ratio": round(ratio, 3), "targets": {"ratio <= 1.02": [round(ratio, 3), ratio <= 1.02]}}


def codegen(repeats: int) -> dict[str, Any]:
    seconds = statistics.median(wall([sys.executable, "-m", "generator", "--check"]) for _ in range(repeats))
    fresh = subprocess.run([sys.executable, "-m", "generator", "--check"], cwd=REPO, capture_output=True).returncode
    return {"make_gen_s": round(seconds, 2), "output_unchanged": fresh == 0,
            "targets": {"regenerated output identical to generated/": [fresh == 0, fresh == 0]}}


FIGURES = {
    "1_in_process_validation": in_process_validation,
    "2_cli": cli,
    "3_scale": scale,
    "4_dry_run": dry_run,
    "5_overhead": overhead,
    "6_codegen": codegen,
}


def render_markdown(results: dict[str, Any]) -> str:
    lines = ["# Benchmark results", "", f"Written by `make bench` ({results['machine']}). Ratios are medians of "
             f"{results['repeats']} interleaved repetitions measured in the same run.", ""]
    lines += ["| figure | target | measured | met |", "|---|---|---|---|"]
    for name, figure in results["figures"].items():
        if "error" in figure:
            lines.append(f"| {name} | — | failed: {figure['error'][:120]} | no |")
            continue
        for target, (value, met) in figure["targets"].items():
            lines.append(f"| {name} | {target} | {value} | {'yes' if met else '**no**'} |")
    fig1 = results["figures"].get("1_in_process_validation", {})
    if "rows" in fig1:
        lines += ["", "## 1. In-process validation (µs per config)", "",
                  "| file | valid | sat_config | plain jsonschema | pydantic | json.loads | ×json.loads |",
                  "|---|---|---|---|---|---|---|"]
        for row in fig1["rows"]:
            us = row["us"]
            lines.append(f"| {row['file']} | {row['valid']} | {us['sat_config']} | {us['plain_jsonschema']} | "
                         f"{us['pydantic']} | {us['json_loads']} | {row['vs_json_loads']} |")
    lines += ["", "## Raw figures", "", "```json", json.dumps(results["figures"], indent=2), "```", ""]
    return "\n".join(lines)


def _register_modules() -> None:
    """Add the figures of bench/bench_*.py (each module's FIGURES), in name order."""
    import importlib

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    for module in sorted(Path(__file__).resolve().parent.glob("bench_*.py")):
        FIGURES.update(importlib.import_module(module.stem).FIGURES)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", nargs="*", help="run only these figures (names as in bench/RESULTS.md)")
    args = parser.parse_args(argv)
    _register_modules()
    results: dict[str, Any] = {"machine": f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}",
                               "repeats": args.repeats, "figures": {}}
    for name, figure in FIGURES.items():
        if args.only and name not in args.only:
            continue
        print(f"== {name}", flush=True)
        try:
            results["figures"][name] = figure(args.repeats)
        except Exception as exc:  # a figure that cannot run is reported, not hidden
            results["figures"][name] = {"error": f"{type(exc).__name__}: {exc}", "targets": {}}
        shown = results["figures"][name] if args.only else results["figures"][name].get("targets", {})
        print(json.dumps(shown), flush=True)  # --only: the whole figure (results.json is left alone)
    if not args.only:
        (REPO / "bench" / "results.json").write_text(json.dumps(results, indent=2) + "\n")
        (REPO / "bench" / "RESULTS.md").write_text(render_markdown(results))
    missed = [(n, t) for n, f in results["figures"].items() for t, (_, met) in f.get("targets", {}).items() if not met]
    for name, target in missed:
        print(f"target missed: {name}: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
