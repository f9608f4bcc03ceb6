"""Configuration of the stability/backstop pool (``[flow.backstop]``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from liqcascade.strict import Fraction, NonNegFloat, PosFloat, Strict


class Backstop(Strict):
    """A pool of quote deposits that buys forced sales at a discount before they reach the venue."""

    size: NonNegFloat = Field(description="starting deposits, quote (0 = no backstop)")
    retail_share: float = Field(0.5, ge=0, le=1, allow_inf_nan=False,
                                description="share of the deposits held by retail depositors (the rest is institutional)")
    discount: Fraction = Field(0.05, description="the pool buys at reference · (1 - discount)")
    withdrawal: Literal["drawdown", "constant"] = Field(
        "drawdown", description="what drives retail withdrawals: the reference's drawdown, or a constant hazard")
    withdrawal_half_life_seconds: NonNegFloat = Field(
        3600.0, description="retail half-life (drawdown: at a drawdown of drawdown_ref); 0 = retail never leaves")
    drawdown_ref: PosFloat = Field(0.10, description="drawdown at which retail leaves with the half-life above")
    refill_seconds: NonNegFloat = Field(
        86400.0, description="institutions refill their whole tranche in this time (a constant rate); 0 = no refill")

    @model_validator(mode="after")
    def _check(self):
        if self.withdrawal == "drawdown" and not self.drawdown_ref <= 1.0:
            raise ValueError(f"drawdown_ref: must be in (0, 1], got {self.drawdown_ref!r}")
        return self
