"""Targets: detection without imports, per-target verdicts (tests/cases/targets), environment-dependent severity.

A target case lists, per environment, the exact problems (path, kind, severity) expected:
``"<target>@<torch>"`` judges with ``target=`` and ``torch=`` chosen; ``installed`` with the detected environment
(here: the 0.0.19 wheel and torch 2.9.1, without deepspeed); ``validation-only`` as on a machine where neither
stable-audio-tools nor torch is installed (pre-commit, ``pip install sat-config``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO, case_config, load_json
from support.files import upstream_config

import sat_config
from sat_config import installed, targets
from sat_config.cli import main

CASES = sorted((REPO / "tests" / "cases" / "targets").glob("*.json"))
FLAGSHIPS = ["txt2audio--stable_audio_2_0", "autoencoders--stable_audio_2_0_vae"]


@pytest.fixture
def validation_only(monkeypatch):
    """As if neither stable-audio-tools nor torch were installed (no dist-info folders for them)."""
    real = installed.find
    monkeypatch.setattr(installed, "find", lambda name: None if name in ("stable-audio-tools", "torch") else real(name))
    targets.detected.cache_clear()
    yield
    targets.detected.cache_clear()


def _judge(key: str):
    if key == "installed":
        return sat_config.judging()
    target, _, torch = key.partition("@")
    return sat_config.judging(target=target, torch=torch)


def _found(config, judge):
    return sorted((p.path, p.kind, p.severity) for p in sat_config.problems_in(config, judge=judge))


def _expected(entries):
    return sorted((e["path"], e["kind"], e["severity"]) for e in entries)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_target_case_verdicts(path, request):
    case = load_json(path)
    config = case_config(case)
    assert case["verdicts"], "a target case lists its verdicts"
    for key, entries in case["verdicts"].items():
        if key == "validation-only":
            continue
        assert _found(config, _judge(key)) == _expected(entries), key
    if "validation-only" in case["verdicts"]:
        request.getfixturevalue("validation_only")
        assert _found(config, sat_config.judging()) == _expected(case["verdicts"]["validation-only"])


def test_every_conditional_fact_has_a_case_for_each_of_its_targets():
    """Every x-unsupported with a ``when`` is exercised by a case with a verdict on each target it names."""
    from sat_config.schema_source import bundled_schema

    conditions = []
    stack = [bundled_schema()]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            spec = node.get("x-unsupported")
            if isinstance(spec, dict) and spec.get("when"):
                conditions.append(spec)
            stack += [v for k, v in node.items() if k != "x-targets"]
        elif isinstance(node, list):
            stack += node
    assert conditions
    cases = [load_json(path) for path in CASES]
    for spec in conditions:
        covering = [case for case in cases if spec["what"] in case["facts"]]
        assert covering, f"no case in tests/cases/targets exercises {spec['what']!r}"
        for alternative in spec["when"]:
            if "target" in alternative:
                assert any(key.startswith(alternative["target"] + "@") for case in covering
                           for key in case["verdicts"]), (spec["what"], alternative)


@pytest.mark.parametrize("name", FLAGSHIPS)
def test_flagship_configs_per_environment(name, request):
    config = load_json(upstream_config(name))
    uses = json.dumps(config).count('"InverseLR"')
    assert uses, "the flagship configs schedule with InverseLR"
    broken = sat_config.problems_in(config, target="sat-0.0.19", torch="2.9.1")
    assert [(p.kind, p.severity) for p in broken] == [("unsupported", "error")] * uses
    assert "fails with torch >=2.7 on stable-audio-tools 0.0.19 from the package index" in broken[0].message
    assert sat_config.problems_in(config, target="sat-main") == []
    assert sat_config.problems_in(config, torch="2.6") == []
    request.getfixturevalue("validation_only")
    found = sat_config.problems_in(config)
    assert [(p.kind, p.severity) for p in found] == [("unsupported", "warning")] * uses
    with pytest.warns(sat_config.ConfigWarning):
        sat_config.validate_config(config)


def test_inverse_lr_fails_on_the_wheel_with_this_torch(upstream_factory):
    """The fact behind the sat-0.0.19 / torch >= 2.7 verdict, executed on the installed wheel and torch."""
    import torch
    from stable_audio_tools.training.utils import create_scheduler_from_config

    assert targets.detected().target.name == "sat-0.0.19" and targets.detected().torch.startswith("2.9")
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(2))], lr=1e-4)
    with pytest.raises(TypeError, match="positional arguments"):
        create_scheduler_from_config({"type": "InverseLR", "config": {"inv_gamma": 1e6}}, optimizer)


def test_fused_adam_needs_deepspeed(upstream_factory):
    import torch
    from stable_audio_tools.training.utils import create_optimizer_from_config

    with pytest.raises(ModuleNotFoundError, match="deepspeed"):
        create_optimizer_from_config({"type": "FusedAdam", "config": {"lr": 1e-4}},
                                     [torch.nn.Parameter(torch.zeros(2))])


def _fake_install(root: Path, source_text: str, editable_from: Path | None = None) -> Path:
    """A stable-audio-tools 0.0.19 installation under ``root``: metadata, and its training/utils.py either in
    site-packages or (``editable_from``) in the clone that direct_url.json names."""
    site = root / "site"
    info = site / "stable_audio_tools-0.0.19.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: stable-audio-tools\nVersion: 0.0.19\n")
    base = site
    if editable_from is not None:
        direct_url = {"url": editable_from.as_uri(), "dir_info": {"editable": True}}
        (info / "direct_url.json").write_text(json.dumps(direct_url))
        base = editable_from
    utils = base / "stable_audio_tools" / "training" / "utils.py"
    utils.parent.mkdir(parents=True)
    utils.write_text(source_text)
    return site


MAIN_SOURCE = "class InverseLR:\n    def __init__(self, optimizer, last_epoch=-1):\n" \
              "        super().__init__(optimizer, last_epoch)\n"
WHEEL_SOURCE = "class InverseLR:\n    def __init__(self, optimizer, last_epoch=-1, verbose=False):\n" \
               "        super().__init__(optimizer, last_epoch, verbose)\n"


def _detect_with(monkeypatch, site: Path):
    """What detection finds with ``site`` first on sys.path."""
    monkeypatch.syspath_prepend(str(site))
    targets.detected.cache_clear()
    try:
        return targets.detected()
    finally:
        targets.detected.cache_clear()


@pytest.mark.parametrize("source, editable, expected", [
    (MAIN_SOURCE, True, "sat-main"),
    (WHEEL_SOURCE, False, "sat-0.0.19"),
    (WHEEL_SOURCE, True, "sat-0.0.19"),
])
def test_detection_tells_the_wheel_from_a_main_checkout(tmp_path, monkeypatch, source, editable, expected):
    env = _detect_with(monkeypatch, _fake_install(tmp_path, source, tmp_path / "clone" if editable else None))
    assert (env.target.name, env.target_how, env.note) == (expected, "detected", None)


def test_detection_falls_back_to_the_default_and_says_why(tmp_path, monkeypatch):
    env = _detect_with(monkeypatch, _fake_install(tmp_path, "something else entirely\n"))
    assert (env.target.name, env.target_how) == ("sat-0.0.19", "assumed")
    assert "matches no target" in env.note


def test_unknown_target_and_bad_torch_version_are_usage_errors(capsys):
    with pytest.raises(targets.TargetError, match="known targets: sat-0.0.19, sat-main"):
        sat_config.judging(target="sat-9")
    with pytest.raises(targets.TargetError, match="not a version"):
        sat_config.judging(torch="two point six")
    config = str(REPO / "examples" / "autoencoder_tiny_vae.json")
    assert main(["validate", "--target", "sat-9", config]) == 2
    assert "known targets" in capsys.readouterr().err


def test_cli_reports_the_environment_and_exits_0_on_warnings_alone(validation_only, tmp_path, capsys):
    case = load_json(REPO / "tests" / "cases" / "targets" / "inverse_lr.json")
    path = tmp_path / "config.json"
    path.write_text(json.dumps(case_config(case)))
    assert main(["validate", "--format", "json", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    entry = out["files"][0] if isinstance(out, dict) else out[0]
    assert [w["kind"] for w in entry["warnings"]] == ["unsupported"]
    judged = out["environment"] if isinstance(out, dict) else entry["environment"]
    assert (judged["target"], judged["target_source"], judged["torch"]) == ("sat-0.0.19", "assumed", None)
    assert main(["validate", "--strict", str(path)]) == 1
    assert main(["validate", "--target", "sat-main", str(path)]) == 0
    text = capsys.readouterr().out
    assert "sat-main (chosen)" in text


def test_editor_schema_per_target_drops_what_the_target_builds():
    from sat_config.targets import schema_for_target

    main_schema = json.dumps(schema_for_target("sat-main"))
    wheel_schema = json.dumps(schema_for_target("sat-0.0.19"))
    assert "the taae encoder" in wheel_schema and "the taae encoder" not in main_schema
    assert "LR scheduler 'InverseLR'" in wheel_schema and "LR scheduler 'InverseLR'" not in main_schema
    assert "local_attn" in main_schema and "the local_attn encoder" in main_schema  # broken everywhere


@pytest.mark.parametrize("specifier", [">=2.7", "<2.7", "==2.7", "!=2.7", ">2.7", "<=2.7.1", ">=2.6,<2.8", "==2.7.*",
                                       "~=2.7"])
def test_version_matching_agrees_with_packaging(specifier):
    from packaging.specifiers import SpecifierSet

    for version in ["2.6", "2.7", "2.7.0", "2.7.1", "2.8", "2.9.1", "2.9.1+cu121", "2.10.0", "3", "2.7.0rc1",
                    "2.10.0.dev20260101"]:
        release = ".".join(map(str, targets._release(version)))
        expected = SpecifierSet(specifier).contains(release, prereleases=True)
        assert targets.version_matches(specifier, version) == expected, (specifier, version)
