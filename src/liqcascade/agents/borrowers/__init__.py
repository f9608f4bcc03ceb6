"""Borrowers (``[agents.borrowers]``):
``model.py``, ``pack.py``, ``kernel.py``, ``twin.py``, ``README.md``."""
