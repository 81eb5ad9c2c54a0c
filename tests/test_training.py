"""The `training` section, checked against stable-audio-tools' own training factory.

Every positive case ``tests/cases/positive/training/*.json`` builds a real training wrapper, its optimizers and
its demo callback; every negative case ``tests/cases/negative/training/*.json`` fails upstream at the stage its
``upstream`` field names (or, for ``ignored``, is silently accepted). Configs are handed to upstream the way its
train.py does: one dict for the model and the wrapper (the seanet encoder reverses its ``ratios`` in place, and
the autoencoder wrapper relies on building its EMA copy twice from that same dict).
"""

from __future__ import annotations

import contextlib
import copy
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from support.files import EXAMPLES, REPO, UPSTREAM, case_config, case_files, case_path, load_json, upstream_params

from sat_config import problems_in

TRAIN_POSITIVE = case_files("positive", "training")
TRAIN_NEGATIVE = case_files("negative", "training")
SNAPSHOT = REPO / "schemas" / "snapshots" / "torch_optim.schema.json"
EXAMPLE = {load_json(p)["model_type"]: p for p in EXAMPLES}


@pytest.fixture(scope="module")
def upstream() -> Any:
    pytest.importorskip("stable_audio_tools")
    from stable_audio_tools.models.factory import create_model_from_config
    from stable_audio_tools.training import factory

    return SimpleNamespace(model=create_model_from_config, wrapper=factory.create_training_wrapper_from_config,
                           demo=factory.create_demo_callback_from_config)


def _wrapper(upstream: Any, config: dict[str, Any]) -> Any:
    """Model, then training wrapper, from one dict (as train.py does). No builder exists for a hyperencoder:
    the training factory rejects that type before it looks at the model."""
    model = None if config["model_type"] == "hyperencoder" else upstream.model(config)
    return upstream.wrapper(config, model)


def _device(meta: bool) -> Any:
    """Build on the meta device (no weights) unless the test runs tensors through what it builds."""
    import torch

    return torch.device("meta") if meta else contextlib.nullcontext()


def _training_problems(config: Any) -> list[tuple[str, str]]:
    return [(p.path, p.kind) for p in problems_in(config) if p.parts[:1] == ("training",)]


# --- the optimizer and scheduler schema is the installed torch's --------------------------------------------------


def test_torch_optim_schema_is_a_snapshot_of_the_installed_torch():
    pytest.importorskip("stable_audio_tools")
    from generator.torch_optim_snapshot import build

    assert build() == load_json(SNAPSHOT), "run `python -m generator.torch_optim_snapshot --write`"


def test_every_torch_optimizer_and_scheduler_is_a_known_type():
    pytest.importorskip("torch")
    from generator.torch_optim_snapshot import optimizer_classes, scheduler_classes

    defs = load_json(SNAPSHOT)["$defs"]
    tags = {name: d["properties"]["type"]["const"] for name, d in defs.items() if "type" in d.get("properties", {})}
    assert {t for n, t in tags.items() if n.startswith("Optim")} == {n for n, _ in optimizer_classes()} | {"FusedAdam"}
    assert {t for n, t in tags.items() if n.startswith("Sched")} == {n for n, _ in scheduler_classes()} | {"InverseLR"}


