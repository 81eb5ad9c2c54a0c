"""The autoencoder-family helpers of the rules (sat_config.rules.channels: channel widths and downsampling of
encoders, bottlenecks, decoders and pretransforms; SEANet activations and norms), reading config objects with
the schema's defaults as rules do: their values, and that they are total."""

from __future__ import annotations

from typing import Any

import pytest
from support.schema import DEFS

from sat_config.defaults import with_defaults
from sat_config.rules import RULES
from sat_config.rules import channels as lib
from sat_config.rules.autoencoder import activation_problem


def seen(value: Any, schema: str) -> Any:
    """``value`` read with the defaults of ``$defs[schema]`` (what the rules receive); other values as they are."""
    return with_defaults(value, DEFS[schema]) if isinstance(value, dict) else value

OOBLECK = {"type": "oobleck", "config": {"in_channels": 1, "latent_dim": 16, "c_mults": [1, 2], "strides": [2, 4, 8]}}


@pytest.mark.parametrize(("encoder", "inp", "out", "ratio"), [
    ({"type": "oobleck", "config": {}}, 2, 32, 2 * 4 * 8 * 8),
    (OOBLECK, 1, 16, 8),  # only the first len(c_mults) strides are used
    ({"type": "oobleck", "config": {"c_mults": [1, 2, 4], "strides": [2, 4]}}, 2, 32, None),  # too few strides
    ({"type": "taae", "config": {"latent_dim": 8}}, 2, 8, 512),
    ({"type": "seanet", "config": {}}, 1, 128, 32),
    ({"type": "seanet", "config": {"channels": 2, "dimension": 64, "ratios": [4, 5]}}, 2, 64, 20),
    ({"type": "dac", "config": {"d_model": 64, "strides": [2, 4, 8, 8]}}, 1, 64 * 16, 512),
    ({"type": "dac", "config": {"in_channels": 2, "latent_dim": 128, "d_model": 64, "strides": [4]}}, 2, 128, 4),
    ({"type": "local_attn", "config": {"in_channels": 2, "out_channels": 8}}, 2, 8, 16),
    ({"type": "local_attn", "config": {"in_channels": 2, "out_channels": 8, "depths": [1], "ratios": [4, 2]}},
     2, 8, 4),
])
def test_encoder_widths(encoder, inp, out, ratio):
    encoder = seen(encoder, "EncoderConfig")
    assert lib.encoder_in_channels(encoder) == inp
    assert lib.encoder_out_channels(encoder) == out
    assert lib.encoder_downsampling(encoder) == ratio


@pytest.mark.parametrize(("decoder", "inp", "out"), [
    ({"type": "oobleck", "config": {}}, 32, 2),
    ({"type": "taae", "config": {"latent_dim": 4, "out_channels": 1}}, 4, 1),
    ({"type": "seanet", "config": {}}, 128, 1),
    ({"type": "dac", "config": {"latent_dim": 32, "channels": 1536, "rates": [8]}}, 32, 1),
    ({"type": "local_attn", "config": {"in_channels": 8, "out_channels": 2}}, 8, 2),
])
def test_decoder_widths(decoder, inp, out):
    decoder = seen(decoder, "DecoderConfig")
    assert (lib.decoder_in_channels(decoder), lib.decoder_out_channels(decoder)) == (inp, out)


def section(width, bottleneck=None, **model):
    raw = {"encoder": {"type": "oobleck", "config": {"latent_dim": width}}, "bottleneck": bottleneck, **model}
    return seen(raw, "AutoencoderModelConfig")


@pytest.mark.parametrize(("bottleneck", "needs", "latent", "decoded"), [
    (None, None, 16, 16),
    ({"type": "tanh"}, None, 16, 16),
    ({"type": "l2_norm"}, None, 16, 16),
    ({"type": "vae"}, None, 8, 8),
    ({"type": "wasserstein"}, None, 16, 16),
    ({"type": "wasserstein", "config": {"noise_augment_dim": 3}}, None, 16, 19),
    ({"type": "rvq", "config": {}}, 128, 128, 128),
    ({"type": "rvq", "config": {"dim": 16}}, 16, 16, 16),
    ({"type": "rvq_vae", "config": {"dim": 8}}, 16, 8, 8),
    ({"type": "dac_rvq", "config": {"n_codebooks": 2, "codebook_size": 8, "noise_augment_dim": 1}}, 512, 512, 513),
    ({"type": "dac_rvq_vae", "config": {"input_dim": 8, "n_codebooks": 2, "codebook_size": 8}}, 16, 8, 8),
    ({"type": "fsq", "config": {"levels": [3, 3], "num_codebooks": 2}}, 4, 4, 4),
    ({"type": "fsq", "config": {"levels": [3, 3], "dim": 16, "noise_augment_dim": 2}}, 16, 16, 18),
    ({"type": "dithered_fsq", "config": {"dim": 4, "levels": 5, "num_codebooks": 2}}, 8, 8, 8),
])
def test_bottleneck_widths(bottleneck, needs, latent, decoded):
    model = section(16, bottleneck)
    assert lib.bottleneck_in_channels(model["bottleneck"]) == needs
    assert lib.latent_channels(model) == latent
    assert lib.decoder_expected_channels(model) == decoded


def test_an_odd_width_has_no_vae_latents():
    assert lib.latent_channels(section(15, {"type": "vae"})) is None


