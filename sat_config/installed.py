"""Which distributions are installed, read from the ``*.dist-info`` folders on ``sys.path`` without importing
``importlib.metadata`` (whose import alone costs more than a validation: this runs in every process)."""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True)
class Installed:
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
