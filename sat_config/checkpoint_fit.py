"""Does a checkpoint fit the model a config builds? Names and shapes compared, no tensor loaded.

The checkpoint's layout is recognised first: an exported state dict (upstream's ``export_model``, Hugging Face's
``model.safetensors``) or a training checkpoint of one of upstream's Lightning wrappers — the model under
``diffusion.`` / ``autoencoder.`` / ``diffae.`` / ``model.`` (the prefix ``unwrap_model.py`` removes), its EMA
copy under ``*_ema.ema_model.``, and beside it discriminator, loss and optimizer state, which are not part of the
model. Names are compared in one weight-norm spelling (``weight_g``/``weight_v``; the newer
``parametrizations.weight.original0/1`` is mapped onto it), so a checkpoint that only needs its keys renamed is
told apart from one that does not fit.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .checkpoint_read import CheckpointHeader
from .inspection import ROLES

Shape = tuple[int, ...]
Signature = dict[str, Shape]

WRAPPERS = {  # the model's prefix in a training checkpoint → (its EMA's prefix, what the EMA copies)
    "diffusion.": ("diffusion_ema.", "model."),  # the diffusion wrappers keep an EMA of the backbone only
    "autoencoder.": ("autoencoder_ema.", ""),
    "diffae.": ("diffae_ema.", ""),
    "model.": ("model_ema.", ""),  # language models
}
EMA_COPIES = ("ema_model.", "online_model.")
BESIDE = {"discriminator": "GAN discriminator", "losses": "loss modules", "losses_disc": "discriminator losses",
          "losses_gen": "generator losses", "sdstft": "STFT loss", "lrstft": "STFT loss",
          "teacher_model": "distillation teacher", "optimizer_states": "optimizer state",
          "lr_schedulers": "learning-rate scheduler state"}
_NEW_WEIGHT_NORM = re.compile(r"\.parametrizations\.(\w+)\.original([01])$")


def canonical(key: str) -> str:
    """``key`` in the old weight-norm spelling (``…weight_g`` / ``…weight_v``)."""
    return _NEW_WEIGHT_NORM.sub(lambda m: f".{m[1]}_{'g' if m[2] == '0' else 'v'}", key)


def signature(module: Any) -> Signature:
    """Canonical name → shape of everything ``module.load_state_dict`` expects."""
    return {canonical(k): tuple(v.shape) for k, v in module.state_dict().items()}


def raw_names(module: Any) -> dict[str, str]:
    """Canonical name → the module's own name."""
    return {canonical(k): k for k in module.state_dict()}


@dataclass
class Comparison:
    """Model (canonical names) against checkpoint: what loads, what is missing, extra, the wrong shape, or only
    spelt differently (weight norm)."""

    matched: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, Shape, Shape]] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (checkpoint key, model key)
    norm_removed: list[str] = field(default_factory=list)  # plain weights where the model has weight_g/weight_v

    @property
    def loads(self) -> str:
        if self.mismatched:
            return "no"  # load_state_dict raises on a shape mismatch even with strict=False
        return "partial" if self.missing or self.unexpected or self.renamed or self.norm_removed else "strict"

    def distance(self) -> int:
        return 2 * (len(self.missing) + len(self.unexpected)) + len(self.mismatched)


def compare(model: Signature, checkpoint: Signature, model_names: dict[str, str] | None = None,
            checkpoint_names: dict[str, str] | None = None) -> Comparison:
    """Compare by canonical name. A key spelt differently loads when torch converts it on load (``weight_g`` /
    ``weight_v`` into a model with parametrized weight norm); otherwise it is ``renamed``."""
    result = Comparison()
    model_names, checkpoint_names = model_names or {}, checkpoint_names or {}
    for key, shape in model.items():
        if key not in checkpoint:
            result.missing.append(key)
        elif checkpoint[key] != shape:
            result.mismatched.append((key, shape, checkpoint[key]))
        else:
            mine, theirs = model_names.get(key, key), checkpoint_names.get(key, key)
            if mine == theirs or (".parametrizations." in mine and ".parametrizations." not in theirs):
                result.matched.append(key)
            else:
                result.renamed.append((theirs, mine))
    result.unexpected = [key for key in checkpoint if key not in model]
    missing = set(result.missing)
    for key in list(result.unexpected):  # saved after remove_weight_norm: one weight for weight_g and weight_v
        g, v = key.removesuffix("weight") + "weight_g", key.removesuffix("weight") + "weight_v"
        if key.endswith(".weight") and g in missing and v in missing and model[v] == checkpoint[key]:
            result.norm_removed.append(key)
            result.unexpected.remove(key)
            result.missing = [k for k in result.missing if k not in (g, v)]
    return result


