"""Compound v3 (Comet), `kind = "comet"`: model, pack, kernel, twin; rules in README.md.

Protocol actions (``lc.protocols.comet``, :mod:`.actions`): ``absorb``, ``buy_collateral``, ``quote_collateral``, ``is_liquidatable``, ``Market``, ``Asset``
… — loaded on first use, so the kernel modules stay importable on their own.
"""

_ACTIONS = ('absorb', 'buy_collateral', 'quote_collateral', 'is_liquidatable', 'Market', 'Asset', 'Account', 'Absorb', 'CometError', 'NotLiquidatable', 'Paused', 'NotForSale', 'TooMuchSlippage', 'InsufficientReserves')


def __getattr__(name: str):
    if name in _ACTIONS:
        from . import actions

        value = getattr(actions, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_ACTIONS))
