"""Configuration of the hunter (``[agents.hunter]``)."""

from __future__ import annotations

from pydantic import Field

from ...strict import Fraction, NonNegFloat, PosFloat, Strict


class Hunter(Strict):
    """A cascade hunter: reads the liquidation-price ladder, sells spot ahead of the largest cluster
    within reach to push the oracle through it, and buys back after ``hold_seconds``."""

    RENAMED = {"start_step": "start_seconds", "sell_steps": "sell_seconds", "hold_steps": "hold_seconds"}

    asset: str | None = Field(None, description="asset attacked (default: the first risky asset)")
    capital: NonNegFloat = Field(description="quote value of the asset the hunter can sell (borrowed or held)")
    start_seconds: PosFloat | None = Field(None, description="first time the hunter may act (default: the first step)")
    sell_seconds: PosFloat | None = Field(None, description="time over which the sale is spread (default: one step)")
    hold_seconds: PosFloat = Field(1800.0, description="time after the last sale before buying back (at least one step)")
    reach: Fraction = Field(0.2, description="largest drop below spot at which the hunter targets a cluster")
    buy_discounted: bool = Field(True, description="also buy collateral the liquidators dump, when cheaper than the buy-back")


#: the table's model (the registry reads it)
CONFIG = Hunter

#: the real system(s) that use it (sections of protocol-mechanics.md)
REAL_SYSTEM = 'liquidation hunting: pushing a thin market through a cluster of liquidation prices'
