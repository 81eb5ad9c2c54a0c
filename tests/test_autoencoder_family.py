"""The autoencoder family's schemas (encoder, decoder, bottleneck, pretransform, autoencoder and hyperencoder
sections) agree with stable-audio-tools 0.0.19: what they accept builds, with upstream's state_dict; what they
reject is reported at the right path before any torch code runs; every constructor parameter is covered; every
cross-field rule has a case whose upstream failure is reproduced.

Network-bound pretransforms build with their downloads replaced by the shape-equivalent stand-ins of
``sat_config.placeholders`` (the ``offline`` fixture); upstream's own loading code runs around them.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from support.building import build, build_seeded, state_dict_signature
from support.edits import apply_ops
from support.files import EXAMPLES, REPO, UPSTREAM, case_files, load_json, upstream_params
from support.schema import DEFS, read_keys, signature

import sat_config
from sat_config import problems_in

POSITIVE = {p.stem: p for p in case_files("positive", "autoencoder") if p.name.startswith("ae_")}
NEGATIVE = [p for p in case_files("negative", "autoencoder") if p.name.startswith("ae_")]
RULE_PREFIXES = ("autoencoder.", "oobleck.", "seanet.", "seanet_decoder.", "dac_decoder.", "residual_vq.", "dac_rvq.",
                 "fsq.", "dithered_fsq.", "dac_pretrained.", "pqmf.")
UNIONS = {"encoder": "EncoderConfig", "decoder": "DecoderConfig", "bottleneck": "BottleneckConfig",
          "pretransform": "PretransformConfig"}


def positive(name: str) -> dict[str, Any]:
    return copy.deepcopy(load_json(POSITIVE[name])["config"])


def branches(union: str) -> dict[str, dict[str, Any]]:
    """tag -> branch schema of one of the four tagged unions."""
    out = {}
    for ref in DEFS[UNIONS[union]]["oneOf"]:
        branch = DEFS[ref["$ref"].rsplit("/", 1)[1]]
        out[branch["properties"]["type"]["const"]] = branch
    return out


def params_of(branch: dict[str, Any]) -> dict[str, Any]:
    """The schema of a branch's ``config`` object."""
    return DEFS[branch["properties"]["config"]["$ref"].rsplit("/", 1)[1]]


# --- every type: a valid config builds exactly like upstream ---------------------------------------------------


