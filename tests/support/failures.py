"""Reproducing what a negative case's ``upstream`` key claims: upstream fails at construction, in a training step's
forward pass, in generation, in decoding, or silently ignores the setting. Used by the diffusion, conditioning and
lm tests."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from sat_config.rules.conditioning import inpainting_ids

from .building import build_seeded
from .files import case_config


def _audio(config: dict[str, Any]) -> Any:
    import torch

    torch.manual_seed(0)
    return torch.randn(1, config.get("audio_channels", 2), config["sample_size"])


def _metadata(config: dict[str, Any]) -> list[dict[str, Any]]:
    """One batch item of metadata with an input for every conditioner (text, numbers, audio, audio sources)."""
    import torch

    entries = config["model"].get("conditioning") or {"configs": []}
    audio = torch.randn(2, config["sample_size"])
    item: dict[str, Any] = {}
    for entry in entries["configs"]:
        kind, options = entry["type"], entry["config"].get("options", ["x"])
        sources = {key: audio for key in entry["config"].get("source_keys", [])}
        item[entry["id"]] = {"int": 1, "number": 0.5, "list": options[0], "pretransform": audio,
                             "source_mix": sources}.get(kind, "a prompt")
    return [item]


@contextmanager
def lm_forward_bug_bypassed() -> Iterator[None]:
    """Every lm forward pass fails in 0.0.19 (and upstream HEAD): ContinuousTransformer hands mask= and
    prepend_mask= to TransformerBlock.forward (TypeError). Dropping them shows what fails after that bug."""
    from stable_audio_tools.models.transformer import ContinuousTransformer

    forward = ContinuousTransformer.forward

    def without_masks(self: Any, x: Any, *args: Any, mask: Any = None, prepend_mask: Any = None, **kwargs: Any) -> Any:
        return forward(self, x, *args, **kwargs)

    ContinuousTransformer.forward = without_masks  # type: ignore[method-assign]
    try:
        yield
    finally:
        ContinuousTransformer.forward = forward  # type: ignore[method-assign]


def _diffusion_input(model: Any, config: dict[str, Any], mode: str) -> Any:
    """What the backbone denoises: the (encoded) training audio, or for ``generation`` noise of io_channels."""
    import torch

    audio = _audio(config)
    if mode == "generation":
        ratio = model.pretransform.downsampling_ratio if model.pretransform is not None else 1
        return torch.randn(1, model.io_channels, config["sample_size"] // ratio)
    return model.pretransform.encode(audio) if model.pretransform is not None else audio


def run_training_step(model: Any, config: dict[str, Any], mode: str = "forward", lm_bypass: bool = True) -> Any:
    """Drive a CPU-built model like a training step (the diffusion loss's forward pass, the lm's logits); return
    the output."""
    import torch

    model.eval()
    with torch.no_grad():
        t = torch.full((1,), 0.5)
        if config["model_type"] == "lm":  # tokens as the pretransform would give them, 32 frames
            codes = torch.randint(0, model.lm.codebook_size, (1, model.lm.num_quantizers, 32))
            cond = model.conditioner(_metadata(config), "cpu") if model.conditioner is not None else {}
            if not lm_bypass:
                return model.compute_logits(codes, condition_tensors=cond).logits
            with lm_forward_bug_bypassed():
                return model.compute_logits(codes, condition_tensors=cond).logits
        if config["model_type"] == "diffusion_autoencoder":
            audio = _audio(config)
            latents = model.encode(audio)
            x = model.pretransform.encode(audio) if model.pretransform is not None else audio
            return model.diffusion(x, t, input_concat_cond=latents)
        x = _diffusion_input(model, config, mode)
        if config["model_type"] == "diffusion_uncond":
            return model(x, t)
        cond = model.conditioner(_metadata(config), "cpu") if model.conditioner is not None else {}
        if inpainting_ids(config):  # what inpainting training adds (training/diffusion.py:433)
            cond.update(inpaint_mask=[torch.ones(1, 1, x.shape[-1])], inpaint_masked_input=[x])
        return model(x, t, cond=cond)


def reproduce(case: dict[str, Any], upstream_factory: Any) -> None:
    """Check the failure the case's ``upstream`` key names: at construction, in a training step's forward pass
    (or generation's), as a wrong output, as NaN conditioning, in the timestep shift, in decoding (an error, or
    audio of the wrong length), or none at all (``ignored``: upstream builds, silently not doing what the key
    says)."""
    config, upstream = case_config(case), case["upstream"]
    if upstream in ("construction", "unsupported"):
        with pytest.raises(Exception):  # noqa: B017 - whichever error upstream raises while building
            upstream_factory(copy.deepcopy(config))
        return
    model = build_seeded(upstream_factory, config)
    if upstream in ("forward", "generation"):
        with pytest.raises((RuntimeError, AssertionError, KeyError, AttributeError, TypeError, ValueError,
                            ZeroDivisionError, StopIteration)):
            run_training_step(model, config, upstream)
    elif upstream == "nan":  # no error: the conditioning silently becomes NaN
        import torch

        with torch.no_grad():
            outputs = model.conditioner(_metadata(config), "cpu")
        assert any(not torch.isfinite(tensor).all() for tensor, _ in outputs.values())
    elif upstream == "output":  # the output cannot be compared with what was denoised
        x = _diffusion_input(model, config, "forward")
        assert run_training_step(model, config).shape != x.shape
    elif upstream == "distribution_shift":
        with pytest.raises(ZeroDivisionError):
            model.dist_shift.time_shift(0.5, 1024)
    elif upstream in ("decode", "decode_length"):  # decoding fails, or yields audio of the wrong length
        import torch

        with torch.no_grad():
            latents = model.encode(_audio(config))
            if upstream == "decode":
                with pytest.raises(RuntimeError):
                    model.decode(latents, steps=1)
            else:
                assert model.decode(latents, steps=1).shape[-1] != config["sample_size"]
    else:
        assert upstream == "ignored", upstream
