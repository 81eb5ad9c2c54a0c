"""``sat-config inspect``: validate a config, build it without weights, and report what it would train.

The model is built by upstream's own constructors on ``torch.device("meta")`` (parameters have shapes but no
memory), with the pieces that download at construction replaced by stand-ins (``sat_config.placeholders``).
Tensors made from Python values while building (``torch.tensor(levels)``) get real storage, so layers that read
them (``.item()``) build on the meta device too; a layer that still needs real tensors is built on the CPU alone,
and a failure outside any layer's constructor makes the whole build fall back to the CPU. Every figure in the
report is read from the built modules, not re-derived from the config.
"""

from __future__ import annotations

import copy
import functools
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._device import _device_constructors

from .api import DISCRIMINATOR, for_upstream, judging, problems_in_document, raise_for_problems, to_plain
from .errors import Problem
from .factories import ModelFactory, resolve_factory
from .loader import read_document
from .placeholders import Replacement, network_placeholders
from .validation import Judging, find_problems

ROLES = {"model": "backbone", "lm": "backbone", "diffusion": "backbone"}
ROUTES = (
    ("cross_attention", "cross_attn_cond_ids"),
    ("global", "global_cond_ids"),
    ("prepend", "prepend_cond_ids"),
    ("input_concat", "input_concat_ids"),
)


DATA_CONSTRUCTORS = ("tensor", "as_tensor", "asarray", "scalar_tensor", "arange", "range", "linspace", "logspace",
                     "tril_indices", "triu_indices")
REAL_LIMIT = 1 << 22
"""Largest tensor (elements) made from Python values that a dry build gives real storage."""


class MetaExceptData(TorchFunctionMode):
    """Tensors a constructor makes from nothing (``empty``, ``zeros``, ``randn``: parameters and their
    initialisation) go to the meta device; tensors made from Python values (``torch.tensor(levels)``,
    ``arange(n)``, up to REAL_LIMIT elements) get real CPU storage, so a layer that reads them while building
    (``.item()``) still builds. A device given explicitly is kept."""

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if func in _device_constructors() and kwargs.get("device") is None:
            from_tensor = bool(args) and isinstance(args[0], torch.Tensor)
            if getattr(func, "__name__", "") in DATA_CONSTRUCTORS and not from_tensor:
                probe = func(*args, **{**kwargs, "device": "meta"})
                return probe if probe.numel() > REAL_LIMIT else func(*args, **{**kwargs, "device": "cpu"})
            if not from_tensor:
                kwargs["device"] = "meta"
        return func(*args, **kwargs)


class OnCpu(TorchFunctionMode):
    """Every constructor without an explicit device builds on the CPU (for layers that need real tensors)."""

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if func in _device_constructors() and kwargs.get("device") is None:
            kwargs["device"] = "cpu"
        return func(*args, **kwargs)


@contextmanager
def meta_device(cpu_classes: Sequence[type] = ()) -> Iterator[None]:
    """Build on the meta device (``MetaExceptData``); instances of ``cpu_classes`` are built on the CPU."""
    originals = {cls: vars(cls)["__init__"] for cls in cpu_classes if "__init__" in vars(cls)}

    def on_cpu(init: Any) -> Any:
        @functools.wraps(init)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
            with OnCpu():
                init(self, *args, **kwargs)
        return wrapper

    try:
        for cls, init in originals.items():
            cls.__init__ = on_cpu(init)  # type: ignore[misc]
        with MetaExceptData():
            yield
    finally:
        for cls, init in originals.items():
            cls.__init__ = init  # type: ignore[misc]


def _failing_layer(exc: BaseException) -> type | None:
    """The class of the innermost module whose constructor raised ``exc``, if one did."""
    found = None
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        owner = frame.f_locals.get("self")
        if frame.f_code.co_name == "__init__" and isinstance(owner, torch.nn.Module):
            found = next((c for c in type(owner).__mro__ if "__init__" in vars(c)
                          and vars(c)["__init__"].__code__ is frame.f_code), type(owner))
        tb = tb.tb_next
    return found


@dataclass
class DryBuild:
    """A model built without weights: where it was built, why it fell back, what was replaced, and the copy of
    the config upstream was given (some constructors change it in place, as train.py's later calls see it).
    ``cpu_modules`` names the layers built on the CPU because they need real tensors while building."""

    model: Any
    device: str  # "meta" or "cpu"
    seconds: float
    config: dict[str, Any]
    fallback_reason: str | None = None
    replacements: list[Replacement] = field(default_factory=list)
    cpu_modules: list[dict[str, str]] = field(default_factory=list)


