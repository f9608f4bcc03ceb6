"""Batch auction (``[mechanisms.batch]``):
``model.py``, ``pack.py``, ``kernel.py``, ``README.md``."""
