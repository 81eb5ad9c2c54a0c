"""`sat-config fix`: renames every misspelt key and tag it is sure of, and changes nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import REPO, UPSTREAM
from fidelity.mutations import mutations
from fidelity.schema_view import SchemaView

from sat_config.cli import main
from sat_config.fix import FileChangedError, fix_text, read_for_fix, write_fix
from sat_config.loader import spans
from sat_config.validation import load_bundled_schema


def commented_yaml(config: dict) -> str:
    """``config`` as YAML with a header comment and a comment after every key: value line."""
    lines = yaml.safe_dump(config, sort_keys=False, width=2**31 - 1).splitlines()
    text = "# upstream example, as YAML\n" + "\n".join(
        f"{line}  # note {i}" if ": " in line else line for i, line in enumerate(lines)) + "\n"
    assert yaml.safe_load(text) == config
    return text


def typo_cases() -> list[tuple[str, str, tuple, str, str]]:
    """(config name, format, path of the original key or tag, original, misspelling) for every one-key typo and
    made-up tag the fidelity suite's mutation generator makes of upstream's example configs."""
    view = SchemaView(load_bundled_schema())
    cases = []
    for path in UPSTREAM:
        config = json.loads(path.read_text(encoding="utf-8"))
        for mutation in mutations(view, config, all_tags=False):
            if mutation.kind == "typo":
                parent = mutation.parts[:-1]
                original = next(k for k in _get(config, parent) if k not in _get(mutation.config, parent))
                where, new = parent + (original,), mutation.parts[-1]
            elif mutation.kind == "wrong_tag":
                where, original, new = mutation.parts, _get(config, mutation.parts), _get(mutation.config,
                                                                                           mutation.parts)
            else:
                continue
            cases += [(path.name, fmt, where, original, new) for fmt in ("json", "yaml")]
    return cases


def _get(data, parts):
    for part in parts:
        data = data[part]
    return data


def _source(name: str, fmt: str) -> str:
    text = next(p for p in UPSTREAM if p.name == name).read_text(encoding="utf-8")
    return text if fmt == "json" else commented_yaml(json.loads(text))


def _misspell(text: str, fmt: str, where: tuple, new: str, is_key: bool) -> str:
    span = spans(text, fmt == "yaml")[where]
    start, end = span.key if is_key else span.value
    written = new if fmt == "yaml" and yaml.safe_load(new) == new else json.dumps(new)
    return text[:start] + written + text[end:]


CASES = typo_cases()
# Typos whose problem carries no suggestion (sat_config.suggest: an edit budget that grows with the word, so a
# one-letter key has none): nothing is sure, and fix must leave them alone.
NO_SUGGESTION = {"training.loss_configs.time.weights.l1": "'l1' -> 'l': one letter left, no suggestion"}


@pytest.mark.upstream_configs
@pytest.mark.parametrize(("name", "fmt", "where", "original", "new"), CASES,
                         ids=[f"{c[0]}:{c[1]}:{'.'.join(map(str, c[2]))}" for c in CASES])
def test_every_typo_of_upstreams_examples_is_repaired_exactly(name, fmt, where, original, new):
    source = _source(name, fmt)
    is_key = isinstance(original, str) and where[-1] == original
    broken = _misspell(source, fmt, where, new, is_key)
    assert broken != source
    fixed = fix_text(broken, name, fmt == "yaml")
    if ".".join(map(str, where)) in NO_SUGGESTION:  # validation is not sure of the key: fix guesses nothing
        assert fixed.text == broken and fixed.renames == []
        return
    assert fixed.text == source  # byte for byte: the data equals the original, only the misspelt line changed
    assert [(r.old, r.new) for r in fixed.renames] == [(new, original)]
    again = fix_text(fixed.text, name, fmt == "yaml")
    assert again.text == fixed.text and again.renames == []  # idempotent


YAML_WITH_STYLE = """\
# Training config (comments, odd spacing, flow style and number formats must survive)
model_type:   autoencoder     # the type
sample_rate: 44_100
sample_size: 65536
model:
    encoder:
        type: 'obleck'   # quoted tag
        config: {in_channels: 2,   channels: 16, c_mults: [1, 2], strides: [2, 4], latent_dim: 16}
    decoder:
        type: oobleck
        config:
            out_channels: 2
            channels: 16
            c_mults:
            -   1
            -   2
            strides: [2, 4]
            latent_dim: 8
    bottleneck: {"tpye": vae}
    latnet_dim: 8     # misspelt
    downsampling_ratio: 8
    io_channels: 2
