"""Liquity v1, `kind = "liquity"`: model, pack, kernel, twin; rules in README.md.

Protocol actions (``lc.protocols.liquity``, :mod:`.actions`): ``open_trove``, ``provide``, ``withdraw``, ``liquidate``, ``batch_liquidate``, ``liquidate_troves``
… — loaded on first use, so the kernel modules stay importable on their own.
"""

import importlib

_ACTIONS = ('open_trove', 'provide', 'withdraw', 'liquidate', 'batch_liquidate', 'liquidate_troves', 'System', 'Trove', 'Deposit', 'Liquidation', 'LiquityError', 'NothingToLiquidate', 'EmptyTroveArray', 'OnlyOneTroveInSystem', 'TroveNotActive', 'TroveIsActive', 'NetDebtBelowMinimum', 'ICRBelowMCR', 'TCRBelowCCR', 'ICRBelowCCR', 'FeeExceededMaximum', 'MaxFeeInvalid', 'WithdrawalBlocked', 'NoDeposit', 'ZeroAmount')


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
