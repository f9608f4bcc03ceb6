"""Volatility fee (leverage fee) (``[mechanisms.volatility_fee]``):
``model.py``, ``pack.py``, ``kernel.py``, ``README.md``."""
