"""Dutch auction (``[mechanisms.dutch_auction]``):
``model.py``, ``pack.py``, ``kernel.py``, ``twin.py``, ``README.md``."""
