"""Did-you-mean: whether an unknown word is a plausible typo of a known one, and which.

One rule decides both whether a suggestion is offered and (in the open world) whether an unknown tag or key is a
mistake (an error) or a name sat-config does not know (an ``unchecked`` warning). A plausible typo is the same
word up to case and ``-``/``_``, the only known name it begins, or one within a small edit distance (letters
dropped, added, changed or swapped: optimal string alignment) that grows with the word: 1 up to 7 characters,
2 up to 15, then 3. README ("Targets, severities and the open world") gives the figures measured on the mutation
cases and the fork names.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance between ``a`` and ``b``; any value above ``limit`` may be returned as
    ``limit + 1`` (the search stops early)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def allowed_edits(word: str) -> int:
    """How many edits a typo of ``word`` may carry."""
    return 1 if len(word) <= 7 else 2 if len(word) <= 15 else 3


def _fold(word: str) -> str:
    return word.casefold().replace("-", "_")


def nearest(word: Any, candidates: Iterable[Any]) -> list[str]:
    """The known names ``word`` is a plausible typo of, all at the smallest distance (empty: none)."""
    if not isinstance(word, str) or not word:
        return []
    names = [c for c in candidates if isinstance(c, str) and c != word]
    folded = _fold(word)
    same = [c for c in names if _fold(c) == folded]
    if same:
        return same
    prefixed = [c for c in names if c.startswith(word)] if len(word) >= 2 else []
    if len(prefixed) == 1:  # a name cut short ("io" for "io_channels")
        return prefixed
    limit = allowed_edits(word)
    scored = [(edit_distance(folded, _fold(name), limit), name) for name in names]
    best = min((distance for distance, _ in scored), default=limit + 1)
    return [name for distance, name in scored if distance == best] if best <= limit else []


def is_typo(word: Any, candidates: Iterable[Any]) -> bool:
    """Whether ``word`` is a plausible typo of a known name (in the open world: an error, not a warning)."""
    return bool(nearest(word, candidates))


def closest(word: Any, candidates: Iterable[Any]) -> str | None:
    """The one known name ``word`` is a plausible typo of, or None (none, or several equally near: no guess)."""
    found = nearest(word, candidates)
    return found[0] if len(found) == 1 else None
