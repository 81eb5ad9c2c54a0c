"""The bundled schema that ``make gen`` writes (``generated/schema.json``), read without importlib.resources
(whose import alone costs more than parsing the schema)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from .generated import __file__ as _generated_init

SCHEMA_FILE = Path(_generated_init).resolve().parent / "schema.json"


def load_bundled_schema() -> dict[str, Any]:
    """A fresh copy of the bundled schema (the caller may change it)."""
    schema: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return schema


@cache
def bundled_schema() -> dict[str, Any]:
    """The bundled schema, parsed once per process: shared, never to be changed."""
    return load_bundled_schema()
