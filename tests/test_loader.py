"""sat_config.loader: where each value sits in the source text, what counts as a model config, bounded YAML."""

from __future__ import annotations

import pytest

from sat_config.loader import MAX_NODES, parse_document, spans

JSON = '{\r\n  "a\\u0062": {"b": "x", "l": [1, {"q": 2}, [3]]},\r\n  "\\u00e9": 1.50e0\r\n}'
YAML = """\
# comment
plain: value   # trailing
'single': 'quoted'
"double": "quoted"
flow: {k: [1, 2]}
block:
  - item
  - {x: 1}
"""


def _texts(text: str, is_yaml: bool) -> dict:
    return {parts: (text[slice(*s.key)] if s.key else None, text[slice(*s.value)])
            for parts, s in spans(text, is_yaml).items()}


def test_json_spans_use_decoded_keys_and_character_offsets():
    found = _texts(JSON, False)
    assert found[("ab",)] == ('"a\\u0062"', '{"b": "x", "l": [1, {"q": 2}, [3]]}')
    assert found[("ab", "b")] == ('"b"', '"x"')
    assert found[("ab", "l", 1, "q")] == ('"q"', "2")
    assert found[("ab", "l", 2, 0)] == (None, "3")
    assert found[("é",)] == ('"\\u00e9"', "1.50e0")


def test_yaml_spans_and_quoting_styles():
    found = _texts(YAML, True)
    assert found[("plain",)] == ("plain", "value")
    assert found[("single",)] == ("'single'", "'quoted'")
    assert found[("double",)] == ('"double"', '"quoted"')
    assert found[("flow", "k", 1)] == (None, "2")
    assert found[("block", 1, "x")] == ("x", "1")
    styles = spans(YAML, True)
    assert (styles[("single",)].key_style, styles[("double",)].value_style) == ("'", '"')


@pytest.mark.parametrize(("text", "is_yaml", "expected"), [
    ('{"model_type": "lm"}', False, True),
    ('{"model": {}}', False, True),
    ('{"dataset_type": "audio_dir", "datasets": []}', False, False),
    ('{"name": "x", "version": "1.0.0"}', False, False),
    ("[1, 2]", False, False),
    ('{"model_type": "autoencoder",', False, True),  # does not parse, but names model_type: checked
    ('{"compilerOptions": {} // a comment', False, False),
    ("model_type: lm\n", True, True),
])
def test_looks_like_model_config(text, is_yaml, expected):
    assert parse_document(text.encode(), "f", is_yaml).looks_like_model_config is expected


def test_shared_aliases_within_the_bound_are_read():
    text = "base: &b {x: 1, y: [1, 2, 3]}\n" + "".join(f"c{i}: *b\n" for i in range(100))
    doc = parse_document(text.encode(), "f.yaml", True)
    assert doc.problems == [] and doc.data["c99"] == {"x": 1, "y": [1, 2, 3]}


def test_alias_bomb_is_refused_before_it_is_expanded():
    levels = "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 12))
    # 10^12 values if expanded: reading it returns at all only because the size is bounded on the node graph
    doc = parse_document(("l0: &l0 [a, b, c, d, e, f, g, h, i, j]\n" + levels).encode(), "f.yaml", True)
    [problem] = doc.problems
    assert problem.kind == "parse" and f"more than {MAX_NODES:,} values" in problem.message
    assert doc.data is None
