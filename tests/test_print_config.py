"""`sat-config print-config`: the config as upstream sees it, every default filled in and marked."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import EXAMPLES, load_json
from support.building import build, state_dict_signature

from sat_config import problems_in
from sat_config.cli import main
from sat_config.errors import json_path
from sat_config.print_config import render_yaml, with_defaults


def printed(capsys, path, *flags) -> str:
    assert main(["print-config", *flags, str(path)]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_yaml_marks_every_default_and_reads_back(path, capsys):
    config = load_json(path)
    filled, paths = with_defaults(config)
    assert paths, "every example leaves some key to its default"
    text = printed(capsys, path)
    assert yaml.safe_load(text) == filled
    assert text.count("  # default\n") == len(paths)
    for line in text.splitlines():  # a marked line is a key that the original config does not set
        if line.endswith("  # default"):
            assert line.strip().split(":")[0].lstrip("- ") in {str(p[-1]) for p in paths}
    assert problems_in(filled) == [], "the printed config is valid"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_json_lists_the_defaults(path, capsys):
    out = json.loads(printed(capsys, path, "--format", "json"))
    filled, paths = with_defaults(load_json(path))
    assert out == {"config": filled, "defaults": [json_path(p) for p in paths]}


def test_nested_and_list_values_are_rendered_as_yaml():
    config = {"a": [{"b": 1, "c": [1, [2, 3]]}, []], "d": {}, "e": "yes", "f": None, "g": 1e-10}
    text = render_yaml(config, [("a", 0, "b"), ("d",)])
    assert yaml.safe_load(text) == config
    assert "- b: 1  # default" in text and "d: {}  # default" in text


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_building_the_printed_config_gives_the_same_model(path, capsys, upstream_factory):
    text = printed(capsys, path)
    original = load_json(path)
    if original["model_type"] == "hyperencoder":
        pytest.skip("stable-audio-tools 0.0.19 has no hyperencoder constructor")
    ours = state_dict_signature(build(upstream_factory, yaml.safe_load(text)))
    theirs = state_dict_signature(build(upstream_factory, original))
    assert ours and ours == theirs


def test_invalid_config_is_refused_with_its_problems(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text(EXAMPLES[0].read_text().replace('"sample_rate"', '"sample_rat"'))
    assert main(["print-config", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "sample_rat" in captured.err
