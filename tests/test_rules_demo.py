"""The demo_cond rule against upstream: the conditioners of the built model (MultiConditioner.forward, what the
first demo calls with demo_cond) fail with the exception each message names, and take a valid demo_cond."""

from __future__ import annotations

import pytest
from support.files import case_config, case_path, load_json

from sat_config import problems_in


@pytest.mark.parametrize(("stem", "error", "match"), [
    ("train_demo_cond_misspelt_id", ValueError, "Conditioner key seconds_total not found in batch metadata"),
    ("train_demo_cond_missing_id", ValueError, "Conditioner key seconds_total not found in batch metadata"),
    ("train_demo_cond_wrong_type", ValueError, "could not convert string to float"),
])
def test_demo_cond_fails_upstream_as_its_message_says(stem, error, match, upstream_factory):
    config = case_config(load_json(case_path("negative", stem)))
    [problem] = problems_in(config)
    assert f"first demo fails ({error.__name__}" in problem.message
    model = upstream_factory(config)
    with pytest.raises(error, match=match):
        model.conditioner(config["training"]["demo"]["demo_cond"], "cpu")


def test_a_valid_demo_cond_conditions_the_model(upstream_factory):
    config = case_config(load_json(case_path("negative", "train_demo_cond_misspelt_id")))
    demo_cond = [{"seconds_start": 0, "seconds_total": 10}, {"seconds_start": "5", "seconds_total": [20]}]
    config["training"]["demo"]["demo_cond"] = demo_cond
    assert problems_in(config) == []
    assert set(upstream_factory(config).conditioner(demo_cond, "cpu")) == {"seconds_start", "seconds_total"}
