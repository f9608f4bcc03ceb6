"""Dynamic margin (``[mechanisms.dynamic_margin]``):
``model.py``, ``pack.py``, ``kernel.py``, ``twin.py``, ``README.md``."""
