"""Schema extensions: what a fork of stable-audio-tools adds to the config schema, as data (docs/extensions.md).

An extension file (JSON, checked against ``sat_config/extension.schema.json``) adds tagged types to unions,
keys to objects, values to enums, replaced key definitions, helper ``$defs`` and declarative cross-field rules
(``sat_config.extension_rules``). ``discover`` finds extensions (``--extension`` files, the
``SAT_CONFIG_EXTENSIONS`` variable, the ``sat_config.extensions`` entry points) and ``merge`` returns a new bundle
with them merged in. Every extension is checked before use; a problem raises ``ExtensionError`` naming the file,
the JSON path in it and what is wrong. Nothing here imports torch or runs code from the extension.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

from .api import ENV_VAR
from .api import EXTENSION_GROUP as ENTRY_POINT_GROUP
from .errors import ExtensionError, json_path
from .extension_rules import KEYWORD as RULES_KEYWORD
from .installed import entry_points
from .schemawalk import subschemas

META_SCHEMA = "extension.schema.json"

_REF = re.compile(r"^#(/\$defs/([A-Za-z][A-Za-z0-9_]*))?$")
_FORBIDDEN = ("$id", "$anchor", "$dynamicRef", "$dynamicAnchor", "$recursiveRef")


class Extension:
    """A loaded, self-consistent extension (``data`` is the parsed file; never mutated)."""

    __slots__ = ("name", "source", "origin", "data")

    def __init__(self, name: str, source: str, origin: str, data: Mapping[str, Any]) -> None:
        self.name = name
        self.source = source  # the file it came from
        self.origin = origin  # how it was found: "--extension", "SAT_CONFIG_EXTENSIONS" or "entry point <name>"
        self.data = data

    def __repr__(self) -> str:
        return f"Extension({self.name!r}, {self.source!r}, {self.origin!r})"

    def describe(self) -> str:
        """One line for reports: ``name (source, origin)``."""
        return f"{self.name} ({self.source}, {self.origin})"


def meta_schema() -> dict[str, Any]:
    """The meta-schema of extension files (shipped as ``sat_config/extension.schema.json``)."""
    return json.loads(_meta_text())  # type: ignore[no-any-return]


@cache
def _meta_text() -> str:
    return (Path(__file__).resolve().parent / META_SCHEMA).read_text(encoding="utf-8")  # no importlib.resources:
    # its import alone costs more than reading the file


@cache
def _meta_validator() -> Any:
    from .compiled import jsonschema_rs

    return jsonschema_rs().validator_for(json.loads(_meta_text()))


def load_extension(path: str | Path, origin: str = "--extension") -> Extension:
    """Read and check one extension file (its format and every schema in it); raise ExtensionError."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExtensionError(source, "$", f"cannot read the extension: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExtensionError(source, "$", f"not JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from exc
    check_format(data, source)
    return Extension(name=data["name"], source=source, origin=origin, data=data)


def check_format(data: Any, source: str) -> None:
    """Check ``data`` against the meta-schema, and each schema in it against draft 2020-12."""
    errors = sorted(_meta_validator().iter_errors(data), key=lambda e: list(map(str, e.instance_path)))
    if errors:
        error = errors[0]
        raise ExtensionError(source, json_path(error.instance_path), f"{error.message} (extension format: "
                             f"sat_config/{META_SCHEMA})")
    for parts, schema in fragments(data):
        _check_schema(schema, parts, source)


def fragments(data: Mapping[str, Any]) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """(JSON path parts, schema) for every schema an extension declares."""
    for name, schema in data.get("$defs", {}).items():
        yield ("$defs", name), schema
    for union, types in data.get("types", {}).items():
        for name, schema in types.items():
            yield ("types", union, name), schema
    for section in ("keys", "replace"):
        for location, keys in data.get(section, {}).items():
            for key, schema in keys.items():
                yield (section, location, key), schema


def _check_schema(schema: Any, parts: tuple[Any, ...], source: str) -> None:
    from .compiled import jsonschema_rs

    library = jsonschema_rs()
    try:
        library.meta.validate(schema)
    except library.ValidationError as exc:
        raise ExtensionError(source, json_path((*parts, *exc.instance_path)),
                             f"not a valid JSON Schema (draft 2020-12): {exc.message}") from None
    for where, node in subschemas(schema, parts):
        for keyword in _FORBIDDEN:
            if keyword in node:
                raise ExtensionError(source, json_path((*where, keyword)), f"{keyword} is not used in sat-config "
                                     "schemas: refer to other schemas as '#/$defs/<name>'")
        ref = node.get("$ref")
        if ref is not None and not (isinstance(ref, str) and _REF.match(ref)):
            raise ExtensionError(source, json_path((*where, "$ref")), f"$ref {ref!r} must be '#/$defs/<name>' (a "
                                 "schema of this extension or of the built-in schema) or '#' (a whole config)")


def discover(paths: Iterable[str | Path] = (), env: Mapping[str, str] = os.environ) -> list[Extension]:
    """The extensions to use: ``paths`` (``--extension``), then the files listed in ``SAT_CONFIG_EXTENSIONS``
    (separated by ``os.pathsep``), then those installed packages declare in the ``sat_config.extensions``
    entry-point group (value ``package:file.json``, a JSON file inside the package; the package is not
    imported). A file found twice is used once; two different extensions with one name are an error."""
    found: list[Extension] = []
    for path in paths:
        found.append(load_extension(path, "--extension"))
    for path in env.get(ENV_VAR, "").split(os.pathsep):
        if path.strip():
            found.append(load_extension(path.strip(), ENV_VAR))
    found += _installed()
    unique: dict[str, Extension] = {}
    by_name: dict[str, Extension] = {}
    for ext in found:
        key = os.path.realpath(ext.source)
        if key in unique:
            continue
        other = by_name.get(ext.name)
        if other is not None and other.data != ext.data:
            raise ExtensionError(ext.source, "$.name", f"extension {ext.name!r} is also {other.source} "
                                 "with other content: give each extension its own name, or use one of them")
        unique[key] = by_name[ext.name] = ext
    return [ext for key, ext in unique.items() if by_name[ext.name] is ext]


def _installed() -> list[Extension]:
    extensions = []
    for name, value in entry_points(ENTRY_POINT_GROUP):
        origin = f"entry point {name}"
        module, _, resource = value.partition(":")
        path = package_file(module.strip(), resource.strip())
        if path is None:
            raise ExtensionError(f"{value} ({origin})", "$", "no such file: the entry point's value must be "
                                 "'package:file.json', a JSON file inside an installed package")
        extensions.append(load_extension(path, origin))
    return extensions


def package_file(package: str, resource: str) -> Path | None:
    """The file ``resource`` inside the installed ``package`` (dotted), found without importing it."""
    from importlib.util import find_spec

    top, *rest = package.split(".")
    try:
        spec = find_spec(top)
    except (ImportError, ValueError):
        return None
    if not resource or spec is None or not spec.submodule_search_locations:
        return None
    for base in spec.submodule_search_locations:
        candidate = Path(base, *rest, *resource.split("/"))
        if candidate.is_file():
            return candidate
    return None


def merge(bundle: Mapping[str, Any], extensions: Iterable[Extension]) -> dict[str, Any]:
    """A new bundle: ``bundle`` (the built-in single-document schema) with ``extensions`` merged in, in order.
    ``bundle`` is never modified (unchanged parts are shared with it, changed ones are copies)."""
    merger = _Merger(bundle)
    for ext in extensions:
        merger.add(ext)
    return merger.root


class _Merger:
    def __init__(self, bundle: Mapping[str, Any]) -> None:
        self.root: dict[str, Any] = dict(bundle)
        self.builtin_defs: Mapping[str, Any] = bundle["$defs"]
        self.defs: dict[str, Any] = dict(self.builtin_defs)
        self.root["$defs"] = self.defs
        self.title = str(bundle.get("title"))
        self.owned: set[str] = set()
        self.def_owner: dict[str, Extension] = {}
        self.tag_owner: dict[tuple[int, Any], tuple[Extension, Any]] = {}
        self.key_owner: dict[tuple[str, int, str], tuple[Extension, Any]] = {}
        self.enum_owner: dict[tuple[int, str], tuple[Extension, str]] = {}
        self.rule_owner: dict[str, Extension] = {}
        self.ext: Extension | None = None
        self.merged: dict[str, Extension] = {}

    # -- errors and lookups ------------------------------------------------------------------------------------

    def fail(self, parts: tuple[Any, ...], message: str) -> ExtensionError:
        assert self.ext is not None
        return ExtensionError(self.ext.source, json_path(parts), message)

    def _own(self, name: str) -> dict[str, Any]:
        """The mutable copy of ``$defs[name]`` in the merged bundle."""
        if name not in self.owned:
            self.defs[name] = copy.deepcopy(self.defs[name])
            self.owned.add(name)
        node: dict[str, Any] = self.defs[name]
        return node

    def _deref(self, node: dict[str, Any]) -> dict[str, Any]:
        """Follow a schema that is only a ``$ref`` (plus annotations) to the mutable definition."""
        seen = set()
        while isinstance(node.get("$ref"), str) and not ({"properties", "oneOf", "enum"} & node.keys()):
            match = _REF.match(node["$ref"])
            name = match.group(2) if match else None
            if name is None or name in seen or name not in self.defs:
                break
            seen.add(name)
            node = self._own(name)
        return node

    def locate(self, location: str, parts: tuple[Any, ...]) -> dict[str, Any]:
        """The mutable schema named ``location`` (``Name`` or ``Name.key.key``), references followed."""
        from .validation import closest

        name, *keys = location.split(".")
        if name == self.title:
            node = self.root
        elif name in self.defs:
            node = self._own(name)
        else:
            hint = closest(name, [self.title, *self.defs])
            raise self.fail(parts, f"no schema named {name!r} (names are docs/reference.md's section names"
                            + (f"; did you mean {hint!r}?)" if hint else ")"))
        walked = name
        if not isinstance(node, dict):
            raise self.fail(parts, f"{walked} is {json.dumps(node)}, not a schema object that can be extended")
        for key in keys:
            node = self._deref(node)
            properties = node.get("properties")
            if not isinstance(properties, dict) or key not in properties:
                hint = closest(key, properties or {})
                raise self.fail(parts, f"{walked} has no key {key!r}" + (f" (did you mean {hint!r}?)" if hint else ""))
            node = properties[key]
            walked += "." + key
            if not isinstance(node, dict):
                raise self.fail(parts, f"{walked} is {json.dumps(node)}, not a schema object that can be extended")
        return self._deref(node)

    def _refs_in(self, node: dict[str, Any]) -> list[str]:
        refs = [node.get("$ref")] + [b.get("$ref") for b in node.get("anyOf", []) if isinstance(b, dict)]
        return [r.removeprefix("#/$defs/") for r in refs if isinstance(r, str) and r.startswith("#/$defs/")]

    def _expect(self, node: dict[str, Any], what: str, location: str, parts: tuple[Any, ...]) -> NoReturn:
        refs = self._refs_in(node)
        hint = f"; it refers to {' or '.join(refs)}: name that instead" if refs else ""
        raise self.fail(parts, f"{location} is not {what}{hint}")

    # -- merging -----------------------------------------------------------------------------------------------

    def add(self, ext: Extension) -> None:
        self.ext = ext
        data = ext.data
        earlier = self.merged.get(ext.name)
        if earlier is not None:
            if _same(earlier.data, data):
                return  # the same extension found twice
            raise self.fail(("name",), f"extension {ext.name!r} is also {earlier.source} with other content: "
                            "give each extension its own name, or use one of them")
        self.merged[ext.name] = ext
        for name, schema in data.get("$defs", {}).items():
            self.claim(name, schema, ("$defs", name))
        for location, types in data.get("types", {}).items():
            for name, schema in types.items():
                self.add_type(location, name, schema, ("types", location, name))
        for section in ("keys", "replace"):
            for location, keys in data.get(section, {}).items():
                for key, schema in keys.items():
                    self.add_key(location, key, schema, section == "replace", (section, location, key))
        for location, values in data.get("enums", {}).items():
            for index, entry in enumerate(values):
                self.add_enum_value(location, entry["value"], entry["description"], ("enums", location, index))
        for index, entry in enumerate(data.get("disable_rules", [])):
            self.disable_rule(entry["id"], ("disable_rules", index, "id"))
        for location, rules in data.get("rules", {}).items():
            for index, rule in enumerate(rules):
                self.add_rule(location, rule, ("rules", location, index))
        for parts, schema in fragments(data):
            for where, node in subschemas(schema, parts):
                ref = node.get("$ref")
                match = _REF.match(ref) if isinstance(ref, str) else None
                if match and match.group(2) and match.group(2) not in self.defs:
                    from .validation import closest

                    hint = closest(match.group(2), self.defs)
                    raise self.fail((*where, "$ref"), f"$ref {ref!r} names no schema of this extension or the "
                                    "built-in schema" + (f" (did you mean '#/$defs/{hint}'?)" if hint else ""))

    def claim(self, name: str, schema: Any, parts: tuple[Any, ...], tag: str | None = None) -> None:
        """Add a new ``$defs`` entry (a helper schema or a new type)."""
        assert self.ext is not None
        if name in self.builtin_defs or name == self.title:
            raise self.fail(parts, f"{name!r} collides with the built-in schema of that name (docs/reference.md"
                            f"#{name.lower()}): choose another name")
        other = self.def_owner.get(name)
        if other is not None:
            if _same(schema, self._source_schema(other, name)):
                return
            raise self.fail(parts, f"{name!r} is also defined by extension {other.name!r} ({other.source}) "
                            "differently: the two extensions disagree")
        if isinstance(schema, dict):
            if schema.get("title", name) != name:
                raise self.fail((*parts, "title"), f"title {schema['title']!r} must be the schema's name {name!r} "
                                "(it names the generated class and the docs section)")
            schema = annotate({**copy.deepcopy(schema), "title": name}, tag)
        self.defs[name] = schema
        self.owned.add(name)
        self.def_owner[name] = self.ext

    def _source_schema(self, ext: Extension, name: str) -> Any:
        for parts, schema in fragments(ext.data):
            if parts[0] in ("$defs", "types") and parts[-1] == name:
                return schema
        return None

    def add_type(self, location: str, name: str, schema: dict[str, Any], parts: tuple[Any, ...]) -> None:
        assert self.ext is not None
        union = self.locate(location, ("types", location))
        if not isinstance(union.get("oneOf"), list) or not isinstance(union.get("discriminator"), dict):
            self._expect(union, "a tagged union", location, ("types", location))
        prop = union["discriminator"]["propertyName"]
        tag_schema = schema.get("properties", {}).get(prop)
        if not isinstance(tag_schema, dict) or "const" not in tag_schema:
            raise self.fail((*parts, "properties"), f"a type of {location} needs its tag: "
                            f"properties.{prop} = {{\"const\": ...}}")
        tag = tag_schema["const"]
        if not isinstance(tag, str) or not tag:
            raise self.fail((*parts, "properties", prop, "const"),
                            f"a tag is a non-empty string, not {json.dumps(tag)}")
        tags = self._tags(union, prop)
        if tag in tags:
            owner = self.tag_owner.get((id(union), tag))
            if owner is None:
                raise self.fail((*parts, "properties", prop, "const"), f"{prop} {tag!r} collides with the built-in "
                                f"type {tags[tag]} of {location}: a fork's own type needs a tag of its own")
            if _same(owner[1], schema):
                return
            raise self.fail((*parts, "properties", prop, "const"), f"{prop} {tag!r} of {location} is also added by "
                            f"extension {owner[0].name!r} ({owner[0].source}): the two extensions disagree")
        is_root = union is self.root
        if is_root and "x-factory" not in schema:
            raise self.fail(parts, "a new model_type needs 'x-factory': the constructor to call, "
                            "\"module:function\"")
        self.claim(name, schema, parts, prop)
        self.tag_owner[(id(union), tag)] = (self.ext, schema)
        branch = {"$ref": f"#/$defs/{name}"}
        union["oneOf"] = [*union["oneOf"], branch]
        alias = f"{self.title}Ref"
        if is_root and alias in self.defs:
            aliased = self._own(alias)
            aliased["oneOf"] = [*aliased["oneOf"], branch]

    def _tags(self, union: dict[str, Any], prop: str) -> dict[Any, str]:
        """Each tag of ``union`` -> the name of its branch's schema."""
        tags = {}
        for branch in union["oneOf"]:
            ref = branch.get("$ref", "") if isinstance(branch, dict) else ""
            target = self.defs.get(ref.removeprefix("#/$defs/"), branch) if ref.startswith("#/$defs/") else branch
            tag = target.get("properties", {}).get(prop, {}) if isinstance(target, dict) else {}
            if isinstance(tag, dict) and "const" in tag:
                tags[tag["const"]] = ref.removeprefix("#/$defs/") or "(inline)"
        return tags

    def add_key(self, location: str, key: str, schema: Any, replace: bool, parts: tuple[Any, ...]) -> None:
        assert self.ext is not None
        section = "replace" if replace else "keys"
        obj = self.locate(location, (section, location))
        if not isinstance(obj.get("properties"), dict):
            self._expect(obj, "an object schema with keys", location, (section, location))
        owner = self.key_owner.get((section, id(obj), key))
        if owner is not None:
            if _same(owner[1], schema):
                return
            raise self.fail(parts, f"{location}.{key} is also {'replaced' if replace else 'added'} by extension "
                            f"{owner[0].name!r} ({owner[0].source}) differently: the two extensions disagree")
        exists = key in obj["properties"]
        if replace and not exists:
            from .validation import closest

            hint = closest(key, obj["properties"])
            raise self.fail(parts, f"{location} has no key {key!r} to replace" + (f" (did you mean {hint!r}?)"
                                                                                 if hint else "; add it under 'keys'"))
        if not replace and exists:
            other = self.key_owner.get(("replace", id(obj), key)) or self.key_owner.get(("keys", id(obj), key))
            whose = f"extension {other[0].name!r}" if other else "the built-in schema"
            raise self.fail(parts, f"{location} already has the key {key!r} ({whose}): to change its definition, "
                            "put it under 'replace'")
        added = self.key_owner.get(("keys", id(obj), key))
        if replace and added is not None and added[0] is not self.ext:
            raise self.fail(parts, f"{location}.{key} is a key extension {added[0].name!r} ({added[0].source}) adds: "
                            "the two extensions disagree about it")
        self.key_owner[(section, id(obj), key)] = (self.ext, schema)
        obj["properties"] = {**obj["properties"], key: annotate(copy.deepcopy(schema))}

    def add_enum_value(self, location: str, value: Any, description: str, parts: tuple[Any, ...]) -> None:
        assert self.ext is not None
        node = self.locate(location, ("enums", location))
        if not isinstance(node.get("enum"), list):
            self._expect(node, "an enum", location, ("enums", location))
        key = value if isinstance(value, str) else json.dumps(value)
        if value in node["enum"]:
            owner = self.enum_owner.get((id(node), key))
            if owner is None:
                raise self.fail((*parts, "value"), f"{value!r} is already a built-in value of {location}")
            if owner[1] == description:
                return
            raise self.fail((*parts, "value"), f"{value!r} is also added to {location} by extension "
                            f"{owner[0].name!r} ({owner[0].source}) with another meaning: the two extensions disagree")
        self.enum_owner[(id(node), key)] = (self.ext, description)
        node["enum"] = [*node["enum"], value]
        if isinstance(node.get("x-enumDescriptions"), dict):
            node["x-enumDescriptions"] = {**node["x-enumDescriptions"], key: description}
        for annotation in ("enumDescriptions", "markdownEnumDescriptions"):
            if isinstance(node.get(annotation), list):
                node[annotation] = [*node[annotation], description]

    def add_rule(self, location: str, rule: dict[str, Any], parts: tuple[Any, ...]) -> None:
        assert self.ext is not None
        obj = self.locate(location, ("rules", location))
        if not isinstance(obj.get("properties"), dict):
            self._expect(obj, "an object schema with keys", location, ("rules", location))
        rule_id = rule["id"]
        if rule_id in _builtin_rules(self.builtin_defs):
            raise self.fail((*parts, "id"), f"rule id {rule_id!r} is a built-in rule's id: prefix it with the "
                            "extension's name")
        other = self.rule_owner.get(rule_id)
        if other is not None:
            raise self.fail((*parts, "id"), f"rule id {rule_id!r} is also used by extension {other.name!r} "
                            f"({other.source})")
        self.rule_owner[rule_id] = self.ext
        obj[RULES_KEYWORD] = [*obj.get(RULES_KEYWORD, []), copy.deepcopy(rule)]


    def disable_rule(self, rule_id: str, parts: tuple[Any, ...]) -> None:
        """Remove the built-in rule ``rule_id`` from the merged bundle."""
        where = _builtin_rules(self.builtin_defs)
        if rule_id not in where:
            from .validation import closest

            hint = closest(rule_id, where)
            raise self.fail(parts, f"no built-in rule has the id {rule_id!r}" + (f" (did you mean {hint!r}?)"
                                                                                   if hint else ""))
        for _, node in subschemas(self._own(where[rule_id]), ()):
            rules = node.get("x-rules")
            if isinstance(rules, list) and any(_rule_id(r) == rule_id for r in rules):
                node["x-rules"] = [r for r in rules if _rule_id(r) != rule_id]


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


_RULES: dict[int, tuple[Mapping[str, Any], dict[str, str]]] = {}


def _rule_id(rule: Any) -> str:
    """A built-in ``x-rules`` entry's id (an entry is the id itself, or an object with an ``id``)."""
    return rule if isinstance(rule, str) else str(rule.get("id")) if isinstance(rule, dict) else ""


def _builtin_rules(defs: Mapping[str, Any]) -> dict[str, str]:
    """Built-in rule id -> the name of the schema that declares it."""
    cached = _RULES.get(id(defs))
    if cached is not None and cached[0] is defs:
        return cached[1]
    where = {_rule_id(rule): name for name, definition in defs.items() for _, node in subschemas(definition, ())
             for rule in node.get("x-rules", [])}
    _RULES[id(defs)] = (defs, where)
    return where


def annotate(schema: Any, tag: str | None = None) -> Any:
    """Editor annotations for an extension's schema (as ``generator/editor.py`` derives them for the built-in
    one): ``markdownDescription`` from ``description``, the tag's description on a type's ``const``, and
    ``enumDescriptions`` from ``x-enumDescriptions``; ``tag`` names a type's discriminator property.
    Returns ``schema`` (annotated in place)."""
    for _, node in subschemas(schema, ()):
        if isinstance(node.get("description"), str):
            node.setdefault("markdownDescription", node["description"])
        described = node.get("x-enumDescriptions")
        if isinstance(described, dict) and isinstance(node.get("enum"), list):
            texts = [described.get(v if isinstance(v, str) else json.dumps(v), "") for v in node["enum"]]
            node.setdefault("enumDescriptions", texts)
            node.setdefault("markdownEnumDescriptions", texts)
    tag_schema = schema.get("properties", {}).get(tag) if isinstance(schema, dict) and tag else None
    what = schema.get("description") or schema.get("title") if isinstance(schema, dict) else None
    if isinstance(tag_schema, dict) and "const" in tag_schema and what:
        lead = tag_schema.get("description", "")
        tag_schema["markdownDescription"] = f"{lead}\n\n`{tag_schema['const']}`: {what}".strip()
    return schema
