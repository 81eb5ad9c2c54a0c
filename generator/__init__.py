"""The generator: hand-written schemas/ in, generated/ out (``python -m generator``, run by ``make gen``)."""
