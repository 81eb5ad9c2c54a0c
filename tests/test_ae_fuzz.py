"""Property-based soundness of the autoencoder family's schemas: configs generated (hypothesis-jsonschema) from
every buildable encoder, decoder and bottleneck branch — and the wavelet and patched pretransforms — wrapped into
a small autoencoder whose other parts fit them, must build with stable-audio-tools whenever sat-config accepts
them (schema and cross-field rules). For encoders and decoders, the channel widths the rules compute must also be
the ones the built layers produce.

Deliberately not generated: the types marked x-unsupported (validation rejects every config using them), the
network-bound pretransforms (dac_pretrained, audiocraft_pretrained: enum-only configs, covered by the positive and
negative cases) and the autoencoder pretransform (a whole model section: its parts are the branches below).

Sizes are bounded (integers <= 6, arrays <= 3 items, numbers within +-100) so every build is quick. The examples
per branch come from ``support.fuzzing.FUZZ`` (``make fuzz`` runs many more, randomly).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from support.building import build
from support.fuzzing import FUZZ
from support.schema import DEFS, reachable

from sat_config import problems_in
from sat_config.defaults import with_defaults
from sat_config.rules.channels import (
    bottleneck_in_channels,
    decoder_expected_channels,
    decoder_in_channels,
    decoder_out_channels,
    encoder_downsampling,
    encoder_in_channels,
    encoder_out_channels,
    latent_channels,
    pretransform_channels,
    pretransform_downsampling,
)

INT_LIMIT, ITEMS_LIMIT, NUMBER_LIMIT = 6, 3, 100


def bounded(node: Any) -> Any:
    """A copy of a schema whose integers, arrays and numbers are capped (still within the schema's own bounds)."""
    if isinstance(node, list):
        return [bounded(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: bounded(v) for k, v in node.items() if k not in ("x-rules", "x-unsupported", "discriminator")}
    types = node.get("type") if isinstance(node.get("type"), list) else [node.get("type")]
    if "integer" in types:
        out["maximum"] = min(node.get("maximum", INT_LIMIT), max(node.get("minimum", 0), INT_LIMIT))
    elif "number" in types:
        out["maximum"] = min(node.get("maximum", NUMBER_LIMIT), NUMBER_LIMIT)
        if "minimum" not in node and "exclusiveMinimum" not in node:
            out["minimum"] = -NUMBER_LIMIT
    if "array" in types:
        out["maxItems"] = min(node.get("maxItems", ITEMS_LIMIT), max(node.get("minItems", 0), ITEMS_LIMIT))
    return out


def branch_strategy(name: str) -> st.SearchStrategy[Any]:
    return from_schema({"$ref": f"#/$defs/{name}", "$defs": {n: bounded(DEFS[n]) for n in reachable(name)}})


def oobleck(role: str, channels: int, latent: int, stride: int = 2) -> dict[str, Any]:
    audio = "in_channels" if role == "encoder" else "out_channels"
    return {"type": "oobleck", "config": {audio: channels, "channels": 2, "c_mults": [1], "strides": [stride],
                                          "latent_dim": latent}}


def autoencoder(model: dict[str, Any]) -> dict[str, Any]:
    return {"model_type": "autoencoder", "sample_rate": 16000, "sample_size": 4096, "model": model}


def assert_builds(config: dict[str, Any], upstream_factory: Any) -> Any:
    """The property: a config sat-config accepts builds upstream."""
    assume(problems_in(config) == [])
    model = build(upstream_factory, copy.deepcopy(config))
    assert model is not None
    return model


def output_channels(module: Any, channels: int, ratio: int = 1) -> int:
    """Channels ``module`` outputs, on the device it was built on (meta: shapes only), for an input of ``ratio``
    samples per frame and enough frames for its widest convolution (circular padding cannot wrap a shorter input
    more than once). Checks the width helpers the cross-field rules use against the real layers."""
    import torch

    spans = [(m.kernel_size[0] - 1) * m.dilation[0] + 1 for m in module.modules() if isinstance(m, torch.nn.Conv1d)]
    frames = max([4, *spans]) + 1
    device = next(iter(module.state_dict().values())).device
    with torch.no_grad():
        return int(module(torch.zeros(1, channels, frames * ratio, device=device)).shape[1])


def seen(value: dict[str, Any], schema: str) -> Any:
    """``value`` read with the defaults of ``$defs[schema]``, as the rules read it."""
    return with_defaults(value, DEFS[schema])


def with_encoder(encoder: dict[str, Any]) -> dict[str, Any] | None:
    part = seen(encoder, "EncoderConfig")
    width, channels, ratio = encoder_out_channels(part), encoder_in_channels(part), encoder_downsampling(part)
    if None in (width, channels, ratio):
        return None
    return autoencoder({"encoder": encoder, "decoder": oobleck("decoder", channels, width), "latent_dim": width,
                        "downsampling_ratio": ratio, "io_channels": channels})


def with_decoder(decoder: dict[str, Any]) -> dict[str, Any] | None:
    part = seen(decoder, "DecoderConfig")
    width, channels = decoder_in_channels(part), decoder_out_channels(part)
    if None in (width, channels):
        return None
    return autoencoder({"encoder": oobleck("encoder", channels, width), "decoder": decoder, "latent_dim": width,
                        "downsampling_ratio": 2, "io_channels": channels})


def with_bottleneck(bottleneck: dict[str, Any]) -> dict[str, Any] | None:
    # 4: any even width suits vae, tanh, l2_norm, wasserstein
    width = bottleneck_in_channels(seen(bottleneck, "BottleneckConfig")) or 4
    model = {"encoder": oobleck("encoder", 1, width), "bottleneck": bottleneck, "downsampling_ratio": 2,
             "io_channels": 1}
    latent, decoded = latent_channels(seen(model, "AutoencoderModelConfig")), decoder_expected_channels(
        seen(model, "AutoencoderModelConfig"))
    if latent is None or decoded is None:
        return None
    model.update(decoder=oobleck("decoder", 1, decoded), latent_dim=latent)
    return autoencoder(model)


def with_pretransform(pretransform: dict[str, Any]) -> dict[str, Any] | None:
    part = seen(pretransform, "PretransformConfig")
    channels, ratio = pretransform_channels(part), pretransform_downsampling(part)
    if None in (channels, ratio):
        return None
    audio = pretransform["config"]["channels"]
    return autoencoder({"encoder": oobleck("encoder", channels, 4), "decoder": oobleck("decoder", channels, 4),
                        "pretransform": pretransform, "latent_dim": 4, "downsampling_ratio": 2 * ratio,
                        "io_channels": audio})


def buildable(union: str) -> list[str]:
    names = [ref["$ref"].rsplit("/", 1)[1] for ref in DEFS[union]["oneOf"]]
    return [n for n in names if "x-unsupported" not in DEFS[n]]


ENCODERS, DECODERS, BOTTLENECKS = buildable("EncoderConfig"), buildable("DecoderConfig"), buildable("BottleneckConfig")
PRETRANSFORMS = ["WaveletPretransformConfig", "PatchedPretransformConfig"]
CASES = [(n, with_encoder) for n in ENCODERS] + [(n, with_decoder) for n in DECODERS] + \
        [(n, with_bottleneck) for n in BOTTLENECKS] + [(n, with_pretransform) for n in PRETRANSFORMS]


def test_every_buildable_branch_is_fuzzed():
    assert len(ENCODERS) == len(DECODERS) == 3 and len(BOTTLENECKS) == 10


@pytest.mark.parametrize(("name", "wrap"), CASES, ids=[name for name, _ in CASES])
def test_generated_configs_that_validate_build_upstream(name, wrap, upstream_factory):
    @FUZZ
    @given(branch_strategy(name))
    def check(part: dict[str, Any]) -> None:
        config = wrap(part)
        assume(config is not None)
        model = assert_builds(config, upstream_factory)
        if wrap is with_encoder:
            encoder = seen(part, "EncoderConfig")
            width = output_channels(model.encoder, encoder_in_channels(encoder), encoder_downsampling(encoder))
            assert width == encoder_out_channels(encoder)
        elif wrap is with_decoder:
            decoder = seen(part, "DecoderConfig")
            assert output_channels(model.decoder, decoder_in_channels(decoder)) == decoder_out_channels(decoder)

    check()
