"""TWAP exit (``[mechanisms.twap_exit]``):
``model.py``, ``pack.py``, ``kernel.py``, ``twin.py``, ``README.md``."""