def _needs_real_tensors(exc: Exception) -> bool:
    return "meta" in str(exc).lower()


def build_dry(factory: ModelFactory, config: dict[str, Any], cpu_fallback: bool = True) -> DryBuild:
    """``factory(config)`` on the meta device with offline stand-ins. A layer whose constructor needs real
    tensors (the error names the meta device: ``.item()``, a copy out of a meta tensor) is built on the CPU, and
    the build repeated; when the failure is not inside a layer's constructor, the whole model is built on the
    CPU (unless ``cpu_fallback`` is false: then the error is raised). Any other error is the config's own and is
    raised as it is."""
    start = time.perf_counter()
    cpu_classes: list[type] = []
    reasons: dict[type, str] = {}
    with network_placeholders() as replaced:
        while True:
            del replaced[:]
            given = copy.deepcopy(config)
            try:
                with meta_device(cpu_classes):
                    model = factory(given)
            except Exception as exc:
                if not _needs_real_tensors(exc):
                    raise
                layer = _failing_layer(exc)
                reason = f"{type(exc).__name__}: {exc}"
                if layer is None or layer in cpu_classes:
                    if not cpu_fallback:
                        raise
                    break
                cpu_classes.append(layer)
                reasons[layer] = reason
                continue
            cpu = [{"module": name, "class": type(m).__name__, "reason": reasons[cls]}
                   for name, m in model.named_modules() for cls in cpu_classes if isinstance(m, cls)]
            return DryBuild(model, "meta", time.perf_counter() - start, given, None, list(replaced), cpu)
        del replaced[:]
        given = copy.deepcopy(config)
        model = factory(given)
        return DryBuild(model, "cpu", time.perf_counter() - start, given, reason, list(replaced))


def _counts(module: Any) -> dict[str, int]:
    total = trainable = 0
    for param in module.parameters():
        total += param.numel()
        trainable += param.numel() if param.requires_grad else 0
    return {"parameters": total, "trainable": trainable, "frozen": total - trainable}


def _submodules(model: Any) -> list[dict[str, Any]]:
    return [{"name": name, "role": ROLES.get(name, name), "class": type(child).__name__, **_counts(child)}
            for name, child in model.named_children()]


def _placeholders_in(model: Any, replacements: list[Replacement]) -> list[dict[str, Any]]:
    """Where each stand-in sits in the built model (dotted attribute path). Its weights count as the real ones
    unless it is a registered submodule (part of ``model.parameters()``) without the real parameter count."""
    found: list[dict[str, Any]] = []
    seen: set[int] = set()
    stack: list[tuple[Any, str, bool]] = [(model, "", True)]
    while stack:
        obj, path, registered = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        replacement = getattr(obj, "sat_placeholder", None)
        if isinstance(replacement, Replacement):
            found.append({"module": path or "(model)", "kind": replacement.kind, "what": replacement.what,
                          "note": replacement.note, "weights_counted": replacement.counted or not registered})
        if not isinstance(obj, torch.nn.Module):
            continue
        children = dict(obj.named_children())
        hidden = {k: v for k, v in vars(obj).items() if not k.startswith("_") and k not in children}
        for name, value in list(children.items()) + list(hidden.items()):
            if isinstance(value, torch.nn.Module) or hasattr(value, "sat_placeholder"):
                stack.append((value, f"{path}.{name}" if path else name, registered and name in children))
    found.sort(key=lambda entry: entry["module"])
    missing = [r for r in replacements if not any(f["what"] == r.what and f["kind"] == r.kind for f in found)]
    found += [{"module": None, "kind": r.kind, "what": r.what, "note": r.note, "weights_counted": True}
              for r in missing]
    return found


def _audio_chain(model: Any, sample_size: Any) -> dict[str, Any]:
    pretransform = getattr(model, "pretransform", None)
    if hasattr(model, "latent_dim") and hasattr(model, "encoder"):  # AudioAutoencoder, DiffusionAutoencoder
        chain = {"audio_channels": model.in_channels, "output_channels": model.out_channels,
                 "downsampling_ratio": model.downsampling_ratio, "latent_channels": model.latent_dim}
    elif pretransform is not None:
        chain = {"audio_channels": pretransform.io_channels, "downsampling_ratio": pretransform.downsampling_ratio,
                 "latent_channels": pretransform.encoded_channels}
    else:  # a diffusion model working on audio directly
        chain = {"audio_channels": model.io_channels, "downsampling_ratio": 1, "latent_channels": model.io_channels}
    if hasattr(model, "io_channels") and not hasattr(model, "encoder"):
        chain["backbone_io_channels"] = model.io_channels
    for attr in ("num_quantizers", "codebook_size", "min_input_length"):
        value = getattr(model, attr, None)
        if value is not None:
            chain[attr] = int(value)
    sample_rate, ratio = getattr(model, "sample_rate", None), chain["downsampling_ratio"]
    chain = {"sample_rate": sample_rate, **chain}
    if isinstance(ratio, int) and ratio > 0 and isinstance(sample_rate, int):
        chain["latents_per_second"] = sample_rate / ratio
    if isinstance(sample_size, int):
        chain["sample_size"] = sample_size
        if isinstance(ratio, int) and ratio > 0:
            chain["latent_length"] = sample_size // ratio
            chain["sample_size_remainder"] = sample_size % ratio
    return chain