@dataclass
class Layout:
    """Where the model's tensors sit in the checkpoint, and what else it holds."""

    prefix: str  # "" for an exported state dict
    model: dict[str, str]  # canonical name (relative to the model) → checkpoint key
    ema: list[tuple[str, str, dict[str, str]]]  # (checkpoint prefix, model prefix it copies, names)
    beside: list[dict[str, Any]]  # {"prefix", "tensors", "what"}


def _strip(keys: list[str], prefix: str) -> dict[str, str]:
    return {canonical(k[len(prefix):]): k for k in keys if k.startswith(prefix)}


def find_layout(keys: list[str], model: Signature, beside_top: Sequence[str] = ()) -> Layout:
    """Recognise an exported state dict or a training wrapper's layout: the prefix under which most checkpoint
    keys name model tensors (a wrapper's prefix when nothing matches but its EMA or discriminator is there)."""
    scores = {prefix: sum(name in model for name in _strip(keys, prefix)) for prefix in ("", *WRAPPERS)}
    prefix = max(scores, key=lambda p: scores[p])  # ties: the exported layout first
    if scores[prefix] == 0:
        wrapped = [p for p in WRAPPERS if any(k.startswith(p) for k in keys)
                   and any(k.startswith((WRAPPERS[p][0], "discriminator.")) for k in keys)]
        prefix = wrapped[0] if wrapped else ""
    if not prefix:
        return Layout("", _strip(keys, ""), [], _beside_top(beside_top))
    ema_prefix, copies = WRAPPERS[prefix]
    ema = [(ema_prefix + copy, copies, _strip(keys, ema_prefix + copy)) for copy in EMA_COPIES
           if any(k.startswith(ema_prefix + copy) for k in keys)]
    claimed = (prefix, *(e[0] for e in ema))
    rest = Counter(k.split(".", 1)[0] for k in keys if not k.startswith(claimed))
    beside = [{"prefix": name + ".", "tensors": count,
               "what": BESIDE.get(name, "EMA bookkeeping" if name == ema_prefix[:-1] else "not part of the model")}
              for name, count in rest.items()]
    return Layout(prefix, _strip(keys, prefix), ema, beside + _beside_top(beside_top))


def _beside_top(entries: Sequence[str]) -> list[dict[str, Any]]:
    return [{"prefix": None, "entry": name, "what": BESIDE[name]} for name in entries if name in BESIDE]


def _grouped(comparison: Comparison) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}

    def group(key: str) -> dict[str, Any]:
        name = key.split(".", 1)[0]
        return groups.setdefault(name, {"name": name, "role": ROLES.get(name, name), "matched": 0, "missing": 0,
                                        "unexpected": 0, "mismatched": 0, "renamed": 0})

    for key in comparison.matched:
        group(key)["matched"] += 1
    for kind in ("missing", "unexpected"):
        for key in getattr(comparison, kind):
            group(key)[kind] += 1
    for key, *_ in comparison.mismatched:
        group(key)["mismatched"] += 1
    for _, key in comparison.renamed:
        group(key)["renamed"] += 1
    return list(groups.values())


