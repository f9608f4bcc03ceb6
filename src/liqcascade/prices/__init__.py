"""Exogenous price models: the reference price of every asset. One folder per model, and the registry.

A model's folder holds ``paths.py`` (the generator, NumPy) and ``README.md``. What every model
shares lives beside them: ``common.py`` (input checks, correlation, time scaling), ``seeding.py``
(per-path random streams), ``loading.py`` (price files) and ``generate.py``
(:func:`~liqcascade.prices.generate.generate_paths`, the entry point for a scenario's ``[price]``).

This module imports nothing heavy.
"""

from __future__ import annotations

#: price models (the scenario's ``price.kind``)
KINDS: tuple[str, ...] = ("crash", "gbm", "jump", "historical", "garch", "bootstrap")
