"""``inspect --ckpt`` / ``--pretransform-ckpt``: the checkpoint section of the inspect report, with suggested
config edits when the checkpoint does not fit, and its text rendering."""

from __future__ import annotations

import contextlib
import io
import math
import re
import time
import warnings
from collections import Counter
from collections.abc import Callable
from typing import Any

from .checkpoint_fit import Signature, fit_report, signature
from .checkpoint_read import CheckpointError, CheckpointHeader
from .checkpoint_suggest import MAX_BUILDS, Knob, knobs, reason, search, value_at
from .validation import find_problems


def load_target(model: Any, target: str) -> tuple[Any, str]:
    """The module a checkpoint for ``target`` is loaded into, and its path in the model. upstream's train.py
    loads ``--pretransform-ckpt-path`` with ``model.pretransform.load_state_dict``, which an autoencoder
    pretransform hands to its autoencoder (``pretransform.model``)."""
    if target == "model":
        return model, ""
    pretransform = getattr(model, "pretransform", None)
    if pretransform is None:
        raise CheckpointError("the config builds no pretransform, so it takes no --pretransform-ckpt")
    from stable_audio_tools.models.pretransforms import AutoencoderPretransform

    if isinstance(pretransform, AutoencoderPretransform):
        return pretransform.model, "pretransform.model."
    return pretransform, "pretransform."


def _stand_ins(placeholders: list[dict[str, Any]], where: str) -> dict[str, str]:
    """Module prefixes (relative to the target) of stand-ins whose weights are not the real ones."""
    return {entry["module"][len(where):] + ".": entry["what"] for entry in placeholders
            if not entry["weights_counted"] and entry["module"] and entry["module"].startswith(where)}