def component_types(model: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(union, tag) of every component of an autoencoder section, pretransforms included (recursively)."""
    for union in UNIONS:
        part = model.get(union)
        if isinstance(part, dict):
            yield union, part["type"]
            if union == "pretransform" and part["type"] == "autoencoder":
                yield from component_types(part["config"])


def test_every_buildable_type_has_a_positive_case():
    covered = {pair for path in POSITIVE.values() for pair in component_types(load_json(path)["config"]["model"])}
    buildable = {(union, tag) for union in UNIONS for tag, branch in branches(union).items()
                 if "x-unsupported" not in branch}
    assert buildable - covered == set()
    assert len(buildable) == 3 + 3 + 10 + 5


@pytest.mark.parametrize("name", sorted(POSITIVE))
def test_positive_case_builds_like_upstream(name, upstream_factory, offline):
    config = positive(name)
    assert problems_in(config) == []
    ours = build(sat_config.create_model_from_config, config)
    theirs = build(upstream_factory, config)
    assert type(ours) is type(theirs) and type(ours).__name__ == "AudioAutoencoder"
    assert state_dict_signature(ours) == state_dict_signature(theirs)
    assert state_dict_signature(ours), "the model has no state"


def test_wavelet_pretransform_of_zero_levels_is_the_identity(upstream_factory):
    """levels: 0 is accepted because upstream builds it and it works: encode and decode return the audio."""
    import torch

    model = build_seeded(upstream_factory, positive("ae_pretransform_wavelet_levels_0"))
    audio = torch.randn(1, 2, 64)
    with torch.no_grad():
        assert torch.equal(model.pretransform.decode(model.pretransform.encode(audio)), audio)


def test_hyperencoder_section_is_an_autoencoder_section(upstream_factory):
    """hyperencoder has no upstream constructor; its section builds as an autoencoder section."""
    config = load_json(next(p for p in EXAMPLES if "hyperencoder" in p.name))
    config.pop("$schema")
    config["model"].update(downsampling_ratio=8, io_channels=2)
    assert problems_in(config) == []
    assert build(upstream_factory, dict(config, model_type="autoencoder")) is not None


# --- types the installed stable-audio-tools cannot build ------------------------------------------------------

LOCAL_ATTN = {"embed_dims": [8, 8], "heads": [1, 1], "ratios": [2, 4]}
UNSUPPORTED = {
    # (union, tag): (edits of ae_bottleneck_vae, the same with the failing feature off, upstream's error)
    ("encoder", "local_attn"): (
        {"/model/encoder": {"type": "local_attn", "config": {"in_channels": 2, "out_channels": 16, "depths": [1, 1],
                                                             **LOCAL_ATTN}}},
        {"/model/encoder/config/depths": [0, 0]}, "natten_kernel_size"),
    ("decoder", "local_attn"): (
        {"/model/decoder": {"type": "local_attn", "config": {"in_channels": 8, "out_channels": 2, "depths": [1, 1],
                                                             **LOCAL_ATTN}}},
        {"/model/decoder/config/depths": [0, 0]}, "natten_kernel_size"),
    ("encoder", "taae"): (
        {"/model/encoder": {"type": "taae", "config": {"in_channels": 2, "channels": 4, "c_mults": [1, 2],
                                                       "strides": [2, 4], "latent_dim": 16,
                                                       "transformer_depths": [1, 1]}}},
        {"/model/encoder/config/transformer_depths": [0, 0]}, "sliding_window"),
    ("decoder", "taae"): (
        {"/model/decoder": {"type": "taae", "config": {"out_channels": 2, "channels": 4, "c_mults": [1, 2],
                                                       "strides": [2, 4], "latent_dim": 8,
                                                       "transformer_depths": [1, 1]}}},
        {"/model/decoder/config/transformer_depths": [0, 0]}, "sliding_window"),
    ("pretransform", "pqmf"): (
        {"/model/pretransform": {"type": "pqmf", "config": {"attenuation": 100, "num_bands": 4, "channels": 2}}},
        None, "kaiser"),
}


def test_unsupported_types_are_exactly_the_marked_ones():
    marked = {(union, tag) for union in UNIONS for tag, branch in branches(union).items()
              if "x-unsupported" in branch}
    assert marked == set(UNSUPPORTED)


@pytest.mark.parametrize("key", sorted(UNSUPPORTED), ids=lambda k: "-".join(k))
def test_unsupported_type_is_reported_and_upstream_really_fails(key, upstream_factory):
    union, tag = key
    edits, feature_off, error = UNSUPPORTED[key]
    config = apply_ops(positive("ae_bottleneck_vae"), {"set": edits})
    problems = problems_in(config)
    assert [(p.path, p.kind) for p in problems] == [(f"$.model.{union}.type", "unsupported")]
    assert tag in problems[0].message
    with pytest.raises((TypeError, ImportError), match=error):
        build(upstream_factory, config)
    if feature_off:  # the reason's own claim: without the broken feature the keys above do build
        assert build(upstream_factory, apply_ops(config, {"set": feature_off})) is not None


# --- structural errors: unknown key, wrong type, missing key -----------------------------------------------------

STRUCTURE = [
    # union, tag, positive case, pointer to the component, key given a wrong type, required key removed
    ("encoder", "oobleck", "ae_oobleck", "/model/encoder", "config/channels", "config"),
    ("encoder", "seanet", "ae_seanet_encoder", "/model/encoder", "config/n_filters", "config"),
    ("encoder", "dac", "ae_dac", "/model/encoder", "config/in_channels", "config/d_model"),
    ("decoder", "oobleck", "ae_oobleck", "/model/decoder", "config/final_tanh", "config"),
    ("decoder", "seanet", "ae_seanet_decoder", "/model/decoder", "config/ratios", "config"),
    ("decoder", "dac", "ae_dac", "/model/decoder", "config/out_channels", "config/channels"),
    ("bottleneck", "tanh", "ae_bottleneck_tanh", "/model/bottleneck", "config/scale", "type"),
    ("bottleneck", "vae", "ae_bottleneck_vae", "/model/bottleneck", "requires_grad", "type"),
    ("bottleneck", "rvq", "ae_bottleneck_rvq", "/model/bottleneck", "config/num_quantizers", "config"),
    ("bottleneck", "rvq_vae", "ae_bottleneck_rvq_vae", "/model/bottleneck", "config/codebook_size", "config"),
    ("bottleneck", "dac_rvq", "ae_bottleneck_dac_rvq", "/model/bottleneck", "config/quantize_on_decode",
     "config/n_codebooks"),
    ("bottleneck", "dac_rvq_vae", "ae_bottleneck_dac_rvq_vae", "/model/bottleneck", "config/input_dim",
     "config/codebook_size"),
    ("bottleneck", "l2_norm", "ae_bottleneck_l2_norm", "/model/bottleneck", "requires_grad", "type"),
    ("bottleneck", "wasserstein", "ae_bottleneck_wasserstein", "/model/bottleneck", "config/bypass_mmd", "type"),
    ("bottleneck", "fsq", "ae_bottleneck_fsq", "/model/bottleneck", "config/levels", "config/levels"),
    ("bottleneck", "dithered_fsq", "ae_bottleneck_dithered_fsq", "/model/bottleneck", "config/noise_dropout",
     "config/dim"),
    ("pretransform", "autoencoder", "ae_pretransform_autoencoder", "/model/pretransform", "scale",
     "config/encoder"),
    ("pretransform", "wavelet", "ae_pretransform_wavelet", "/model/pretransform", "config/levels",
     "config/wavelet"),
    ("pretransform", "patched", "ae_pretransform_patched", "/model/pretransform", "config/oversampling",
     "config/patch_size"),
    ("pretransform", "dac_pretrained", "ae_pretransform_dac_pretrained", "/model/pretransform", "config/scale",
     "config"),
    ("pretransform", "audiocraft_pretrained", "ae_pretransform_audiocraft_pretrained", "/model/pretransform",
     "config/model_type", "config"),
]
for (union, tag), (edits, _, _) in UNSUPPORTED.items():
    STRUCTURE.append((union, tag, edits, f"/model/{union}", "config/in_channels" if union == "encoder" else
                      "config/channels" if tag == "pqmf" else "config/out_channels",
                      "config/in_channels" if tag == "local_attn" else "config"))


def json_path(pointer: str) -> str:
    return "$" + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in pointer.split("/")[1:])


def structure_cases() -> Iterator[Any]:
    for union, tag, base, pointer, wrong, missing in STRUCTURE:
        if isinstance(base, dict):  # an unsupported type: edits of ae_bottleneck_vae, reported as unsupported too
            config, extra = apply_ops(positive("ae_bottleneck_vae"), {"set": base}), [(f"$.model.{union}.type",
                                                                                       "unsupported")]
        else:
            config, extra = positive(base), []
        has_config = "config" in branches(union)[tag]["properties"]
        unknown = f"{pointer}/config/bogus_key" if has_config else f"{pointer}/config"
        value = 7 if tag == "audiocraft_pretrained" else "wrong"
        kind = "required"
        for what, ops, path in (
            ("unknown key", {"set": {unknown: 1}}, (json_path(unknown), "unknown_key")),
            ("wrong type", {"set": {f"{pointer}/{wrong}": value}}, (json_path(f"{pointer}/{wrong}"), "type")),
            ("missing key", {"delete": [f"{pointer}/{missing}"]}, (json_path(f"{pointer}/{missing}"), kind)),
        ):
            yield pytest.param(apply_ops(config, ops), sorted(extra + [path]), id=f"{union}-{tag}-{what}")


@pytest.mark.parametrize(("config", "expected"), list(structure_cases()))
def test_structural_error_is_reported_at_its_path(config, expected):
    assert sorted((p.path, p.kind) for p in problems_in(config)) == expected


def test_every_type_has_structural_cases():
    assert {(union, tag) for union, tag, *_ in STRUCTURE} == {
        (union, tag) for union in UNIONS for tag in branches(union)}


def test_invalid_configs_are_rejected_before_any_torch_code_runs():
    """Every ae_* negative case with an error, and every structural case: validation (without torch) rejects it,
    and the drop-in never calls the constructor (a case with warnings alone is valid: it builds)."""
    cases = [load_json(p) for p in NEGATIVE]
    configs = [c["config"] for c in cases if any(e.get("severity", "error") == "error" for e in c["errors"])]
    configs += [c.values[0] for c in structure_cases()]
    code = (
        "import json, sys, sat_config\n"
        "from sat_config import api\n"
        "def factory(model_type):\n"
        "    raise AssertionError('the constructor must not be reached')\n"
        "api.resolve_factory = factory\n"
        "for config in json.load(sys.stdin):\n"
        "    try:\n"
        "        sat_config.create_model_from_config(config)\n"
        "    except sat_config.ConfigError as error:\n"
        "        assert error.errors\n"
        "    else:\n"
        "        raise AssertionError(config)\n"
        "assert 'torch' not in sys.modules, 'validation imported torch'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], input=json.dumps(configs), capture_output=True,
                            text=True, cwd=REPO, check=False)
    assert result.returncode == 0, result.stderr


# --- cross-field rules ----------------------------------------------------------------------------------------


def my_rules() -> set[str]:
    from sat_config.rules import RULES

    return {rule_id for rule_id in RULES if rule_id.startswith(RULE_PREFIXES)}


@contextmanager
def fired_rules(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[str]]:
    """Record the ids of the rules that fail while validating inside the block."""

    from sat_config.rules import RULES

    fired: set[str] = set()

    def spy(rule_id: str, check: Any) -> Any:
        def wrapped(instance: Any) -> Any:
            outcome = check(instance)
            if outcome:
                fired.add(rule_id)
            return outcome

        return wrapped

    with monkeypatch.context() as patch:
        for rule_id, rule in list(RULES.items()):
            patch.setitem(RULES, rule_id, rule._replace(check=spy(rule_id, rule.check)))
        yield fired


def test_every_rule_has_a_negative_case():
    named = {load_json(p)["rule"] for p in NEGATIVE}
    assert my_rules() - named == set()
    assert named - my_rules() == set()


@pytest.mark.parametrize("path", NEGATIVE, ids=lambda p: p.stem)
def test_negative_case_fires_its_rule(path, monkeypatch):
    case = load_json(path)
    with fired_rules(monkeypatch) as fired:
        problems_in(case["config"])
    assert case["rule"] in fired


REAL_CONFIGS = upstream_params(EXAMPLES + UPSTREAM)


@pytest.mark.parametrize("path", REAL_CONFIGS, ids=lambda p: p.stem)
def test_real_configs_satisfy_every_rule(path, monkeypatch):
    with fired_rules(monkeypatch) as fired:
        problems = problems_in(load_json(path))
    assert fired & my_rules() == set()
    if path.name.startswith("autoencoders--") or path in EXAMPLES:  # (their training sections are not ours)
        assert [p for p in problems if p.path.startswith("$.model")] == []


def _audio(model: Any, length_frames: int = 8) -> Any:
    import torch

    torch.manual_seed(0)
    return torch.randn(1, model.in_channels, model.downsampling_ratio * length_frames)


def _round_trip(model: Any, chunked: bool = False) -> Any:
    import torch

    with torch.no_grad():
        audio = _audio(model, 24 if chunked else 8)
        if not chunked:
            return model.decode(model.encode(audio))
        latents = model.encode_audio(audio, chunked=True, chunk_size=8, overlap=2)
        return model.decode_audio(latents, chunked=True, chunk_size=8, overlap=2)


@pytest.mark.parametrize("path", NEGATIVE, ids=lambda p: p.stem)
def test_negative_case_fails_upstream_as_its_message_says(path, upstream_factory, offline):
    """Reproduce what the rule's message claims: a construction error, a forward error, a failure of chunked
    encoding/decoding, a width mismatch that training meets, or a setting upstream silently ignores."""
    case = load_json(path)
    if case["config"]["model_type"] == "hyperencoder":  # the autoencoder case with the same section covers it
        twin = load_json(path.with_name(path.name.replace("ae_hyperencoder_", "ae_")))
        assert (twin["config"]["model"], twin["upstream"]) == (case["config"]["model"], case["upstream"])
        return
    config, upstream = case["config"], case["upstream"]
    if upstream in ("construction", "unsupported"):
        with pytest.raises(Exception):  # noqa: B017 - whichever error upstream raises while building
            upstream_factory(copy.deepcopy(config))
        return
    model = build_seeded(upstream_factory, config).eval()
    if upstream == "forward":
        with pytest.raises((RuntimeError, AssertionError)):
            _round_trip(model)
        return
    decoded = _round_trip(model)
    if upstream == "chunked":
        with pytest.raises(RuntimeError):
            _round_trip(model, chunked=True)
    elif upstream == "training":
        assert decoded.shape[1] != model.out_channels
    else:
        assert upstream == "ignored"


# --- completeness: the schema's keys are upstream's constructor parameters --------------------------------------


def upstream_parameters() -> dict[tuple[str, str], set[str]]:
    """(union, tag) -> the keys its ``config`` may hold, from the installed constructors' signatures."""
    from dac.model.dac import Decoder as DACDecoder
    from dac.model.dac import Encoder as DACEncoder
    from dac.nn.quantize import ResidualVectorQuantize
    from encodec.modules import SEANetDecoder, SEANetEncoder
    from stable_audio_tools.models import autoencoders as ae
    from stable_audio_tools.models import bottleneck as bn
    from stable_audio_tools.models import local_attention as la
    from stable_audio_tools.models import pretransforms as pt
    from vector_quantize_pytorch import FSQ, ResidualVQ, VectorQuantize

    # local_attn: TransformerEncoder/Decoder1D's **kwargs reach ContinuousLocalTransformer; the stage blocks pass
    # dim, depth, heads and local_attn_window_size themselves.
    local = signature(la.ContinuousLocalTransformer, {"dim", "depth", "heads", "local_attn_window_size"})
    # ResidualVQ's **kwargs reach every VectorQuantize; ResidualVQ passes dim, codebook_dim and accept_image_fmap
    # itself and keeps heads. in_place_codebook_optimizer is a callable: not expressible in JSON.
    vector_quantize = signature(VectorQuantize, {"dim", "codebook_dim", "accept_image_fmap", "heads",
                                                 "in_place_codebook_optimizer"})
    residual_vq = signature(ResidualVQ) | vector_quantize
    dac_rvq = signature(ResidualVectorQuantize)
    return {
        ("encoder", "oobleck"): signature(ae.OobleckEncoder),
        ("encoder", "seanet"): signature(SEANetEncoder),
        # DACEncoderWrapper pops latent_dim from its **kwargs; the rest reach DAC's Encoder, whose d_latent it sets
        ("encoder", "dac"): signature(ae.DACEncoderWrapper) | {"latent_dim"} | signature(DACEncoder, {"d_latent"}),
        ("encoder", "local_attn"): signature(la.TransformerEncoder1D) | local,
        # TAAEEncoder's **kwargs reach TAAEBlock, whose only parameter it does not pass is its `type` (a decoder
        # block inside an encoder): deliberately not offered.
        ("encoder", "taae"): signature(ae.TAAEEncoder),
        ("decoder", "oobleck"): signature(ae.OobleckDecoder),
        ("decoder", "seanet"): signature(SEANetDecoder),
        ("decoder", "dac"): signature(ae.DACDecoderWrapper) | signature(DACDecoder, {"input_channel", "d_out"}),
        ("decoder", "local_attn"): signature(la.TransformerDecoder1D) | local,
        ("decoder", "taae"): signature(ae.TAAEDecoder),
        ("bottleneck", "tanh"): signature(bn.TanhBottleneck),
        ("bottleneck", "rvq"): residual_vq,
        ("bottleneck", "rvq_vae"): residual_vq,
        ("bottleneck", "dac_rvq"): signature(bn.DACRVQBottleneck) | dac_rvq,
        ("bottleneck", "dac_rvq_vae"): signature(bn.DACRVQVAEBottleneck) | dac_rvq,
        ("bottleneck", "wasserstein"): signature(bn.WassersteinBottleneck),
        ("bottleneck", "fsq"): signature(bn.FSQBottleneck) | signature(FSQ, {"allowed_dtypes"}),
        ("bottleneck", "dithered_fsq"): signature(bn.DitheredFSQBottleneck),
        ("pretransform", "wavelet"): signature(pt.WaveletPretransform),
        ("pretransform", "pqmf"): signature(pt.PQMFPretransform),
        ("pretransform", "dac_pretrained"): signature(pt.PretrainedDACPretransform),
        ("pretransform", "audiocraft_pretrained"): signature(pt.AudiocraftCompressionPretransform),
        ("pretransform", "patched"): signature(pt.PatchedPretransform),
    }


def test_config_keys_are_exactly_the_constructor_parameters():
    expected = upstream_parameters()
    for union in UNIONS:
        for tag, branch in branches(union).items():
            if (union, tag) not in expected:  # vae, l2_norm: no config; autoencoder: a model section
                assert tag in ("vae", "l2_norm", "autoencoder") and (
                    "config" not in branch["properties"] or tag == "autoencoder")
                continue
            assert set(params_of(branch)["properties"]) == expected[(union, tag)], (union, tag)


def test_component_keys_are_exactly_what_the_factories_read():
    from stable_audio_tools.models import autoencoders as ae
    from stable_audio_tools.models import factory
    from stable_audio_tools.models.pretransforms import AutoencoderPretransform

    decoder_keys = read_keys(ae.create_decoder_from_config, "decoder_config") | {"soft_clip"}
    assert "soft_clip" in inspect.getsource(ae.create_autoencoder_from_config)
    read = {
        "encoder": read_keys(ae.create_encoder_from_config, "encoder_config"),
        "decoder": decoder_keys,
        "bottleneck": read_keys(factory.create_bottleneck_from_config, "bottleneck_config"),
        "pretransform": read_keys(factory.create_pretransform_from_config, "pretransform_config"),
    }
    for union, keys in read.items():
        offered = set().union(*(set(b["properties"]) for b in branches(union).values()))
        assert offered == keys, union
    # the autoencoder pretransform's siblings of config are AutoencoderPretransform's options
    siblings = set(branches("pretransform")["autoencoder"]["properties"]) - {"type", "config", "enable_grad"}
    assert siblings == signature(AutoencoderPretransform, {"model"})
    # the model section: what create_autoencoder_from_config reads
    model_keys = read_keys(ae.create_autoencoder_from_config, "ae_config")
    for title in ("AutoencoderModelConfig", "HyperencoderModelConfig"):
        assert set(DEFS[title]["properties"]) == model_keys


def test_defaults_are_upstreams():
    """Every default in a config schema equals the constructor's default, or the factory's where it overrides."""
    from stable_audio_tools.models import factory

    overrides = {  # the factory's own defaults, merged under the user's config
        ("bottleneck", "rvq"): dict(re.findall(r'"(\w+)": ([\w.]+),', inspect.getsource(
            factory.create_bottleneck_from_config).split("'rvq'")[1].split("quantizer_params.update")[0])),
    }
    overrides[("bottleneck", "rvq_vae")] = overrides[("bottleneck", "rvq")]
    assert set(overrides[("bottleneck", "rvq")]) == {"dim", "codebook_size", "num_quantizers", "decay",
                                                     "kmeans_init", "kmeans_iters", "threshold_ema_dead_code"}
    defaults = upstream_defaults()
    for union in UNIONS:
        for tag, branch in branches(union).items():
            if (union, tag) not in defaults:
                continue
            params = params_of(branch)
            for key, schema in params["properties"].items():
                if "default" not in schema:  # required: the factory indexes it, a library default is unreachable
                    assert key in params.get("required", []), (union, tag, key)
                    continue
                want = overrides.get((union, tag), {}).get(key)
                want = json.loads(want.lower()) if want is not None else defaults[(union, tag)][key]
                assert schema["default"] == want, (union, tag, key)


def upstream_defaults() -> dict[tuple[str, str], dict[str, Any]]:
    """Defaults of every parameter in ``upstream_parameters`` (the class that finally receives it)."""
    from dac.nn.quantize import ResidualVectorQuantize
    from encodec.modules import SEANetDecoder, SEANetEncoder
    from stable_audio_tools.models import autoencoders as ae
    from stable_audio_tools.models import bottleneck as bn
    from stable_audio_tools.models import local_attention as la
    from stable_audio_tools.models import pretransforms as pt
    from vector_quantize_pytorch import FSQ, ResidualVQ, VectorQuantize

    def of(*classes: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for cls in reversed(classes):  # earlier classes win
            for p in inspect.signature(cls).parameters.values():
                if p.default is not p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                    out[p.name] = list(p.default) if isinstance(p.default, tuple) else p.default
        return out

    seanet_encoder = of(SEANetEncoder) | {"ratios": [2, 2, 2, 2, 2]}  # the factory's default (see schema)
    local = of(la.ContinuousLocalTransformer)
    return {
        ("encoder", "oobleck"): of(ae.OobleckEncoder),
        ("encoder", "seanet"): seanet_encoder,
        ("encoder", "dac"): {"latent_dim": None} | of(ae.DACEncoderWrapper),
        ("encoder", "local_attn"): local | of(la.TransformerEncoder1D),
        ("encoder", "taae"): of(ae.TAAEEncoder),
        ("decoder", "oobleck"): of(ae.OobleckDecoder),
        ("decoder", "seanet"): of(SEANetDecoder),
        ("decoder", "dac"): of(ae.DACDecoderWrapper),
        ("decoder", "local_attn"): local | of(la.TransformerDecoder1D),
        ("decoder", "taae"): of(ae.TAAEDecoder),
        ("bottleneck", "tanh"): of(bn.TanhBottleneck),
        ("bottleneck", "rvq"): of(ResidualVQ, VectorQuantize),
        ("bottleneck", "rvq_vae"): of(ResidualVQ, VectorQuantize),
        ("bottleneck", "dac_rvq"): of(bn.DACRVQBottleneck, ResidualVectorQuantize),
        ("bottleneck", "dac_rvq_vae"): of(bn.DACRVQVAEBottleneck, ResidualVectorQuantize),
        ("bottleneck", "wasserstein"): of(bn.WassersteinBottleneck),
        ("bottleneck", "fsq"): of(bn.FSQBottleneck, FSQ),
        ("bottleneck", "dithered_fsq"): of(bn.DitheredFSQBottleneck),
        ("pretransform", "wavelet"): of(pt.WaveletPretransform),
        ("pretransform", "pqmf"): of(pt.PQMFPretransform),
        ("pretransform", "dac_pretrained"): of(pt.PretrainedDACPretransform),
        ("pretransform", "audiocraft_pretrained"): of(pt.AudiocraftCompressionPretransform),
        ("pretransform", "patched"): of(pt.PatchedPretransform),
    }


def test_seanet_activations_match_torch():
    import torch.nn.modules.activation as activation
    from torch import nn

    from sat_config.rules.autoencoder import ACTIVATION_PARAMS

    offered = DEFS["SeanetActivation"]["enum"]
    # GLU halves the time axis (the first forward fails); MultiheadAttention is not an activation
    assert set(offered) == set(activation.__all__) - {"GLU", "MultiheadAttention"} == set(ACTIVATION_PARAMS)
    for name in offered:
        parameters = [p for p in inspect.signature(getattr(nn, name)).parameters.values()
                      if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in ("device", "dtype")]
        accepted, required = ACTIVATION_PARAMS[name]
        assert {p.name for p in parameters} == accepted, name
        assert {p.name for p in parameters if p.default is p.empty} == required, name
    assert set(DEFS["SeanetActivationParams"]["properties"]) == set().union(*(a for a, _ in ACTIVATION_PARAMS.values()))


def test_seanet_norms_match_encodec():
    from encodec.modules.conv import CONV_NORMALIZATIONS
    from torch import nn

    # layer_norm is left out: encodec 0.1.1's ConvLayerNorm.forward returns None
    assert set(DEFS["SeanetNorm"]["enum"]) == CONV_NORMALIZATIONS - {"layer_norm"}
    assert set(DEFS["SeanetNormParams"]["properties"]) == signature(
        nn.GroupNorm, {"num_groups", "num_channels", "device", "dtype"})


def test_fixed_value_sets_match_upstream():
    import typing

    from dac import utils
    from stable_audio_tools.models.wavelets import WaveletEncode1d

    from sat_config.placeholders import DAC_ARCHITECTURES

    wavelets = typing.get_args(inspect.signature(WaveletEncode1d).parameters["wavelet"].annotation)
    assert DEFS["WaveletPretransformParams"]["properties"]["wavelet"]["enum"] == list(wavelets)
    dac_params = DEFS["DacPretrainedPretransformParams"]["properties"]
    published = set(utils.__MODEL_LATEST_TAGS__)
    assert {m for m, _ in published} == set(dac_params["model_type"]["enum"])
    assert {b for _, b in published} == set(dac_params["model_bitrate"]["enum"])
    assert set(DAC_ARCHITECTURES) == published  # the offline stand-ins know every published codec


def test_schema_objects_are_documented():
    """Every property of the family's schemas has a description; every optional one a default."""
    names = [n for n in DEFS if any(n.endswith(s) for s in ("EncoderConfig", "EncoderParams", "DecoderConfig",
                                                              "DecoderParams", "BottleneckConfig", "BottleneckParams",
                                                              "PretransformConfig", "PretransformParams"))]
    names += ["ResidualVqParams", "SeanetActivationParams", "SeanetNormParams", "AutoencoderModelConfig",
              "HyperencoderModelConfig"]
    for name in names:
        schema = DEFS[name]
        for key, prop in schema.get("properties", {}).items():
            target = DEFS[prop["$ref"].rsplit("/", 1)[1]] if "$ref" in prop else prop
            assert "description" in prop or "description" in target, (name, key)
            optional = key not in schema.get("required", []) and key != "type"
            # Threshold's `value` is required by that one activation; a hyperencoder has no upstream constructor
            # whose defaults these could be
            exempt = (name, key) in {("SeanetActivationParams", "value"), ("DitheredFsqBottleneckParams", "levels"),
                                     ("HyperencoderModelConfig", "downsampling_ratio"),
                                     ("HyperencoderModelConfig", "io_channels")}
            assert not optional or "default" in prop or exempt, (name, key)
