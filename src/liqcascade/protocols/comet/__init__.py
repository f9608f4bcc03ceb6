"""Compound v3 (Comet), `kind = "comet"`: model, pack, kernel, twin; rules in README.md.

Protocol actions (``lc.protocols.comet``, :mod:`.actions`): ``absorb``, ``buy_collateral``, ``quote_collateral``, ``is_liquidatable``, ``Market``, ``Asset``
… — loaded on first use, so the kernel modules stay importable on their own.
"""

import importlib

_ACTIONS = ('absorb', 'buy_collateral', 'quote_collateral', 'is_liquidatable', 'Market', 'Asset', 'Account', 'Absorb', 'CometError', 'NotLiquidatable', 'Paused', 'NotForSale', 'TooMuchSlippage', 'InsufficientReserves')


def __getattr__(name: str):
    if name in _ACTIONS:
        # imported by name: the registry itself stays free of package imports (kernels read it)
        actions = importlib.import_module(f"{__name__}.actions")
        value = getattr(actions, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_ACTIONS))
