"""Rules of the language model (``model_type: lm``): its pretransform gives tokens, and its conditioning fits the
lm backbone."""

from __future__ import annotations

from .channels import describe_pretransform, pretransform_is_discrete, pretransform_num_quantizers
from .conditioning import each_width_problem
from .diffusion import ids_defined
from .registry import Failure, Obj, Outcome, rule


@rule("lm.discrete_pretransform", at=("pretransform",), needs={"pretransform": "object"})
def discrete_pretransform(model: Obj) -> Outcome:
    """The lm models tokens, so its pretransform must be discrete."""
    if pretransform_is_discrete(model["pretransform"]) is not False:
        return None
    return (f"the lm needs a discrete pretransform (tokens), but {describe_pretransform(model['pretransform'])} is "
            "continuous: the builder asserts 'Pretransform must be discrete' at construction")


_COND_IDS = ("cross_attention_cond_ids", "prepend_cond_ids", "global_cond_ids")


@rule("lm.cond_ids_defined")
def cond_ids_defined(model: Obj) -> Outcome:
    """The cross-attention, prepend and global ids name conditioners the model defines."""
    lm = model.get("lm")
    if not isinstance(lm, dict) or not any(lm.get(key) for key in _COND_IDS):
        return []  # no ids to look up
    return ids_defined(model, "lm", _COND_IDS)


@rule("lm.conditioning_widths", needs={"lm.config": "object"})
def conditioning_widths(model: Obj) -> Outcome:
    """The cross-attention and prepend conditioners have the widths the backbone expects."""
    lm = model["lm"]
    failures: list[Failure] = []
    for ids_key, width_key in (("cross_attention_cond_ids", "cross_attn_cond_dim"),
                               ("prepend_cond_ids", "prepend_cond_dim")):
        wanted = lm.get(ids_key)
        if not wanted:
            continue  # no conditioners handed over this way
        message = each_width_problem(model, wanted, lm["config"].get(width_key), f"lm.config.{width_key}")
        failures += [(("lm", "config", width_key), message)] if message else []
    return failures


@rule("lm.cross_attention_projection", at=("lm", "config", "project_cross_attn_cond"), needs={"lm.config": "object"})
def cross_attention_projection(model: Obj) -> Outcome:
    """Cross-attention conditioning needs project_cross_attn_cond."""
    lm = model["lm"]
    if not lm.get("cross_attention_cond_ids") or lm["config"].get("project_cross_attn_cond") is True:
        return None
    return ("cross-attention conditioning needs project_cross_attn_cond true: with false the backbone's forward "
            "indexes nn.Identity() (models/lm_backbone.py:154) and fails with TypeError")


@rule("lm.musiclm_codebooks", at=("lm", "codebook_pattern"))
def musiclm_codebooks(model: Obj) -> Outcome:
    """The musiclm pattern unrolls codebooks in pairs."""
    lm = model.get("lm")
    if not isinstance(lm, dict) or lm.get("codebook_pattern") != "musiclm":
        return None
    codebooks = pretransform_num_quantizers(model.get("pretransform"))
    if codebooks is None or codebooks % 2 == 0:
        return None
    return (f"the musiclm pattern unrolls the codebooks in groups of two, but the pretransform has {codebooks} "
            "codebooks, an odd number: building the pattern fails with KeyError at the first training or generation "
            "step")
