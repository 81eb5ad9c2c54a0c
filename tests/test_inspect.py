"""`sat-config inspect` and the offline stand-ins it builds with (sat_config.placeholders)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest
from support.files import EXAMPLES, REPO, load_json, upstream_config

pytest.importorskip("stable_audio_tools")

import torch  # noqa: E402
from stable_audio_tools.models.factory import create_model_from_config as upstream  # noqa: E402

from sat_config import ConfigError, FactoryUnavailableError  # noqa: E402
from sat_config.cli import main  # noqa: E402
from sat_config.inspection import BuildError, build_dry, inspect_config, render_text  # noqa: E402
from sat_config.placeholders import (  # noqa: E402
    DAC_ARCHITECTURES,
    G2P_PHONEMES,
    PlaceholderUnavailableError,
    network_placeholders,
)

BUILDABLE = [p for p in EXAMPLES if load_json(p)["model_type"] != "hyperencoder"]
SA2 = "txt2audio--stable_audio_2_0"


def example(stem):
    return load_json(REPO / "examples" / f"{stem}.json")


def cond_config(*entries, cond_dim=64):
    """The tiny diffusion_cond example with the given conditioners, all routed to cross-attention."""
    config = example("diffusion_cond_tiny_dit")
    config["model"]["conditioning"] = {"cond_dim": cond_dim, "configs": list(entries)}
    config["model"]["diffusion"]["cross_attention_cond_ids"] = [e["id"] for e in entries]
    config["model"]["diffusion"]["global_cond_ids"] = []
    config["model"]["diffusion"]["config"].pop("global_cond_dim")
    return config


def counts(model):
    params = list(model.parameters())
    return (sum(p.numel() for p in params), sum(p.numel() for p in params if p.requires_grad))


# --- the report comes from the built model -------------------------------------------------------------------


@pytest.mark.parametrize("path", BUILDABLE, ids=lambda p: p.stem)
def test_counts_equal_a_real_cpu_build(path):
    config = load_json(path)
    report = inspect_config(config)
    config.pop("$schema", None)
    real = upstream(copy.deepcopy(config))
    assert report["device"] == "meta" and report["fallback_reason"] is None
    assert (report["parameters"], report["trainable"]) == counts(real)
    assert report["frozen"] == report["parameters"] - report["trainable"]
    subs = {s["name"]: s for s in report["submodules"]}
    assert list(subs) == [name for name, _ in real.named_children()]
    for name, child in real.named_children():
        assert (subs[name]["parameters"], subs[name]["trainable"]) == counts(child), name
        assert subs[name]["class"] == type(child).__name__


def test_audio_chain_of_a_latent_diffusion_model():
    audio = inspect_config(example("diffusion_cond_tiny_dit"))["audio"]
    # 2-channel audio at 44.1 kHz, an autoencoder with strides 2 x 4 and 8 latent channels, 65536 samples
    assert audio == {"sample_rate": 44100, "audio_channels": 2, "downsampling_ratio": 8, "latent_channels": 8,
                     "backbone_io_channels": 8, "min_input_length": 8, "latents_per_second": 44100 / 8,
                     "sample_size": 65536, "latent_length": 8192, "sample_size_remainder": 0}


def test_audio_chain_of_an_lm_names_its_codebooks():
    audio = inspect_config(example("lm_tiny_rvq"))["audio"]
    rvq = example("lm_tiny_rvq")["model"]["pretransform"]["config"]["bottleneck"]["config"]
    assert (audio["num_quantizers"], audio["codebook_size"]) == (rvq["num_quantizers"], rvq["codebook_size"])


def test_sample_size_that_is_not_a_multiple_of_the_ratio_is_flagged():
    config = example("autoencoder_tiny_vae")
    config["sample_size"] = 8195
    report = inspect_config(config)
    assert (report["audio"]["latent_length"], report["audio"]["sample_size_remainder"]) == (1024, 3)
    assert "+3 samples left over" in render_text(report, "x.json")


def test_conditioning_inputs_widths_and_routes():
    config = example("diffusion_cond_tiny_dit")
    config["model"]["conditioning"]["configs"].append(
        {"id": "genre", "type": "list", "config": {"options": ["rock", "jazz"], "output_dim": 32}})
    report = inspect_config(config)
    inputs = {i["id"]: i for i in report["conditioning"]["inputs"]}
    assert inputs["seconds_start"]["routes"] == ["cross_attention", "global"]
    assert (inputs["seconds_start"]["class"], inputs["seconds_start"]["output_dim"]) == ("NumberConditioner", 64)
    assert (inputs["genre"]["class"], inputs["genre"]["output_dim"], inputs["genre"]["routes"]) == \
        ("ListConditioner", 32, [])
    assert "not routed to the model" in render_text(report, "x.json")


def test_ids_supplied_with_the_batch_are_listed_without_a_conditioner():
    config = example("diffusion_cond_inpaint_tiny_dit")
    config["model"]["diffusion"]["input_concat_ids"] = ["inpaint_mask"]
    config["model"]["diffusion"]["config"]["input_concat_dim"] = 1
    report = inspect_config(config)
    entry = next(i for i in report["conditioning"]["inputs"] if i["id"] == "inpaint_mask")
    assert entry["class"] is None and entry["routes"] == ["input_concat"]


def test_stable_audio_2_0_builds_on_meta_with_its_clap_encoder_replaced():
    report = inspect_config(load_json(upstream_config(SA2)))
    assert report["device"] == "meta"
    # its training section asks for InverseLR, which torch 2.9 cannot build: listed, the model still inspected
    assert [(p.path, p.kind) for p in report["problems"]] == [
        ("$.training.optimizer_configs.diffusion.scheduler.type", "unsupported")]
    assert report["parameters"] > 1_000_000_000  # ~1.2 B: a DiT of depth 24 and width 1536, and the VAE
    backbone = next(s for s in report["submodules"] if s["role"] == "backbone")
    pretransform = next(s for s in report["submodules"] if s["role"] == "pretransform")
    assert pretransform["trainable"] == 0 and backbone["frozen"] == 0
    assert report["audio"]["downsampling_ratio"] == 2048 and report["audio"]["latent_channels"] == 64
    [clap] = report["placeholders"]
    assert clap["module"] == "conditioner.conditioners.prompt.model" and clap["kind"] == "clap"
    assert clap["weights_counted"] is True  # not part of the model's parameters (finetune is false) anyway


# --- placeholders -------------------------------------------------------------------------------------------------


def test_t5_and_lut_stand_ins_produce_the_real_output_shapes():
    config = cond_config({"id": "prompt", "type": "t5", "config": {"t5_model_name": "t5-small", "max_length": 16}},
                         {"id": "lyrics", "type": "lut", "config": {"tokenizer_name": "some/tokenizer",
                                                                    "max_length": 12}})
    config["model"]["diffusion"]["config"]["cond_token_dim"] = 64
    with network_placeholders() as replaced:
        model = upstream(copy.deepcopy(config))
    assert {r.kind for r in replaced} == {"t5", "tokenizer"}
    texts = ["a short prompt", "another one, a little longer"]
    with network_placeholders():
        t5, t5_mask = model.conditioner.conditioners["prompt"](texts, device="cpu")
        lut, lut_mask = model.conditioner.conditioners["lyrics"](texts, device="cpu")
    assert t5.shape == (2, 16, 64) and t5_mask.shape == (2, 16)  # t5-small is 512 wide: projected to 64
    assert lut.shape == (2, 12, 64) and lut_mask.shape == (2, 12)


def test_t5_encoder_is_registered_only_when_trained():
    frozen = cond_config({"id": "p", "type": "t5", "config": {"t5_model_name": "t5-base"}})
    trained = cond_config({"id": "p", "type": "t5", "config": {"t5_model_name": "t5-base", "enable_grad": True}})
    [entry] = [p for p in inspect_config(frozen)["placeholders"] if p["kind"] == "t5"]
    assert entry["weights_counted"] is True  # upstream keeps it out of the module tree too
    [entry] = [p for p in inspect_config(trained)["placeholders"] if p["kind"] == "t5"]
    assert entry["weights_counted"] is False and "not in the counts" in render_text(inspect_config(trained), "x")


def test_clap_and_phoneme_stand_ins():
    config = cond_config({"id": "text", "type": "clap_text",
                          "config": {"clap_ckpt_path": "/nonexistent/clap.ckpt", "use_text_features": True}},
                         {"id": "phones", "type": "phoneme", "config": {}})
    with network_placeholders():
        model = upstream(copy.deepcopy(config))
        clap, _ = model.conditioner.conditioners["text"](["one", "two"], device="cpu")
        phones, _ = model.conditioner.conditioners["phones"](["say it"], device="cpu")
    assert clap.shape == (2, 77, 64)  # roberta features (768) projected to cond_dim
    assert phones.shape == (1, len("say it"), 64)
    table = model.conditioner.conditioners["phones"].phoneme_embedder
    assert table.num_embeddings == len(G2P_PHONEMES) + 2


@pytest.mark.parametrize("key", sorted(DAC_ARCHITECTURES), ids="-".join)
def test_dac_pretrained_has_descripts_published_architecture(key):
    model_type, bitrate = key
    config = example("diffusion_cond_tiny_dit")
    config["model"]["pretransform"] = {"type": "dac_pretrained",
                                       "config": {"model_type": model_type, "model_bitrate": bitrate}}
    with network_placeholders() as replaced, torch.device("meta"):
        model = upstream(copy.deepcopy(config))
    dac = model.pretransform.model
    assert [r.kind for r in replaced] == ["dac_pretrained"]
    assert dac.sample_rate == DAC_ARCHITECTURES[key]["sample_rate"]
    assert model.pretransform.downsampling_ratio == dac.hop_length  # upstream's 512 / 320 match the real codec
    assert model.pretransform.num_quantizers == DAC_ARCHITECTURES[key]["n_codebooks"]


def test_dac_pretrained_keeps_dacs_own_checks():
    config = example("diffusion_cond_tiny_dit")
    config["model"]["pretransform"] = {"type": "dac_pretrained",
                                       "config": {"model_type": "24khz", "model_bitrate": "16kbps"}}
    with network_placeholders(), torch.device("meta"), pytest.raises(KeyError):
        upstream(config)  # descript only publishes 16 kbps at 44.1 kHz


def test_audiocraft_codec_stand_in_and_unknown_names():
    config = example("lm_tiny_rvq")
    config["model"]["pretransform"] = {"type": "audiocraft_pretrained", "config": {}}
    report = inspect_config(config)
    assert (report["audio"]["num_quantizers"], report["audio"]["codebook_size"]) == (4, 2048)  # encodec_32khz
    assert report["audio"]["downsampling_ratio"] == 640
    with network_placeholders():
        pretransform = upstream(copy.deepcopy(config)).pretransform
    tokens = pretransform.tokenize(torch.zeros(2, 1, 640 * 3))
    assert tokens.shape == (2, 4, 3) and pretransform.decode_tokens(tokens).shape == (2, 1, 640 * 3)
    config["model"]["pretransform"]["config"]["model_type"] = "someone/custom-codec"
    with pytest.raises(BuildError, match="PlaceholderUnavailableError"):
        inspect_config(config)
    with network_placeholders(), pytest.raises(PlaceholderUnavailableError):
        upstream(copy.deepcopy(config))


def test_everything_is_restored_after_the_block():
    import stable_audio_tools.models.conditioners as conditioners
    import transformers

    before = (dict(sys.modules), list(sys.meta_path), vars(transformers).get("AutoTokenizer"),
              conditioners.clap_load_state_dict)
    with network_placeholders():
        assert sys.modules["laion_clap"].__doc__.startswith("sat-config placeholder")
    after = (dict(sys.modules), list(sys.meta_path), vars(transformers).get("AutoTokenizer"),
             conditioners.clap_load_state_dict)
    assert after[0].keys() == before[0].keys() and after[1:] == before[1:]


def test_modules_first_imported_inside_the_block_are_patched_then_restored():
    code = (
        "import sys\n"
        "from sat_config.placeholders import network_placeholders\n"
        "assert 'dac' not in sys.modules and 'transformers' not in sys.modules\n"
        "with network_placeholders():\n"
        "    import dac, transformers\n"
        "    assert dac.utils.download('44khz').model_type == '44khz'\n"
        "    assert transformers.AutoTokenizer.from_pretrained('x').name == 'x'\n"
        "assert dac.utils.download.__module__ != 'sat_config.placeholders'\n"
        "assert 'AutoTokenizer' not in vars(transformers)\n"
        "assert dac.__spec__.loader.__class__.__name__ != '_HookedLoader'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, capture_output=True, timeout=120)


# --- the meta device and the CPU fallback -------------------------------------------------------------------------


def test_a_layer_that_needs_real_tensors_falls_back_to_the_cpu():
    def factory(config):
        layer = torch.nn.Linear(config["width"], config["width"])
        if layer.weight.sum().item() > 1e9:  # .item() cannot run on the meta device
            raise AssertionError("unreachable")
        return layer

    build = build_dry(factory, {"width": 4})
    assert build.device == "cpu" and "meta" in build.fallback_reason
    assert build.model.weight.device.type == "cpu"


def test_a_genuine_failure_raises_upstreams_error():
    with pytest.raises(TypeError, match="unexpected keyword"):
        build_dry(lambda config: torch.nn.Linear(2, 2, bogus=True), {})


# --- the command line -----------------------------------------------------------------------------------------


def test_cli_text_and_json(capsys):
    assert main(["inspect", str(REPO / "examples" / "diffusion_cond_tiny_dit.json")]) == 0
    text = capsys.readouterr().out
    assert "ConditionedDiffusionModelWrapper (diffusion_cond), built on meta device" in text
    assert "backbone (model)" in text and "÷8 → 8 latent channels" in text and "cross_attention, global" in text
    assert main(["inspect", "--format", "json", *map(str, BUILDABLE)]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["file"] for r in results] == [str(p) for p in BUILDABLE]
    assert all(r["valid"] and r["built"] and r["parameters"] > 0 for r in results)


def test_cli_invalid_config_prints_problems_and_exits_1(tmp_path, capsys):
    config = example("autoencoder_tiny_vae")
    config["model"]["latnet_dim"] = config["model"].pop("latent_dim")
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(config, indent=2))
    assert main(["inspect", str(path)]) == 1
    out = capsys.readouterr().out
    assert "invalid, not inspected" in out and "$.model.latnet_dim" in out and f"{path}:" in out
    assert main(["inspect", "--format", "json", str(path)]) == 1
    [result] = json.loads(capsys.readouterr().out)
    assert not result["valid"] and {e["path"] for e in result["errors"]} >= {"$.model.latnet_dim"}


def test_cli_training_problems_do_not_hide_the_model(capsys):
    assert main(["inspect", str(upstream_config(SA2))]) == 1
    out = capsys.readouterr().out
    assert "ConditionedDiffusionModelWrapper" in out and "1,213,337,602 total" in out
    assert "training problem (the model above is unaffected)" in out and "InverseLR" in out
    assert main(["inspect", "--format", "json", str(upstream_config(SA2))]) == 1
    [result] = json.loads(capsys.readouterr().out)
    assert result["built"] and not result["valid"] and len(result["errors"]) == 1


def test_cli_hyperencoder_is_valid_but_not_built(capsys):
    path = next(p for p in EXAMPLES if "hyperencoder" in p.name)
    assert main(["inspect", "--format", "json", str(path)]) == 1
    [result] = json.loads(capsys.readouterr().out)
    assert result["valid"] and not result["built"] and "register_model_factory" in result["error"]


def test_cli_unreadable_file_exits_2(tmp_path, capsys):
    assert main(["inspect", str(tmp_path / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_cli_reports_a_failed_build_without_a_traceback(tmp_path, capsys):
    path = tmp_path / "codec.json"
    config = example("lm_tiny_rvq")
    config["model"]["pretransform"] = {"type": "audiocraft_pretrained", "config": {"model_type": "my/codec"}}
    path.write_text(json.dumps(config))
    assert main(["inspect", str(path)]) == 1  # returns: no exception escapes
    assert "could not build it: PlaceholderUnavailableError" in capsys.readouterr().out


def test_python_api_errors():
    config = example("autoencoder_tiny_vae")
    del config["model"]["encoder"]
    with pytest.raises(ConfigError):
        inspect_config(config)
    with pytest.raises(FactoryUnavailableError):
        inspect_config(load_json(next(p for p in EXAMPLES if "hyperencoder" in p.name)))
