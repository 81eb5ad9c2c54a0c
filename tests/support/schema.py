"""The bundled schema's definitions, and what upstream's constructors and factories accept, for comparing them."""

from __future__ import annotations

import inspect
import re
from typing import Any

from sat_config.validation import load_bundled_schema

DEFS: dict[str, Any] = load_bundled_schema()["$defs"]

# optional keys whose absence means something no value expresses (upstream tests `"encoder" in config`)
NO_DEFAULT = {("DiffusionAutoencoderModelConfig", "encoder"), ("DiffusionAutoencoderModelConfig", "decoder"),
              *((f"{kind}ConditionerParams", key) for kind in ("Pretransform", "SourceMix")
                for key in ("pretransform_config", "pretransform_ckpt_path"))}


def ref_name(schema: dict[str, Any]) -> str:
    return str(schema["$ref"]).rsplit("/", 1)[1]


def keys(title: str) -> set[str]:
    return set(DEFS[title]["properties"])


def reachable(name: str, defs: dict[str, Any] = DEFS) -> set[str]:
    """The defs ``name`` refers to, directly or not (itself included)."""
    seen, stack = set(), [name]
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(re.findall(r"'#/\$defs/(\w+)'", repr(defs[current])))
    return seen


def declared_rules(prefixes: tuple[str, ...]) -> set[str]:
    """Ids of the x-rules with one of ``prefixes`` in the bundled schema."""
    found: set[str] = set()
    stack: list[Any] = [DEFS]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found |= {r for r in node.get("x-rules", []) if r.startswith(prefixes)}
            stack.extend(v for k, v in node.items() if k != "x-rules")
        elif isinstance(node, list):
            stack.extend(node)
    return found


def schema_default(schema: dict[str, Any]) -> Any:
    target = DEFS[ref_name(schema)] if "$ref" in schema else schema
    return schema.get("default", target.get("default", inspect.Parameter.empty))


def assert_documented(titles: tuple[str, ...]) -> None:
    """Every property has a description (on it or its target); every optional one a default."""
    for title in titles:
        schema = DEFS[title]
        assert schema.get("description"), title
        for key, prop in schema["properties"].items():
            target = DEFS[ref_name(prop)] if "$ref" in prop else prop
            assert "description" in prop or "description" in target, (title, key)
            optional = key not in schema.get("required", []) and key not in ("type", "output_dim", "diffusion")
            assert not optional or (title, key) in NO_DEFAULT or schema_default(prop) is not inspect.Parameter.empty, (
                title, key)


# --- upstream's side ----------------------------------------------------------------------------------------------


def signature(target: Any, minus: set[str] = frozenset()) -> set[str]:
    """Named parameters of a constructor (without self, *args, **kwargs and ``minus``)."""
    parameters = inspect.signature(target).parameters.values()
    names = {p.name for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name != "self"}
    return names - set(minus)


def read_keys(function: Any, variable: str) -> set[str]:
    """Keys a factory reads from one of its dict variables (``var.get("k")`` / ``var["k"]``)."""
    source = inspect.getsource(function)
    return set(re.findall(rf"\b{variable}(?:\.get\(|\[)[\"'](\w+)[\"']", source))


def transformer_passthrough(set_by_caller: set[str]) -> set[str]:
    """Keys a ContinuousTransformer caller may pass on: its parameters the caller does not set, and the
    TransformerBlock parameters that ContinuousTransformer does not set (its **kwargs reach every block)."""
    from stable_audio_tools.models.transformer import ContinuousTransformer, TransformerBlock

    call = inspect.getsource(ContinuousTransformer.__init__).split("TransformerBlock(")[1].split("**kwargs")[0]
    passed = set(re.findall(r"(\w+)\s*=", call)) | {"dim"}  # dim is passed positionally
    assert passed == {"dim", "dim_heads", "cross_attend", "dim_context", "global_cond_dim", "causal",
                      "zero_init_branch_outputs", "conformer", "layer_ix"}, passed
    return signature(ContinuousTransformer, set_by_caller) | signature(TransformerBlock,
                                                                                                 passed)


def assert_defaults_are_upstreams(title: str, *targets: Any, renamed: dict[str, str] | None = None,
                                  builder: dict[str, Any] | None = None) -> None:
    """Every default in ``title`` equals the default of the parameter in the first of ``targets`` that has it (or
    the ``builder``'s own default for a key it reads itself)."""
    defaults: dict[str, Any] = dict(builder or {})
    for target in reversed(targets):
        for name, parameter in inspect.signature(target).parameters.items():
            if parameter.default is not parameter.empty:
                defaults[name] = parameter.default
    for key, schema in DEFS[title]["properties"].items():
        default = schema_default(schema)
        if default is inspect.Parameter.empty:
            assert key in DEFS[title].get("required", []) or key == "output_dim" or (title, key) in NO_DEFAULT, (
                title, key)
            continue
        upstream_name = (renamed or {}).get(key, key)
        assert default == defaults[upstream_name], (title, key, default, defaults[upstream_name])
