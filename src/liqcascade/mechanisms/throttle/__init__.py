"""Throttle (``[mechanisms.throttle]``):
``model.py``, ``pack.py``, ``kernel.py``, ``twin.py``, ``README.md``."""