def _conditioning(model: Any) -> dict[str, Any] | None:
    conditioner = getattr(model, "conditioner", None)
    routes = {route: list(getattr(model, attr, None) or []) for route, attr in ROUTES if hasattr(model, attr)}
    if conditioner is None and not any(routes.values()):
        return None
    inputs = []
    modules = dict(conditioner.conditioners.items()) if conditioner is not None else {}
    for cond_id, module in modules.items():
        inputs.append({"id": cond_id, "class": type(module).__name__, "width": module.dim,
                       "output_dim": module.output_dim,
                       "routes": [route for route, ids in routes.items() if cond_id in ids], **_counts(module)})
    for cond_id in dict.fromkeys(i for ids in routes.values() for i in ids):
        if cond_id not in modules:  # e.g. inpainting's inpaint_mask: supplied with the batch, not conditioned
            inputs.append({"id": cond_id, "class": None, "width": None, "output_dim": None,
                           "routes": [route for route, ids in routes.items() if cond_id in ids]})
    return {
        "inputs": inputs,
        "default_keys": dict(getattr(conditioner, "default_keys", None) or {}),
        "pre_encoded_keys": list(getattr(conditioner, "pre_encoded_keys", None) or []),
    }


def report_for(build: DryBuild, config: dict[str, Any]) -> dict[str, Any]:
    """The inspection report (JSON-ready) of a dry build of ``config``."""
    model = build.model
    return {
        "model_type": config[DISCRIMINATOR],
        "model_class": type(model).__name__,
        "device": build.device,
        "fallback_reason": build.fallback_reason,
        "cpu_modules": build.cpu_modules,
        "build_seconds": round(build.seconds, 3),
        **_counts(model),
        "submodules": _submodules(model),
        "audio": _audio_chain(model, config.get("sample_size")),
        "conditioning": _conditioning(model),
        "placeholders": _placeholders_in(model, build.replacements),
    }


class BuildError(RuntimeError):
    """stable-audio-tools failed to build a config that validates (the message names upstream's exception)."""


def _training_only(problems: list[Problem]) -> bool:
    """Every error lies in ``training``, which building the model never reads (warnings never stop a build)."""
    return all(p.parts[:1] == ("training",) for p in problems if p.is_error)


def inspect_config(config: Any, problems: list[Problem] | None = None, *, judge: Judging | None = None,
                   checkpoint: str | Path | None = None,
                   pretransform_checkpoint: str | Path | None = None) -> dict[str, Any]:
    """Validate ``config``, build it without weights, and return the report. Problems confined to the
    ``training`` section do not stop the model from being inspected: they are the report's ``problems``
    (Problem objects; the config is still invalid), like warnings; any other error raises ConfigError. ``judge``
    (``sat_config.judging(...)``) says what to judge against and which extensions to use. Raises
    FactoryUnavailableError when no constructor is installed, BuildError when upstream fails.

    With ``checkpoint`` (the whole model's weights) or ``pretransform_checkpoint`` (the pretransform's, as
    train.py's ``--pretransform-ckpt-path``), the report gains a ``checkpoint`` / ``pretransform_checkpoint``
    section: how the checkpoint fits the model, and the config edits that would make it fit
    (``sat_config.checkpoint_check``). Raises CheckpointError when a checkpoint cannot be read safely."""
    plain = to_plain(config)
    judge = judge or judging()
    problems = find_problems(plain, judging=judge) if problems is None else problems
    if not _training_only(problems):
        raise_for_problems(problems, plain)
    plain = for_upstream(plain)
    factory = resolve_factory(plain[DISCRIMINATOR], judge.schema)
    paths = {"checkpoint": checkpoint, "pretransform_checkpoint": pretransform_checkpoint}
    from .checkpoint_read import read_checkpoint

    headers = {key: read_checkpoint(path) for key, path in paths.items() if path is not None}  # fail early
    try:
        build = build_dry(factory, plain)
    except Exception as exc:
        raise BuildError(f"{type(exc).__name__}: {exc}") from exc
    report = report_for(build, plain)
    for key, header in headers.items():
        from .checkpoint_check import check_checkpoint

        report[key] = check_checkpoint(plain, factory, build.model, report["placeholders"], header,
                                       "model" if key == "checkpoint" else "pretransform")
    return {**report, "problems": problems}


