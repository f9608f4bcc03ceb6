"""Hunter (``[agents.hunter]``):
``model.py``, ``pack.py``, ``kernel.py``, ``twin.py``, ``README.md``."""
