"""Rules that span the model and its training, against upstream's training factory: ARC post-training needs a
model with a dit backbone (the wrapper reads its transformer)."""

from __future__ import annotations

import copy

import pytest
from support.files import case_config, case_path, load_json

from sat_config import problems_in


def test_arc_on_an_adp_backbone_fails_building_the_wrapper_as_the_message_says(upstream_factory):
    from stable_audio_tools.training.factory import create_training_wrapper_from_config

    config = copy.deepcopy(case_config(load_json(case_path("negative", "train_arc_adp_backbone"))))
    [problem] = problems_in(config)
    assert "fails with AttributeError" in problem.message
    model = upstream_factory(config)
    with pytest.raises(AttributeError, match="transformer"):
        create_training_wrapper_from_config(config, model)
