"""Figures of checkpoint checks (``inspect --ckpt``) and of the meta-device build they stand on (registered by
bench/run.py). Every measurement is a fresh process (its time and peak RSS), alternated with its baseline.
Checkpoints are written at bench time into a temporary directory: nothing large is committed."""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from run import REPO, child

SA2 = REPO.parent / "shared" / "reference" / "upstream-configs" / "txt2audio--stable_audio_2_0.json"
MIB = 1024 * 1024

# Peak RSS from /proc/self/status (VmHWM, this process's own address space): getrusage's ru_maxrss survives
# execve on Linux, so a child would report its parent's peak when that was larger.
_CHILD = """
import json, re, sys, time
sys.path.insert(0, {repo!r})
start = time.perf_counter()
extra = {{}}
{body}
peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read())[1]) / 1024
print(json.dumps({{"s": time.perf_counter() - start, "peak_mib": peak, **extra}}))
"""
_INSPECT = """
import stable_audio_tools.models.factory, stable_audio_tools.models.diffusion, stable_audio_tools.models.dit
from sat_config.inspection import inspect_config_path
import sat_config.checkpoint_check
work = time.perf_counter()
report = inspect_config_path({config!r}, checkpoint={ckpt!r})
extra["work_s"] = time.perf_counter() - work  # the inspection itself, after the imports every run shares
extra["parameters"] = report["parameters"]
extra["device"], extra["cpu_modules"] = report["device"], report["cpu_modules"]
if {ckpt!r} is not None:
    extra["loads"] = report["checkpoint"]["loads"]
"""
_IMPORT_FLOOR = """
import torch
import stable_audio_tools.models.factory, stable_audio_tools.models.diffusion, stable_audio_tools.models.dit
import stable_audio_tools.models.autoencoders, stable_audio_tools.models.conditioners
import stable_audio_tools.models.pretransforms, stable_audio_tools.models.bottleneck
import sat_config.inspection, sat_config.checkpoint_check
"""
_REAL_BUILD = """
import json
from sat_config.placeholders import network_placeholders
from stable_audio_tools.models.factory import create_model_from_config
config = json.load(open({config!r}))
config.pop("$schema", None)
with network_placeholders():
    model = create_model_from_config(config)
extra["parameters"] = sum(p.numel() for p in model.parameters())
"""


def _run(body: str) -> dict[str, Any]:
    figures: dict[str, Any] = child(_CHILD.format(repo=str(REPO), body=body))
    return figures


def _medians(runs: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, float]]:
    return {name: {m: round(statistics.median(r[m] for r in rs), 3) for m in ("s", "work_s", "peak_mib")
                   if m in rs[0]} for name, rs in runs.items()}


def _dit(embed_dim: int) -> dict[str, Any]:
    """An unconditional DiT of depth 12: embed_dim 1280 holds ~1 GB of float32 weights, 128 about 10 MB."""
    config = json.loads((REPO / "examples" / "diffusion_uncond_tiny_dit.json").read_text())
    config.pop("$schema", None)
    config["model"]["config"].update(embed_dim=embed_dim, depth=12, num_heads=4)
    return config


_WRITE = """
import json, torch
from safetensors.torch import save_file
from stable_audio_tools.models.factory import create_model_from_config
paths = {paths!r}
config = json.load(open(paths["config"]))
with torch.device("meta"):
    model = create_model_from_config(config)
state = {{k: torch.zeros(v.shape, dtype=v.dtype) for k, v in model.state_dict().items()}}
save_file(state, paths["safetensors"])
torch.save({{"state_dict": {{"diffusion." + k: v for k, v in state.items()}}, "global_step": 1,
            "optimizer_states": []}}, paths["ckpt"])
"""


def _write_checkpoints(config: dict[str, Any], folder: Path, name: str) -> dict[str, Any]:
    """The config, and its model's weights as safetensors and as a Lightning-style .ckpt (zeros: the content
    does not matter, only the size), written by a child process so this one stays small."""
    paths = {"config": str(folder / f"{name}.json"), "safetensors": str(folder / f"{name}.safetensors"),
             "ckpt": str(folder / f"{name}.ckpt")}
    Path(paths["config"]).write_text(json.dumps(config))
    _run(_WRITE.format(paths=paths))
    return {"paths": paths, "mib": round(Path(paths["safetensors"]).stat().st_size / MIB, 1)}


