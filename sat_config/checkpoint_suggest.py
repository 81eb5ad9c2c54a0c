"""Which config values does a checkpoint imply? A search over the config's integers and integer lists, each
candidate rebuilt on the meta device and compared by names and shapes.

Each value is probed once (built at value+1): the tensors whose shapes or numbers change are its footprint, and
since upstream's widths, depths and kernel sizes are linear in any one config value, the probe also tells which
value would give the checkpoint's shape (``latent_dim`` 32 → 33 widens a conv by 1, the checkpoint's conv is 64
wide: try 64). Lists are probed element by element, and by length (equal-length sibling lists, such as
``c_mults`` and ``strides``, grow and shrink together). Improving edits with disjoint footprints are applied
together, round after round, until the model's names and shapes equal the checkpoint's; edits that turn out
unnecessary are dropped, and the result is verified by one more build. No edit set is suggested unless it makes
the checkpoint fit exactly.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .checkpoint_fit import Comparison, Shape, Signature, compare

MAX_BUILDS = 600
MAX_ROUNDS = 8
MAX_CANDIDATES = 6
_INDEX = re.compile(r"\.\d+(?=\.|$)")


@dataclass(frozen=True)
class Knob:
    """One number of the config: an integer, one element of an integer list, or the length of the lists
    ``lists`` under the object at ``path``."""

    path: tuple[Any, ...]
    index: int | None = None
    lists: tuple[str, ...] = ()

    def get(self, config: Any) -> int:
        node = value_at(config, self.path)
        if self.lists:
            return len(node[self.lists[0]])
        return int(node if self.index is None else node[self.index])

    def with_value(self, config: Any, value: int) -> Any:
        config = copy.deepcopy(config)
        node = value_at(config, self.path)
        if self.lists:
            for key in self.lists:
                items = node[key]
                node[key] = items[:value] + [items[-1]] * (value - len(items))
        elif self.index is None:
            parent = value_at(config, self.path[:-1])
            parent[self.path[-1]] = value
        else:
            node[self.index] = value
        return config

    @property
    def touches(self) -> set[tuple[Any, ...]]:
        """The config paths of the values this knob changes (lists for elements and lengths)."""
        return {self.path + (key,) for key in self.lists} if self.lists else {self.path}


def value_at(config: Any, path: tuple[Any, ...]) -> Any:
    """The value at ``path`` (keys and list indices) in ``config``."""
    for part in path:
        config = config[part]
    return config


def knobs(config: Any, root: tuple[Any, ...]) -> list[Knob]:
    """Every integer, integer-list element and integer-list length under ``root``."""
    found: list[Knob] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        if isinstance(node, dict):
            lengths: dict[int, list[str]] = {}
            for key, value in node.items():
                if _int_list(value):
                    lengths.setdefault(len(value), []).append(key)
                    found.extend(Knob(path + (key,), i) for i in range(len(value)))
                elif isinstance(value, int) and not isinstance(value, bool):
                    found.append(Knob(path + (key,)))
                else:
                    walk(value, path + (key,))
            found.extend(Knob(path, None, tuple(keys)) for keys in lengths.values())
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, path + (i,))

    walk(value_at(config, root), root)
    return found


def _int_list(value: Any) -> bool:
    return (isinstance(value, list) and bool(value)
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value))


def pattern(key: str) -> str:
    """``key`` with its layer numbers replaced by ``#`` (the footprint of a depth is the layers it adds)."""
    return _INDEX.sub(".#", key)


def _counts(sig: Signature) -> Counter[str]:
    return Counter(pattern(key) for key in sig)


def _candidates(value: int, probe_value: int, base: Signature, probe: Signature, target: Signature) -> list[int]:
    """Values at which the shapes and numbers the probe changed (linearly) take the checkpoint's values."""
    step = probe_value - value
    found: Counter[int] = Counter()

    def solve(now: int, then: int, wanted: int) -> None:
        if then != now and wanted != now and (wanted - now) * step % (then - now) == 0:
            candidate = value + (wanted - now) * step // (then - now)
            if candidate >= 0:
                found[candidate] += 1

    for key, shape in base.items():
        other, wanted = probe.get(key), target.get(key)
        if other is not None and other != shape and wanted is not None and len(wanted) == len(shape) == len(other):
            for now, then, want in zip(shape, other, wanted, strict=True):
                solve(now, then, want)
    base_counts, probe_counts, target_counts = _counts(base), _counts(probe), _counts(target)
    for pattern in set(base_counts) | set(probe_counts):
        solve(base_counts[pattern], probe_counts[pattern], target_counts[pattern])
    return [c for c, _ in found.most_common(MAX_CANDIDATES)]


def _footprint(base: Signature, probe: Signature) -> set[str]:
    return {pattern(k) for k in set(base) | set(probe) if base.get(k) != probe.get(k)}


def _problems(comparison: Comparison) -> set[str]:
    keys = set(comparison.missing) | set(comparison.unexpected) | {k for k, *_ in comparison.mismatched}
    return {pattern(k) for k in keys}


@dataclass
class Search:
    """The outcome: the edits (knob → value), whether they make the checkpoint fit exactly, and how many
    rebuilds it took."""

    edits: dict[Knob, int]
    fits: bool
    builds: int
    distance: int
    blame: dict[Knob, Comparison]  # each edit's share: the comparison with that edit alone undone


