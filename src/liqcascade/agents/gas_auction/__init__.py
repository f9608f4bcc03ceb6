"""Gas auction (``[agents.gas_auction]``):
``model.py``, ``pack.py``, ``kernel.py``, ``twin.py``, ``README.md``."""
