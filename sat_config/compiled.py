"""jsonschema-rs, the compiled engine's library, imported without its start-up detour.

jsonschema-rs (0.61) imports ``email.utils`` when it loads, only to turn its own build date into
``jsonschema_rs.__build__["info-time"]`` (the pyo3-built crate). That import pulls in socket, random, datetime,
base64 and the email package: about 9 ms, a sixth of what ``sat-config validate FILE`` costs, for a value
sat-config never reads. While jsonschema-rs loads, ``email.utils`` is a stand-in that keeps the date as text; it
is removed right after, so any later ``import email.utils`` gets the real module (tests/test_compiled.py).
"""

from __future__ import annotations

import sys
import types
from typing import Any

_EMAIL_UTILS = "email.utils"


def jsonschema_rs() -> Any:
    """The ``jsonschema_rs`` module, imported on first use."""
    loaded = sys.modules.get("jsonschema_rs")
    if loaded is not None:
        return loaded
    if _EMAIL_UTILS in sys.modules:  # loaded already: nothing to save
        import jsonschema_rs as module

        return module
    stand_in = types.ModuleType(_EMAIL_UTILS, "stand-in while jsonschema-rs loads (sat_config.compiled)")
    stand_in.parsedate_to_datetime = str  # type: ignore[attr-defined]
    sys.modules[_EMAIL_UTILS] = stand_in
    try:
        import jsonschema_rs as module
    finally:
        if sys.modules.get(_EMAIL_UTILS) is stand_in:
            del sys.modules[_EMAIL_UTILS]
    return module
