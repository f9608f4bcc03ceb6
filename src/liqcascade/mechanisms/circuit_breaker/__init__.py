"""Circuit breaker (``[mechanisms.circuit_breaker]``):
``model.py``, ``pack.py``, ``kernel.py``, ``twin.py``, ``README.md``."""
