"""A lean start-up: jsonschema-rs loads without importing email.utils (which stays the real one), and validating a
valid file imports none of the heavy modules it used to."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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


LEAN = """
import json, sys
from sat_config.cli import main
code = main(["validate", sys.argv[1]])
print(json.dumps([code, sorted(m for m in HEAVY if m in sys.modules)]))
"""
# What `sat-config validate FILE` does without (README, "How it is built": start-up is part of the product).
HEAVY = ("dataclasses", "inspect", "packaging.specifiers", "packaging.version", "shutil", "email.utils", "copy",
         "importlib.metadata", "importlib.resources", "jsonschema", "referencing", "torch", "pydantic")


def test_validating_a_valid_file_imports_nothing_heavy():
    example = Path(__file__).resolve().parent.parent / "examples" / "diffusion_cond_tiny_dit.json"
    code = f"HEAVY = {HEAVY!r}\n" + LEAN
    out = subprocess.run([sys.executable, "-c", code, str(example)], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.splitlines()[-1]) == [0, []]
