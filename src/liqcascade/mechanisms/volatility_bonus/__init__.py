"""Volatility bonus (``[mechanisms.volatility_bonus]``):
``model.py``, ``pack.py``, ``kernel.py``, ``twin.py``, ``README.md``."""