"""


def test_yaml_keeps_comments_spacing_and_quoting(tmp_path):
    fixed = fix_text(YAML_WITH_STYLE, "c.yaml", is_yaml=True)
    assert fixed.problems == []
    expected = YAML_WITH_STYLE.replace("'obleck'", "'oobleck'").replace('"tpye"', '"type"').replace(
        "latnet_dim: 8", "latent_dim: 8")
    assert fixed.text == expected
    assert sorted(r.describe() for r in fixed.renames) == [
        "line 19: key 'tpye' -> 'type'", "line 20: key 'latnet_dim' -> 'latent_dim'",
        "line 7: tag 'obleck' -> 'oobleck'"]


def test_json_keeps_formatting_and_crlf():
    text = (REPO / "examples" / "autoencoder_tiny_vae.json").read_text().replace("\n", "\r\n")
    text = text.replace('"latent_dim": 8,', '"latnet_dim"  :   8.0e0,')  # also a problem fix must not touch
    fixed = fix_text(text, "c.json")
    assert fixed.text == text.replace('"latnet_dim"', '"latent_dim"')
    assert [p.kind for p in fixed.problems] == ["type"]  # 8.0e0 is not an integer: reported, not "fixed"


NOT_SURE = {
    "no suggestion": ('"model": {', '"model": {"zzzzqqq": 1, '),
    "the right key is already there": ('"latent_dim": 8,', '"latent_dim": 8, "latnet_dim": 8,'),
    "a value, not a key or a tag": ('"io_channels": 2', '"io_channels": "2"'),
}


@pytest.mark.parametrize("case", NOT_SURE)
def test_only_sure_edits(case):
    old, new = NOT_SURE[case]
    text = (REPO / "examples" / "autoencoder_tiny_vae.json").read_text().replace(old, new, 1)
    fixed = fix_text(text, "c.json")
    assert fixed.text == text and fixed.renames == [] and fixed.problems


@pytest.fixture
def typo_file(tmp_path):
    path = tmp_path / "model_config.json"
    path.write_text((REPO / "examples" / "autoencoder_tiny_vae.json").read_text().replace(
        '"latent_dim": 8,', '"latnet_dim": 8,'))
    return path


def test_cli_fixes_in_place_and_exits_0(typo_file, capsys):
    before = typo_file.read_text()
    mode = typo_file.stat().st_mode
    assert main(["fix", str(typo_file)]) == 0
    assert typo_file.read_text() == before.replace("latnet_dim", "latent_dim")
    assert typo_file.stat().st_mode == mode
    captured = capsys.readouterr()
    assert f"{typo_file}: fixed line 43: key 'latnet_dim' -> 'latent_dim'" in captured.err
    assert captured.out.splitlines()[-1].startswith("1 of 1 file valid")
    assert [p.name for p in typo_file.parent.iterdir()] == [typo_file.name]  # no temporary file left
    assert main(["fix", str(typo_file)]) == 0 and typo_file.read_text() == before.replace("latnet_dim", "latent_dim")


def test_diff_prints_a_unified_diff_and_writes_nothing(typo_file, capsys):
    before = typo_file.read_bytes()
    assert main(["fix", "--diff", str(typo_file)]) == 0
    out = capsys.readouterr().out
    assert f"--- a/{typo_file}\n+++ b/{typo_file}\n" in out
    assert '-    "latnet_dim": 8,\n+    "latent_dim": 8,\n' in out
    assert typo_file.read_bytes() == before


def test_remaining_problems_are_listed_and_exit_1(typo_file, capsys):
    typo_file.write_text(typo_file.read_text().replace('"io_channels": 2', '"io_channels": "2"'))
    assert main(["fix", "--format", "json", str(typo_file)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [e["kind"] for e in report[0]["errors"]] == ["type"]
    assert "latent_dim" in typo_file.read_text()


def test_a_file_changed_since_it_was_read_is_not_written(typo_file):
    raw, _, fix = read_for_fix(typo_file)
    typo_file.write_text(typo_file.read_text() + "\n")  # someone else's edit
    changed = typo_file.read_bytes()
    with pytest.raises(FileChangedError):
        write_fix(typo_file, raw, fix)
    assert typo_file.read_bytes() == changed
    assert [p.name for p in typo_file.parent.iterdir()] == [typo_file.name]


def test_bom_is_kept(tmp_path):
    path = tmp_path / "bom.json"
    text = (REPO / "examples" / "autoencoder_tiny_vae.json").read_text()
    path.write_bytes(b"\xef\xbb\xbf" + text.replace('"latent_dim": 8,', '"latnet_dim": 8,').encode())
    assert main(["fix", "-q", str(path)]) == 0
    assert path.read_bytes() == b"\xef\xbb\xbf" + text.encode()


def test_files_that_do_not_parse_are_reported_untouched(tmp_path, capsys):
    path = tmp_path / "broken.json"
    path.write_text('{"model_type": "autoencoder",')
    assert main(["fix", str(path)]) == 1
    assert path.read_text() == '{"model_type": "autoencoder",'
    assert "[parse]" in capsys.readouterr().out


def test_missing_file_is_a_usage_error(tmp_path):
    assert main(["fix", str(tmp_path / "missing.json")]) == 2
    assert not Path(tmp_path / "missing.json").exists()


def test_a_typo_inside_a_yaml_anchor_is_fixed_once_for_every_alias():
    text = ("model_type: autoencoder\nsample_rate: 44100\nsample_size: 65536\nmodel:\n"
            "  encoder: &coder\n    type: oobleck\n    confg: {in_channels: 2, latent_dim: 8}\n"
            "  decoder: *coder\n")
    fixed = fix_text(text, "c.yaml", is_yaml=True)
    assert fixed.text == text.replace("confg", "config")
    assert [r.describe() for r in fixed.renames] == ["line 7: key 'confg' -> 'config'"]
