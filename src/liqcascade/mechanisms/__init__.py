"""Prevention mechanisms: one folder per mechanism, and the registry that maps a scenario's
``[mechanisms.<name>]`` table to it.

A mechanism folder holds ``model.py`` (its pydantic configuration, ``CONFIG``, with the real
systems that use it and its verdict: does it reduce a loss or only move it), ``pack.py``
(configuration → its slots of the parameter pack ``mech`` and its row of the applicability
mask), ``kernel.py`` (its compiled functions), ``twin.py`` (their deliberately naive
plain-Python twins) and ``README.md`` (its rule, sources, simplifications, verdict). What
several mechanisms share is at this level: ``kernel.py`` (pack layout ``M_*``, mask rows
``MK_*``, switches, per-path state, ring and depth helpers), ``hooks.py`` (compiled hooks that
touch several mechanisms at once), ``twin.py``, ``pack.py`` (:func:`~.pack.mechanism_setup`),
``model.py`` (the scenario's ``Mechanisms`` table, built from this registry) and ``base.py``.

The scenario's ``[mechanisms]`` table, ``liqcascade mechanisms`` and the compile step are built
from :data:`MECHANISMS`: adding a mechanism is one new folder plus one line here (and the calls
into its kernel from the time loop's stages, :mod:`liqcascade.kernels.stages`).

This module imports nothing heavy: kernels may import it.
"""

from __future__ import annotations

import importlib

#: ``[mechanisms.<name>]`` table name -> folder; the order of the table, of the compile step and
#: of ``liqcascade mechanisms``
MECHANISMS: dict[str, str] = {
    "circuit_breaker": "circuit_breaker",
    "throttle": "throttle",
    "twap_exit": "twap_exit",
    "buffer_pool": "buffer_pool",
    "insurance_fund": "insurance_fund",
    "dutch_auction": "dutch_auction",
    "partial": "partial",
    "oracle_guard": "oracle_guard",
    "dynamic_margin": "dynamic_margin",
    "random_execution": "random_execution",
    "batch": "batch",
    "volatility_fee": "volatility_fee",
    "volatility_bonus": "volatility_bonus",
    "clearinghouse": "clearinghouse",
}


def module(name: str, part: str):
    """The ``part`` module (``"model"``, ``"pack"``, ``"kernel"``, ``"twin"``) of mechanism ``name``."""
    if name not in MECHANISMS:
        raise KeyError(f"unknown mechanism {name!r} (known: {', '.join(MECHANISMS)})")
    return importlib.import_module(f"liqcascade.mechanisms.{MECHANISMS[name]}.{part}")


def config_class(name: str):
    """The pydantic model of the ``[mechanisms.<name>]`` table (``CONFIG`` in its ``model.py``)."""
    return module(name, "model").CONFIG
