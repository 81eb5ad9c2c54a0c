"""Tooling with extensions: ``python -m generator --extension FILE --out DIR`` (typed classes, editor schema, docs)
and the merged editor schema in VS Code's JSON language service."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from typing import Any

import editor_engine
import pytest
from editor_engine import editor_fixture  # noqa: F401  (the `editor` fixture)
from pydantic import ValidationError
from support.files import REPO

from generator.__main__ import main as generator_main
from sat_config.extensions import load_extension, merge
from sat_config.validation import default_judging, find_problems, load_bundled_schema

EXTENSIONS = [REPO / "examples" / "extensions" / "sekstini-stable-audio-tools.json",
              REPO / "examples" / "extensions" / "ceaglex-stable-v2a.json",
              REPO / "tests" / "ext_pkg" / "sat_toy_fork" / "extension.json"]


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("extended")
    argv = [arg for path in EXTENSIONS for arg in ("--extension", str(path))] + ["--out", str(directory)]
    assert generator_main(argv) == 0
    return directory


@pytest.fixture(scope="module")
def models(out: Path) -> Any:
    spec = importlib.util.spec_from_file_location("extended_models", out / "models.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def toy() -> dict[str, Any]:
    return {"model_type": "toy_mlp", "sample_rate": 44100, "sample_size": 4096, "model": {"hidden_dim": 16}}


def mamba_lm() -> dict[str, Any]:
    return {"model_type": "lm", "sample_rate": 24000, "sample_size": 48000,
            "model": {"pretransform": {"type": "vocos_pretrained", "config": {"bandwidth": 3.0}},
                      "lm": {"type": "mamba", "codebook_pattern": "valle",
                             "config": {"embed_dim": 64, "n_layer": 2, "fused_add_norm": True}}}}


def test_the_generator_writes_classes_editor_schema_and_docs_for_the_merged_schema(out):
    assert sorted(p.name for p in out.iterdir()) == ["models.py", "reference.md", "schema.json"]
    docs = (out / "reference.md").read_text(encoding="utf-8")
    for text in ("### VocosPretrainedPretransformConfig", '`"mamba"`', '`"video_feature"`', '`"toy_mlp"`',
                 "## Extension rules", "sat_toy_fork:create_toy_mlp_from_config",
                 "ceaglex.rotary_cond_emb_needs_context"):
        assert text in docs, text
    assert "training.lm.demo_cond_length" not in docs  # disabled by the sekstini extension


def test_the_generated_editor_schema_is_the_runtime_merge(out):
    built = json.loads((out / "schema.json").read_text(encoding="utf-8"))
    runtime = merge(load_bundled_schema(), [load_extension(p) for p in EXTENSIONS])
    built.pop("$comment"), runtime.pop("$comment")
    assert built == runtime


def _unwrapped(value: Any) -> Any:
    return getattr(value, "root", value)  # a union is a field type or a root model, as the generator emits it


def test_typed_classes_cover_the_extension_types(models):
    assert type(models.ModelConfig.model_validate(toy()).root).__name__ == "ToyMlpConfig"
    config = models.ModelConfig.model_validate(mamba_lm()).root
    assert type(_unwrapped(config.model.lm)).__name__ == "MambaLmConfig"
    assert type(_unwrapped(config.model.pretransform)).__name__ == "VocosPretrainedPretransformConfig"
    with pytest.raises(ValidationError, match="hiden_dim"):
        models.ModelConfig.model_validate(dict(toy(), model={"hidden_dim": 16, "hiden_dim": 1}))
    with pytest.raises(ValidationError):
        models.ModelConfig.model_validate(dict(toy(), model_type="toy_mpl"))


def test_a_broken_extension_makes_the_generator_exit_2_with_the_reason(tmp_path, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"name": "broken", "keys": {"DiTConfg": {"x": {"type": "integer"}}}}))
    assert generator_main(["--extension", str(broken), "--out", str(tmp_path / "out")]) == 2
    assert "did you mean 'DiTConfig'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        generator_main(["--extension", str(broken)])  # --out is required


@pytest.fixture(scope="module")
def editor_schema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("schema") / "sat-config-extended.schema.json"
    merged = merge(load_bundled_schema(), [load_extension(p) for p in EXTENSIONS])
    path.write_text(json.dumps(merged, indent=2), encoding="utf-8")
    return path


def test_vscode_accepts_extension_configs_and_flags_their_typos(editor, editor_schema, tmp_path, monkeypatch):
    monkeypatch.setattr(editor_engine, "SCHEMA", editor_schema)
    typo = dict(mamba_lm())
    typo["model"]["lm"]["config"]["n_layers"] = 2
    files = {name: editor_engine.write_config(tmp_path, name, config)
             for name, config in {"toy": toy(), "mamba": mamba_lm(), "typo": typo}.items()}
    results = editor.diagnostics(files.values())
    assert results[str(files["toy"])]["schemas"] == [editor_schema.as_uri()]
    assert results[str(files["toy"])]["diagnostics"] == []
    assert results[str(files["mamba"])]["diagnostics"] == []
    flagged = [d["path"] for d in results[str(files["typo"])]["diagnostics"] if d["severity"] == "error"]
    assert ["model", "lm", "config", "n_layers"] in flagged


def test_vscode_completes_extension_tags_with_what_they_build(editor, editor_schema, tmp_path, monkeypatch):
    monkeypatch.setattr(editor_engine, "SCHEMA", editor_schema)
    path = tmp_path / "model_configs" / "new.json"
    path.parent.mkdir()
    text = '{\n  "model_type": \n}\n'
    path.write_text(text)
    offset = text.index('"model_type": ') + len('"model_type": ')
    request = {"file": path, "line": 1, "character": offset - (text.rfind("\n", 0, offset) + 1)}
    items = editor.run(complete=[request])["completions"][0]["items"]
    offered = {item["label"].strip('"'): item.get("documentation", "") for item in items}
    assert "toy_mlp" in offered and "A toy frame-wise MLP" in str(offered["toy_mlp"])
    assert "diffusion_cond" in offered


def test_vscode_checks_extension_files_against_the_meta_schema(editor, tmp_path):
    meta = REPO / "sat_config" / "extension.schema.json"
    broken = json.loads(EXTENSIONS[0].read_text(encoding="utf-8"))
    broken["$schema"] = meta.as_uri()
    broken["enums"]["ContinuousTransformerLmConfig.codebook_pattern"][0].pop("description")
    broken_path = tmp_path / "broken-extension.json"
    broken_path.write_text(json.dumps(broken, indent=2), encoding="utf-8")
    results = editor.diagnostics([*EXTENSIONS, broken_path])
    for path in EXTENSIONS:
        assert results[str(path)]["schemas"] == [meta.as_uri()], path
        assert results[str(path)]["diagnostics"] == [], path
    flagged = [d["path"] for d in results[str(broken_path)]["diagnostics"] if d["severity"] == "error"]
    assert ["enums", "ContinuousTransformerLmConfig.codebook_pattern", 0] in flagged, flagged


def test_the_worked_example_of_the_docs_merges_and_catches_the_typos_it_shows(tmp_path):
    text = (REPO / "docs" / "extensions.md").read_text(encoding="utf-8")
    [example] = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", text, re.S) if '"name": "my-fork"' in b]
    path = tmp_path / "my-fork.json"
    path.write_text(json.dumps(example), encoding="utf-8")
    merged = merge(load_bundled_schema(), [load_extension(path)])
    config = {"model_type": "diffusion_cond", "sample_rate": 44100, "sample_size": 65536, "audio_channels": 2,
              "model": {"io_channels": 2,
                        "conditioning": {"cond_dim": 64, "configs": [
                            {"id": "features", "type": "mlp_projecton", "config": {"input_dim": 32}}]},
                        "diffusion": {"type": "dit", "cross_attention_cond_ids": ["features"],
                                      "config": {"io_channels": 2, "embed_dim": 64, "depth": 1, "num_heads": 2,
                                                 "cond_token_dim": 64, "gatd": True}}}}
    found = {(p.path, p.suggestion) for p in find_problems(config, judging=default_judging()._replace(schema=merged))}
    assert found == {("$.model.conditioning.configs[0].type", "mlp_projection"),
                     ("$.model.diffusion.config.gatd", "gated")}