def fit_report(header: CheckpointHeader, model: Any, skip: dict[str, str] | None = None,
               target: str = "model") -> tuple[dict[str, Any], Comparison, Signature]:
    """The checkpoint section of the report for ``model`` (the module the checkpoint is loaded into), the
    comparison, and the checkpoint's model tensors (canonical name → shape). ``skip`` maps module prefixes to
    the stand-in they hold (weights not comparable)."""
    model_sig, model_names = signature(model), raw_names(model)
    layout = find_layout(list(header.tensors), model_sig, header.beside)
    skipped = []
    names = dict(layout.model)
    for prefix, what in (skip or {}).items():
        inside = [k for k in names if k.startswith(prefix)]
        if inside:
            skipped.append({"prefix": prefix, "tensors": len(inside), "what": f"{what}: stand-in, not compared"})
        for k in inside:
            del names[k]
        model_sig = {k: v for k, v in model_sig.items() if not k.startswith(prefix)}
    checkpoint_sig = {name: header.tensors[key].shape for name, key in names.items()}
    relative = {name: key[len(layout.prefix):] for name, key in names.items()}
    comparison = compare(model_sig, checkpoint_sig, model_names, relative)
    ema = []
    for ema_prefix, copies, ema_names in layout.ema:
        sub = {k[len(copies):]: v for k, v in model_sig.items() if k.startswith(copies)}
        ema_cmp = compare(sub, {n: header.tensors[k].shape for n, k in ema_names.items()})
        ema.append({"prefix": ema_prefix, "copies": copies or None, "tensors": len(ema_names),
                    "loads": ema_cmp.loads, "matched": len(ema_cmp.matched), "missing": len(ema_cmp.missing),
                    "unexpected": len(ema_cmp.unexpected), "mismatched": len(ema_cmp.mismatched)})
    dtypes = Counter(header.tensors[key].dtype for key in names.values())
    notes = []
    if layout.prefix:
        notes.append(f"a training checkpoint: the model's tensors are under '{layout.prefix}', and the verdict "
                     "is theirs once unwrapped (upstream's unwrap_model.py removes the prefix); as it is, train.py's "
                     "--pretrained-ckpt-path matches none of its keys and --pretransform-ckpt-path fails on it")
    elsewhere = _elsewhere(checkpoint_sig, model_sig, comparison, target)
    if elsewhere:
        notes.append(elsewhere)
    if comparison.norm_removed:
        notes.append(f"{len(comparison.norm_removed)} layers were saved with weight norm removed (a plain weight "
                     "where the model has weight_g/weight_v): they load once the model's weight norm is removed too "
                     "(train.py --remove-pretransform-weight-norm pre_load, for a pretransform)")
    if comparison.renamed:
        notes.append(f"{len(comparison.renamed)} tensors differ only in their weight-norm spelling "
                     "(parametrizations.weight.original0/1 in the checkpoint, weight_g/weight_v in the model): "
                     "rename original0 → weight_g and original1 → weight_v to load them")
    report = {
        "path": header.path,
        "format": header.format,
        "target": target,
        "prefix": layout.prefix or None,
        "loads": comparison.loads,
        "matched": len(comparison.matched),
        "missing": [model_names.get(k, k) for k in comparison.missing],
        "unexpected": [names[k] for k in comparison.unexpected],
        "mismatched": [{"key": model_names.get(k, k), "model_shape": list(a), "checkpoint_shape": list(b)}
                       for k, a, b in comparison.mismatched],
        "renamed": [{"key": theirs, "model_key": mine} for theirs, mine in comparison.renamed],
        "norm_removed": [names[k] for k in comparison.norm_removed],
        "submodules": _grouped(comparison),
        "ema": ema,
        "beside": layout.beside + skipped,
        "dtypes": dict(dtypes),
        "notes": notes,
        "other_part": bool(elsewhere),
        "suggestions": [],
    }
    return report, comparison, checkpoint_sig


PRETRANSFORM = "pretransform.model."


def _elsewhere(checkpoint: Signature, model: Signature, comparison: Comparison, target: str) -> str | None:
    """A checkpoint of another part than the one checked: a pretransform's weights given as the whole model's,
    or a whole model's given as the pretransform's (most of its tensors fit there, few fit here)."""
    if target == "model":
        fits = sum(model.get(PRETRANSFORM + name) == shape for name, shape in checkpoint.items())
        if fits > len(comparison.matched) and fits * 2 >= len(checkpoint):
            return (f"{fits} of its {len(checkpoint)} tensors are the pretransform's ('{PRETRANSFORM}'): it is a "
                    "pretransform checkpoint; check it with --pretransform-ckpt (train.py's "
                    "--pretransform-ckpt-path)")
        return None
    inner = {name[len(PRETRANSFORM):]: shape for name, shape in checkpoint.items() if name.startswith(PRETRANSFORM)}
    fits = sum(model.get(name) == shape for name, shape in inner.items())
    if fits > len(comparison.matched):
        return (f"{fits} of its tensors fit the pretransform under '{PRETRANSFORM}': it is a whole-model "
                "checkpoint; check it with --ckpt, or save the pretransform's tensors alone")
    return None
