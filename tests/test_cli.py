"""`sat-config validate` / `schema`: exit codes, text and JSON output, positions, hostile input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import EXAMPLES, REPO, load_json

from sat_config.cli import main

TYPO = "examples/autoencoder_tiny_vae.json"


def run(*args, cwd=REPO):
    """Run the real console entry point in a subprocess (no traceback may escape)."""
    result = subprocess.run([sys.executable, "-m", "sat_config.cli", *map(str, args)], cwd=cwd,
                            capture_output=True, text=True, timeout=120)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    return result


@pytest.fixture
def typo_file(tmp_path):
    text = (REPO / TYPO).read_text().replace('"latent_dim": 8,', '"latnet_dim": 8,')
    text = text.replace('"io_channels": 2', '"io_channels": "2"')
    path = tmp_path / "typo.json"
    path.write_text(text)
    return path


def test_valid_files_exit_0(capsys):
    assert main(["validate", *map(str, EXAMPLES)]) == 0
    assert f"{len(EXAMPLES)} of {len(EXAMPLES)} files valid" in capsys.readouterr().out


def test_directory_means_every_config_inside(capsys):
    assert main(["validate", str(REPO / "examples")]) == 0
    assert f"{len(EXAMPLES)} of {len(EXAMPLES)} files valid" in capsys.readouterr().out


def test_text_output_has_file_line_column_path_and_suggestion(typo_file, capsys):
    assert main(["validate", str(typo_file)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert f"{typo_file}:43:5: $.model.latnet_dim: unknown key 'latnet_dim' (did you mean 'latent_dim'?) " \
           "[unknown_key] see docs/reference.md#autoencodermodelconfig" in out
    assert f'{typo_file}:45:5: $.model.io_channels: expected integer, got string "2" [type] ' \
           "see docs/reference.md#autoencodermodelconfig" in out
    assert out[-1] == "0 of 1 file valid, 3 problems"


def test_json_output_contract(typo_file, capsys):
    assert main(["validate", "--format", "json", str(typo_file), str(EXAMPLES[0])]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [r["valid"] for r in report] == [False, True]
    assert set(report[0]) >= {"file", "valid", "errors"}
    error = next(e for e in report[0]["errors"] if e["kind"] == "unknown_key")
    assert error == {"path": "$.model.latnet_dim", "kind": "unknown_key", "message": "unknown key 'latnet_dim'",
                     "suggestion": "latent_dim", "line": 43, "column": 5,
                     "doc": "docs/reference.md#autoencodermodelconfig"}


def test_lenient_downgrades_unknown_keys_to_warnings(tmp_path, capsys):
    config = load_json(REPO / TYPO)
    config["model"]["fork_specific"] = True
    path = tmp_path / "fork.json"
    path.write_text(json.dumps(config, indent=2))
    assert main(["validate", str(path)]) == 1
    assert main(["validate", "--lenient", str(path)]) == 0
    assert "warning: " in capsys.readouterr().out


def test_yaml_is_read_with_safe_load_and_positions(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text("model_type: autoencoder\nsample_rate: 44100\nsample_size: 0\nmodel:\n  decodr: 1\n")
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}:3:1: $.sample_size: must be greater than 0, got 0 [range]" in out
    assert f"{path}:5:3: $.model.decodr: unknown key 'decodr' (did you mean 'decoder'?)" in out
    unsafe = tmp_path / "unsafe.yaml"
    unsafe.write_text("model_type: !!python/object/apply:os.system ['true']\n")
    assert main(["validate", str(unsafe)]) == 1
    assert "[parse]" in capsys.readouterr().out


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


HOSTILE = {
    "empty.json": (b"", "file is empty"),
    "blank.json": (b"  \n\t\n", "file is empty"),
    "binary.json": (bytes(range(256)) * 4, "binary"),
    "nul.json": (b'{"a": 1}\x00', "binary"),
    "deep.json": (b"[" * 100_000 + b"]" * 100_000, "nesting is deeper than 200 levels"),
    "deep_objects.json": (b'{"a":' * 300 + b"1" + b"}" * 300, "nesting is deeper than 200 levels"),
    "deep.yaml": (b"[" * 100_000 + b"]" * 100_000, "nesting is deeper than 200 levels"),
    "nan.json": (b'{"model_type": "autoencoder", "sample_rate": NaN}', "NaN is not valid JSON"),
    "infinity.json": (b'{"sample_rate": -Infinity}', "-Infinity is not valid JSON"),
    "duplicate.json": (b'{"model_type": "lm", "model_type": "autoencoder"}', "duplicate key 'model_type'"),
    "duplicate.yaml": (b"model_type: lm\nmodel_type: autoencoder\n", "duplicate key 'model_type'"),
    "truncated.json": (b'{"model_type": "autoencoder", ', "invalid JSON"),
    "bad.yaml": (b"a: [1, 2\nb: }\n", "invalid YAML"),
    "root_array.json": (b"[1, 2, 3]", "expected object, got array"),
    "root_string.json": (b'"autoencoder"', "expected object, got string"),
    "root_null.yaml": (b"~\n", "expected object, got null"),
}


@pytest.mark.parametrize("name", HOSTILE, ids=str)
def test_hostile_input_is_reported_not_raised(tmp_path, name, capsys):
    data, expected = HOSTILE[name]
    path = _write(tmp_path, name, data)
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert expected in out, out


def test_bom_is_accepted(tmp_path):
    path = _write(tmp_path, "bom.json", b"\xef\xbb\xbf" + (REPO / TYPO).read_bytes())
    assert main(["validate", str(path)]) == 0


def test_huge_file_is_refused_without_reading_it(tmp_path, capsys):
    path = tmp_path / "huge.json"
    with path.open("wb") as f:
        f.truncate(50 * 1024 * 1024)
    assert main(["validate", str(path)]) == 1
    assert "configs over 16 MiB are refused" in capsys.readouterr().out


def test_unreadable_files_exit_2(tmp_path):
    result = run("validate", tmp_path / "missing.json")
    assert result.returncode == 2 and "No such file" in result.stderr
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    result = run("validate", empty_dir)
    assert result.returncode == 2 and "holds no" in result.stderr


def test_usage_errors_exit_2():
    assert run().returncode == 2
    assert run("validate").returncode == 2
    assert run("validate", "--format", "xml", TYPO).returncode == 2


def test_unreadable_file_among_valid_ones_still_reports_the_rest(tmp_path):
    result = run("validate", EXAMPLES[0], tmp_path / "missing.json")
    assert result.returncode == 2 and "1 of 1 file valid" in result.stdout


def test_schema_command_prints_the_bundled_schema(tmp_path):
    result = run("schema")
    schema = json.loads(result.stdout)
    assert schema["title"] == "ModelConfig" and "$defs" in schema
    assert '"$ref": "#' in result.stdout and '.schema.json"' not in result.stdout
    out = tmp_path / "s.json"
    assert run("schema", "--output", out).returncode == 0
    assert json.loads(out.read_text()) == schema
    assert run("schema", "--output", tmp_path / "no" / "dir" / "s.json").returncode == 2


def test_the_users_file_is_never_modified(typo_file):
    before = typo_file.read_bytes()
    main(["validate", str(typo_file)])
    assert typo_file.read_bytes() == before
