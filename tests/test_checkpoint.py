"""`inspect --ckpt` / `--pretransform-ckpt`: checkpoints written from models built by upstream's own factory and
training wrappers, compared with configs changed consistently; every suggestion set is checked by loading the
checkpoint into a real CPU build of the edited config with strict=True."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import pickle
import re
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("stable_audio_tools")

import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from stable_audio_tools.models.factory import create_model_from_config as upstream  # noqa: E402
from stable_audio_tools.models.utils import load_ckpt_state_dict  # noqa: E402

from sat_config.checkpoint_read import CheckpointError, read_checkpoint  # noqa: E402
from sat_config.cli import main  # noqa: E402
from sat_config.inspection import inspect_config, render_text  # noqa: E402
from sat_config.validation import find_problems  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def example(stem: str) -> dict[str, Any]:
    config = json.loads((REPO / "examples" / f"{stem}.json").read_text())
    config.pop("$schema", None)
    return config


def built(config: dict[str, Any]) -> torch.nn.Module:
    torch.manual_seed(0)
    return upstream(copy.deepcopy(config))


def save_safetensors(model: torch.nn.Module, path: Path) -> Path:
    save_file({k: v.detach().contiguous() for k, v in model.state_dict().items()}, str(path))
    return path


def edit(config: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Set the value at a JSON path (``$.model.encoder.config.c_mults`` or ``...strides[0]``)."""
    parts = [int(p) if p.isdigit() else p for p in re.findall(r"\.(\w+)|\[(\d+)\]", path) for p in p if p]
    node = config
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value
    return config


def changed(stem: str, changes: dict[str, Any]) -> dict[str, Any]:
    config = example(stem)
    for path, value in changes.items():
        edit(config, path, value)
    assert [p for p in find_problems(config) if getattr(p, "severity", "error") == "error"] == [], \
        "a test change must keep the config valid"
    return config


def loads_strictly(config: dict[str, Any], state: dict[str, torch.Tensor], pretransform: bool = False) -> None:
    model = built(config)
    if pretransform:
        model.pretransform.load_state_dict(state)  # train.py's --pretransform-ckpt-path: strict
    else:
        model.load_state_dict(state, strict=True)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("ckpt")
    return {stem: save_safetensors(built(example(stem)), out / f"{stem}.safetensors")
            for stem in ("autoencoder_tiny_vae", "diffusion_cond_tiny_dit", "lm_tiny_rvq",
                         "diffusion_autoencoder_tiny", "diffusion_uncond_tiny_dit")}


# --- an unchanged config fits strictly ---------------------------------------------------------------------------


@pytest.mark.parametrize("stem", ["autoencoder_tiny_vae", "diffusion_cond_tiny_dit", "lm_tiny_rvq",
                                  "diffusion_autoencoder_tiny", "diffusion_uncond_tiny_dit"])
def test_the_config_a_checkpoint_was_saved_from_fits_strictly(stem, files):
    section = inspect_config(example(stem), checkpoint=files[stem])["checkpoint"]
    assert section["loads"] == "strict" and section["prefix"] is None
    assert section["matched"] == len(built(example(stem)).state_dict())
    assert (section["missing"], section["unexpected"], section["mismatched"], section["suggestions"]) == \
        ([], [], [], [])


# --- consistent changes: reported, and the suggestions make it fit exactly -------------------------------------

