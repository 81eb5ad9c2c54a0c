"""Which distributions and entry points are installed, read from the ``*.dist-info`` folders on ``sys.path``
without importing ``importlib.metadata`` (whose import alone costs more than a validation: this runs in every
process)."""

from __future__ import annotations

import json
import os
import re
import sys
from functools import cache
from pathlib import Path
from typing import NamedTuple


class Installed(NamedTuple):
    name: str
    version: str
    dist_info: Path

    def source_file(self, relative: str) -> Path | None:
        """Where one of its files lives: in the clone a ``pip install -e``/``pip install DIR`` came from
        (``direct_url.json``), else beside the dist-info folder (site-packages)."""
        try:
            url = json.loads((self.dist_info / "direct_url.json").read_text(encoding="utf-8")).get("url", "")
        except (OSError, ValueError, AttributeError):
            url = ""
        bases = [Path(url.removeprefix("file://"))] if url.startswith("file://") else []
        for base in [*bases, self.dist_info.parent]:
            if (base / relative).is_file():
                return base / relative
        return None


def normalize(name: str) -> str:
    """A distribution name as dist-info folder names spell it (PEP 503 folded, ``_`` for separators)."""
    return re.sub(r"[-_.]+", "_", name).lower()


@cache
def _dist_infos(entry: str) -> tuple[str, ...]:
    try:
        return tuple(n for n in os.listdir(entry or ".") if n.endswith(".dist-info"))
    except OSError:
        return ()


def find(name: str) -> Installed | None:
    """The installed distribution ``name`` (the first on ``sys.path``, as imports find it), or None."""
    prefix = normalize(name) + "-"
    for entry in sys.path:
        for folder in _dist_infos(entry):
            if folder.lower().startswith(prefix):
                return Installed(name, folder[len(prefix):-len(".dist-info")], Path(entry or ".", folder))
    return None


def entry_points(group: str) -> list[tuple[str, str]]:
    """(name, value) of the installed entry points of ``group``, read from each distribution's
    ``entry_points.txt`` (the first distribution of a name on ``sys.path`` counts, as for imports). This runs in
    every process that validates, and importing ``importlib.metadata`` alone costs more than a validation."""
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    marker = f"[{group}]".encode()
    for entry in sys.path:
        for folder in _dist_infos(entry):
            distribution = folder.split("-", 1)[0].lower()
            if distribution in seen:
                continue
            seen.add(distribution)
            try:  # plain os calls: a few hundred folders, where pathlib's objects would cost milliseconds
                with open(os.path.join(entry or ".", folder, "entry_points.txt"), "rb") as file:
                    data = file.read()
            except OSError:
                continue
            if marker in data:
                found += _section(data.decode("utf-8", errors="replace"), group)
    return found


def _section(text: str, group: str) -> list[tuple[str, str]]:
    """The ``name = value`` lines of the INI section ``[group]``."""
    pairs, inside = [], False
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            inside = line[1:-1].strip() == group
        elif inside and "=" in line and not line.startswith(("#", ";")):
            name, _, value = line.partition("=")
            pairs.append((name.strip(), value.strip()))
    return pairs
