"""Configuration of the volatility fee (``[mechanisms.volatility_fee]``)."""

from __future__ import annotations

from pydantic import Field, model_validator

from ...strict import NonNegFloat, PosFloat
from ..base import Mechanism


class VolatilityFee(Mechanism):
    """A leverage fee: a borrow-rate add-on proportional to realized volatility,
    ``min(max_rate, k · max(0, σ − σ_ref))`` a year, that accrues into the debt of the positions
    it applies to step by step (a charge on leverage while markets are volatile)."""

    RENAMED = {"vol_window_steps": "vol_window_seconds"}

    k: NonNegFloat = Field(0.5, description="borrow-rate add-on (per year) per unit of annualized volatility above vol_ref")
    vol_ref: NonNegFloat = Field(0.8, description="annualized volatility below which no fee accrues")
    vol_window_seconds: PosFloat = Field(3600.0, description="window of the realized-volatility estimate (at least two steps)")
    max_rate: NonNegFloat = Field(5.0, description="cap on the add-on, per year")

    @model_validator(mode="before")
    @classmethod
    def _old_meaning(cls, data):
        if isinstance(data, dict) and "max_bonus" in data:
            raise ValueError("max_bonus: volatility_fee is now a leverage fee (a borrow-rate add-on); the "
                             "bonus-raising mechanism is mechanisms.volatility_bonus")
        return data


#: the table's model (the registry reads it)
CONFIG = VolatilityFee

#: the real system(s) that use it (sections of protocol-mechanics.md)
REAL_SYSTEM = (
    "risk-priced borrow rates: lending protocols raise rates with risk through the rate model (Aave's"
    ' slope2 above the kink, §1); a volatility-linked add-on is a design'
)

#: does it reduce the loss, or only move it (and to whom)? (docs/mechanisms.md, 'Who bears the loss')
VERDICT = (
    'only charges: it adds to debt while volatility is high (more liquidations, not fewer); its '
    'intended effect, borrowers cutting leverage before a crash, is a behaviour not modelled'
)
