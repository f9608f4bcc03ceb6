"""Oracle guard (``[mechanisms.oracle_guard]``):
``model.py``, ``pack.py``, ``README.md``."""
