"""Interest-rate models, one folder per kind: ``model.py`` (pydantic config), ``kernel.py``
(compiled rate and accrual math), ``twin.py`` (naive twin), ``README.md`` (rules and sources).

Not yet wired into the engine: the time loop will call each kind's accrual once per step (see
the READMEs' *Wiring* sections). ``KINDS`` maps a scenario's ``kind`` to its folder.
"""

from __future__ import annotations

import importlib

KINDS = {
    "aave_v3": "liqcascade.rates.aave_v3",  # DefaultReserveInterestRateStrategyV2 + ReserveLogic indexes
    "comet": "liqcascade.rates.comet",  # Compound v3 supply/borrow kinks, per-second indexes
    "fixed": "liqcascade.rates.fixed",  # Maker stability fee (jug.drip)
    "liquity": "liqcascade.rates.liquity",  # Liquity v1 one-off borrowing fee, decaying base rate
}


def load(kind: str, part: str = "model"):
    """The module ``part`` (``model``, ``kernel`` or ``twin``) of a rate model."""
    if kind not in KINDS:
        raise KeyError(f"unknown rate model {kind!r}; known: {sorted(KINDS)}")
    return importlib.import_module(f"{KINDS[kind]}.{part}")
