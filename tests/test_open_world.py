"""The open world (``unknown_types="warn"``) and the plausible-typo rule it shares with did-you-mean."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from conftest import REPO, load_json
from support.files import EXAMPLES, UPSTREAM, require_upstream

import sat_config
from sat_config.cli import main
from sat_config.schemawalk import bundled_walker
from sat_config.suggest import nearest

FORKS = sorted((REPO.parent / "shared" / "reference" / "fork-configs").glob("*/*.json"))


def _typos(word: str) -> set[str]:
    """Every one-letter typo of ``word``: a letter dropped, doubled, changed to its neighbour's, or two swapped."""
    out = {word[:i] + word[i + 1:] for i in range(len(word))}
    out |= {word[:i] + word[i] + word[i:] for i in range(len(word))}
    out |= {word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(len(word) - 1)}
    return {t for t in out if t and t != word}


def _located_keys(config):
    """(path parts, key, the names known at that place) for every key of ``config`` the schema declares."""
    walker = bundled_walker()
    known_at: dict[tuple, set[str]] = {}
    for parts, value, node in walker.walk(config):
        if isinstance(value, dict):
            known_at.setdefault(parts, set()).update(node.get("properties", {}))
    for parts, known in known_at.items():
        node = config
        for part in parts:
            node = node[part]
        for key in node:
            if key in known:
                yield parts, key, known


def test_every_one_letter_typo_of_a_declared_key_is_a_plausible_typo_of_that_key():
    """Measured on every key of the examples and of upstream's configs: the rule must catch every typo the
    mutation cases make (a letter dropped or doubled) and the other one-letter slips; README records the counts."""
    require_upstream()
    tried, ambiguous, wrong = 0, 0, []
    for path in EXAMPLES + UPSTREAM:
        config = load_json(path)
        for parts, key, known in _located_keys(config):
            for typo in _typos(key) - known:
                tried += 1
                found = nearest(typo, known)
                ambiguous += len(found) > 1
                if key not in found:
                    wrong.append((path.name, parts, key, typo, found))
    assert tried > 5000
    assert wrong == []
    assert ambiguous < tried / 100  # equally near names (edcoder: decoder or encoder) get no guess, still an error


def _with_unknown_backbone():
    config = load_json(REPO / "examples" / "diffusion_cond_tiny_dit.json")
    config["model"]["diffusion"] = {"type": "mamba", "config": {"d_model": 64, "n_layer": 2}}
    return config


def test_warn_mode_skips_an_unknown_backbone_and_checks_everything_else():
    config = _with_unknown_backbone()
    assert [(p.path, p.kind, p.severity) for p in sat_config.problems_in(config, unknown_types="warn")] == [
        ("$.model.diffusion.type", "unchecked", "warning")]
    config["model"]["conditioning"]["configs"][0]["config"]["max_vall"] = 512  # a typo of a known key
    config["model"]["pretransform"]["config"]["encoder"]["config"]["channels"] = "16"
    config["training"] = {"learning_rate": "fast"}
    found = {(p.path, p.kind, p.severity) for p in sat_config.problems_in(config, unknown_types="warn")}
    assert {("$.model.diffusion.type", "unchecked", "warning"),
            ("$.model.conditioning.configs[0].config.max_vall", "unknown_key", "error"),
            ("$.model.pretransform.config.encoder.config.channels", "type", "error"),
            ("$.training.learning_rate", "type", "error")} <= found
    message = next(p.message for p in sat_config.problems_in(config, unknown_types="warn") if p.kind == "unchecked")
    assert message == "type 'mamba' is not known for target sat-0.0.19; its settings were not checked"


def test_closed_world_is_the_default_and_typos_stay_errors_in_both():
    config = _with_unknown_backbone()
    assert [(p.kind, p.severity) for p in sat_config.problems_in(config)] == [("unknown_tag", "error")]
    config["model"]["diffusion"] = {"type": "dti", "config": {}}
    for mode in ("error", "warn"):
        problems = sat_config.problems_in(config, unknown_types=mode)
        assert [(p.kind, p.severity, p.suggestion) for p in problems] == [("unknown_tag", "error", "dit")]


def test_warnings_alone_pass_the_cli_and_fail_it_with_strict(tmp_path, capsys):
    path = tmp_path / "fork.json"
    path.write_text(json.dumps(_with_unknown_backbone()))
    assert main(["validate", str(path)]) == 1
    assert main(["validate", "--unknown-types", "warn", str(path)]) == 0
    text = capsys.readouterr().out
    assert "warning: $.model.diffusion.type: type 'mamba' is not known" in text and "[unchecked]" in text
    assert main(["validate", "--unknown-types", "warn", "--strict", str(path)]) == 1
    capsys.readouterr()
    assert main(["validate", "--unknown-types", "warn", "--format", "json", str(path)]) == 0
    entry = json.loads(capsys.readouterr().out)[0]
    assert entry["valid"] and entry["errors"] == [] and [w["kind"] for w in entry["warnings"]] == ["unchecked"]


def test_warnings_never_stop_a_build(upstream_factory):
    config = load_json(REPO / "examples" / "diffusion_cond_tiny_dit.json")
    config["model"]["diffusion"]["config"]["fork_only_flag"] = True
    with pytest.raises(sat_config.ConfigError):
        sat_config.validate_config(config)
    with pytest.warns(sat_config.ConfigWarning, match="fork_only_flag"):
        assert sat_config.validate_config(config, unknown_types="warn") == config


def test_fork_names_are_left_alone():
    """The names two public forks add (tests of the extensions issue read their configs): in the open world each
    is an ``unchecked`` warning, never a did-you-mean guess."""
    if not FORKS:
        require_upstream()
    names: Counter[str] = Counter()
    for path in FORKS:
        for problem in sat_config.problems_in(load_json(path), unknown_types="warn"):
            if problem.kind == "unchecked":
                names[problem.message.split(" is not known")[0]] += 1
            assert problem.kind not in ("unknown_key", "unknown_tag"), (path.name, problem)
    assert {"type 'mamba'", "type 'video_feature'", "type 'vocos_pretrained'", "key 'fps'"} <= set(names)
