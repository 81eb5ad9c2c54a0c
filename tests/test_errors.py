"""ConfigError: the same structured problems and text as the CLI, for Python callers."""

from __future__ import annotations

import pytest
from support.files import REPO, load_json

import sat_config
from sat_config import ConfigError, LoadError
from sat_config.cli import main
from sat_config.errors import json_path


def test_config_error_from_a_file_renders_exactly_the_cli_lines(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text((REPO / "examples/autoencoder_tiny_vae.json").read_text().replace('"io_channels": 2', '"io": 2'))
    with pytest.raises(ConfigError) as info:
        sat_config.create_model_from_config_path(path)
    main(["validate", str(path)])
    cli_lines = capsys.readouterr().out.splitlines()[:-1]
    assert [p.render(str(path)) for p in info.value.errors] == cli_lines
    assert str(info.value).splitlines()[1:] == ["  " + line for line in cli_lines]
    # one mistake, one problem: the missing 'io_channels' is the typo's, not a second problem
    assert {(p.path, p.kind, p.suggestion) for p in info.value.errors} == {("$.model.io", "unknown_key", "io_channels")}
    assert all(p.line for p in info.value.errors)


def test_unreadable_path_is_a_load_error(tmp_path):
    with pytest.raises(LoadError):
        sat_config.create_model_from_config_path(tmp_path / "missing.json")
    with pytest.raises(LoadError):
        sat_config.load_config_file(tmp_path)


def test_unparsable_file_is_a_config_error_of_kind_parse(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("{")
    with pytest.raises(ConfigError) as info:
        sat_config.load_config_file(path)
    assert [p.kind for p in info.value.errors] == ["parse"]


def test_problem_to_dict_is_the_json_contract():
    problem = sat_config.problems_in({"model_type": "lm", "sample_rate": 1, "sample_size": 1, "model": {},
                                      "smaple": 1})[-1]
    assert set(problem.to_dict()) == {"path", "kind", "message", "suggestion", "line", "column", "doc", "severity"}
    assert problem.to_dict()["doc"].startswith("docs/reference.md#")


def test_training_problems_do_not_stop_the_build_but_warn(upstream_factory):
    config = load_json(REPO / "examples/autoencoder_tiny_vae.json")
    config["training"] = {"learning_rate": 1e-4, "optimizer_configs": {}, "no_such_key": 1}
    with pytest.raises(ConfigError):
        sat_config.validate_config(config)
    with pytest.warns(sat_config.TrainingProblemsWarning, match=r"\$\.training\.no_such_key") as record:
        model = sat_config.create_model_from_config(config)
    assert type(model).__name__ == "AudioAutoencoder"
    assert all(p.path.startswith("$.training") for p in record[0].message.errors)


@pytest.mark.parametrize(("parts", "text"), [
    ((), "$"),
    (("model", "encoder", "config", "channels"), "$.model.encoder.config.channels"),
    (("model", "conditioning", "configs", 0, "id"), "$.model.conditioning.configs[0].id"),
    (("training", "optimizer_configs", "my opt"), "$.training.optimizer_configs['my opt']"),
    (("$schema",), "$['$schema']"),
])
def test_json_paths(parts, text):
    assert json_path(parts) == text
