"""Configuration of Compound v3's interest-rate model (per-year values, as the deployment files
give them), with the contract's conversion to per-second rates.

Presets are the initial mainnet deployments (compound-finance/comet@d5a30b0
``deployments/mainnet/usdc/configuration.json`` and ``deployments/mainnet/weth/configuration.json``,
the ``rates`` blocks; governance changes them later).
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from ...strict import Strict
from . import kernel as K

NonNeg = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Kink = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]

PRESETS = {
    "cUSDCv3-launch": dict(supply_kink=0.8, supply_slope_low=0.0325, supply_slope_high=0.4, supply_base=0.0,
                           borrow_kink=0.8, borrow_slope_low=0.035, borrow_slope_high=0.25, borrow_base=0.015),
    "cWETHv3-launch": dict(supply_kink=0.9, supply_slope_low=0.0283824, supply_slope_high=0.6066567706,
                           supply_base=0.0, borrow_kink=0.9, borrow_slope_low=0.05171500002,
                           borrow_slope_high=0.5171500339, borrow_base=0.009945209674),
}


def per_second(per_year: float) -> float:
    """The constructor's ``perYear / SECONDS_PER_YEAR`` in 1e18 fixed point, truncated
    (``contracts/Comet.sol`` L166-176): ``⌊round(perYear · 1e18) / 31,536,000⌋ / 1e18``."""
    return (round(per_year * 10**18) // 31_536_000) / 1e18


class CometRates(Strict):
    """Separate supply and borrow kinks of a Comet market (per-year fractions)."""

    kind: Literal["comet"] = "comet"
    supply_kink: Kink
    supply_slope_low: NonNeg
    supply_slope_high: NonNeg
    supply_base: NonNeg = 0.0
    borrow_kink: Kink
    borrow_slope_low: NonNeg
    borrow_slope_high: NonNeg
    borrow_base: NonNeg = 0.0

    def pack(self) -> np.ndarray:
        """Per-second rates truncated as the contract stores them; kinks as they are."""
        par = np.zeros(K.NCP)
        par[K.CP_SUPPLY_KINK] = round(self.supply_kink * 10**18) / 1e18
        par[K.CP_SUPPLY_LOW] = per_second(self.supply_slope_low)
        par[K.CP_SUPPLY_HIGH] = per_second(self.supply_slope_high)
        par[K.CP_SUPPLY_BASE] = per_second(self.supply_base)
        par[K.CP_BORROW_KINK] = round(self.borrow_kink * 10**18) / 1e18
        par[K.CP_BORROW_LOW] = per_second(self.borrow_slope_low)
        par[K.CP_BORROW_HIGH] = per_second(self.borrow_slope_high)
        par[K.CP_BORROW_BASE] = per_second(self.borrow_base)
        return par

    @staticmethod
    def initial_state(supplied: float, borrowed: float) -> np.ndarray:
        if not 0 <= borrowed <= supplied:
            raise ValueError(f"borrowed {borrowed} must be in [0, supplied = {supplied}]")
        st = np.zeros(K.NCS)
        st[K.CS_SUPPLY_INDEX] = 1.0
        st[K.CS_BORROW_INDEX] = 1.0
        st[K.CS_SUPPLY_PRINCIPAL] = supplied
        st[K.CS_BORROW_PRINCIPAL] = borrowed
        st[K.CS_CASH] = supplied - borrowed
        return st
