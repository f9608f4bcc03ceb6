"""Hedger (``[agents.hedger]``):
``model.py``, ``pack.py``, ``kernel.py``, ``twin.py``, ``README.md``."""