@pytest.mark.parametrize(("kind", "name", "config", "fails"), [
    ("optimizer", "SGD", {"nesterov": True}, True),
    ("optimizer", "SGD", {"nesterov": True, "momentum": 0.9}, False),
    ("optimizer", "SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, True),
    ("scheduler", "OneCycleLR", {"max_lr": 0.1}, True),
    ("scheduler", "OneCycleLR", {"max_lr": 0.1, "epochs": 2}, True),
    ("scheduler", "OneCycleLR", {"max_lr": 0.1, "epochs": 2, "steps_per_epoch": 5}, False),
])
def test_recorded_optimizer_rules_agree_with_torch(kind, name, config, fails):
    """The cross-field rules the snapshot records by hand, against the installed torch and against validation."""
    torch = pytest.importorskip("torch")
    from generator.torch_optim_snapshot import _try_optimizer, _try_scheduler

    cls = getattr(torch.optim if kind == "optimizer" else torch.optim.lr_scheduler, name)
    assert ((_try_optimizer if kind == "optimizer" else _try_scheduler)(cls, config) is not None) == fails
    entry: dict[str, Any] = {"optimizer": {"type": "SGD", "config": {}}}
    entry[kind] = {"type": name, "config": config}
    lm = dict(load_json(EXAMPLE["lm"]), training={"optimizer_configs": {"lm": entry}})
    assert bool(_training_problems(lm)) == fails


def test_optimizer_config_keys_are_the_constructor_parameters():
    torch = pytest.importorskip("torch")
    import inspect

    defs = load_json(SNAPSHOT)["$defs"]
    params = set(inspect.signature(torch.optim.AdamW).parameters) - {"params"}
    assert set(defs["OptimAdamWConfig"]["properties"]) == params
    assert defs["OptimAdamWConfig"]["properties"]["betas"]["default"] == [0.9, 0.999]


# --- upstream's shipped configs -----------------------------------------------------------------------------------

INVERSE_LR = "unsupported"
UPSTREAM_TRAINING_PROBLEMS = {
    "autoencoders--stable_audio_2_0_vae": [
        ("$.training.optimizer_configs.autoencoder.scheduler.type", INVERSE_LR),
        ("$.training.optimizer_configs.discriminator.scheduler.type", INVERSE_LR),
    ],
    "txt2audio--stable_audio_2_0": [("$.training.optimizer_configs.diffusion.scheduler.type", INVERSE_LR)],
}


@pytest.mark.parametrize("path", upstream_params(UPSTREAM), ids=lambda p: p.stem)
def test_upstream_training_sections_validate_except_inverse_lr(path):
    assert _training_problems(load_json(path)) == UPSTREAM_TRAINING_PROBLEMS.get(path.stem, [])


@pytest.mark.parametrize("path", upstream_params(UPSTREAM), ids=lambda p: p.stem)
def test_upstream_training_sections_build_where_the_schema_says(path, upstream):
    """The autoencoders are built as shipped (on the meta device). dance_diffusion's DAU1d and txt2audio's CLAP
    cannot be built here, so their training sections are put on the tiny example model of the same type."""
    import torch

    config = load_json(path)
    if not path.name.startswith("autoencoders--"):
        config = dict(load_json(EXAMPLE[config["model_type"]]), training=config["training"])
    with torch.device("meta"):
        wrapper = _wrapper(upstream, config)
        upstream.demo(config, demo_dl=[])
        if path.stem in UPSTREAM_TRAINING_PROBLEMS:
            with pytest.raises(TypeError, match="positional arguments"):
                wrapper.configure_optimizers()
        else:
            wrapper.configure_optimizers()


# --- valid training sections build ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", TRAIN_POSITIVE, ids=lambda p: p.stem)
def test_valid_training_section_builds_a_training_wrapper(path, upstream):
    config = copy.deepcopy(case_config(load_json(path)))
    assert problems_in(config) == []
    with _device(meta=True):
        wrapper = _wrapper(upstream, config)
        assert wrapper.configure_optimizers()
        assert upstream.demo(config, demo_dl=[]) is not None


def test_every_model_type_with_a_trainer_has_a_buildable_case():
    types = {load_json(REPO / load_json(p)["base"])["model_type"] for p in TRAIN_POSITIVE}
    assert types == set(EXAMPLE) - {"hyperencoder"}


def _checkpoint(upstream: Any, config: dict[str, Any], path: Path) -> str:
    import torch

    torch.save({"state_dict": upstream.model(copy.deepcopy(config)).state_dict()}, path)
    return str(path)


def test_autoencoder_distillation_from_a_teacher_builds(upstream, tmp_path):
    teacher = {k: v for k, v in load_json(EXAMPLE["autoencoder"]).items() if k != "$schema"}
    config = dict(copy.deepcopy(teacher), training={
        "learning_rate": 1e-4, "teacher_model": teacher,
        "teacher_model_ckpt": _checkpoint(upstream, teacher, tmp_path / "teacher.ckpt"),
    })
    assert problems_in(config) == []
    assert _wrapper(upstream, config).teacher_model is not None


def test_arc_with_a_teacher_and_ode_warmup_builds(upstream, tmp_path):
    base = {k: v for k, v in load_json(EXAMPLE["diffusion_cond"]).items() if k != "$schema"}
    optimizer = {"optimizer": {"type": "AdamW", "config": {"lr": 1e-5}}}
    config = dict(copy.deepcopy(base), training={
        "optimizer_configs": {"diffusion": optimizer, "discriminator": optimizer},
        "arc": {"use_model_as_teacher": True, "teacher_model_ckpt": _checkpoint(upstream, base, tmp_path / "t.ckpt"),
                "discriminator_base_model": base, "ode_warmup": {"warmup_steps": 100, "sampling_steps": 4},
                "discriminator": {"dit_hidden_layer": 1}},
        "demo": {"num_demos": 1, "demo_cfg_scales": [1], "demo_cond": [{"seconds_start": 0, "seconds_total": 1}]},
    })
    assert problems_in(config) == []
    wrapper = _wrapper(upstream, config)
    assert wrapper.teacher_model is not None and wrapper.ode_warmup_steps == 100
    assert len(wrapper.configure_optimizers()) == 2


# --- invalid training sections fail upstream where the case says ---------------------------------------------------


def _first_demo(upstream: Any, config: dict[str, Any], wrapper: Any, monkeypatch: Any) -> None:
    """Run the demo callback once, as Lightning does after the first training step (no files written)."""
    import torch
    import torchaudio

    monkeypatch.setattr(torchaudio, "save", lambda *args, **kwargs: None)
    length = config["sample_size"]
    metadata = {"seconds_start": 0, "seconds_total": 1, "padding_mask": [torch.ones(length)]}
    demo_dl = [(torch.randn(1, config["audio_channels"], length), [metadata])]
    callback = upstream.demo(config, demo_dl=demo_dl)
    callback.on_train_batch_end(SimpleNamespace(global_step=1, logger=None), wrapper, None, None, 0)


def _small_demo(config: dict[str, Any]) -> dict[str, Any]:
    """The same config with short clips, one sampling step and only its first guidance scale, so that a demo runs
    fast."""
    config = copy.deepcopy(config)
    config["sample_size"] = 2048
    config["training"]["demo"]["demo_steps"] = 1
    config["training"]["demo"]["demo_cfg_scales"] = config["training"]["demo"]["demo_cfg_scales"][:1]
    return config


def _manual_step(optimizers: Any) -> None:
    """One step of manual optimisation, as the autoencoder and ARC wrappers take it under Lightning: every optimizer
    steps with Lightning's do-nothing closure (it returns None), then every scheduler steps without a metric."""
    optimizers, schedulers = optimizers if isinstance(optimizers, tuple) else (optimizers, [])
    for optimizer in optimizers:
        optimizer.step(lambda: None)
    for scheduler in schedulers:
        scheduler.step()


@pytest.mark.parametrize("path", TRAIN_NEGATIVE, ids=lambda p: p.stem)
def test_invalid_training_section_fails_upstream_where_the_case_says(path, upstream, monkeypatch):
    case = load_json(path)
    stage = case["upstream"]
    config = copy.deepcopy(case_config(case))
    runs = stage in ("first_demo", "first_step", "eval", "inpaint_mask")  # tensors go through what is built
    if stage == "first_demo":
        config = _small_demo(config)
    with _device(meta=not runs):
        if stage == "wrapper":
            with pytest.raises(Exception):  # noqa: B017 - whichever error upstream raises while building
                _wrapper(upstream, config)
            return
        wrapper = _wrapper(upstream, config)
        if stage == "optimizers":
            with pytest.raises(Exception):  # noqa: B017
                wrapper.configure_optimizers()
            return
        optimizers = wrapper.configure_optimizers()
        if stage == "demo_callback":
            with pytest.raises(KeyError):
                upstream.demo(config, demo_dl=[])
            return
        if stage in ("no_scheduler", "ignored"):
            assert upstream.demo(config, demo_dl=[]) is not None
            assert stage == "ignored" or not isinstance(optimizers, tuple), "upstream returned schedulers"
            return
    if stage == "first_demo":
        with pytest.raises(Exception):  # noqa: B017
            _first_demo(upstream, config, wrapper, monkeypatch)
    elif stage == "first_step":
        with pytest.raises(TypeError):
            _manual_step(optimizers)
    elif stage == "eval":
        import torch

        audio = torch.randn(1, config["audio_channels"], 4096)
        with pytest.raises(NameError):
            for metric in wrapper.eval_losses.values():
                metric(audio, audio)
    else:
        assert stage == "inpaint_mask", stage
        import torch
        from stable_audio_tools.models.inpainting import random_inpaint_mask

        with pytest.raises(ValueError, match="sum to 1"):
            random_inpaint_mask(torch.randn(1, 8, 64), torch.ones(1, 64), **wrapper.inpaint_mask_kwargs)


# --- the harnesses above pass on valid configs (so a failure there is the config's) -------------------------------


def test_valid_inpainting_demo_runs(upstream, monkeypatch):
    config = _small_demo(case_config(load_json(case_path("positive", "train_diffusion_cond_inpaint"))))
    _first_demo(upstream, config, _wrapper(upstream, config), monkeypatch)


def test_valid_autoencoder_training_takes_a_step(upstream):
    config = copy.deepcopy(case_config(load_json(case_path("positive", "train_autoencoder_full"))))
    _manual_step(_wrapper(upstream, config).configure_optimizers())


# --- cross-field rules ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("num_demos", "entries", "from_batch", "problem"), [
    (2, 2, False, False),
    (2, 1, False, True),
    (1, 3, False, True),
    (2, None, False, True),
    (2, 1, True, False),
    (2, None, True, False),
])
def test_demo_cond_length_must_match_num_demos(num_demos, entries, from_batch, problem):
    config = load_json(EXAMPLE["diffusion_cond"])
    demo: dict[str, Any] = {"num_demos": num_demos, "demo_cfg_scales": [3], "demo_cond_from_batch": from_batch}
    if entries is not None:
        demo["demo_cond"] = [{"seconds_start": 0, "seconds_total": 1}] * entries
    config["training"] = {"learning_rate": 1e-4, "demo": demo}
    expected = [("$.training.demo.demo_cond", "cross_field")] if problem else []
    assert _training_problems(config) == expected


