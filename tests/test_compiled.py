"""sat_config.compiled: jsonschema-rs loads without importing email.utils, and email.utils stays the real one."""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = """
import json, sys
from sat_config.compiled import jsonschema_rs
library = jsonschema_rs()
valid = library.validator_for({"type": "integer"}).is_valid(3)
loaded = "email.utils" in sys.modules
import email.utils
print(json.dumps([valid, loaded, email.utils.parsedate_to_datetime("Sun, 8 Nov 2026 16:26:25 +0000").year,
                  jsonschema_rs() is library]))
"""


def test_jsonschema_rs_loads_without_email_utils_which_stays_real():
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [True, False, 2026, True]
