"""Rules of the backbones: DiT, the ADP U-Nets (UNet1d / UNetCFG1d) and the continuous transformer that DiT and
the lm backbone share."""

from __future__ import annotations

from .channels import as_ints
from .registry import Failure, Obj, Outcome, TypeName, is_int, rule, written

# --- attention layouts (shared with the lm backbone) -------------------------------------------------------------


def head_layout_problem(dim: int, dim_heads: int, rotary: bool, add_rope: bool) -> str | None:
    """Why self-attention of width ``dim`` with ``dim_heads`` features per head (ContinuousTransformer's dim_heads;
    each block uses min(dim_heads, dim)), with ``rotary`` (rotary_pos_emb) and ``add_rope`` embeddings, fails at
    construction or at the first forward; None if it works."""
    if dim_heads < 1:
        return "attention heads would have 0 features: construction fails with ZeroDivisionError"
    head = min(dim_heads, dim)
    if add_rope is True and head // 2 == 2:
        return (f"add_rope gives every block RotaryEmbedding(head size // 2) = RotaryEmbedding(2) for {head}-feature "
                "heads, which divides by zero (dim / (dim - 2)) at construction")
    heads = dim // head
    if dim % heads:
        return (f"the width does not split into {heads} attention heads ({dim} is not a multiple of {heads}): the "
                "first forward fails with a shape error")
    if rotary:
        rotated = max(dim_heads // 2, 32)
        rotated += rotated % 2
        if dim // heads < rotated:
            return (f"rotary position embeddings rotate {rotated} features per head but the heads have "
                    f"{dim // heads}: the first forward fails with a shape error (heads need at least 32 features, "
                    "or set rotary_pos_emb false)")
    return None


def cross_attention_problem(dim: int, dim_heads: int, context: int) -> str | None:
    """Why cross-attention from width ``dim`` (``dim_heads`` features per head) to keys and values of width
    ``context`` fails at the first forward; None if it works (or the self-attention check reports the layout)."""
    head = min(dim_heads, dim)
    if head < 1 or dim % (dim // head):
        return None
    heads, kv_heads = dim // head, context // head
    if kv_heads < 1:
        return f"{context} features do not make a single {head}-feature key/value head: the first forward fails"
    if context % kv_heads or context // kv_heads != dim // heads or heads % kv_heads:
        return (f"they make {kv_heads} key/value heads of {context / kv_heads:g} features for {heads} query heads of "
                f"{dim // heads}: the first forward fails with a shape error (the width must be a multiple of "
                f"{dim // heads} that divides into the {heads} heads)")
    return None


# --- DiT ---------------------------------------------------------------------------------------------------------

_DIT_SHAPE: dict[str, TypeName] = {"embed_dim": "int", "num_heads": "int"}


@rule("dit.heads", at=("num_heads",), needs={**_DIT_SHAPE, "rotary_pos_emb": "bool", "add_rope": "bool"})
def dit_heads(dit: Obj) -> Outcome:
    """embed_dim splits into num_heads attention heads that rotary embeddings fit."""
    width, heads = dit["embed_dim"], dit["num_heads"]
    if heads < 1:
        return None
    problem = head_layout_problem(width, width // heads, dit["rotary_pos_emb"], dit["add_rope"])
    return None if problem is None else f"embed_dim {width} with num_heads {heads}: {problem}"


@rule("dit.cross_attention_heads", at=("cond_token_dim",), needs={**_DIT_SHAPE, "cond_token_dim": "int"})
def dit_cross_attention_heads(dit: Obj) -> Outcome:
    """Unprojected conditioning tokens must split into the attention heads as they are."""
    tokens, heads = dit["cond_token_dim"], dit["num_heads"]
    if tokens <= 0 or dit.get("project_cond_tokens") is not False or heads < 1:
        return None
    problem = cross_attention_problem(dit["embed_dim"], dit["embed_dim"] // heads, tokens)
    if problem is None:
        return None
    return (f"with project_cond_tokens false the {tokens}-wide conditioning tokens are split into attention heads "
            f"as they are: {problem}")


@rule("dit.global_cond_width", at=("global_cond_dim",), needs={"embed_dim": "int", "global_cond_dim": "int"})
def dit_global_cond_width(dit: Obj) -> Outcome:
    """Unprojected global conditioning is added to the embed_dim-wide timestep embedding."""
    width = dit["global_cond_dim"]
    if width <= 0 or dit.get("project_global_cond") is not False or width == dit["embed_dim"]:
        return None
    return (f"with project_global_cond false the global conditioning is added to the {dit['embed_dim']}-wide "
            f"timestep embedding (embed_dim) as it is, but global_cond_dim is {dit['global_cond_dim']}: the first "
            "forward fails with a shape error")


@rule("dit.timestep_embed_dim", at=("timestep_embed_dim",))
def dit_timestep_embed_dim(dit: Obj) -> Outcome:
    """timestep_cond_type input_concat concatenates a 1-wide timestep embedding."""
    if dit.get("timestep_cond_type") != "input_concat" or dit.get("timestep_embed_dim") == 1:
        return None
    return (f"timestep_cond_type input_concat needs timestep_embed_dim 1, got {dit.get('timestep_embed_dim')}: "
            "without it DiffusionTransformer asserts at construction, and any other width fails at the first forward "
            "(0.0.19 expands the (batch, 1, width) embedding along the sequence, models/dit.py:178)")


# --- the continuous transformer (DiT and the lm backbone) --------------------------------------------------------


@rule("transformer.sinusoidal_width", at=("use_sinusoidal_emb",), needs={"embed_dim": "int"})
def transformer_sinusoidal_width(transformer: Obj) -> Outcome:
    """The sinusoidal position embedding needs an even width."""
    if transformer.get("use_sinusoidal_emb") is not True or transformer["embed_dim"] % 2 == 0:
        return None
    return (f"use_sinusoidal_emb needs an even transformer width, but embed_dim is {transformer['embed_dim']}: "
            "ScaledSinusoidalEmbedding asserts 'dimension must be divisible by 2' at construction")


@rule("transformer.ff_dim_out", at=("ff_kwargs", "dim_out"), needs={"ff_kwargs.dim_out": "int", "embed_dim": "int"})
def transformer_ff_dim_out(transformer: Obj) -> Outcome:
    """The feed-forward output is added to the block input, so it keeps embed_dim."""
    dim_out = transformer["ff_kwargs"]["dim_out"]
    if dim_out == transformer["embed_dim"]:
        return None
    return (f"ff_kwargs.dim_out is {dim_out} but every block adds the feed-forward output to its "
            f"{transformer['embed_dim']}-wide input (embed_dim): the first forward fails with a shape error; leave "
            "dim_out unset")


@rule("transformer.ff_conv_kernel", at=("ff_kwargs", "conv_kernel_size"), needs={"ff_kwargs.conv_kernel_size": "int"})
def transformer_ff_conv_kernel(transformer: Obj) -> Outcome:
    """The feed-forward convolution keeps the length only with an odd kernel."""
    ff_kwargs = transformer["ff_kwargs"]
    size = ff_kwargs["conv_kernel_size"]
    if ff_kwargs.get("use_conv") is not True or size % 2 == 1:
        return None
    return (f"ff_kwargs.conv_kernel_size {size} is even: with padding kernel_size // 2 the convolution lengthens the "
            "sequence by one and the residual add fails at the first forward; use an odd size")


@rule("lm_backbone.heads", at=("dim_heads",),
      needs={"embed_dim": "int", "dim_heads": "int", "rotary_pos_emb": "bool", "add_rope": "bool"})
def lm_backbone_heads(backbone: Obj) -> Outcome:
    """embed_dim splits into heads of dim_heads features that rotary embeddings fit."""
    problem = head_layout_problem(backbone["embed_dim"], backbone["dim_heads"], backbone["rotary_pos_emb"],
                                  backbone["add_rope"])
    if problem is None:
        return None
    return f"embed_dim {backbone['embed_dim']} with dim_heads {backbone['dim_heads']}: {problem}"


# --- the ADP U-Nets ----------------------------------------------------------------------------------------------

_UNET: dict[str, TypeName] = {"channels": "int", "multipliers": "ints", "factors": "list", "num_blocks": "ints",
                         "attentions": "ints"}


def _levels(unet: Obj) -> int:
    return len(unet["multipliers"]) - 1


def _well_formed(unet: Obj) -> bool:
    """Whether the level lists agree, so the U-Net's shape can be computed (the length rules report otherwise)."""
    levels = _levels(unet)
    return levels >= 0 and len(unet["num_blocks"]) == levels and len(unet["attentions"]) >= max(levels, 1)


def uses_attention(unet: Obj) -> bool:
    """Whether any level (or the bottleneck, which uses the last entry) of a U-Net has attention."""
    attentions = unet["attentions"]
    return any(a > 0 for a in attentions[: _levels(unet)]) or (len(attentions) > 0 and attentions[-1] > 0)


@rule("adp.context_embedding_unused", at=("context_embedding_features",), needs=_UNET)
def adp_context_embedding_unused(unet: Obj) -> Outcome:
    """adp_1d and adp_uncond_1d never pass cross-attention tokens to the U-Net."""
    if unet.get("context_embedding_features") is None or not _well_formed(unet) or not uses_attention(unet):
        return None
    return ("context_embedding_features gives the attention blocks cross-attention, but the adp_uncond_1d and adp_1d "
            "backbones never pass cross-attention tokens: the first forward fails ('You must provide a context when "
            "using context_features'); leave it unset (cross-attention needs adp_cfg_1d)")


@rule("adp.level_lists", needs={"multipliers": "list", "factors": "list", "num_blocks": "list", "attentions": "list"})
def adp_level_lists(unet: Obj) -> Outcome:
    """factors and num_blocks have one entry per level (len(multipliers) - 1); attentions at least one."""
    levels = len(unet["multipliers"]) - 1
    failures: list[Failure] = []
    for key, count, extra in (("factors", len(unet["factors"]), ""), ("num_blocks", len(unet["num_blocks"]), ""),
                              ("attentions", len(unet["attentions"]),
                               " (plus the bottleneck, which uses the last entry)")):
        if count == levels or (key == "attentions" and count > levels):
            continue
        failures.append(((key,), f"{key} has {count} entries but the U-Net has len(multipliers) - 1 = {levels} "
                                  f"levels{extra}: UNet1d fails an empty assertion at construction"))
    return failures


@rule("adp.attention_settings", needs=_UNET)
def adp_attention_settings(unet: Obj) -> Outcome:
    """Attention blocks need attention_heads or attention_features, and attention_multiplier."""
    no_heads = unet.get("attention_heads") is None and unet.get("attention_features") is None
    no_multiplier = unet.get("attention_multiplier") is None
    if not (no_heads or no_multiplier) or not _well_formed(unet) or not uses_attention(unet):
        return None
    failures: list[Failure] = []
    if no_heads:
        failures.append((("attention_heads",), "attentions has non-zero entries, so attention_heads or attention_"
                         "features is required: the attention blocks fail an empty assertion at construction"))
    if no_multiplier:
        failures.append((("attention_multiplier",), "attentions has non-zero entries, so attention_multiplier is "
                         "required: the attention blocks fail an empty assertion at construction"))
    return failures


def _widths(unet: Obj) -> list[int]:
    """The width of each level of a U-Net (channels x its multiplier)."""
    channels = unet["channels"]
    return [channels * m for m in unet["multipliers"]]


def _resnet_widths(unet: Obj, context: list[int]) -> set[int]:
    """The input widths of the resnet blocks (their GroupNorms) of a well-formed U-Net whose levels take
    ``context`` (context_channels) channels of context: the bottleneck's; for a level with blocks its width with
    and without its context; for a level with blocks or attention its upsampling width, doubled by the skip
    connection, and its width."""
    widths = _widths(unet)
    context = context + [0] * (len(widths) - len(context))
    normed = {widths[-1]}
    levels = zip(widths[1:], context[1:], unet["num_blocks"], unet["attentions"], strict=False)
    for width, extra, blocks, attention in levels:
        if blocks >= 1:
            normed.add(width + extra)
            normed.add(width)
        if blocks + (1 if attention else 0) >= 1:
            normed.add(2 * width)
            normed.add(width)
    return normed


@rule("adp.group_norm", at=("resnet_groups",), needs={**_UNET, "resnet_groups": "int"})
def adp_group_norm(unet: Obj) -> Outcome:
    """resnet_groups divides every resnet block width (GroupNorm)."""
    groups = unet["resnet_groups"]
    if groups < 1 or not _well_formed(unet):
        return None
    context = as_ints(unet.get("context_channels") or [])
    if context is None:
        return None
    bad = [w for w in _resnet_widths(unet, context) if w % groups]
    if not bad:
        return None
    return (f"resnet_groups {groups} does not divide the resnet block width{'s' if len(bad) > 1 else ''} "
            f"{', '.join(map(str, sorted(bad)))} (level widths are channels x multipliers, doubled by the skip "
            "connections of the upsampling blocks, plus any context_channels): GroupNorm raises ValueError at "
            "construction")


@rule("adp.attention_width", at=("attentions",), needs=_UNET)
def adp_attention_width(unet: Obj) -> Outcome:
    """Levels with attention are a multiple of 32 wide and wide enough for their heads."""
    if not _well_formed(unet):
        return None
    widths, attentions = _widths(unet), unet["attentions"]
    heads, features = unet.get("attention_heads"), unet.get("attention_features")
    # the head count attention_heads sets, or the features per head attention_features sets (None: neither)
    head_count = heads if features is None and is_int(heads) and heads > 0 else None
    head_features = features if heads is None and is_int(features) and features > 0 else None
    # each level's width and attentions entry, then the bottleneck's (which uses the last entry)
    for width, count in [*zip(widths[1:], attentions, strict=False), (widths[-1], attentions[-1])]:
        if count <= 0:
            continue
        if width % 32:
            return (f"a level with attention is {width} channels wide, not a multiple of 32: the attention block's "
                    "GroupNorm(32 groups) raises ValueError at construction")
        if head_count is not None and width // head_count < 1:
            return (f"attention_heads {heads} is more than the {width} channels of a level with attention: its heads "
                    "would have 0 features (ZeroDivisionError at construction)")
        if head_features is not None and width // head_features < 1:
            return (f"attention_features {features} is more than the {width} channels of a level with attention: it "
                    "would get 0 heads and the first forward fails")
    return None


@rule("adp.patch_size", at=("patch_size",), needs={"channels": "int", "multipliers": "ints", "patch_size": "int"})
def adp_patch_size(unet: Obj) -> Outcome:
    """patch_size divides the first level's width."""
    if not unet["multipliers"] or unet["patch_size"] < 1:
        return None
    width = unet["channels"] * unet["multipliers"][0]
    if width % unet["patch_size"] == 0:
        return None
    return (f"the first level is channels x multipliers[0] = {width} wide, which patch_size {unet['patch_size']} "
            "does not divide: the Patcher asserts at construction")


@rule("adp.time_channels", at=("channels",), needs={"channels": "int"})
def adp_time_channels(unet: Obj) -> Outcome:
    """The learned time embedding needs even channels."""
    context_time = unet.get("use_context_time") is True
    if not (context_time or unet.get("use_xattn_time") is True) or unet["channels"] % 2 == 0:
        return None
    return (f"the learned time embedding ({'use_context_time' if context_time else 'use_xattn_time'}) needs even "
            f"channels, got {unet['channels']}: LearnedPositionalEmbedding fails an empty assertion at construction")


@rule("adp.stft_options", at=("use_stft",))
def adp_stft_options(unet: Obj) -> Outcome:
    """The stft_* options are only accepted with use_stft."""
    stft = sorted(key for key in written(unet) if key.startswith("stft_"))
    if not stft or unet.get("use_stft") is True:
        return None
    return (f"{', '.join(stft)} only take effect with use_stft true; without it UNet1d rejects them ('Unknown "
            "arguments') at construction")


@rule("adp.out_channels", at=("out_channels",), needs={"out_channels": "int", "in_channels": "int"})
def adp_out_channels(unet: Obj) -> Outcome:
    """A diffusion backbone outputs what it denoises."""
    if unet["out_channels"] == unet["in_channels"]:
        return None
    return (f"out_channels {unet['out_channels']} differs from in_channels {unet['in_channels']}: a diffusion "
            "backbone must output what it denoises, so the first training step fails with a shape error; leave "
            "out_channels unset")


def first_context_channels(unet: object) -> int | None:
    """The first non-zero ``context_channels`` entry of a U-Net config (the input-concat width), or None."""
    channels = as_ints(unet.get("context_channels") if isinstance(unet, dict) else None)
    return next((c for c in channels if c), None) if channels is not None else None
