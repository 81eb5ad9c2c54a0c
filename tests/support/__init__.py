"""Helpers shared by the tests, one copy each.

- ``support.files``: the repository's paths, examples, data-driven cases (per family) and upstream's example
  configs (read from ``../shared/reference/upstream-configs``, never copied);
- ``support.building``: building models the way ``sat-config inspect`` does (meta device, offline stand-ins) and
  comparing them by state_dict signature;
- ``support.schema``: the bundled schema's definitions, and readers of upstream's constructors and factories;
- ``support.failures``: reproducing the upstream failure a negative case names;
- ``support.fuzzing``: the one set of hypothesis settings and size-bounded strategies drawn from the schema.

Pytest fixtures (``upstream_factory``, ``offline``) are in ``tests/conftest.py``.
"""
