"""Protocol families: one folder per family, and the registry that maps a scenario's ``kind`` to it.

A family folder holds ``model.py`` (its pydantic configuration and presets), ``pack.py`` (config
and positions → the state arrays its kernel steps), ``kernel.py`` (numba), ``twin.py`` (a
deliberately naive plain-Python twin) and ``README.md`` (rules, sources, simplifications).
``protocols/kernel.py`` holds what every family's kernel shares (accumulators, liquidator
settings). Aave v3 (``aave_v3``) is built into the static solver and the time loop; every
other family is a *unit* the time loop steps once per step, in the order listed here.

Each family also has its *actions* (``actions.py``): the protocol's own calls on small state
objects (Aave ``liquidation_call``, Comet ``absorb``/``buy_collateral``, Liquity troves and the
Stability Pool, Maker ``bark``/``take``/``redo`` and flip, Morpho Blue ``liquidate``, crvUSD
``create_loan``/``health``), on the same compiled rules, raising the protocol's own reverts
(:mod:`.errors`). ``lc.protocols.aave.liquidation_call`` etc.: a family is imported on first
attribute access, its actions on first use (``docs/api.md``, "Protocol actions").

This module imports nothing heavy: kernels may import it.
"""

from __future__ import annotations

import importlib

#: scenario ``kind`` -> family folder; units are stepped in this order (after Aave)
UNITS: dict[str, str] = {
    "aave_v3": "aave",
    "comet": "comet",
    "liquity": "liquity",
    "perp": "perp",
    "maker": "maker",
    "llamma": "llamma",
}

#: the kinds run as units in the time loop (every kind but the built-in Aave v3)
UNIT_KINDS: tuple[str, ...] = tuple(k for k in UNITS if k != "aave_v3")


#: families with protocol actions (``lc.protocols.<name>``); ``morpho`` has actions only
ACTION_FAMILIES: tuple[str, ...] = ("aave", "comet", "liquity", "maker", "morpho", "llamma")


def __getattr__(name: str):
    if name in ACTION_FAMILIES or name == "crvusd":
        mod = importlib.import_module(f"liqcascade.protocols.{'llamma' if name == 'crvusd' else name}")
        globals()[name] = mod
        return mod
    raise AttributeError(f"module 'liqcascade.protocols' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(ACTION_FAMILIES) | {"crvusd"})


def module(kind: str, part: str):
    """The ``part`` module (``"model"``, ``"pack"``, ``"kernel"``, ``"twin"``) of ``kind``'s folder."""
    if kind not in UNITS:
        raise KeyError(f"unknown protocol kind {kind!r} (known: {', '.join(UNITS)})")
    return importlib.import_module(f"liqcascade.protocols.{UNITS[kind]}.{part}")


def config_class(kind: str):
    """The pydantic model of a unit's ``config`` table (``CONFIG`` in its ``model.py``)."""
    return module(kind, "model").CONFIG
