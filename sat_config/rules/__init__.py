"""Cross-field rules: typed, linted functions registered by id (``registry.rule``), one module per family.

Schemas name the rules that apply to an object in its ``x-rules`` list; the validator runs them on the object
seen with the schema's defaults (``sat_config.defaults``). ``RULES`` maps every id to its ``Rule``.
"""

from __future__ import annotations

from . import autoencoder, backbones, conditioning, diffusion, lm, torch_optim, training
from .registry import RULES, Rule, rule

__all__ = ["RULES", "Rule", "rule", "autoencoder", "backbones", "conditioning", "diffusion", "lm", "torch_optim",
           "training"]