@pytest.mark.parametrize(("num_demos", "entries", "fails"), [(2, 2, False), (2, 1, True), (1, 3, True)])
def test_demo_cond_length_rule_matches_upstream(num_demos, entries, fails, upstream, monkeypatch):
    config = load_json(EXAMPLE["diffusion_cond"])
    demo_cond = [{"seconds_start": 0, "seconds_total": 1}] * entries
    config["training"] = {"learning_rate": 1e-4,
                          "demo": {"num_demos": num_demos, "demo_cfg_scales": [3], "demo_cond": demo_cond}}
    assert bool(_training_problems(config)) == fails
    config = _small_demo(config)
    wrapper = _wrapper(upstream, config)
    if fails:
        with pytest.raises(RuntimeError, match="must match the size"):
            _first_demo(upstream, config, wrapper, monkeypatch)
    else:
        _first_demo(upstream, config, wrapper, monkeypatch)


def test_teacher_model_is_validated_as_a_full_model_config():
    teacher = {k: v for k, v in load_json(EXAMPLE["autoencoder"]).items() if k != "$schema"}
    del teacher["model"]["io_channels"]
    config = dict(load_json(EXAMPLE["autoencoder"]), training={
        "learning_rate": 1e-4, "teacher_model": teacher, "teacher_model_ckpt": "teacher.ckpt"})
    assert ("$.training.teacher_model.model.io_channels", "required") in _training_problems(config)


