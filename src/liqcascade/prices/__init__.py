"""Exogenous price models: the reference price of every asset. One folder per model, and the registry.

A model's folder holds ``paths.py`` (the generator, NumPy: ``KEYS``, the ``[price]`` keys it
reads; ``CORRELATION``, whether ``price.correlation`` is passed to it; ``generate(req)`` →
float64[n_paths, steps + 1, n_assets]; optionally ``notes``) and ``README.md``. What every model
shares lives beside them: ``common.py`` (input checks, correlation, time scaling), ``seeding.py``
(per-path random streams), ``loading.py`` (price files) and ``generate.py``
(:func:`~liqcascade.prices.generate.generate_paths`, the entry point for a scenario's ``[price]``).

This module imports nothing heavy.
"""

from __future__ import annotations

import importlib

#: price models (the scenario's ``price.kind``), each a folder ``prices/<kind>/``
KINDS: tuple[str, ...] = ("crash", "gbm", "jump", "historical", "garch", "bootstrap")


def model(kind: str):
    """The ``paths`` module of a price model: ``KEYS``, ``CORRELATION``, ``generate``, optional ``notes``."""
    if kind not in KINDS:
        raise KeyError(f"unknown price kind {kind!r} (known: {', '.join(KINDS)})")
    return importlib.import_module(f"liqcascade.prices.{kind}.paths")
