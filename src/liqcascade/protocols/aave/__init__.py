"""Aave v3 (``kind = "aave_v3"``): the rules built into the static solver and the time loop.

Protocol actions (``lc.protocols.aave``, :mod:`.actions`): ``liquidation_call``, ``liquidation_info``, ``health_factor``, ``Market``, ``Reserve``, ``Account``
… — loaded on first use, so the kernel modules stay importable on their own.
"""

import importlib

_ACTIONS = ('liquidation_call', 'liquidation_info', 'health_factor', 'Market', 'Reserve', 'Account', 'LiquidationCall', 'LiquidationInfo', 'AaveError', 'HealthFactorNotBelowThreshold', 'MustNotLeaveDust', 'CollateralCannotBeLiquidated', 'SpecifiedCurrencyNotBorrowedByUser', 'ReserveInactive', 'ReservePaused', 'LiquidationGraceSentinelCheckFailed', 'SelfLiquidation')


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
