"""The dry build that `inspect` and checkpoint checks stand on: parameters on the meta device, only tensors made
from Python values real, a layer that still needs real tensors built alone on the CPU."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

pytest.importorskip("stable_audio_tools")

import torch  # noqa: E402
from stable_audio_tools.models.factory import create_model_from_config as upstream  # noqa: E402

from sat_config.inspection import build_dry, inspect_config  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def fsq_autoencoder() -> dict:
    """The tiny autoencoder example with an FSQ bottleneck (FSQ computes its codebook size with ``.item()``)."""
    config = json.loads((REPO / "examples" / "autoencoder_tiny_vae.json").read_text())
    model = config["model"]
    model["encoder"]["config"]["latent_dim"] = 8
    model["bottleneck"] = {"type": "fsq", "config": {"levels": [8, 5, 5, 5], "dim": 8,
                                                     "keep_num_codebooks_dim": True}}
    return config


def test_fsq_builds_on_meta_with_the_real_parameter_count():
    config = fsq_autoencoder()
    report = inspect_config(config)
    assert report["device"] == "meta" and report["cpu_modules"] == [] and report["fallback_reason"] is None
    config.pop("$schema")
    real = upstream(copy.deepcopy(config))
    assert report["parameters"] == sum(p.numel() for p in real.parameters())


def test_only_tensors_made_from_python_values_are_real():
    config = fsq_autoencoder()
    config.pop("$schema")
    model = build_dry(upstream, config).model
    assert {p.device.type for p in model.parameters()} == {"meta"}
    real = {name: b for name, b in model.named_buffers() if b.device.type == "cpu"}
    assert real and all(name.startswith("bottleneck.quantizer.") for name in real)
    quantizer = model.bottleneck.quantizer
    assert quantizer.codebook_size == 8 * 5 * 5 * 5 and quantizer.implicit_codebook.shape == (1000, 4)


class _NeedsRealTensors(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = torch.nn.Linear(4, 4)
        self.register_buffer("offsets", torch.arange(4) + torch.zeros(4))  # a CPU tensor plus a meta one


class _Model(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.big = torch.nn.Linear(512, 512)
        self.odd = _NeedsRealTensors()


def test_a_layer_that_still_needs_real_tensors_is_built_alone_on_the_cpu():
    original = _NeedsRealTensors.__init__
    build = build_dry(lambda config: _Model(), {})
    assert build.device == "meta" and build.fallback_reason is None
    [entry] = build.cpu_modules
    assert (entry["module"], entry["class"]) == ("odd", "_NeedsRealTensors") and "meta" in entry["reason"]
    assert build.model.big.weight.device.type == "meta" and build.model.odd.proj.weight.device.type == "cpu"
    assert _NeedsRealTensors.__init__ is original  # the class is restored after the build
