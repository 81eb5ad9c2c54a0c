"""The fidelity harness: does "the schema accepts it" agree with "stable-audio-tools builds it"?

Everything is driven by the bundled schema (generated/schema.json), so it covers whatever the schemas declare:

- soundness: whole configs are drawn along the schema (``draw``: hypothesis; hypothesis-jsonschema for every leaf,
  sizes bounded), then nudged towards the cross-field rules (``draw.repair``); every config the validator accepts
  must build upstream, and every type marked unsupported must fail upstream;
- completeness: systematic mutations of valid configs (``mutations``: drop each required key, one-letter typo of
  each key, a made-up tag and every other tag at each tagged union, a wrong type in each leaf, each bounded number
  pushed past its bound) must be rejected at the mutated path, and upstream must fail too — unless upstream
  silently ignores the key and the problem kind is ``unknown_key``;
- equivalence: sat_config's build equals upstream's (same seed, same state_dict) for every example, every upstream
  config, and one accepted config per (tagged union, tag) a model can use: those no config reaches are drawn for
  on purpose (``draw.cover_types``), and the run reports which config reached each type.

"Upstream builds it" (``oracle``) means what train.py does: ``create_model_from_config`` (on the meta device, CPU
when a layer needs real tensors), then, when the config has a ``training`` section,
``create_training_wrapper_from_config``, ``configure_optimizers()`` and ``create_demo_callback_from_config`` on the
same dict. Downloads are replaced by ``sat_config.placeholders``. Each config's verdict is judged in ``checks``,
tallied and printed by ``report``; ``run`` puts it together, and ``python tests/fidelity`` (``make fuzz``) runs
it on many draws. tests/test_fidelity.py runs the same code with a modest budget. Disagreements verified by hand
are listed, with the reason, in ``known``.
"""
