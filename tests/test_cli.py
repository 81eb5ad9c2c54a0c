"""`sat-config validate` / `schema`: exit codes, text and JSON output, positions, hostile input."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from conftest import EXAMPLES, REPO, case_config, case_files, load_json

from sat_config.cli import main
from sat_config.reference import DEFAULT_DOC_BASE

TYPO = "examples/autoencoder_tiny_vae.json"


def summary(line: str) -> str:
    """A summary line without what it was judged against (tests/test_targets.py covers that part)."""
    return re.sub(r" \(judged against .*\)$", "", line)


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


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch):
    """Results must not depend on the machine: not inside GitHub Actions, no doc base override."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("SAT_CONFIG_DOC_BASE", raising=False)


def test_text_output_has_file_line_column_path_and_suggestion(typo_file, capsys):
    assert main(["validate", str(typo_file)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert f"{typo_file}:43:5: $.model.latnet_dim: unknown key 'latnet_dim' (did you mean 'latent_dim'?) " \
           f"[unknown_key] see {DEFAULT_DOC_BASE}#autoencodermodelconfig" in out
    assert f'{typo_file}:45:5: $.model.io_channels: expected integer, got string "2" [type] ' \
           f"see {DEFAULT_DOC_BASE}#autoencodermodelconfig" in out
    assert summary(out[-1]) == "0 of 1 file valid, 2 problems"  # the typo of a required key is one problem


@pytest.mark.parametrize("how", ["option", "environment"])
def test_doc_links_point_at_a_configurable_base(typo_file, capsys, monkeypatch, how):
    base = "file:///usr/share/doc/sat-config/reference.html"
    args = ["validate", "--format", "json", str(typo_file)]
    if how == "option":
        args[1:1] = ["--doc-base", base]
    else:
        monkeypatch.setenv("SAT_CONFIG_DOC_BASE", base)
    main(args)
    docs = {e["doc"] for e in json.loads(capsys.readouterr().out)[0]["errors"]}
    assert docs == {f"{base}#autoencodermodelconfig"}


def test_the_default_doc_links_name_sections_that_exist(tmp_path):
    anchors = {"#" + line.lstrip("#").strip().lower() for line in (REPO / "docs" / "reference.md").read_text()
               .splitlines() if line.startswith("### ")}
    for case in case_files("negative"):
        (tmp_path / case.name).write_text(json.dumps(case_config(load_json(case))))
    result = run("validate", "--format", "json", tmp_path)
    links = {e["doc"] for r in json.loads(result.stdout) for e in r["errors"] if e["doc"]}
    assert links and all(link.startswith(DEFAULT_DOC_BASE + "#") for link in links)
    assert {link[len(DEFAULT_DOC_BASE):] for link in links} <= anchors


def test_json_output_contract(typo_file, capsys):
    assert main(["validate", "--format", "json", str(typo_file), str(EXAMPLES[0])]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [r["valid"] for r in report] == [False, True]
    assert set(report[0]) >= {"file", "valid", "errors"}
    error = next(e for e in report[0]["errors"] if e["kind"] == "unknown_key")
    assert error == {"path": "$.model.latnet_dim", "kind": "unknown_key", "message": "unknown key 'latnet_dim'",
                     "suggestion": "latent_dim", "line": 43, "column": 5, "severity": "error",
                     "doc": f"{DEFAULT_DOC_BASE}#autoencodermodelconfig"}


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
    "long_int.json": (b'{"model_type": "autoencoder", "sample_rate": ' + b"7" * 5000 + b"}",
                      "1:46: $: an integer with 5,000 digits (more than 4,300) cannot be read"),
    "long_int.yaml": (b"model_type: autoencoder\nsample_rate: " + b"7" * 5000 + b"\n",
                      "2:14: $: an integer with 5,000 digits (more than 4,300) cannot be read"),
    "infinite.json": (b'{"sample_rate": 1e999}', "number 1e999 is too large"),
    "billion_laughs.yaml": (b"a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + b"".join(
        b"a%d: &a%d [%s]\n" % (i, i, b", ".join([b"*a%d" % (i - 1)] * 10)) for i in range(1, 10)),
        "aliases expand this document to more than 1,000,000 values"),
    "recursive.yaml": (b"model: &m\n  inner: *m\n", "an alias refers to a node that contains it"),
}


@pytest.mark.parametrize("name", HOSTILE, ids=str)
def test_hostile_input_is_reported_not_raised(tmp_path, name, capsys):
    data, expected = HOSTILE[name]
    path = _write(tmp_path, name, data)
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert expected in out, out


def test_billion_laughs_is_refused_quickly(tmp_path):
    path = _write(tmp_path, "laughs.yaml", HOSTILE["billion_laughs.yaml"][0])
    result = run("validate", path)  # a billion values if expanded: it must be refused, not run until killed
    assert result.returncode == 1 and "billion laughs" in result.stdout


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


def test_directory_walk_checks_model_configs_and_counts_the_rest(tmp_path, capsys):
    (tmp_path / "model_config.json").write_text((REPO / TYPO).read_text())
    (tmp_path / "dataset.json").write_text('{"dataset_type": "audio_dir", "datasets": []}')
    (tmp_path / "package.json").write_text('{"name": "x", "version": "1.0.0"}')
    (tmp_path / "broken_model.json").write_text('{"model_type": "autoencoder",')  # names model_type: checked
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "model.json").write_text("{}")  # hidden folders are not walked
    assert main(["validate", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "broken_model.json" in out and "dataset.json" not in out and "package.json" not in out
    assert summary(out.splitlines()[-1]) == \
        "1 of 2 files valid, 1 problem; 2 other files skipped (not model configs)"
    assert main(["validate", "--format", "json", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert len(json.loads(captured.out)) == 2 and "2 other files skipped (not model configs)" in captured.err
    assert main(["validate", str(tmp_path / "dataset.json")]) == 1  # named explicitly: always checked
    assert "$.model_type" in capsys.readouterr().out


def test_version_names_the_target():
    result = run("--version")
    assert result.returncode == 0
    assert re.fullmatch(r"sat-config \S+ \(judges configs for stable-audio-tools 0\.0\.19 from the package index: "
                        r"sat-0\.0\.19 \(detected\), torch \S+ \(detected\); targets: sat-0\.0\.19, sat-main\)\n",
                        result.stdout)


def _warned(tmp_path):
    config = load_json(REPO / TYPO)
    config["model"]["fork_specific"] = True
    path = tmp_path / "fork.json"
    path.write_text(json.dumps(config, indent=2))
    return path


@pytest.mark.parametrize(("flags", "code"), [([], 0), (["--strict"], 1)])
def test_warnings_alone_pass_unless_strict(tmp_path, capsys, flags, code):
    path = _warned(tmp_path)
    assert main(["validate", "--lenient", *flags, str(path)]) == code
    out = capsys.readouterr().out
    assert f"{path}:" in out and ": warning: $.model.fork_specific" in out
    assert summary(out.splitlines()[-1]) == f"{1 - code} of 1 file valid, 1 warning"


def test_quiet_prints_problems_only(tmp_path, typo_file, capsys):
    assert main(["validate", "--quiet", str(typo_file), *map(str, EXAMPLES)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all(line.startswith(str(typo_file)) for line in lines)
    assert main(["validate", "-q", *map(str, EXAMPLES)]) == 0
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(("actions", "first"), [("true", "::error file="), ("", str)])
def test_auto_format_is_github_inside_actions(typo_file, capsys, monkeypatch, actions, first):
    monkeypatch.setenv("GITHUB_ACTIONS", actions)
    main(["validate", str(typo_file)])
    expected = first if isinstance(first, str) else str(typo_file)
    assert capsys.readouterr().out.startswith(expected)


def test_build_hides_third_party_noise_unless_verbose():
    quiet = run("build", EXAMPLES[0])
    assert quiet.returncode == 0 and "built" in quiet.stdout
    assert quiet.stderr == ""
    verbose = run("build", "--verbose", EXAMPLES[0])
    assert verbose.returncode == 0 and "flash_attn" in verbose.stderr


@pytest.mark.parametrize("fmt", ["github", "sarif"])
def test_ci_formats_give_one_entry_per_problem(typo_file, capsys, fmt):
    assert main(["validate", "--format", "json", str(typo_file)]) == 1
    count = len(json.loads(capsys.readouterr().out)[0]["errors"])
    assert main(["validate", "--format", fmt, str(typo_file)]) == 1
    out = capsys.readouterr().out
    entries = [line for line in out.splitlines() if line.startswith("::error ")] if fmt == "github" else \
        json.loads(out)["runs"][0]["results"]
    assert len(entries) == count == 2


def test_build_of_a_directory_builds_its_model_configs_and_skips_the_rest(tmp_path, capsys, upstream_factory):
    """What `make run` does with examples/ (which also holds extension files): not a model config, not built."""
    (tmp_path / "model.json").write_text((REPO / "examples" / "autoencoder_tiny_vae.json").read_text())
    (tmp_path / "package.json").write_text('{"name": "not-a-config"}')
    assert main(["build", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "model.json: built AudioAutoencoder" in captured.out and "package.json" not in captured.out
    assert "1 other file skipped (not model configs)" in captured.err
