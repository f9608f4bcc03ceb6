"""Perpetual funding models, one folder per venue: ``model.py`` (pydantic config), ``kernel.py``
(premium, funding rate, settlement, mark price), ``twin.py`` (naive twin), ``README.md``.

The perp unit runs them through ``kernel.py`` (premium from the perp's book or a fitted response,
payments that move margin; ``[protocols.config.funding]``). The free part of the formulas — how
the premium responds to the market — is calibrated by :mod:`liqcascade.calibration.funding`.
``KINDS`` maps a scenario's ``kind`` to its folder.
"""

from __future__ import annotations

import importlib

KINDS = {
    "binance": "liqcascade.funding.binance",  # 8 h (or 4 h/1 h) settlement, linear-weight premium average
    "hyperliquid": "liqcascade.funding.hyperliquid",  # hourly payment of one eighth of the 8 h rate
}


def load(kind: str, part: str = "model"):
    """The module ``part`` (``model``, ``kernel`` or ``twin``) of a funding model."""
    if kind not in KINDS:
        raise KeyError(f"unknown funding model {kind!r}; known: {sorted(KINDS)}")
    return importlib.import_module(f"{KINDS[kind]}.{part}")
