"""Configuration of Hyperliquid funding (defaults: a standard perp, BTC/ETH impact notional)."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from ...strict import Strict
from . import kernel as K

Rate = Annotated[float, Field(ge=-1, le=1, allow_inf_nan=False)]


class HyperliquidFunding(Strict):
    """Hyperliquid's funding rules: 8-hour formula paid hourly at one eighth, capped at 4 %/h;
    ``impact_notional`` 20,000 USDC for BTC and ETH, 6,000 for the others; ``hip3`` selects the
    HIP-3 premium formula."""

    kind: Literal["hyperliquid"] = "hyperliquid"
    interest_8h: Rate = 0.0001
    damper: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.0005
    cap_hourly: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 0.04
    interval_seconds: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 3600.0
    impact_notional: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 20_000.0
    sample_seconds: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 5.0
    ema_seconds: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 150.0
    hip3: bool = False
    settle: Literal["interval", "continuous"] = "interval"

    def pack(self) -> np.ndarray:
        par = np.zeros(K.NHP)
        par[K.HP_INTEREST] = self.interest_8h
        par[K.HP_DAMPER] = self.damper
        par[K.HP_CAP] = self.cap_hourly
        par[K.HP_INTERVAL] = self.interval_seconds
        par[K.HP_SAMPLE] = self.sample_seconds
        par[K.HP_EMA_TAU] = self.ema_seconds
        par[K.HP_MODE] = 1.0 if self.settle == "continuous" else 0.0
        par[K.HP_HIP3] = 1.0 if self.hip3 else 0.0
        return par

    @staticmethod
    def initial_state(seconds_into_interval: float = 0.0) -> np.ndarray:
        st = np.zeros(K.NHS)
        st[K.HS_ELAPSED] = seconds_into_interval
        return st
