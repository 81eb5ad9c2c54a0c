"""``python tests/fidelity``: the fidelity harness on many draws (``make fuzz``). (``python -m tests.fidelity`` would
find the ``tests`` package some libraries install in site-packages first.)"""

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(TESTS), str(TESTS.parent)]  # the tests' support package, and the repository

from fidelity.run import main  # noqa: E402

sys.exit(main())