OWNERS = {"pretransform": {"pretransform"}, "conditioning": {"conditioner"}, "diffusion": {"model", "diffusion"},
          "lm": {"lm"}, "encoder": {"encoder"}, "decoder": {"decoder"}, "bottleneck": {"bottleneck"}}
"""Config sections → the top-level modules upstream builds from them (``model.conditioning`` → ``conditioner``)."""


def _owners(knob: Knob) -> set[str] | None:
    """The modules the section holding ``knob`` builds; None when it is not one of OWNERS' sections."""
    return next((OWNERS[part] for part in knob.path if isinstance(part, str) and part in OWNERS), None)


def search(config: Any, root: tuple[Any, ...], build: Callable[[Any], Signature | None], target: Signature,
           narrow: bool = True, cache: dict[str, Signature | None] | None = None) -> Search:
    """Edits of the integers under ``root`` after which ``build(config)`` equals ``target``. ``narrow``: probe
    only values of the sections that build a module with a wrong tensor (and values outside known sections)."""
    cache = {} if cache is None else cache

    def sig(candidate: Any) -> Signature | None:
        key = repr(candidate)
        if key not in cache:
            cache[key] = build(candidate)
        return cache[key]

    def distance(candidate: Any) -> int | None:
        got = sig(candidate)
        return None if got is None else compare(got, target).distance()

    current, edits = config, {}
    now = distance(current)
    if now is None:
        return Search({}, False, len(cache), -1, {})
    footprints: dict[Knob, set[str]] = {}
    for _ in range(MAX_ROUNDS):
        if now == 0 or len(cache) > MAX_BUILDS:
            break
        base = sig(current)
        assert base is not None
        problems = _problems(compare(base, target))
        modules = {key.split(".", 1)[0] for key in problems}
        gains: list[tuple[int, Knob, int, set[str]]] = []
        for knob in knobs(current, root):
            if knob in footprints and not footprints[knob] & problems:
                continue
            owners = _owners(knob) if narrow and root == ("model",) else None
            if owners is not None and not owners & modules:
                continue
            for value, footprint in _improvements(knob, current, base, target, sig):
                footprints[knob] = footprint
                after = distance(knob.with_value(current, value))
                if after is not None and after < now:
                    gains.append((now - after, knob, value, footprint))
            footprints.setdefault(knob, set())
            if len(cache) > MAX_BUILDS:
                break
        if not gains:
            break
        gains.sort(key=lambda g: -g[0])
        chosen: list[tuple[Knob, int]] = []
        used: set[str] = set()
        for _gain, knob, value, footprint in gains:
            if not footprint & used and not any(_conflict(k, knob) for k, _ in chosen):
                chosen.append((knob, value))
                used |= footprint
        together = current
        for knob, value in chosen:
            together = knob.with_value(together, value)
        after = distance(together)
        if after is None or after > now - gains[0][0]:
            chosen = [(gains[0][1], gains[0][2])]
            together = chosen[0][0].with_value(current, chosen[0][1])
            after = distance(together)
        assert after is not None
        current, now = together, after
        for knob, value in chosen:
            edits[knob] = value
    blame: dict[Knob, Comparison] = {}
    if now == 0:
        for knob in list(edits):
            reverted = knob.with_value(current, knob.get(config))
            undone = sig(reverted)
            if undone is not None and compare(undone, target).distance() == 0:
                current = reverted
                del edits[knob]
            elif undone is not None:
                blame[knob] = compare(undone, target)
    return Search({k: k.get(current) for k in edits}, now == 0, len(cache), now, blame)


def _conflict(one: Knob, other: Knob) -> bool:
    """Two knobs that cannot change in the same round: one changes the length of a list the other edits."""
    return bool(one.lists or other.lists) and bool(one.touches & other.touches)


def _improvements(knob: Knob, config: Any, base: Signature, target: Signature,
                  sig: Callable[[Any], Signature | None]) -> Iterator[tuple[int, set[str]]]:
    """Candidate values for ``knob`` from one probe, with the probe's footprint."""
    value = knob.get(config)
    for probe_value in (value + 1, value - 1, 2 * value):
        if probe_value < (1 if knob.lists else 0) or probe_value == value:
            continue
        probe = sig(knob.with_value(config, probe_value))
        if probe is None or probe == base:
            continue
        footprint = _footprint(base, probe)
        for candidate in _candidates(value, probe_value, base, probe, target):
            if candidate >= (1 if knob.lists else 0):
                yield candidate, footprint
        return


def _shape(shape: Shape) -> str:
    return "[" + ", ".join(map(str, shape)) + "]"


def reason(without: Comparison | None) -> str:
    """What an edit fixes, in the checkpoint's terms: what stays wrong when only that edit is left out."""
    if without is None:
        return "needed for the other edits to fit"
    mismatched, extra, lacking = without.mismatched, without.unexpected, without.missing
    parts = []
    if mismatched:
        key, mine, theirs = mismatched[0]
        more = f" (and {len(mismatched) - 1} more tensors)" if len(mismatched) > 1 else ""
        parts.append(f"the checkpoint's {key} is {_shape(theirs)} where the config builds {_shape(mine)}{more}")
    if extra:
        parts.append(f"the checkpoint has {len(extra)} tensors the config does not build, e.g. {extra[0]}")
    if lacking:
        parts.append(f"the config builds {len(lacking)} tensors the checkpoint lacks, e.g. {lacking[0]}")
    return "; ".join(parts) or "needed for the other edits to fit"
