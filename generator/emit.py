"""Write every file of generated/ from the schema directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2
from datamodel_code_generator import DataModelType, InputFileType, PythonVersion, generate
from datamodel_code_generator.format import Formatter

from sat_config.schema_source import INTEGER_PLACES, integer_places, validation_schema
from sat_config.schemawalk import pointer, subschemas

from .bundle import BundleError, bundle_schemas
from .docs import reference_context
from .editor import enrich

TEMPLATES = Path(__file__).resolve().parent / "templates"

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
    autoescape=False,
)


def _header() -> str:
    return _env.get_template("header.jinja2").render().rstrip("\n")


def pydantic_models(bundle: dict[str, Any]) -> str:
    """Typed pydantic v2 classes for the bundled schema (class names from schema titles)."""
    code = generate(
        json.dumps(bundle),
        input_file_type=InputFileType.JsonSchema,
        output_model_type=DataModelType.PydanticV2BaseModel,
        target_python_version=PythonVersion.PY_311,
        base_class="sat_config.typed.ConfigModel",
        use_title_as_name=True,
        disable_timestamp=True,
        use_annotated=True,
        field_constraints=True,
        use_standard_collections=True,
        use_union_operator=True,
        use_schema_description=True,
        use_field_description=True,
        enum_field_as_literal="all",
        use_double_quotes=True,
        keep_model_order=True,
        collapse_root_models=True,
        strict_nullable=True,
        # an optional key without a default is MISSING when absent, never None: the schema (and upstream) reject null
        use_missing_sentinel=True,
        target_pydantic_version="2.14",
        formatters=[Formatter.BUILTIN],
        custom_file_header=_header(),
    )
    assert isinstance(code, str)
    return code


def check_rules(bundle: dict[str, Any]) -> None:
    """Every ``x-rules`` entry names a rule registered in ``sat_config.rules``, and every registered rule is named
    by some schema object (a rule no schema applies checks nothing)."""
    from sat_config.rules import RULES

    named: set[str] = set()
    for parts, node in subschemas(bundle):
        entries = node.get("x-rules", [])
        if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
            raise BundleError(f"{pointer(parts)}: x-rules must be a list of rule ids (strings)")
        unknown = [e for e in entries if e not in RULES]
        if unknown:
            raise BundleError(f"{pointer(parts)}: x-rules names {unknown}, which no function in sat_config/rules "
                              "registers")
        named.update(entries)
    unused = sorted(set(RULES) - named)
    if unused:
        raise BundleError(f"rules registered in sat_config/rules but named by no schema's x-rules: {unused}")


def model_types(bundle: dict[str, Any]) -> list[dict[str, str]]:
    """(tag, class name, factory) for each branch of the root's discriminated ``oneOf``."""
    prop = bundle["discriminator"]["propertyName"]
    entries = []
    for branch in bundle["oneOf"]:
        name = branch["$ref"].rsplit("/", 1)[1]
        target = bundle["$defs"][name]
        if "x-factory" not in target:
            raise BundleError(f"$defs/{name}: a model_type branch needs an 'x-factory' (\"module:function\")")
        entries.append({"tag": target["properties"][prop]["const"], "class_name": name, "factory": target["x-factory"]})
    return entries


def _bundle(schema_dir: Path) -> dict[str, Any]:
    return {"$comment": _header().lstrip("# "), **bundle_schemas(schema_dir)}


def render_docs(schema_dir: Path) -> dict[str, str]:
    """Every file of docs/ (the reference generated from the schemas): name and text."""
    context = reference_context(enrich(_bundle(schema_dir)), _header().lstrip("# "))
    return {"reference.md": _env.get_template("reference.md.jinja2").render(**context)}


def render_files(schema_dir: Path) -> dict[str, str]:
    """Every generated file's name and text. schema.json carries the editor annotations (generator/editor.py);
    the classes and dispatch table come from the schemas as written."""
    bundle = _bundle(schema_dir)
    check_rules(bundle)
    validation = validation_schema(bundle)
    places = integer_places(validation)  # worked out here, so that validating with the bundle never does
    return {
        "__init__.py": _env.get_template("__init__.py.jinja2").render(),
        "schema.json": json.dumps(enrich(bundle), indent=2, ensure_ascii=False) + "\n",
        "validation.json": json.dumps({"$comment": bundle["$comment"], **validation, INTEGER_PLACES: places},
                                      separators=(",", ":"), ensure_ascii=False) + "\n",
        "models.py": pydantic_models(bundle),
        "dispatch.py": _env.get_template("dispatch.py.jinja2").render(model_types=model_types(bundle)),
    }


def emit_all(schema_dir: Path, output: Path, docs: Path | None = None) -> list[Path]:
    """Write generated/ into ``output`` (and docs/ into ``docs``); return the paths written."""
    targets = [(output, render_files(schema_dir))]
    if docs is not None:
        targets.append((docs, render_docs(schema_dir)))
    written = []
    for directory, files in targets:
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            path = directory / name
            path.write_text(text, encoding="utf-8")
            written.append(path.resolve())
    return written
