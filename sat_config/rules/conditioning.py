"""Rules of the conditioning: conditioner ids, the widths and token counts conditioners hand to a backbone, and
the audio conditioners that encode with a pretransform. Helpers take a model section (``conditioning`` beside
``pretransform`` and ``diffusion`` or ``lm``) seen with its defaults."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from ..schema_source import shared_validation_schema
from ..suggest import closest
from .channels import as_int, pretransform_channels
from .registry import Obj, Outcome, given, is_list, once, rule, written

INPAINT_IDS = ("inpaint_mask", "inpaint_masked_input")
# a conditioner object: any mapping (dict, the common case, comes first: it passes without Mapping's ABC check)
_OBJECT = (dict, Mapping)
# an id that is its own dict key (others are keyed by their repr)
_PLAIN = (str, int, float, bool, type(None))


def _conditioning(model: Any) -> Obj:
    """The conditioning object of a model section (empty when absent or not an object)."""
    conditioning = model.get("conditioning") if isinstance(model, dict) else None
    return conditioning if isinstance(conditioning, dict) else {}


def entries(model: Any) -> list[Obj]:
    """The conditioner objects of a model section as written (a rule that needs a conditioner's defaults reads
    it with ``_entry_for``)."""
    configs = _conditioning(model).get("configs")
    return [e for e in written(configs) if isinstance(e, _OBJECT)] if is_list(configs) else []


_Table = tuple[dict[Any, Obj | None], Any]


def _table(model: Any) -> _Table:
    """(id -> the conditioner upstream keeps for it, read with its defaults (the last of duplicates, as upstream's
    dict keeps it; None for a pre-encoded id), conditioning.cond_dim), once per model section."""
    def compute() -> _Table:
        conditioning = _conditioning(model)
        configs, pre_encoded = conditioning.get("configs"), conditioning.get("pre_encoded_keys")
        found: dict[Any, Obj | None] = {}
        if is_list(configs):
            for as_written, entry in zip(written(configs), configs, strict=True):
                if isinstance(as_written, _OBJECT):
                    found[_hashable(as_written.get("id"))] = entry
        if is_list(pre_encoded):
            for key in map(_hashable, written(pre_encoded)):
                if key in found:
                    found[key] = None
        return found, conditioning.get("cond_dim")

    return once(model, "conditioners", compute)


def _entry_for(model: Any, cid: Any) -> Obj | None:
    """The conditioner the model uses for ``cid`` (the last of duplicates, as upstream's dict keeps it), read
    with its defaults; None for an undefined or pre-encoded id."""
    return _table(model)[0].get(_hashable(cid))


def _config(entry: Obj) -> Obj:
    config = entry.get("config")
    return config if isinstance(config, _OBJECT) else {}


def _cond_width(model: Obj, table: _Table, key: Any) -> int | None:
    """Width of the tensor conditioner ``key`` (an id as ``_hashable`` keys it) hands the backbone (output_dim, else
    cond_dim; the inpainting ids: 1 and io_channels); None when unknown (pre-encoded, undefined or malformed).
    ``table`` is the model section's ``_table`` (read once for all the ids a rule checks)."""
    if key == "inpaint_mask":
        return 1
    if key == "inpaint_masked_input":
        return as_int(model.get("io_channels"))
    found, cond_dim = table
    entry = found.get(key)
    kind = entry.get("type") if entry is not None else None
    if entry is None or not isinstance(kind, str) or kind not in built_in_types():
        return None  # an extension's conditioner may hand its output over another way (Ceaglex's time_align: 1)
    output_dim = _config(entry).get("output_dim")
    return as_int(output_dim if output_dim is not None else cond_dim)


@cache
def built_in_types() -> frozenset[Any]:
    """The conditioner types of the bundled schema, whose widths these rules know (read from its conditioner
    union: an extension adds its own types to the merged schema, not to this one)."""
    defs = shared_validation_schema()["$defs"]
    return frozenset(defs[branch["$ref"].rsplit("/", 1)[1]]["properties"]["type"]["const"]
                     for branch in defs["ConditionerConfig"]["oneOf"])


def undefined_ids(model: Obj, wanted: Any, extra: tuple[str, ...] = ()) -> list[Any]:
    """The ids in ``wanted`` that no conditioner of the model section defines (``extra`` ids also count)."""
    if not is_list(wanted) or not wanted:
        return []
    defined = _table(model)[0]
    missing = [i for i in map(_hashable, wanted) if i not in defined and i not in extra]
    return list(dict.fromkeys(missing))


def id_suggestion(model: Obj, missing: list[Any], extra: tuple[str, ...] = ()) -> str | None:
    """The defined conditioner id that a single undefined id is a likely typo of (did-you-mean), else None."""
    return closest(missing[0], [*_table(model)[0], *extra]) if len(missing) == 1 else None


def _hashable(value: Any) -> Any:
    return value if isinstance(value, _PLAIN) else repr(value)


def inpainting_ids(config: Obj) -> tuple[str, ...]:
    """The ids inpainting adds to the conditioning of a whole diffusion_cond(_inpaint) config, if it is used."""
    if config.get("model_type") == "diffusion_cond_inpaint":
        return INPAINT_IDS
    training = config.get("training")
    return INPAINT_IDS if isinstance(training, dict) and training.get("inpainting") is not None else ()


def _listing(widths: Mapping[Any, int | None]) -> str:
    return ", ".join(f"{cid!r} ({'width unknown' if w is None else w})" for cid, w in widths.items())


def _disabled(name: str, expected: Any, widths: Mapping[Any, int | None]) -> str:
    return (f"{name} is {expected if expected is not None else 'unset'}, which disables this conditioning, but "
            f"{_listing(widths)} {'is' if len(widths) == 1 else 'are'} passed to it: the first forward fails")


def _widths(model: Obj, wanted: Sequence[Any]) -> dict[Any, int | None]:
    """The width of each conditioner of ``wanted`` (once per id)."""
    table = _table(model)
    return {key: _cond_width(model, table, key) for key in map(_hashable, wanted)}


def each_width_problem(model: Obj, wanted: Any, expected: Any, name: str) -> str | None:
    """Why conditioners ``wanted``, each handed over at its own width (tokens concatenated along the sequence), do
    not fit the backbone input ``name`` of width ``expected``; None if they do (or a width is unknown)."""
    if not is_list(wanted) or not wanted:
        return None
    widths = _widths(model, wanted)
    if not expected:
        return _disabled(name, expected, widths)
    wrong = {cid: w for cid, w in widths.items() if w is not None and w != expected}
    if not wrong:
        return None
    return (f"{name} is {expected} but conditioner {_listing(wrong)} output{'s' if len(wrong) == 1 else ''} a "
            "different width (output_dim, else conditioning.cond_dim): the first forward fails with a shape error")


def total_width_problem(model: Obj, wanted: Any, expected: Any, name: str) -> str | None:
    """Why conditioners ``wanted``, concatenated along the channels, do not fit the backbone input ``name`` of width
    ``expected``; None if they do (or a width is unknown)."""
    if not is_list(wanted) or not wanted:
        return None
    widths = _widths(model, wanted)
    if not expected:
        return _disabled(name, expected, widths)
    known = [w for w in widths.values() if w is not None]
    if len(known) < len(widths) or sum(known) == expected:
        return None
    return (f"{name} is {expected} but the conditioners concatenated into it, {_listing(widths)}, add up to "
            f"{sum(known)} (output_dim, else conditioning.cond_dim): the first forward fails with a shape error")


def _tokens(model: Obj, cid: Any) -> int | None:
    entry = _entry_for(model, cid)
    if entry is None:
        return None
    kind, config = entry.get("type"), _config(entry)
    if kind in ("int", "number", "list", "clap_audio"):
        return 1
    if kind == "clap_text":
        return 77 if config.get("use_text_features") is True else 1
    if kind in ("t5", "lut"):
        return as_int(config.get("max_length"))
    return None  # phoneme, pretransform, source_mix: the length depends on the input


def cross_attention_tokens(model: Obj, wanted: list[Any]) -> tuple[int | None, dict[Any, int | None]]:
    """Most cross-attention tokens the conditioners ``wanted`` give (None when a count is unknown), and the count
    per id (``describe_tokens`` lists them for messages)."""
    counts = {_hashable(cid): _tokens(model, cid) for cid in wanted}
    known = [c for c in counts.values() if c is not None]
    return (sum(known) if len(known) == len(counts) else None), counts


def describe_tokens(counts: Mapping[Any, int | None]) -> str:
    """The token count per id of ``cross_attention_tokens`` (for messages)."""
    return ", ".join(f"{cid!r} {count}" for cid, count in counts.items())


def conditioners_using_model_pretransform(model: Obj) -> list[Any]:
    """Ids of the pretransform / source_mix conditioners that set use_model_pretransform."""
    audio = [e for e in entries(model) if e.get("type") in ("pretransform", "source_mix")]
    return [e.get("id") for e in audio if _config(e).get("use_model_pretransform") is True]


def _audio_conditioners(model: Obj, kind: str) -> list[tuple[Any, int, int]]:
    """(id, output width, encoded channels of its pretransform) of each ``kind`` conditioner where both are known."""
    found = []
    for entry in entries(model):
        if entry.get("type") != kind:
            continue
        config = _config(entry)
        output_dim = config.get("output_dim")
        width = as_int(output_dim if output_dim is not None else _conditioning(model).get("cond_dim"))
        source = model.get("pretransform") if config.get("use_model_pretransform") is True else config.get(
            "pretransform_config")
        encoded = pretransform_channels(source) if source is not None else None
        if width is not None and encoded is not None:
            found.append((entry.get("id"), width, encoded))
    return found


# --- rules -------------------------------------------------------------------------------------------------------


@rule("conditioning.unique_ids", at=("configs",), needs={"configs": "list"})
def unique_ids(conditioning: Obj) -> Outcome:
    """Conditioner ids are unique: upstream keeps them in a dict."""
    seen = [_hashable(e.get("id")) for e in written(conditioning["configs"]) if isinstance(e, _OBJECT)]
    if len(set(seen)) == len(seen):
        return None
    repeated = sorted(repr(i) for i in set(seen) if seen.count(i) > 1)
    return (f"conditioner ids must be unique, but {', '.join(repeated)} appears more than once: the later conditioner "
            "silently replaces the earlier one")


@rule("conditioner.int_range", at=("max_val",), needs={"min_val": "int", "max_val": "int"})
def int_range(config: Obj) -> Outcome:
    """The int conditioner's embedding table has max_val - min_val + 1 rows."""
    low, high = config["min_val"], config["max_val"]
    if high >= low:
        return None
    return (f"max_val {high} is below min_val {low}: the embedding table would have max_val - min_val + 1 = "
            f"{high - low + 1} rows (an error at construction, or an empty table that fails at the first forward)")


@rule("conditioner.number_range", at=("max_val",), needs={"min_val": "number", "max_val": "number"})
def number_range(config: Obj) -> Outcome:
    """The number conditioner normalises by max_val - min_val."""
    low, high = config["min_val"], config["max_val"]
    if high > low:
        return None
    return (f"max_val {high} must be greater than min_val {low}: inputs are normalised by (x - min_val) / (max_val - "
            "min_val), so the embeddings become NaN or constant")


@rule("conditioner.pretransform_config_unused", at=("pretransform_config",))
def pretransform_config_unused(config: Obj) -> Outcome:
    """With use_model_pretransform the builder passes pretransform_config on as an unexpected argument."""
    if config.get("use_model_pretransform") is not True or not given(config, "pretransform_config"):
        return None
    return ("with use_model_pretransform true the builder leaves pretransform_config in the conditioner's arguments: "
            "construction fails with TypeError (unexpected keyword argument 'pretransform_config'); remove it")


@rule("conditioning.model_pretransform", at=("conditioning", "configs"))
def model_pretransform(model: Obj) -> Outcome:
    """Conditioners that use the model's pretransform need the model to have one."""
    if model.get("pretransform") is not None:
        return None
    users = conditioners_using_model_pretransform(model)
    if not users:
        return None
    return (f"conditioner {', '.join(repr(c) for c in users)} sets use_model_pretransform, but the model has no "
            "pretransform: the builder asserts 'Model pretransform must be specified' at construction")


@rule("conditioning.pretransform_output_dim", at=("conditioning", "configs"))
def pretransform_output_dim(model: Obj) -> Outcome:
    """A pretransform conditioner's output width equals its pretransform's encoded channels (0.0.19)."""
    for cid, width, encoded in _audio_conditioners(model, "pretransform"):
        if width != encoded:
            return (f"pretransform conditioner {cid!r} outputs {width} channels (output_dim, else "
                    f"conditioning.cond_dim) but its pretransform encodes {encoded}: 0.0.19 applies the output "
                    "projection along the time axis, which only works when they are equal (no projection); the first "
                    "forward fails with a shape error")
    return None


@rule("conditioning.source_mix_output_dim", at=("conditioning", "configs"))
def source_mix_output_dim(model: Obj) -> Outcome:
    """A source_mix conditioner's output width differs from its pretransform's encoded channels."""
    for cid, width, encoded in _audio_conditioners(model, "source_mix"):
        if width == encoded:
            return (f"source_mix conditioner {cid!r} outputs {width} channels, as many as its pretransform encodes: "
                    "its output projection is then an Identity without parameters and the first forward fails with "
                    "StopIteration (models/conditioners.py:594); use another output_dim")
    return None
