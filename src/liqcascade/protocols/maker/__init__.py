"""MakerDAO, `kind = "maker"`: model, pack, kernel, twin; rules in README.md.

Protocol actions (``lc.protocols.maker``, :mod:`.actions`): ``bark``, ``take``, ``redo``, ``get_status``, ``bite``, ``flip_kick``
… — loaded on first use, so the kernel modules stay importable on their own.
"""

import importlib

_ACTIONS = ('bark', 'take', 'redo', 'get_status', 'bite', 'flip_kick', 'tend', 'dent', 'deal', 'tick', 'Vat', 'Ilk', 'Urn', 'Sale', 'Bid', 'MakerError', 'NotLive', 'NotUnsafe', 'LiquidationLimitHit', 'DustyAuctionFromPartialLiquidation', 'NullAuction', 'StoppedIncorrectly', 'NotRunningAuction', 'NeedsReset', 'TooExpensive', 'NoPartialPurchase', 'CannotReset', 'ZeroTopPrice', 'CatNotUnsafe', 'GuyNotSet', 'AlreadyFinishedTic', 'AlreadyFinishedEnd', 'LotNotMatching', 'HigherThanTab', 'BidNotHigher', 'InsufficientIncrease', 'NotMatchingBid', 'TendNotFinished', 'LotNotLower', 'InsufficientDecrease', 'NotFinished', 'BidAlreadyPlaced')


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
