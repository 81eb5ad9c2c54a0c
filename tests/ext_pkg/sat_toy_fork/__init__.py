"""A toy fork of stable-audio-tools, installed through entry points by tests/test_extensions_pkg.py.

It ships ``extension.json`` (entry-point group ``sat_config.extensions``: ``toy = sat_toy_fork:extension.json``)
and the constructor of the model type it adds (group ``sat_config.model_factories``:
``toy_mlp = sat_toy_fork:create_toy_mlp_from_config``). Importing it never imports torch; building does.
"""

from __future__ import annotations

from typing import Any


def create_toy_mlp_from_config(config: dict[str, Any]) -> Any:
    """Build the ``toy_mlp`` model: an MLP over each frame of audio channels (a small torch module)."""
    from torch import nn

    class ToyMlp(nn.Module):
        def __init__(self, channels: int, hidden_dim: int, depth: int, activation: str) -> None:
            super().__init__()
            act = {"gelu": nn.GELU, "silu": nn.SiLU, "relu": nn.ReLU}[activation]
            layers: list[nn.Module] = [nn.Linear(channels, hidden_dim), act()]
            for _ in range(depth - 1):
                layers += [nn.Linear(hidden_dim, hidden_dim), act()]
            layers.append(nn.Linear(hidden_dim, channels))
            self.net = nn.Sequential(*layers)
            self.sample_rate = 0

        def forward(self, audio: Any) -> Any:  # [batch, channels, time]
            return self.net(audio.transpose(1, 2)).transpose(1, 2)

    model_config = config["model"]
    model = ToyMlp(config.get("audio_channels", 2), model_config["hidden_dim"], model_config.get("depth", 2),
                   model_config.get("activation", "gelu"))
    model.sample_rate = config["sample_rate"]
    return model
