"""``sat-config print-config``: a config as upstream sees it, every default filled in and marked.

The defaults are the schemas' ``default`` keywords (each equal to what upstream's code applies), found along the
config by ``sat_config.defaults.fill_defaults`` (the one schema walker: ``$ref``, the tagged ``oneOf`` branch the
config's tag selects, nested objects). YAML output marks each filled key with a ``# default`` comment; JSON
output is ``{"config": ..., "defaults": [JSON paths of the filled keys]}``.
"""

from __future__ import annotations

import json
from typing import Any

from .defaults import fill_defaults
from .errors import json_path
from .schemawalk import Parts

MARK = "  # default"


def with_defaults(config: Any, schema: dict[str, Any] | None = None) -> tuple[Any, list[Parts]]:
    """A copy of ``config`` with upstream's defaults filled in, and the path of each key filled; ``schema``: the
    one the config is judged against (with extensions), default the bundled one."""
    return fill_defaults(config, schema)


def _scalar(value: Any) -> str:
    """One YAML flow value (a scalar, ``{}`` or ``[]``) on one line."""
    import yaml

    text: str = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=2**31 - 1)
    return text.removesuffix("\n...\n").rstrip("\n")


def _block(value: Any, parts: Parts, marked: set[Parts], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    items: Any = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in items:
        here = parts + (key,)
        mark = MARK if here in marked else ""
        head = f"{pad}{_scalar(key)}:" if isinstance(value, dict) else f"{pad}-"
        if isinstance(child, (dict, list)) and child:
            inner = _block(child, here, marked, indent + 2)
            if isinstance(value, list):  # "- " then the item's first line
                lines.append(f"{head} {inner[0].lstrip()}{mark}")
                lines += inner[1:]
            else:
                lines += [head + mark] + inner
        else:
            lines.append(f"{head} {_scalar(child)}{mark}")
    return lines


def render_yaml(config: Any, filled: list[Parts]) -> str:
    """``config`` as block YAML, each key in ``filled`` followed by ``# default``."""
    if not isinstance(config, dict) or not config:
        return _scalar(config) + "\n"
    return "\n".join(_block(config, (), set(filled), 0)) + "\n"


def render_json(config: Any, filled: list[Parts]) -> str:
    """``{"config": config, "defaults": [JSON paths of the filled keys]}``."""
    return json.dumps({"config": config, "defaults": [json_path(p) for p in filled]}, indent=2,
                      ensure_ascii=False) + "\n"
