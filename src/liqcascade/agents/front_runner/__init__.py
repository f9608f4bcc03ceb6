"""Front runner (``[agents.front_runner]``):
``model.py``, ``pack.py``, ``kernel.py``, ``twin.py``, ``README.md``."""
