"""Random execution (``[mechanisms.random_execution]``):
``model.py``, ``pack.py``, ``kernel.py``, ``twin.py``, ``README.md``."""
