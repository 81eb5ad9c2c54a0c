"""Building models for comparison with upstream: the build ``sat-config inspect`` makes, and a seeded CPU build."""

from __future__ import annotations

import copy
from typing import Any


def build(factory: Any, config: Any) -> Any:
    """``factory(config)`` as ``sat-config inspect`` builds it (``sat_config.inspection.build_dry``): on the meta
    device, on the CPU when a layer needs real values while building, downloads replaced by stand-ins."""
    from sat_config.inspection import build_dry

    return build_dry(factory, config).model


def build_seeded(factory: Any, config: Any, seed: int = 0) -> Any:
    """``factory(config)`` on the CPU with real (seeded) weights, for tests that run tensors through it."""
    import torch

    torch.manual_seed(seed)
    return factory(copy.deepcopy(config))


def state_dict_signature(model: Any) -> dict[str, Any]:
    """Name -> (shape, dtype) of every tensor of a model's state_dict."""
    return {k: (tuple(v.shape), str(v.dtype)) for k, v in model.state_dict().items()}


def assert_builds_like_upstream(config: dict[str, Any], upstream_factory: Any) -> Any:
    """sat-config accepts ``config`` and builds exactly upstream's model (keys, shapes, dtypes of the state_dict)."""
    import sat_config
    from sat_config import problems_in

    assert problems_in(config) == [], "\n".join(p.render() for p in problems_in(config))
    ours = build(sat_config.create_model_from_config, config)
    theirs = build(upstream_factory, config)
    assert type(ours) is type(theirs)
    assert state_dict_signature(ours) == state_dict_signature(theirs)
    assert state_dict_signature(ours), "the model has no state"
    return theirs
