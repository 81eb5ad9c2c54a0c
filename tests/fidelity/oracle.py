"""The upstream oracle: does stable-audio-tools build a config (model, training wrapper, optimizers, demo), and
does sat_config build the same model?"""

from __future__ import annotations

import contextlib
import copy
import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from support.building import state_dict_signature

# Models with more parameters than this are compared by structure on the meta device, smaller ones by value.
VALUE_COMPARE_LIMIT = 5_000_000


@dataclass(frozen=True)
class Outcome:
    """What upstream did with a config: built it, or failed at a stage (model, training, demo)."""

    ok: bool
    stage: str | None = None
    error: str | None = None
    unchecked: str | None = None  # why upstream's verdict cannot be had here (network, memory)

    @property
    def reason(self) -> str:
        return f"{self.stage}: {self.error}" if not self.ok else "built"


def error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 300 else text[:297] + "..."


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence upstream's prints and warnings while it builds."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@contextlib.contextmanager
def shape_only_weight_norm() -> Iterator[None]:
    """Weight norm on the meta device runs PyTorch's Python reference code (~7 ms a layer, most of a build's
    time); meta tensors have no values, so compute only the shapes while the harness builds."""
    import importlib

    import torch

    module = importlib.import_module("torch.nn.utils.weight_norm")  # the package re-exports a function by this name
    real_norm, real_except_dim = module._weight_norm, module.norm_except_dim

    def weight(v: Any, g: Any, dim: int) -> Any:
        return torch.empty_like(v) if v.is_meta else real_norm(v, g, dim)

    def norm(v: Any, pow: Any = 2, dim: int = 0) -> Any:
        if not v.is_meta:
            return real_except_dim(v, pow, dim)
        shape = [1] * v.dim() if dim != -1 else []
        if dim != -1:
            shape[dim] = v.shape[dim]
        return torch.empty(shape, dtype=v.dtype, device="meta")

    module._weight_norm, module.norm_except_dim = weight, norm
    try:
        yield
    finally:
        module._weight_norm, module.norm_except_dim = real_norm, real_except_dim


def upstream_builds(config: dict[str, Any]) -> Outcome:
    """Build ``config`` the way train.py does, without weights or network."""
    import torch
    from stable_audio_tools.models.factory import create_model_from_config

    from sat_config.inspection import build_dry
    from sat_config.placeholders import PlaceholderUnavailableError, network_placeholders

    config = copy.deepcopy(config)
    config.pop("$schema", None)
    with quiet(), shape_only_weight_norm():
        try:
            build = build_dry(create_model_from_config, config)
        except PlaceholderUnavailableError as exc:
            return Outcome(False, "model", error_text(exc), unchecked="needs the network")
        except Exception as exc:
            return Outcome(False, "model", error_text(exc), unchecked=unverifiable(exc))
        if not isinstance(config.get("training"), dict):
            return Outcome(True)
        from stable_audio_tools.training.factory import (
            create_demo_callback_from_config,
            create_training_wrapper_from_config,
        )

        def wrap(model: Any, given: dict[str, Any], device: str) -> None:
            with network_placeholders(), torch.device(device):
                wrapper = create_training_wrapper_from_config(copy.deepcopy(given), model)
                wrapper.configure_optimizers()

        stage = "training"
        try:
            try:
                wrap(build.model, build.config, build.device)
            except Exception as exc:
                if build.device == "cpu" or "meta" not in str(exc).lower():
                    raise
                # a loss, discriminator or EMA copy needs real tensors: model and wrapper again, on the CPU
                given = copy.deepcopy(config)
                with network_placeholders():
                    model = create_model_from_config(given)
                wrap(model, given, "cpu")
            stage = "demo"
            with network_placeholders():
                create_demo_callback_from_config(copy.deepcopy(build.config), demo_dl=[])
        except Exception as exc:
            return Outcome(False, stage, error_text(exc), unchecked=unverifiable(exc))
    return Outcome(True)


def unverifiable(exc: BaseException) -> str | None:
    """Why a failure is not upstream's verdict on the config, if it is not: a CPU fallback ran out of the memory
    ``limit_memory`` allows, or the config names a file (a checkpoint) that does not exist here, which validation
    never opens, by design."""
    if isinstance(exc, FileNotFoundError):
        return "names a file that is not here"
    exhausted = isinstance(exc, MemoryError) or "can't allocate memory" in str(exc)
    return "too large for the CPU fallback" if exhausted else None


def limit_memory(gigabytes: float) -> None:
    """Cap this process's heap, so that a drawn config that must be built on the CPU cannot exhaust the
    machine (``make fuzz`` workers; never the test process)."""
    import resource

    limit = int(gigabytes * 2**30)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, resource.getrlimit(resource.RLIMIT_DATA)[1]))


def has_constructor(config: Any) -> bool:
    from sat_config.errors import FactoryUnavailableError
    from sat_config.factories import resolve_factory

    try:
        resolve_factory(config["model_type"])
    except FactoryUnavailableError:
        return False
    return True


def equivalence(config: Any) -> str | None:
    """None when sat_config and upstream build the same model (same seed), else what differs."""
    import torch
    from stable_audio_tools.models.factory import create_model_from_config as upstream

    import sat_config
    from sat_config.inspection import build_dry
    from sat_config.placeholders import network_placeholders

    plain = copy.deepcopy(config)
    plain.pop("$schema", None)
    with quiet(), network_placeholders(), shape_only_weight_norm():  # it touches meta tensors only
        try:  # the size, from the build `sat-config inspect` makes
            probe = build_dry(upstream, plain)
            size = sum(p.numel() for p in probe.model.parameters()) if probe.device == "meta" else 0
        except Exception:
            size = 0  # needs real tensors while building: small enough for a CPU comparison in practice
        device = "cpu" if size <= VALUE_COMPARE_LIMIT else "meta"
        with torch.device(device):
            torch.manual_seed(0)
            ours = sat_config.create_model_from_config(plain)
            torch.manual_seed(0)
            theirs = upstream(copy.deepcopy(plain))
    if type(ours) is not type(theirs):
        return f"class {type(ours).__name__} != {type(theirs).__name__}"
    a, b = state_dict_signature(ours), state_dict_signature(theirs)
    if list(a) != list(b):
        return f"state_dict keys differ: {sorted(set(a) ^ set(b))[:5]}"
    differs = next((key for key in a if a[key] != b[key]), None)
    if differs is not None:
        return f"{differs}: {a[differs]} != {b[differs]}"
    if device == "cpu":
        values = theirs.state_dict()
        differs = next((key for key, tensor in ours.state_dict().items() if not torch.equal(tensor, values[key])), None)
        if differs is not None:
            return f"{differs}: values differ"
    if [p.requires_grad for p in ours.parameters()] != [p.requires_grad for p in theirs.parameters()]:
        return "requires_grad differs"
    return None
