"""Disagreements between the schema and upstream that are verified and not resolved yet."""

from __future__ import annotations

import re

# Disagreements verified by hand to be real mismatches that their owners have not resolved yet: a regular
# expression matching Finding.signature -> why. The tests mark them xfail; any other disagreement fails.
KNOWN: dict[str, str] = {
    r"false_acceptance completeness:swap_tag \$\.training\.optimizer_configs\.\w+\.optimizer\.type": (
        "the optimizer FusedAdam is accepted, but it needs deepspeed, which stable-audio-tools does not declare and "
        "the pinned environment does not install: upstream fails in configure_optimizers (ModuleNotFoundError)"),
    r"false_acceptance soundness <model> KeyError: 'module name can.*": (
        "a conditioner id that is empty or contains '.' is accepted, but torch's ModuleDict refuses it as a module "
        "name (KeyError at construction): conditioning ids need minLength 1 and no '.'"),
    r"false_acceptance soundness <model> TypeError: empty\(\): argument '…' failed to unpack .*but got None.*": (
        "a pretransform or source_mix conditioner with use_model_pretransform on an audiocraft_pretrained "
        "pretransform is accepted, but that pretransform never sets encoded_channels, so the conditioner's "
        "projection is sized None (TypeError at construction, conditioners.py:30)"),
    r"false_acceptance soundness <model> (RuntimeError: Storage size calculation overflowed|TypeError: empty\(\): "
    r"argument '…' failed to unpack the object at pos N with error \"Overflow when unpacking long long)(?s:.*)": (
        "sizes no machine can hold are accepted (e.g. a wavelet pretransform with 29 levels: 12 x 2^29 latent "
        "channels, which the rules then require of io_channels); torch refuses the storage even on the meta "
        "device, or a size beyond 64 bits outright; the schema sets no upper bound on widths or wavelet levels"),
    r"false_rejection soundness \$\.model(\..+)?\.(encoder|decoder)\.type": (
        "local_attn and taae are x-unsupported (their attention layers fail to build), but with every depth 0 "
        "upstream builds them, without attention; the schema rejects the types outright on purpose, as its "
        "message says"),
    r"false_rejection soundness \$\.training\.optimizer_configs\.discriminator\..+": (
        "optimizer_configs.discriminator is read only by ARC (training.arc) for diffusion models; without arc "
        "upstream never builds it, so an unsupported scheduler there is rejected although upstream builds the "
        "config (the schema could flag the whole entry as ignored instead)"),
}


def known_reason(signature: str) -> str | None:
    """Why a disagreement is known, or None when it is new."""
    return next((why for pattern, why in KNOWN.items() if re.fullmatch(pattern, signature)), None)