@pytest.mark.parametrize(("pretransform", "channels", "ratio"), [
    ({"type": "autoencoder", "config": {"latent_dim": 64, "downsampling_ratio": 2048}}, 64, 2048),
    ({"type": "wavelet", "config": {"channels": 2, "levels": 3, "wavelet": "bior4.4"}}, 16, 8),
    ({"type": "patched", "config": {"channels": 2, "patch_size": 4}}, 8, 4),
    ({"type": "dac_pretrained", "config": {}}, None, 512),
    ({"type": "dac_pretrained", "config": {"model_type": "16khz"}}, None, 320),
    ({"type": "audiocraft_pretrained", "config": {}}, None, None),
    ({"type": "pqmf", "config": {}}, None, None),
])
def test_pretransform_widths(pretransform, channels, ratio):
    pretransform = seen(pretransform, "PretransformConfig")
    assert lib.pretransform_channels(pretransform) == channels
    assert lib.pretransform_downsampling(pretransform) == ratio


def test_model_channels_and_downsampling():
    model = section(16, io_channels=2, in_channels=1)
    assert (lib.audio_in_channels(model), lib.audio_out_channels(model)) == (1, 2)
    assert (lib.channel_source(model, "in_channels"), lib.channel_source(model, "out_channels")) == (
        "in_channels", "io_channels")
    assert lib.model_downsampling(model) == 512
    wavelet = {"type": "wavelet", "config": {"channels": 2, "levels": 1, "wavelet": "bior4.4"}}
    model = section(16, io_channels=2, in_channels=1, pretransform=wavelet)
    assert (lib.audio_in_channels(model), lib.audio_out_channels(model), lib.model_downsampling(model)) == (4, 4, 1024)
    assert lib.channel_source(model, "in_channels") == "the wavelet pretransform's encoded channels"
    model = section(16, io_channels=2, in_channels=1, pretransform={"type": "audiocraft_pretrained", "config": {}})
    assert (lib.audio_in_channels(model), lib.model_downsampling(model)) == (None, None)


def test_latent_chain_explains_the_widths():
    text = lib.latent_chain(section(16, {"type": "fsq", "config": {"levels": [3], "dim": 16,
                                                                   "noise_augment_dim": 2}}))
    assert text == ("the oobleck encoder outputs 16 channels and the fsq bottleneck quantizes 16-wide latents, then "
                    "appends noise_augment_dim 2 noise channels in decode()")
    assert lib.latent_chain(section(16, {"type": "vae"})).endswith("and the vae bottleneck halves them")


SHAPELESS = [None, 3, "oobleck", [], {}, {"type": "oobleck"}, {"type": "oobleck", "config": 3},
             {"type": 5, "config": {}}]
HELPERS = (lib.encoder_in_channels, lib.encoder_out_channels, lib.encoder_downsampling, lib.decoder_in_channels,
           lib.decoder_out_channels, lib.bottleneck_in_channels, lib.pretransform_channels,
           lib.pretransform_downsampling, lib.latent_channels, lib.decoder_expected_channels, lib.audio_in_channels,
           lib.audio_out_channels, lib.model_downsampling)


@pytest.mark.parametrize("value", SHAPELESS)
def test_helpers_know_nothing_of_shapeless_data(value):
    """Data without a type and a config object gives None (0 noise channels), never an exception."""
    assert [helper(seen(value, "EncoderConfig")) for helper in HELPERS[:-5]] == [None] * (len(HELPERS) - 5)
    assert lib.noise_channels(value) == 0


@pytest.mark.parametrize("value", [
    {"type": "dac", "config": {"d_model": "x", "strides": [2], "latent_dim": None}},
    {"type": "oobleck", "config": {"latent_dim": 2.5, "strides": "x", "c_mults": None}},
    {"type": "fsq", "config": {"levels": "x", "num_codebooks": True}},
    {"type": "wavelet", "config": {"channels": "2", "levels": [1]}},
    {"encoder": 3, "bottleneck": {"type": "vae", "config": []}, "pretransform": {"type": "patched", "config": {}}},
])
def test_helpers_are_total_on_malformed_values(value):
    """Wrongly typed values give None for what depends on them, never an exception (the schema reports them)."""
    for helper in HELPERS[:-5]:
        result = helper(seen(value, "EncoderConfig"))
        assert result is None or type(result) is int, helper
    for helper in HELPERS[-5:]:
        result = helper(seen(value, "AutoencoderModelConfig"))
        assert result is None or type(result) is int, helper


@pytest.mark.parametrize(("name", "params", "expected"), [
    ("ELU", {"alpha": 1.0}, None),
    ("ReLU", {"alpha": 1.0}, "does not take alpha (activation_params defaults to {'alpha': 1.0}"),
    ("ReLU", {}, None),
    ("Tanh", {"inplace": True}, "does not take inplace; it takes no arguments"),
    ("Threshold", {"threshold": 0.1}, "needs value"),
    ("Hardtanh", {"min_val": 1.0, "max_val": 0.0}, "max_val > min_val"),
    ("Hardtanh", {"min_value": -2.0}, None),
    ("RReLU", {"lower": 0.5, "upper": 0.1}, "lower <= upper"),
    ("PReLU", {"num_parameters": 4}, "must be 1"),
    ("PReLU", {"init": 0.1}, None),
    ("NoSuchActivation", {"x": 1}, None),  # the schema's enum reports it
    ("ELU", None, None),
])
def test_activation_problem(name, params, expected):
    problem = activation_problem(name, seen(params, "SeanetActivationParams"))
    assert problem is None if expected is None else expected in problem


@pytest.mark.parametrize(("config", "expected"), [
    ({"norm": "time_group_norm", "norm_params": {"eps": 1e-3}}, None),
    ({"norm_params": {}}, None),
    ({"norm_params": {"eps": 1e-3}}, "ignored with norm 'weight_norm'"),  # weight_norm: the default
])
def test_norm_params_rule(config, expected):
    failures = RULES["seanet.norm_params"].failures(seen(config, "SeanetEncoderParams"))
    assert failures == [] if expected is None else expected in failures[0][1]
