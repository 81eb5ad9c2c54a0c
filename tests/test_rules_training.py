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


@pytest.mark.parametrize(("in_channels", "fails"), [(None, True), (2, False)])
def test_oobleck_discriminator_channels_fail_the_first_step_as_the_message_says(in_channels, fails, upstream_factory):
    import torch
    from stable_audio_tools.training.factory import create_training_wrapper_from_config

    config = copy.deepcopy(case_config(load_json(case_path("negative", "train_ae_oobleck_discriminator_channels"))))
    if in_channels is not None:
        config["training"]["loss_configs"]["discriminator"]["config"]["in_channels"] = in_channels
    problems = problems_in(config)
    assert bool(problems) == fails and all("fails with RuntimeError" in p.message for p in problems)
    wrapper = create_training_wrapper_from_config(config, upstream_factory(config))
    audio = torch.randn(1, config["model"]["io_channels"], 4096)
    if fails:
        with pytest.raises(RuntimeError):
            wrapper.discriminator.loss(audio, audio)
    else:
        wrapper.discriminator.loss(audio, audio)
