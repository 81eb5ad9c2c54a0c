"""Each reporter on its own: the same collected results printed as text, JSON, GitHub annotations and SARIF."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from conftest import REPO

from sat_config.errors import Problem
from sat_config.reporters import REPORTERS, FileResult, Report, make_reporter, resolve_format

BASE = "https://example.org/reference.md"
SARIF_SCHEMA = REPO.parent / "shared" / "reference" / "sarif-2.1.0.json"
TYPO = Problem("$.model.latnet_dim", "unknown_key", "unknown key 'latnet_dim'", "latent_dim", ("model", "latnet_dim"),
               43, 5, "docs/reference.md#autoencodermodelconfig")
RANGE = Problem("$.sample_size", "range", "must be greater than 0, got 0", None, ("sample_size",), 3, 1,
                "docs/reference.md#samplesize")
PARSE = Problem("$", "parse", "invalid JSON: Expecting value, with a comma, a colon\nand 50% more", None, (), None)
UNCHECKED = Problem("$.model.encoder.type", "unchecked", "unknown encoder type 'fork_enc', left unchecked", None,
                    ("model", "encoder", "type"), 7, 9, None, severity="warning")


def sample(strict: bool = False) -> Report:
    return Report([FileResult("configs/a.json", [TYPO, RANGE]), FileResult("b.yaml", [PARSE]),
                   FileResult("c.json", [UNCHECKED]), FileResult("d.json", [])], skipped=2, strict=strict)


def printed(name: str, report: Report, quiet: bool = False) -> str:
    out = io.StringIO()
    REPORTERS[name](out, doc_base=BASE, quiet=quiet).report(report)
    return out.getvalue()


def test_report_validity_follows_severity_and_strict():
    assert [sample().valid(r) for r in sample().files] == [False, False, True, True]
    assert [sample(strict=True).valid(r) for r in sample().files] == [False, False, False, True]
    assert sample().summary() == "2 of 4 files valid, 3 problems, 1 warning; 2 other files skipped (not model configs)"


def test_text():
    lines = printed("text", sample()).splitlines()
    assert lines == [
        f"configs/a.json:43:5: $.model.latnet_dim: unknown key 'latnet_dim' (did you mean 'latent_dim'?) "
        f"[unknown_key] see {BASE}#autoencodermodelconfig",
        f"configs/a.json:3:1: $.sample_size: must be greater than 0, got 0 [range] see {BASE}#samplesize",
        "b.yaml: $: invalid JSON: Expecting value, with a comma, a colon", "and 50% more [parse]",
        "c.json:7:9: warning: $.model.encoder.type: unknown encoder type 'fork_enc', left unchecked [unchecked]",
        sample().summary(),
    ]
    assert printed("text", sample(), quiet=True).splitlines() == lines[:-1]


def test_json():
    report = json.loads(printed("json", sample()))
    assert [(r["file"], r["valid"], len(r["errors"]), len(r["warnings"])) for r in report] == [
        ("configs/a.json", False, 2, 0), ("b.yaml", False, 1, 0), ("c.json", True, 0, 1), ("d.json", True, 0, 0)]
    assert report[0]["errors"][0] == {
        "path": "$.model.latnet_dim", "kind": "unknown_key", "message": "unknown key 'latnet_dim'",
        "suggestion": "latent_dim", "line": 43, "column": 5, "doc": f"{BASE}#autoencodermodelconfig",
        "severity": "error"}
    assert report[2]["warnings"][0]["severity"] == "warning"
    assert [r["file"] for r in json.loads(printed("json", sample(), quiet=True))] == ["configs/a.json", "b.yaml",
                                                                                      "c.json"]


def test_github_prints_one_annotation_per_problem():
    lines = printed("github", sample()).splitlines()
    assert lines[0] == ("::error file=configs/a.json,line=43,col=5,title=sat-config unknown_key%3A $.model.latnet_dim"
                        "::$.model.latnet_dim: unknown key 'latnet_dim' (did you mean 'latent_dim'?) "
                        f"see {BASE}#autoencodermodelconfig")
    # workflow-command escaping: newlines and % in the message; no line for a problem without a position
    assert lines[2] == ("::error file=b.yaml,title=sat-config parse%3A $::$: invalid JSON: Expecting value, with a "
                        "comma, a colon%0Aand 50%25 more")
    assert lines[3].startswith("::warning file=c.json,line=7,col=9,")
    annotations = [line for line in lines if line.startswith("::")]
    assert len(annotations) == 4 and lines[-1] == sample().summary()
    assert printed("github", sample(), quiet=True).splitlines() == annotations


def _sarif_schema() -> dict:
    if not SARIF_SCHEMA.exists():
        if os.environ.get("CI"):
            pytest.fail(f"the published SARIF 2.1.0 schema is missing: {SARIF_SCHEMA}")
        pytest.skip(f"the published SARIF 2.1.0 schema is not at {SARIF_SCHEMA} (../shared/reference/)")
    return json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))


def test_sarif_is_valid_against_the_published_schema():
    from jsonschema import Draft7Validator

    schema = _sarif_schema()
    log = json.loads(printed("sarif", sample()))
    errors = sorted(Draft7Validator(schema).iter_errors(log), key=str)
    assert not errors, errors[0]
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["parse", "range", "unchecked", "unknown_key"]  # one rule per kind
    assert all(r["helpUri"].startswith(BASE) for r in rules)
    results = run["results"]
    assert len(results) == 4  # one result per problem
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("unknown_key", "error"), ("range", "error"), ("parse", "error"), ("unchecked", "warning")]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    location = results[0]["locations"][0]["physicalLocation"]
    assert location == {"artifactLocation": {"uri": "configs/a.json"}, "region": {"startLine": 43, "startColumn": 5}}
    assert results[0]["properties"]["doc"] == f"{BASE}#autoencodermodelconfig"
    assert "region" not in results[2]["locations"][0]["physicalLocation"]


def test_sarif_of_real_files_outside_the_working_directory(tmp_path):
    from jsonschema import Draft7Validator

    path = tmp_path / "x.json"
    log = json.loads(printed("sarif", Report([FileResult(str(path), [TYPO])])))
    assert log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        path.as_uri()
    assert not list(Draft7Validator(_sarif_schema()).iter_errors(log))


@pytest.mark.parametrize(("env", "expected"), [("true", "github"), ("false", "text"), (None, "text")])
def test_auto(monkeypatch, env, expected):
    if env is None:
        monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    else:
        monkeypatch.setenv("GITHUB_ACTIONS", env)
    assert resolve_format("auto") == expected
    assert type(make_reporter("auto", io.StringIO(), doc_base=BASE)) is REPORTERS[expected]


def test_relative_paths_in_sarif_are_posix(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    log = json.loads(printed("sarif", Report([FileResult(str(Path("sub") / "y.json"), [TYPO])])))
    assert log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "sub/y.json"


def test_every_kind_has_a_rule_description():
    from sat_config.errors import KINDS
    from sat_config.reporters import KIND_SUMMARIES

    assert set(KIND_SUMMARIES) == set(KINDS)
