"""docs/reference.md: generated from the schemas, complete, fresh, and the target of every problem's link."""

from __future__ import annotations

import re

import pytest
from support.edits import apply_ops
from support.files import EXAMPLES, REPO, case_config, case_files, load_json

from generator.editor import schema_nodes
from generator.emit import render_docs
from sat_config import problems_in
from sat_config.cli import main
from sat_config.reference import DOCS_PAGE, doc_base, doc_url

DOC = REPO / DOCS_PAGE
TEXT = DOC.read_text(encoding="utf-8")
BUNDLE = load_json(REPO / "generated" / "schema.json")
HEADINGS = {m.group(1): m.group(0) for m in re.finditer(r"^#{2,3} (.+)$", TEXT, re.M)}
ANCHORS = {re.sub(r"[^a-z0-9_\- ]", "", h.lower()).replace(" ", "-") for h in HEADINGS}


def section(name: str) -> str:
    """The text of one schema's section."""
    start = TEXT.index(f"\n### {name}\n")
    end = TEXT.find("\n### ", start + 1)
    return TEXT[start:end if end != -1 else None]


def test_docs_are_fresh():
    assert render_docs(REPO / "schemas") == {"reference.md": TEXT}


def test_every_schema_has_a_section_listing_every_key():
    names = [BUNDLE["title"], *BUNDLE["$defs"]]
    for name in names:
        assert name in HEADINGS, name
        schema = BUNDLE if name == BUNDLE["title"] else BUNDLE["$defs"][name]
        text = section(name)
        for key, prop in schema.get("properties", {}).items():
            row = next((line for line in text.splitlines() if line.startswith(f"| `{key}` |")), None)
            assert row, f"{name}: no row for {key}"
            if "default" in prop:
                assert row.split(" | ")[2] != "—", f"{name}.{key}: default not shown"


def test_every_model_type_rule_and_unsupported_type_is_listed():
    for branch in BUNDLE["oneOf"]:
        target = BUNDLE["$defs"][branch["$ref"].rsplit("/", 1)[1]]
        assert f"| `\"{target['properties']['model_type']['const']}\"` |" in TEXT.split("## Unsupported types")[0]
    for _, node in schema_nodes(BUNDLE):
        for rule in node.get("x-rules", []):
            assert f"`{rule}`" in TEXT.split("## Schemas")[0]
        if "x-unsupported" in node:
            assert node["x-unsupported"]["reason"].split()[0] in TEXT.split("## Schemas")[0]


def test_bounds_and_defaults_are_shown():
    row = next(line for line in section("AutoencoderConfig").splitlines() if line.startswith("| `audio_channels` |"))
    assert row == ("| `audio_channels` | [AudioChannels](#audiochannels) | `2` | ≥ 1; ≤ 16 | Number of audio channels "
                   "the dataset yields (1 mono, 2 stereo). No model builder reads it. |")


def test_every_internal_link_resolves():
    links = set(re.findall(r"\]\(#([^)]+)\)", TEXT))
    assert links and links <= ANCHORS, links - ANCHORS


@pytest.mark.parametrize("path", case_files("negative"), ids=lambda p: p.stem)
def test_every_problem_links_to_an_existing_section(path):
    problems = problems_in(case_config(load_json(path)))
    assert problems
    for problem in problems:
        page, _, anchor = (problem.doc or "").partition("#")
        assert page == DOCS_PAGE and anchor in ANCHORS, problem
        assert problem.render().endswith(f" see {doc_url(problem.doc, doc_base())}")


@pytest.mark.parametrize(("edit", "anchor"), [
    ({"set": {"/model/latnet_dim": 8}}, "autoencodermodelconfig"),       # typo: the object that has the key
    ({"delete": ["/model/io_channels"]}, "autoencodermodelconfig"),      # missing: the object that needs it
    ({"set": {"/sample_rate": 0}}, "samplerate"),                        # bound: the key's own schema
    ({"set": {"/model_type": "autoencodr"}}, "modelconfig"),             # tag: the union listing the tags
    ({"set": {"/model/bottleneck": 3}}, "autoencodermodelconfig"),       # type: the key's row
    ({"set": {"/model/bottleneck/type": "vea"}}, "bottleneckconfig"),   # tag: the union listing the tags
    ({"set": {"/model/encoder/config/chanels": 16}}, "oobleckencoderparams"),
    # a cross-field rule: the schema that declares it, not the one holding the blamed key
    ({"set": {"/model/decoder/config/latent_dim": 9}}, "autoencodermodelconfig"),
])
def test_problem_links_to_the_section_of_the_failing_key(edit, anchor):
    problems = problems_in(apply_ops(load_json(EXAMPLES[0]), edit))
    assert [p.doc for p in problems] == [f"{DOCS_PAGE}#{anchor}"]


def test_cli_lines_end_with_the_link(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(EXAMPLES[0].read_text().replace('"sample_rate": 44100', '"sample_rate": -1'))
    assert main(["validate", str(bad)]) == 1
    line = capsys.readouterr().out.splitlines()[0]
    assert line.endswith(f"[range] see {doc_base()}#samplerate"), line


def test_check_gen_covers_the_docs(tmp_path, monkeypatch, capsys):
    import generator.emit
    from generator.__main__ import main as generator_main

    committed = {p.name: p.read_text(encoding="utf-8") for p in (REPO / "generated").iterdir() if p.is_file()}
    monkeypatch.setattr(generator.emit, "render_files", lambda schema_dir: committed)  # generated/: not under test
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "reference.md").write_text(TEXT, encoding="utf-8")
    (docs / "notes.md").write_text("Hand-written pages may sit beside the generated ones.\n", encoding="utf-8")
    assert generator_main(["--check", "--docs", str(docs)]) == 0
    (docs / "reference.md").write_text(TEXT.replace("Examples:", "For example:"), encoding="utf-8")
    assert generator_main(["--check", "--docs", str(docs)]) == 1
    assert "docs/differs: reference.md" in capsys.readouterr().err


def test_enum_values_are_explained_where_the_schemas_describe_them():
    described = [node for _, node in schema_nodes(BUNDLE) if "x-enumDescriptions" in node]
    assert described
    for node in described:
        for text in node["x-enumDescriptions"].values():
            assert text.rstrip(".") in TEXT, text
