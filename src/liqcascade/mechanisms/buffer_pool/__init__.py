"""Buffer pool (``[mechanisms.buffer_pool]``):
``model.py``, ``pack.py``, ``kernel.py``, ``twin.py``, ``README.md``."""
