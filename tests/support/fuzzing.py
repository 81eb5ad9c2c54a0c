"""The one set of hypothesis settings, and strategies drawn from the bundled schema's definitions with sizes kept
small. ``make test`` runs FUZZ_EXAMPLES examples per property (default 6, derandomized); ``make fuzz`` sets
SAT_FUZZ_EXAMPLES to run many more, randomly."""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis_jsonschema import from_schema

from .schema import DEFS, reachable

FUZZ_EXAMPLES = int(os.environ.get("SAT_FUZZ_EXAMPLES", "6"))
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize="SAT_FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.function_scoped_fixture])

# Sizes that keep every build quick and let the cross-field rules pass often enough (subsets of the schemas' own
# ranges, so every generated config is still schema-valid).
SMALL = {
    "DitEmbedDim": {"enum": [32, 64, 96]}, "DitNumHeads": {"enum": [1, 2, 3]}, "DitDepth": {"enum": [0, 1, 2]},
    "DitIoChannels": {"enum": [1, 2, 4]}, "DitPatchSize": {"enum": [1, 2]},
    "DitCondTokenDim": {"enum": [0, 32, 64]}, "DitGlobalCondDim": {"enum": [0, 32, 64]},
    "DitInputConcatDim": {"enum": [0, 2]}, "DitPrependCondDim": {"enum": [0, 16]},
    "DitTimestepEmbedDim": {"enum": [None, 1]}, "TfAbsPosEmbMaxLength": {"enum": [64]},
    "TfNumMemoryTokens": {"enum": [0, 1]}, "TfFinalCrossAttnIx": {"enum": [-1, 0]},
    "TfSlidingWindow": {"enum": [None, [4, 4]]},
    "TransformerFeedForwardKwargs": {"properties": {"mult": {"enum": [1, 2.5]}, "dim_out": {"enum": [None]},
                                                    "conv_kernel_size": {"enum": [1, 3]}}},
    "UNet1dConfig": {"required": ["attention_heads", "attention_multiplier"]},
    "UNetCFG1dConfig": {"required": ["attention_heads", "attention_multiplier"]},
    "UnetInChannels": {"enum": [1, 2]}, "UnetChannels": {"enum": [16, 32]},
    "UnetMultipliers": {"enum": [[1, 2], [1, 1]]}, "UnetFactors": {"enum": [[1], [2]]},
    "UnetNumBlocks": {"enum": [[0], [1], [2]]}, "UnetAttentions": {"enum": [[0, 0], [0, 1], [1, 1], [1, 0, 1]]},
    "UnetPatchSize": {"enum": [1, 2]}, "UnetResnetGroups": {"enum": [1, 4, 8]},
    "UnetKernelMultiplierDownsample": {"enum": [0, 2, 4]}, "UnetContextFeaturesMultiplier": {"enum": [1, 2]},
    "UnetAttentionHeads": {"enum": [1, 2]}, "UnetAttentionFeatures": {"enum": [None, 16]},
    "UnetAttentionMultiplier": {"enum": [1, 2]}, "UnetContextFeatures": {"enum": [None]},
    "UnetContextChannels": {"enum": [None]}, "UnetContextEmbeddingFeatures": {"enum": [None]},
    "UnetUseStft": {"enum": [False]}, "UnetOutChannels": {"enum": [None]},
    **{name: False for name in ("UnetStftNumFft", "UnetStftHopLength", "UnetStftWindowLength", "UnetStftLength",
                                "UnetStftUseComplex")},  # STFT keys only go with use_stft (a positive case has it)
}


def narrowed(name: str, node: Any, narrow: dict[str, Any]) -> Any:
    """``node`` (a def called ``name``) with its SMALL (or ``narrow``) restriction added: an intersection."""
    node = {k: v for k, v in node.items() if k not in ("x-rules", "x-unsupported", "discriminator")}
    restriction = narrow.get(name, SMALL.get(name))
    return node if restriction is None else {"allOf": [node, restriction]}


def strategy(name: str, narrow: dict[str, Any] | None = None, drop: tuple[str, ...] = (), **overrides: Any) -> Any:
    """Configs generated from the def ``name`` (bounded by SMALL and ``narrow``, without its properties
    ``drop``), with ``overrides`` fixed."""
    source = dict(DEFS)
    source[name] = dict(DEFS[name], properties={k: v for k, v in DEFS[name]["properties"].items() if k not in drop})
    defs = {n: narrowed(n, source[n], narrow or {}) for n in reachable(name, source)}
    schema: dict[str, Any] = {"$ref": f"#/$defs/{name}", "$defs": defs}
    if overrides:
        fixed = {"properties": {k: {"const": v} for k, v in overrides.items()}, "required": list(overrides)}
        schema = {"allOf": [schema, fixed], "$defs": defs}
    return from_schema(schema)
