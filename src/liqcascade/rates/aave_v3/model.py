"""Configuration of Aave v3's interest-rate strategy (``DefaultReserveInterestRateStrategyV2``).

Limits are the contract's (``_setInterestRateParams``, aave-dao/aave-v3-origin@fd1fbd9
``src/contracts/misc/DefaultReserveInterestRateStrategyV2.sol`` L177-198): optimal usage in
``[1 %, 99 %]`` (``MIN_OPTIMAL_POINT``/``MAX_OPTIMAL_POINT`` L40-43), ``slope1 <= slope2``, and
``base + slope1 + slope2 <= 1000 %`` (``MAX_BORROW_RATE`` L37). The contract stores the four
numbers in basis points; any float is accepted here.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from ...strict import Strict
from . import kernel as K

NonNeg = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class AaveV3Rates(Strict):
    """Kinked variable-borrow curve and supply rate of an Aave v3 reserve (per-year fractions)."""

    kind: Literal["aave_v3"] = "aave_v3"
    optimal_usage: Annotated[float, Field(ge=0.01, le=0.99, allow_inf_nan=False)]
    base: NonNeg = 0.0
    slope1: NonNeg
    slope2: NonNeg
    reserve_factor: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.1

    @model_validator(mode="after")
    def _check(self):
        if self.slope1 > self.slope2:
            raise ValueError(f"slope1 {self.slope1} must be <= slope2 {self.slope2} (Slope2MustBeGteSlope1)")
        if self.base + self.slope1 + self.slope2 > 10.0:
            raise ValueError("base + slope1 + slope2 must be <= 10 (1000 %, MAX_BORROW_RATE)")
        return self

    def pack(self) -> np.ndarray:
        par = np.zeros(K.NAP)
        par[K.AP_BASE] = self.base
        par[K.AP_SLOPE1] = self.slope1
        par[K.AP_SLOPE2] = self.slope2
        par[K.AP_OPTIMAL] = self.optimal_usage
        par[K.AP_RF] = self.reserve_factor
        return par

    def initial_state(self, supplied: float, borrowed: float, unbacked: float = 0.0) -> np.ndarray:
        """A reserve with ``supplied`` deposited and ``borrowed`` lent out (indexes 1, rates from
        the totals)."""
        if not 0 <= borrowed <= supplied:
            raise ValueError(f"borrowed {borrowed} must be in [0, supplied = {supplied}]")
        st = np.zeros(K.NAS)
        st[K.AS_LIQ_INDEX] = 1.0
        st[K.AS_VAR_INDEX] = 1.0
        st[K.AS_SUPPLY_SCALED] = supplied
        st[K.AS_DEBT_SCALED] = borrowed
        st[K.AS_AVAILABLE] = supplied - borrowed
        st[K.AS_UNBACKED] = unbacked
        K.aave_update_rates(st, self.pack(), 0.0, 0.0)
        return st