def _json_path(parts: tuple[Any, ...]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def check_checkpoint(plain: dict[str, Any], factory: Any, model: Any, placeholders: list[dict[str, Any]],
                     header: CheckpointHeader, target: str = "model") -> dict[str, Any]:
    """The checkpoint section for a checkpoint (``checkpoint_read.read_checkpoint``) loaded into ``target`` of
    the dry-built ``model`` of ``plain``. Raises CheckpointError when the config has no such target."""
    from .inspection import build_dry

    module, where = load_target(model, target)
    skip = _stand_ins(placeholders, where)
    report, comparison, wanted = fit_report(header, module, skip, target=where.rstrip(".") or "model")
    if comparison.distance() == 0 or report["other_part"]:
        return report

    def rebuilt(candidate: Any) -> Signature | None:
        try:
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                built = build_dry(factory, candidate, cpu_fallback=False).model
            sig = signature(load_target(built, target)[0])
        except Exception:
            return None
        return {k: v for k, v in sig.items() if not k.startswith(tuple(skip))}

    root = ("model", "pretransform") if target == "pretransform" else ("model",)
    start, cache = time.perf_counter(), dict[str, Any]()
    found = search(plain, root, rebuilt, wanted, cache=cache)
    if not found.fits:  # values outside the sections of the wrong tensors, too
        found = search(plain, root, rebuilt, wanted, narrow=False, cache=cache)
    report["search"] = {"rebuilds": len(cache), "seconds": round(time.perf_counter() - start, 2),
                        "fits": found.fits}
    if not found.fits and found.builds > MAX_BUILDS:
        report["notes"].append(f"no config edits found within {found.builds} rebuilds; the search gave up")
        return report
    if not found.fits:
        report["notes"].append("no change of the config's integers and integer lists makes the model's tensors "
                               "equal the checkpoint's: it was trained with a different architecture (other "
                               "layer types or options)")
        return report
    report["suggestions"] = _suggestions(plain, found.edits, found.blame)
    edited, companions = _companions(plain, found.edits, lambda c: rebuilt(c) == wanted)
    report["suggestions"] += companions
    problems = _errors(edited)
    if problems:
        report["notes"].append("after these edits the config has problems of its own: "
                               + "; ".join(f"{p.path}: {p.message}" for p in problems))
    return report


def _errors(config: dict[str, Any], warnings: bool = False) -> list[Any]:
    """The config's error-severity problems (and with ``warnings`` its warnings) outside ``training`` (which the
    model does not read)."""
    return [p for p in find_problems(config) if (warnings or p.is_error) and p.parts[:1] != ("training",)]


def _companions(plain: dict[str, Any], edits: dict[Knob, int],
                fits: Callable[[dict[str, Any]], bool]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Edits of values that shape no tensor but must agree with the edited ones (``io_channels``,
    ``downsampling_ratio``): a value equal to an edited value's old one (or to the product of an edited list)
    takes the new one when that clears a problem of the edited config and the checkpoint still fits."""
    edited = _apply(plain, edits)
    problems = _errors(edited, warnings=True)  # a companion may clear a warning too (downsampling_ratio)
    pairs = [(knob.get(plain), value) for knob, value in edits.items() if not knob.lists]
    touched = {t for knob in edits for t in knob.touches}
    pairs += [(math.prod(value_at(plain, parts)), math.prod(value_at(edited, parts))) for parts in touched
              if isinstance(value_at(plain, parts), list)]
    added = []
    for knob in knobs(edited, ("model",)):
        if not problems or knob.index is not None or knob.lists or knob.path in touched:
            continue
        for old, new in pairs:
            if knob.get(edited) != old or old == new:
                continue
            trial = knob.with_value(edited, new)
            remaining = _errors(trial, warnings=True)
            if len(remaining) < len(problems) and fits(trial):
                cleared = [p for p in problems if p.message not in {r.message for r in remaining}]
                added.append({"path": _json_path(knob.path), "value": new, "was": old,
                              "reason": "keeps the config consistent with the edits above"
                              + (f" (now: {cleared[0].message.split(': ')[0]})" if cleared else "")})
                edited, problems = trial, remaining
                break
    return edited, added


def _apply(plain: dict[str, Any], edits: dict[Knob, int]) -> dict[str, Any]:
    edited = plain
    for knob, value in edits.items():
        edited = knob.with_value(edited, value)
    return edited


def _suggestions(plain: dict[str, Any], edits: dict[Knob, int], blame: dict[Knob, Any]) -> list[dict[str, Any]]:
    """One suggestion per edited config value (a list edited element by element is one suggestion), with the
    reason of the edit that leaves most wrong when undone."""
    edited = _apply(plain, edits)
    by_path: dict[tuple[Any, ...], list[Any]] = {}
    for knob in edits:
        for touched in knob.touches:
            by_path.setdefault(touched, []).append(blame.get(knob))
    out = []
    for parts, comparisons in by_path.items():
        node_before, node_after = value_at(plain, parts), value_at(edited, parts)
        if node_before != node_after:
            worst = max(comparisons, key=lambda c: -1 if c is None else c.distance())
            out.append({"path": _json_path(parts), "value": node_after, "was": node_before, "reason": reason(worst)})
    return out


_INDEX = re.compile(r"\.(\d+)(?=\.|$)")


def _ranges(numbers: list[int]) -> str:
    spans: list[list[int]] = []
    for n in sorted(set(numbers)):
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def summarize(keys: list[str], limit: int = 6) -> list[str]:
    """Keys folded at their first layer number (``transformer.layers.[2-3,5].* (24 tensors)``), or by module."""
    numbers: dict[str, list[int]] = {}
    counts: Counter[str] = Counter()
    for key in keys:
        found = _INDEX.search(key)
        head = key[:found.start()] + ".#" if found and found.end() < len(key) else key.rsplit(".", 1)[0]
        numbers.setdefault(head, []).extend([int(found[1])] if found and head.endswith(".#") else [])
        counts[head] += 1
    lines = [f"{head[:-2] + f'.[{_ranges(numbers[head])}]' if head.endswith('.#') else head}.* ({count} tensor"
             f"{'s' if count > 1 else ''})" for head, count in counts.items()]
    return lines[:limit] + ([f"… and {len(lines) - limit} more modules"] if len(lines) > limit else [])


VERDICTS = {"strict": "loads with strict=True", "partial": "loads only with strict=False",
            "no": "does not load (shape mismatches)"}


def render_checkpoint(section: dict[str, Any]) -> list[str]:
    """Text lines of the checkpoint section, in the style of the inspect report."""
    label = "pretransform checkpoint" if section["target"] != "model" else "checkpoint"
    into = "" if section["target"] == "model" else f" into {section['target']}"
    layout = f", model under '{section['prefix']}'" if section["prefix"] else ""
    lines = [f"  {label}  {section['path']} ({section['format']}{layout}){into}: {VERDICTS[section['loads']]}"]
    total = (section["matched"] + len(section["missing"]) + len(section["mismatched"]) + len(section["renamed"])
             + 2 * len(section["norm_removed"]))
    lines.append(f"    {section['matched']:,} of {total:,} model tensors match; {len(section['missing']):,} missing, "
                 f"{len(section['unexpected']):,} unexpected, {len(section['mismatched']):,} of another shape"
                 + (f", {len(section['renamed']):,} named differently" if section["renamed"] else "")
                 + (f", {len(section['norm_removed']):,} without weight norm" if section["norm_removed"] else ""))
    for group in section["submodules"]:
        if group["missing"] or group["unexpected"] or group["mismatched"] or group["renamed"]:
            name = group["role"] if group["role"] == group["name"] else f"{group['role']} ({group['name']})"
            counts = ", ".join(f"{group[k]} {k}" for k in ("missing", "unexpected", "mismatched", "renamed")
                               if group[k])
            lines.append(f"    {name}: {group['matched']} match, {counts}")
    for entry in section["mismatched"][:5]:
        lines.append(f"      shape   {entry['key']}: checkpoint {entry['checkpoint_shape']}, "
                     f"model {entry['model_shape']}")
    if len(section["mismatched"]) > 5:
        lines.append(f"      … and {len(section['mismatched']) - 5} more of another shape")
    for kind, label_ in (("missing", "missing"), ("unexpected", "extra")):
        for line in summarize(section[kind]):
            lines.append(f"      {label_:<8}{line}")
    for entry in section["ema"]:
        of = f"of '{entry['copies']}'" if entry["copies"] else "of the whole model"
        lines.append(f"    EMA copy under '{entry['prefix']}' ({of}): {entry['tensors']:,} tensors, "
                     f"{VERDICTS[entry['loads']]}")
    for entry in section["beside"]:
        where = f"'{entry['prefix']}' ({entry['tensors']:,} tensors)" if entry.get("prefix") else entry["entry"]
        lines.append(f"    beside the model: {where}: {entry['what']}")
    for note in section["notes"]:
        lines.append(f"    note: {note}")
    if section["suggestions"]:
        search = section.get("search", {})
        lines.append("    suggested edits (verified: with them the model's tensors equal the checkpoint's exactly; "
                     f"{search.get('rebuilds', 0)} meta-device rebuilds in {search.get('seconds', 0):.1f} s):")
        for entry in section["suggestions"]:
            lines.append(f"      set {entry['path']} to {entry['value']} (now {entry['was']}): {entry['reason']}")
    return lines
