"""The autoencoder's decoder-output rule against upstream's training losses: with the decoder writing another
width than the model's output channels, the first training step's spectral loss fails with the exception the
message names (the stereo loss for 2 channels, the mono loss otherwise)."""

from __future__ import annotations

import copy

import pytest
from support.building import build_seeded
from support.files import case_config, case_path, load_json

from sat_config import problems_in


@pytest.mark.parametrize(("stem", "error"), [
    ("ae_rule_decoder_out_channels", RuntimeError),  # out_channels 1: the mono loss
    ("ae_rule_decoder_seanet_channels", AssertionError),  # 2 channels: the stereo (sum and difference) loss
])
def test_decoder_output_fails_the_first_training_step_as_its_message_says(stem, error, upstream_factory, offline):
    import torch
    from stable_audio_tools.training.factory import create_training_wrapper_from_config

    config = copy.deepcopy(case_config(load_json(case_path("negative", stem))))
    [problem] = problems_in(config)
    assert f"fails with {error.__name__}" in problem.message
    model = build_seeded(upstream_factory, config).eval()
    config["training"] = {"learning_rate": 1e-4}
    wrapper = create_training_wrapper_from_config(config, model)
    reals = torch.randn(1, model.out_channels, 8192)
    with torch.no_grad():
        decoded = model.decode(model.encode(torch.randn(1, model.in_channels, 8192)))
    with pytest.raises(error):
        wrapper.sdstft(decoded, reals)
