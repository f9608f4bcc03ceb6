"""Partial liquidation (``[mechanisms.partial]``):
``model.py``, ``pack.py``, ``kernel.py``, ``twin.py``, ``README.md``."""
