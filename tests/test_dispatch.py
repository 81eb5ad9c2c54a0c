"""Drop-in equivalence with upstream's factory, and resolution of constructors (hyperencoder)."""

from __future__ import annotations

import pytest
from support.building import build_seeded
from support.files import EXAMPLES, UPSTREAM, load_json, upstream_params

import sat_config
from sat_config import FactoryUnavailableError

OFFLINE_BUILDABLE = upstream_params([p for p in UPSTREAM if p.name.startswith("autoencoders--")] + [
    p for p in EXAMPLES if load_json(p)["model_type"] != "hyperencoder"
])


@pytest.mark.parametrize("path", OFFLINE_BUILDABLE, ids=lambda p: p.stem)
def test_same_state_dict_as_upstream(path, upstream_factory):
    import torch

    config = load_json(path)
    config.pop("$schema", None)
    ours = build_seeded(sat_config.create_model_from_config, config)
    theirs = build_seeded(upstream_factory, config)
    assert type(ours) is type(theirs)
    a, b = ours.state_dict(), theirs.state_dict()
    assert list(a) == list(b)
    for key in a:
        assert a[key].shape == b[key].shape and torch.equal(a[key], b[key]), key


def test_dispatch_hands_upstream_a_copy_without_schema_key():
    seen = {}

    def factory(config):
        seen.update(config)
        config["model"].clear()  # upstream mutates dicts in place (seanet reverses ratios)
        return "built"

    config = load_json(next(p for p in EXAMPLES if "hyperencoder" in p.name))
    sat_config.register_model_factory("hyperencoder", factory)
    try:
        assert sat_config.create_model_from_config(config) == "built"
    finally:
        sat_config.unregister_model_factory("hyperencoder")
    assert "$schema" not in seen and seen["model_type"] == "hyperencoder"
    assert config["model"], "the caller's dict must not be touched"


def test_hyperencoder_without_a_constructor_says_how_to_register_one():
    config = load_json(next(p for p in EXAMPLES if "hyperencoder" in p.name))
    with pytest.raises(FactoryUnavailableError, match="create_hyperencoder_from_config.*register_model_factory"):
        sat_config.create_model_from_config(config)


def test_registering_for_an_unknown_model_type_is_refused():
    with pytest.raises(ValueError, match="unknown model_type"):
        sat_config.register_model_factory("vocoder", lambda c: c)


def test_entry_point_constructors_are_found(monkeypatch):
    from importlib.metadata import EntryPoint

    from sat_config import factories

    entry = EntryPoint(name="hyperencoder", value="json:loads", group=factories.ENTRY_POINT_GROUP)
    monkeypatch.setattr(factories, "entry_points", lambda group: [entry] if group == entry.group else [])
    import json

    assert factories.resolve_factory("hyperencoder") is json.loads


def test_create_model_from_config_path(tmp_path, upstream_factory):
    path = next(p for p in EXAMPLES if "diffusion_uncond" in p.name)
    model = sat_config.create_model_from_config_path(path)
    assert type(model).__name__ == "DiffusionModelWrapper"
