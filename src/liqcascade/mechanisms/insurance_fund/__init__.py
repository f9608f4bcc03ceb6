"""Insurance fund (``[mechanisms.insurance_fund]``):
``model.py``, ``pack.py``, ``kernel.py``, ``twin.py``, ``README.md``."""
