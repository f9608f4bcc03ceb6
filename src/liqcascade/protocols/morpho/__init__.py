"""Morpho Blue: protocol actions only (no time-loop unit; the engine's ``incentive = "morpho"`` on an Aave-rule protocol uses its liquidation incentive factor). Rules and sources in README.md.

Protocol actions (``lc.protocols.morpho``, :mod:`.actions`): ``liquidate``, ``borrow``, ``supply``, ``supply_collateral``, ``is_healthy``, ``liquidation_incentive_factor``
… — loaded on first use, so the kernel modules stay importable on their own.
"""

import importlib

_ACTIONS = ('liquidate', 'borrow', 'supply', 'supply_collateral', 'is_healthy', 'liquidation_incentive_factor', 'to_shares_down', 'to_shares_up', 'to_assets_down', 'to_assets_up', 'WAD', 'ORACLE_PRICE_SCALE', 'VIRTUAL_SHARES', 'VIRTUAL_ASSETS', 'LIQUIDATION_CURSOR', 'MAX_LIQUIDATION_INCENTIVE_FACTOR', 'Market', 'Position', 'Liquidation', 'MorphoError', 'InconsistentInput', 'HealthyPosition', 'InsufficientCollateral', 'InsufficientLiquidity', 'Underflow')


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