AE = "$.model"
DIT = "$.model.diffusion.config"
PT = "$.model.pretransform.config"
CASES = {
    "autoencoder widths": ("autoencoder_tiny_vae", {
        f"{AE}.encoder.config.channels": 32, f"{AE}.decoder.config.channels": 32}),
    "autoencoder latent size": ("autoencoder_tiny_vae", {
        f"{AE}.encoder.config.latent_dim": 32, f"{AE}.decoder.config.latent_dim": 16, f"{AE}.latent_dim": 16}),
    "autoencoder strides": ("autoencoder_tiny_vae", {
        f"{AE}.encoder.config.strides": [4, 4], f"{AE}.decoder.config.strides": [4, 4],
        f"{AE}.downsampling_ratio": 16}),
    "autoencoder depth (multipliers and strides)": ("autoencoder_tiny_vae", {
        f"{AE}.encoder.config.c_mults": [1, 2, 2], f"{AE}.decoder.config.c_mults": [1, 2, 2],
        f"{AE}.encoder.config.strides": [2, 4, 2], f"{AE}.decoder.config.strides": [2, 4, 2],
        f"{AE}.downsampling_ratio": 16}),
    "DiT width and depth": ("diffusion_cond_tiny_dit", {f"{DIT}.embed_dim": 128, f"{DIT}.depth": 3}),
    "conditioner width": ("diffusion_cond_tiny_dit", {
        "$.model.conditioning.cond_dim": 32, f"{DIT}.cond_token_dim": 32, f"{DIT}.global_cond_dim": 64}),
    "latent size through pretransform and DiT": ("diffusion_cond_tiny_dit", {
        f"{PT}.encoder.config.latent_dim": 32, f"{PT}.decoder.config.latent_dim": 16, f"{PT}.latent_dim": 16,
        f"{DIT}.io_channels": 16, "$.model.io_channels": 16}),
    "language model depth": ("lm_tiny_rvq", {"$.model.lm.config.depth": 3}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_consistent_changes_are_reported_and_the_suggestions_fit_exactly(name, files):
    stem, changes = CASES[name]
    config = changed(stem, changes)
    section = inspect_config(config, checkpoint=files[stem])["checkpoint"]
    assert section["loads"] in ("no", "partial")
    assert section["mismatched"] or section["missing"] or section["unexpected"]
    assert {s["path"] for s in section["suggestions"]} == set(changes)  # exactly the values that were changed
    for suggestion in section["suggestions"]:
        edit(config, suggestion["path"], suggestion["value"])
        assert suggestion["reason"]
    assert config == example(stem)  # every change undone, nothing else touched
    assert section["notes"] == []
    loads_strictly(config, load_ckpt_state_dict(str(files[stem])))


def test_a_pretransform_checkpoint_is_checked_against_the_pretransform(files):
    # the tiny diffusion model's pretransform is the tiny autoencoder: its exported weights are a pretransform ckpt
    config = changed("diffusion_cond_tiny_dit", {f"{PT}.encoder.config.channels": 32,
                                                 f"{PT}.decoder.config.channels": 32})
    report = inspect_config(config, pretransform_checkpoint=files["autoencoder_tiny_vae"])
    section = report["pretransform_checkpoint"]
    assert section["target"] == "pretransform.model" and section["loads"] == "no"
    assert {s["path"] for s in section["suggestions"]} == {f"{PT}.encoder.config.channels",
                                                           f"{PT}.decoder.config.channels"}
    for suggestion in section["suggestions"]:
        edit(config, suggestion["path"], suggestion["value"])
    loads_strictly(config, load_ckpt_state_dict(str(files["autoencoder_tiny_vae"])), pretransform=True)
    assert "pretransform checkpoint" in render_text(report, "x.json")


def test_a_different_architecture_gets_no_suggestion(files):
    config = example("diffusion_uncond_tiny_dit")
    section = inspect_config(config, checkpoint=files["autoencoder_tiny_vae"])["checkpoint"]
    assert section["loads"] == "partial" and section["matched"] == 0 and section["suggestions"] == []
    assert any("different architecture" in note for note in section["notes"])


def test_a_checkpoint_of_the_other_part_is_named_as_such(files):
    config = example("diffusion_cond_tiny_dit")
    whole = inspect_config(config, checkpoint=files["autoencoder_tiny_vae"])["checkpoint"]
    assert whole["loads"] == "partial" and whole["suggestions"] == [] and "search" not in whole
    assert any("it is a pretransform checkpoint" in note and "--pretransform-ckpt" in note for note in whole["notes"])
    part = inspect_config(config, pretransform_checkpoint=files["diffusion_cond_tiny_dit"])["pretransform_checkpoint"]
    assert part["loads"] == "partial" and any("whole-model checkpoint" in note for note in part["notes"])


def test_weights_of_a_stand_in_are_not_compared(tmp_path):
    """A trained T5 is part of the model (and of its checkpoint), but offline sat-config builds a stand-in
    without weights: its tensors are listed as not compared, and the rest still fits strictly."""
    from sat_config.placeholders import network_placeholders

    config = example("diffusion_cond_tiny_dit")
    config["model"]["conditioning"]["configs"] = [
        {"id": "prompt", "type": "t5", "config": {"t5_model_name": "t5-small", "enable_grad": True}}]
    config["model"]["diffusion"].update(cross_attention_cond_ids=["prompt"], global_cond_ids=[])
    config["model"]["diffusion"]["config"].pop("global_cond_dim")
    with network_placeholders():
        state = built(config).state_dict()
    state["conditioner.conditioners.prompt.model.shared.weight"] = torch.zeros(32128, 512)  # the real T5's
    path = tmp_path / "t5.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    section = inspect_config(config, checkpoint=path)["checkpoint"]
    assert section["loads"] == "strict"
    [entry] = [e for e in section["beside"] if "stand-in" in e["what"]]
    assert entry["prefix"] == "conditioner.conditioners.prompt.model." and entry["tensors"] == 1


# --- Lightning training checkpoints ------------------------------------------------------------------------------


def lightning(wrapper: torch.nn.Module, params: list[torch.nn.Parameter], path: Path) -> Path:
    """What Lightning's ModelCheckpoint writes: the wrapper's state dict, optimizer state after a step, loops."""
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    for param in params:
        param.grad = torch.zeros_like(param)
    optimizer.step()
    torch.save({"epoch": 0, "global_step": 1, "pytorch-lightning_version": "2.5.0",
                "state_dict": wrapper.state_dict(), "loops": {"fit_loop": {"epoch_progress": {"current": 1}}},
                "callbacks": {}, "optimizer_states": [optimizer.state_dict()], "lr_schedulers": []}, path)
    return path


@pytest.fixture(scope="module")
def autoencoder_ckpt(tmp_path_factory):
    from stable_audio_tools.training.autoencoders import AutoencoderTrainingWrapper

    model = built(example("autoencoder_tiny_vae"))
    ema_copy = built(example("autoencoder_tiny_vae"))  # as upstream's training factory does (no deepcopy)
    wrapper = AutoencoderTrainingWrapper(model, lr=1e-4, sample_rate=44100, use_ema=True, ema_copy=ema_copy)
    assert wrapper.discriminator is not None
    return lightning(wrapper, list(wrapper.autoencoder.parameters()), tmp_path_factory.mktemp("l") / "ae.ckpt")


@pytest.fixture(scope="module")
def diffusion_ckpt(tmp_path_factory):
    from stable_audio_tools.training.diffusion import DiffusionCondTrainingWrapper

    wrapper = DiffusionCondTrainingWrapper(built(example("diffusion_cond_tiny_dit")), lr=1e-4, use_ema=True)
    return lightning(wrapper, list(wrapper.diffusion.model.parameters()), tmp_path_factory.mktemp("l") / "dit.ckpt")


def test_lightning_autoencoder_checkpoint_with_ema_discriminator_and_optimizer(autoencoder_ckpt):
    report = inspect_config(example("autoencoder_tiny_vae"), checkpoint=autoencoder_ckpt)
    section = report["checkpoint"]
    assert (section["format"], section["prefix"], section["loads"]) == ("torch", "autoencoder.", "strict")
    assert [(e["prefix"], e["loads"]) for e in section["ema"]] == [
        ("autoencoder_ema.ema_model.", "strict"), ("autoencoder_ema.online_model.", "strict")]
    beside = {e.get("prefix") or e.get("entry"): e["what"] for e in section["beside"]}
    assert beside["discriminator."] == "GAN discriminator" and beside["optimizer_states"] == "optimizer state"
    assert any("unwrap_model.py" in note for note in section["notes"])
    text = render_text(report, "ae.json")
    assert "model under 'autoencoder.'" in text and "EMA copy under 'autoencoder_ema.ema_model.'" in text


def test_lightning_diffusion_checkpoint_ema_covers_the_backbone(diffusion_ckpt):
    config = changed("diffusion_cond_tiny_dit", {f"{DIT}.depth": 3})
    section = inspect_config(config, checkpoint=diffusion_ckpt)["checkpoint"]
    assert section["prefix"] == "diffusion." and section["loads"] == "partial"
    [ema] = section["ema"]
    assert (ema["prefix"], ema["copies"], ema["loads"]) == ("diffusion_ema.ema_model.", "model.", "partial")
    assert ema["missing"] > 0 and ema["mismatched"] == 0  # the EMA copy lacks the third block likewise
    assert [(s["path"], s["value"]) for s in section["suggestions"]] == [(f"{DIT}.depth", 2)]
    state = {k[len("diffusion."):]: v for k, v in load_ckpt_state_dict(str(diffusion_ckpt)).items()
             if k.startswith("diffusion.")}  # what unwrap_model.py exports
    loads_strictly(edit(config, f"{DIT}.depth", 2), state)


# --- weight-norm spellings ----------------------------------------------------------------------------------------


def test_parametrized_weight_norm_names_are_told_apart_from_a_misfit(files, tmp_path):
    state = load_ckpt_state_dict(str(files["autoencoder_tiny_vae"]))
    renamed = {re.sub(r"\.weight_([gv])$", lambda m: f".parametrizations.weight.original{'0' if m[1] == 'g' else '1'}",
                      k): v for k, v in state.items()}
    assert renamed != state
    path = tmp_path / "parametrized.safetensors"
    save_file(renamed, str(path))
    section = inspect_config(example("autoencoder_tiny_vae"), checkpoint=path)["checkpoint"]
    assert section["loads"] == "partial" and section["mismatched"] == [] and section["missing"] == []
    assert len(section["renamed"]) == sum(".parametrizations." in k for k in renamed)
    assert any("weight-norm spelling" in note for note in section["notes"])
    with pytest.raises(RuntimeError, match="Missing key"):  # upstream agrees: it does not load as it is
        built(example("autoencoder_tiny_vae")).load_state_dict(renamed)


def test_a_checkpoint_saved_without_weight_norm_is_named(files, tmp_path):
    from stable_audio_tools.models.utils import remove_weight_norm_from_model

    model = built(example("autoencoder_tiny_vae"))
    with contextlib.redirect_stdout(io.StringIO()):  # upstream prints every module it changes
        remove_weight_norm_from_model(model)
    path = save_safetensors(model, tmp_path / "no_norm.safetensors")
    section = inspect_config(example("autoencoder_tiny_vae"), checkpoint=path)["checkpoint"]
    pairs = sum(k.endswith(".weight_g") for k in built(example("autoencoder_tiny_vae")).state_dict())
    assert (section["loads"], len(section["norm_removed"]), section["missing"], section["unexpected"]) == \
        ("partial", pairs, [], [])
    assert section["suggestions"] == [] and any("--remove-pretransform-weight-norm" in n for n in section["notes"])
    unnormed = built(example("autoencoder_tiny_vae"))
    with contextlib.redirect_stdout(io.StringIO()):
        remove_weight_norm_from_model(unnormed)
    unnormed.load_state_dict(load_ckpt_state_dict(str(path)), strict=True)  # upstream agrees


# --- bad input: a clear error, exit 2, nothing executed --------------------------------------------------------


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_payload_is_never_executed(tmp_path, capsys):
    marker = tmp_path / "executed"
    torch.save({"state_dict": {"w": torch.zeros(2)}, "payload": _Payload(marker)}, tmp_path / "evil.ckpt")
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps({"payload": _Payload(marker)}))
    config = REPO / "examples" / "autoencoder_tiny_vae.json"
    for name in ("evil.ckpt", "evil.pkl"):
        assert main(["inspect", str(config), "--ckpt", str(tmp_path / name)]) == 2
        err = capsys.readouterr().err
        assert "cannot check the checkpoint" in err and "Traceback" not in err
        with pytest.raises(CheckpointError):
            read_checkpoint(tmp_path / name)
    assert not marker.exists()
    pickle.loads((tmp_path / "evil.pkl").read_bytes())  # the payload is real: unpickling runs it
    assert marker.exists()


def _bad_files(tmp_path: Path, good: Path) -> dict[str, Path]:
    data = good.read_bytes()
    header = json.dumps({"w": {"dtype": "F32", "shape": [1 << 40, 1 << 40], "data_offsets": [0, 16]}}).encode()
    files = {
        "truncated": data[: len(data) // 2],
        "header size beyond the file": (1 << 62).to_bytes(8, "little") + b"{}",
        "absurd tensor shape": len(header).to_bytes(8, "little") + header + bytes(16),
        "corrupt header": (10).to_bytes(8, "little") + b"{not json}",
        "unrelated file": b"just some text, not a checkpoint\n",
        "empty": b"",
    }
    out = {}
    for name, content in files.items():
        out[name] = tmp_path / (name.replace(" ", "_") + ".safetensors")
        out[name].write_bytes(content)
    out["directory"] = tmp_path
    out["missing"] = tmp_path / "nope.ckpt"
    return out


def test_bad_checkpoints_exit_2_without_a_traceback(files, tmp_path, capsys):
    config = REPO / "examples" / "autoencoder_tiny_vae.json"
    for name, path in _bad_files(tmp_path, files["autoencoder_tiny_vae"]).items():
        with pytest.raises(CheckpointError):
            read_checkpoint(path)
        assert main(["inspect", str(config), "--ckpt", str(path)]) == 2, name  # no exception escapes
        err = capsys.readouterr().err
        assert "cannot check the checkpoint" in err and str(path) in err and "Traceback" not in err, name


# --- command line ------------------------------------------------------------------------------------------------


def test_cli_exit_codes_and_json(files, tmp_path, capsys):
    good = REPO / "examples" / "autoencoder_tiny_vae.json"
    assert main(["inspect", str(good), "--ckpt", str(files["autoencoder_tiny_vae"])]) == 0
    assert "loads with strict=True" in capsys.readouterr().out
    path = tmp_path / "wide.json"
    path.write_text(json.dumps(changed("autoencoder_tiny_vae", CASES["autoencoder widths"][1])))
    assert main(["inspect", "--format", "json", str(path), "--ckpt", str(files["autoencoder_tiny_vae"])]) == 1
    [result] = json.loads(capsys.readouterr().out)
    section = result["checkpoint"]
    assert set(section) >= {"path", "format", "loads", "matched", "missing", "unexpected", "mismatched",
                            "suggestions"}
    assert section["loads"] == "no" and section["mismatched"][0].keys() == {"key", "model_shape",
                                                                            "checkpoint_shape"}
    assert all(s.keys() >= {"path", "value", "reason"} for s in section["suggestions"])
    assert main(["inspect", str(path), "--ckpt", str(files["autoencoder_tiny_vae"])]) == 1
    text = capsys.readouterr().out
    assert "does not load" in text and "suggested edits (verified" in text
    assert "set $.model.encoder.config.channels to 16 (now 32)" in text
    assert main(["inspect", str(good), "--pretransform-ckpt", str(files["autoencoder_tiny_vae"])]) == 2
    assert "builds no pretransform" in capsys.readouterr().err