def _n(value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def render_text(report: dict[str, Any], source: str) -> str:
    """The human-readable report."""
    where = report["device"] + (f" (fell back to CPU: {report['fallback_reason']})" if report["device"] == "cpu"
                                else " device, no weights")
    if report["cpu_modules"]:
        where += " (" + "; ".join(f"{m['module']} ({m['class']}) on the CPU: {m['reason']}"
                                  for m in report["cpu_modules"]) + ")"
    lines = [f"{source}: {report['model_class']} ({report['model_type']}), built on {where} "
             f"in {report['build_seconds']:.2f} s",
             f"  parameters   {_n(report['parameters'])} total: {_n(report['trainable'])} trainable, "
             f"{_n(report['frozen'])} frozen"]
    for sub in report["submodules"]:
        label = sub["role"] if sub["role"] == sub["name"] else f"{sub['role']} ({sub['name']})"
        lines.append(f"    {label:<24}{sub['class']:<34}{_n(sub['parameters']):>15}"
                     f"  ({_n(sub['trainable'])} trainable, {_n(sub['frozen'])} frozen)")
    audio = report["audio"]
    chain = (f"  audio        {_n(audio['sample_rate'])} Hz, {_n(audio['audio_channels'])} ch"
             f" → ÷{_n(audio['downsampling_ratio'])} → {_n(audio['latent_channels'])} latent channels")
    if "latents_per_second" in audio:
        chain += f" at {audio['latents_per_second']:,.2f} latents/s"
    lines.append(chain)
    if "sample_size" in audio:
        length = f"  sample_size  {_n(audio['sample_size'])} samples"
        if "latent_length" in audio:
            length += f" → {_n(audio['latent_length'])} latents"
            if audio["sample_size_remainder"]:
                length += f" (+{_n(audio['sample_size_remainder'])} samples left over)"
        lines.append(length)
    extras = [f"{key} {_n(audio[key])}" for key in ("backbone_io_channels", "num_quantizers", "codebook_size",
                                                     "min_input_length") if key in audio]
    if extras:
        lines.append("               " + ", ".join(extras))
    conditioning = report["conditioning"]
    if conditioning:
        lines.append("  conditioning")
        for entry in conditioning["inputs"]:
            width = (f"{_n(entry['width'])} → {_n(entry['output_dim'])}" if entry["width"] != entry["output_dim"]
                     else _n(entry["output_dim"]))
            routes = ", ".join(entry["routes"]) or "not routed to the model"
            cls = entry["class"] or "(no conditioner: supplied with the batch)"
            lines.append(f"    {entry['id']:<20}{cls:<28}{width:<14}{routes}")
        if conditioning["default_keys"]:
            defaults = conditioning["default_keys"].items()
            lines.append("    default keys: " + ", ".join(f"{k} ← {v}" for k, v in defaults))
        if conditioning["pre_encoded_keys"]:
            lines.append("    pre-encoded: " + ", ".join(conditioning["pre_encoded_keys"]))
    for entry in report["placeholders"]:
        counted = "" if entry["weights_counted"] else " (its weights are not in the counts above)"
        where = entry["module"] or "(not kept by the model)"
        lines.append(f"  placeholder  {where}: {entry['what']} — {entry['note']}{counted}")
    for key in ("checkpoint", "pretransform_checkpoint"):
        if key in report:
            from .checkpoint_check import render_checkpoint

            lines += render_checkpoint(report[key])
    return "\n".join(lines)


def inspect_config_path(path: str | Path, *, judge: Judging | None = None, **checkpoints: Any) -> dict[str, Any]:
    """``inspect_config`` on a JSON (or YAML) file (``checkpoints``: its keyword arguments ``checkpoint`` and
    ``pretransform_checkpoint``); problems carry line and column. Raises LoadError (an OSError) when the file
    cannot be read."""
    doc = read_document(Path(path))
    judge = judge or judging()
    problems = problems_in_document(doc, judge)
    if not doc.parsed or not _training_only(problems):
        raise_for_problems(problems, doc.data, doc.source)
    return inspect_config(doc.data, problems, judge=judge, **checkpoints)
