"""Configuration of Binance USDⓈ-M funding (defaults: BTCUSDT, 8-hour interval)."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from ...strict import Strict
from . import kernel as K

Rate = Annotated[float, Field(ge=-1, le=1, allow_inf_nan=False)]


class BinanceFunding(Strict):
    """Binance's funding rules. ``cap`` defaults to ``0.75 · maintenance_margin_rate`` when that
    is given (the majors; BTCUSDT: 0.75 · 0.4 % = 0.30 %), else to ±2 % ("others");
    ``impact_notional`` is ``200 USDT / initial margin rate at maximum leverage`` (BTCUSDT at 125x:
    25,000)."""

    kind: Literal["binance"] = "binance"
    interest_8h: Rate = 0.0001
    damper: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.0005
    interval_hours: Literal[1, 2, 4, 8] = 8
    maintenance_margin_rate: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)] | None = 0.004
    cap: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] | None = None
    floor: Annotated[float, Field(ge=-1, lt=0, allow_inf_nan=False)] | None = None
    impact_notional: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 25_000.0
    sample_seconds: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 5.0
    basis_ma_seconds: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 30.0
    settle: Literal["interval", "continuous"] = "interval"

    @model_validator(mode="after")
    def _check(self):
        c, f = self.caps()
        if not f < c:
            raise ValueError(f"floor {f} must be below cap {c}")
        return self

    def caps(self) -> tuple[float, float]:
        if self.cap is not None:
            cap = self.cap
        elif self.maintenance_margin_rate is not None:
            cap = 0.75 * self.maintenance_margin_rate
        else:
            cap = 0.02
        return cap, (self.floor if self.floor is not None else -cap)

    def pack(self) -> np.ndarray:
        par = np.zeros(K.NBP)
        cap, floor = self.caps()
        par[K.BP_INTEREST] = self.interest_8h
        par[K.BP_DAMPER] = self.damper
        par[K.BP_INTERVAL] = self.interval_hours * 3600.0
        par[K.BP_CAP] = cap
        par[K.BP_FLOOR] = floor
        par[K.BP_SAMPLE] = self.sample_seconds
        par[K.BP_MA_WINDOW] = self.basis_ma_seconds
        par[K.BP_MODE] = 1.0 if self.settle == "continuous" else 0.0
        return par

    @staticmethod
    def initial_state(seconds_into_interval: float = 0.0) -> np.ndarray:
        st = np.zeros(K.NBS)
        st[K.BS_ELAPSED] = seconds_into_interval
        return st