def checkpoint_size(repeats: int) -> dict[str, Any]:
    """Checking a ~1 GB checkpoint against one of ~10 MB (same layers, other widths), and against inspect
    without a checkpoint: reading headers costs the same whatever the weights weigh. Times compare the
    inspection after the imports every process shares (interpreter and torch start-up, about 4 s here, are
    reported in ``s`` but would only add noise to the ratio)."""
    with tempfile.TemporaryDirectory(prefix="sat-bench-ckpt-") as tmp:
        files = {"10MB": _write_checkpoints(_dit(128), Path(tmp), "small"),
                 "1GB": _write_checkpoints(_dit(1280), Path(tmp), "large")}
        jobs = {}
        for size, entry in files.items():
            paths = entry["paths"]
            jobs[f"inspect_{size}"] = _INSPECT.format(config=paths["config"], ckpt=None)
            for fmt in ("safetensors", "ckpt"):
                jobs[f"{fmt}_{size}"] = _INSPECT.format(config=paths["config"], ckpt=paths[fmt])
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in jobs}
        for _ in range(repeats):
            for name, body in jobs.items():
                runs[name].append(_run(body))
    assert all(r["loads"] == "strict" for name, rs in runs.items() if not name.startswith("inspect") for r in rs)
    med = _medians(runs)
    targets = {}
    for fmt in ("safetensors", "ckpt"):
        big, small = med[f"{fmt}_1GB"], med[f"{fmt}_10MB"]
        time_ratio, rss_ratio = big["work_s"] / small["work_s"], big["peak_mib"] / small["peak_mib"]
        targets[f"{fmt}: 1 GB vs 10 MB time within 1.2x (after imports)"] = [round(time_ratio, 3), time_ratio <= 1.2]
        targets[f"{fmt}: 1 GB vs 10 MB peak RSS within 1.2x"] = [round(rss_ratio, 3), rss_ratio <= 1.2]
        extra = big["peak_mib"] - med["inspect_1GB"]["peak_mib"]
        targets[f"{fmt}: 1 GB check within 200 MB of inspect without it (MiB)"] = [round(extra), extra <= 200]
    return {"checkpoint_mib": {k: v["mib"] for k, v in files.items()}, "medians": med, "targets": targets}


def fsq_meta_build(repeats: int) -> dict[str, Any]:
    """Stable Audio 2.0 with an FSQ bottleneck in its VAE (FSQ reads its codebook size with .item() while
    building): inspect against the import floor, and its parameter count against a real CPU build."""
    config = json.loads(SA2.read_text())
    vae = config["model"]["pretransform"]["config"]
    vae["encoder"]["config"]["latent_dim"] = vae["latent_dim"]
    vae["bottleneck"] = {"type": "fsq", "config": {"levels": [8, 8, 8, 5, 5, 5], "dim": vae["latent_dim"],
                                                   "keep_num_codebooks_dim": True}}
    config.pop("training", None)
    with tempfile.TemporaryDirectory(prefix="sat-bench-fsq-") as tmp:
        path = Path(tmp) / "stable_audio_2_0_fsq.json"
        path.write_text(json.dumps(config))
        runs: dict[str, list[dict[str, Any]]] = {"import_floor": [], "inspect": []}
        for _ in range(repeats):
            runs["import_floor"].append(_run(_IMPORT_FLOOR))
            runs["inspect"].append(_run(_INSPECT.format(config=str(path), ckpt=None)))
        real = _run(_REAL_BUILD.format(config=str(path)))
    med = _medians(runs)
    inspected = runs["inspect"][0]
    above = med["inspect"]["peak_mib"] - med["import_floor"]["peak_mib"]
    return {
        "config": "txt2audio--stable_audio_2_0.json with an fsq bottleneck",
        "medians": med, "device": inspected["device"], "cpu_modules": inspected["cpu_modules"],
        "real_cpu_build": {"s": round(real["s"], 2), "peak_mib": round(real["peak_mib"])},
        "parameters": {"inspect": inspected["parameters"], "real_build": real["parameters"]},
        "targets": {
            "inspect within 200 MB of the import floor (MiB above it)": [round(above), above <= 200],
            "same parameter count as a real build": [inspected["parameters"] == real["parameters"],
                                                     inspected["parameters"] == real["parameters"]],
        },
    }


FIGURES = {
    "11_checkpoint_size": checkpoint_size,
    "12_fsq_meta_build": fsq_meta_build,
}


if __name__ == "__main__":
    for name, figure in FIGURES.items():
        print(name, json.dumps(figure(int(sys.argv[1]) if len(sys.argv) > 1 else 3), indent=2), flush=True)
