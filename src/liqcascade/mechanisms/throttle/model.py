"""Configuration of the throttle (``[mechanisms.throttle]``)."""

from __future__ import annotations

from pydantic import Field, model_validator

from ...strict import Fraction, NonNegFloat, PosFloat
from ..base import Mechanism


class Throttle(Mechanism):
    """Cap what liquidation may take per window (Maker's ``Hole``/``hole``, §3.2) and/or cap the
    collateral sold per step at what the venues absorb within ``depth_slippage``."""

    RENAMED = {"window_steps": "window_seconds"}

    max_debt_per_window: NonNegFloat = Field(0.0, description="debt repaid per window, quote (0 = no cap)")
    window_seconds: PosFloat = Field(3600.0, description="rolling window of the debt cap (at least one step)")
    depth_slippage: Fraction = Field(0.0, description="cap collateral seized per step at what the venues absorb within this slippage (0 = off)")

    @model_validator(mode="after")
    def _some(self):
        if self.max_debt_per_window == 0 and self.depth_slippage == 0:
            raise ValueError("set max_debt_per_window and/or depth_slippage")
        return self


#: the table's model (the registry reads it)
CONFIG = Throttle

#: the real system(s) that use it (sections of protocol-mechanics.md)
REAL_SYSTEM = 'Maker Liquidations 2.0 Hole/hole limits on DAI in auctions (§3.2, §8.2)'

#: does it reduce the loss, or only move it (and to whom)? (docs/mechanisms.md, 'Who bears the loss')
VERDICT = (
    'reduces forced selling and drawdown; bad debt unchanged within noise: the positions it holds '
    'back carry the risk, so a fall that continues moves the loss to lenders'
)

#: protocol units with their own built-in version
BUILT_IN = 'maker (Hole/hole)'