def test_optimizer_rules_come_from_the_snapshot():
    config = load_json(EXAMPLE["lm"])
    for scheduler, path in [
        ({"type": "OneCycleLR", "config": {"max_lr": 0.1}}, "total_steps"),
        ({"type": "StepLR", "config": {"step_size": 0}}, "step_size"),
        ({"type": "StepLR", "config": {"step_size": 10, "last_epoch": 3}}, "last_epoch"),
    ]:
        entry = {"optimizer": {"type": "SGD", "config": {}}, "scheduler": scheduler}
        config["training"] = {"optimizer_configs": {"lm": entry}}
        problems = _training_problems(config)
        assert [p for p, _ in problems] == [f"$.training.optimizer_configs.lm.scheduler.config.{path}"], problems


def test_training_schema_files_have_no_undescribed_property():
    for path in sorted((REPO / "schemas" / "training").glob("*.schema.json")):
        for pointer, node in _properties(json.loads(path.read_text(encoding="utf-8")), path.name):
            assert "description" in node or "$ref" in node, pointer


def _properties(node: Any, where: str) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            found.append((f"{where}/properties/{name}", sub))
        for key, value in node.items():
            if key not in ("default", "examples", "const", "enum"):
                found += _properties(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += _properties(item, f"{where}/{index}")
    return found


def test_every_stft_window_the_schema_takes_builds_and_others_fail():
    """StftWindow lists what upstream's get_window (training/losses/auraloss.py) builds: torch's windows and the
    SciPy windows without parameters; a window needing parameters or a wrong case fails there."""
    from stable_audio_tools.training.losses.auraloss import get_window
    from support.schema import DEFS

    windows = DEFS["StftWindow"]["enum"]
    for name in windows:
        assert tuple(get_window(name, 16).shape) == (16,), name
    for name in ("Hann", "gaussian", "kaiser", "hann_windw"):
        assert name not in windows
        with pytest.raises(ValueError):
            get_window(name, 16)
    # and none is missing: every window name the pinned SciPy knows and builds without a parameter is listed
    from scipy.signal.windows import _windows

    for name in _windows._win_equiv:
        try:
            get_window(name, 16)
        except ValueError:
            continue
        assert name in windows, name
