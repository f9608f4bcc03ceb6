"""Configuration of the volatility bonus (``[mechanisms.volatility_bonus]``)."""

from __future__ import annotations

from pydantic import Field

from ...strict import NonNegFloat, PosFloat
from ..base import Mechanism


class VolatilityBonus(Mechanism):
    """Liquidation bonus that scales with realized volatility: ``bonus · (1 + k · max(0, σ − σ_ref))``
    capped at ``max_bonus`` (crvUSD's dynamic fee, §5.3, applied to the liquidation penalty).
    It adds bad debt: a larger bonus seizes more collateral per debt repaid."""

    k: NonNegFloat = Field(0.5, description="relative bonus increase per unit of annualized volatility above vol_ref")
    RENAMED = {"vol_window_steps": "vol_window_seconds"}

    vol_ref: NonNegFloat = Field(0.8, description="annualized volatility at which the bonus is unchanged")
    vol_window_seconds: PosFloat = Field(3600.0, description="window of the realized-volatility estimate (at least two steps)")
    max_bonus: NonNegFloat = Field(0.2, description="cap on the bonus")


#: the table's model (the registry reads it)
CONFIG = VolatilityBonus

#: the real system(s) that use it (sections of protocol-mechanics.md)
REAL_SYSTEM = 'crvUSD dynamic fee (§5.3, §8.6), applied here to the liquidation bonus'

#: does it reduce the loss, or only move it (and to whom)? (docs/mechanisms.md, 'Who bears the loss')
VERDICT = (
    'adds bad debt: a larger bonus seizes more collateral per debt repaid, so positions go underwater'
    ' sooner; liquidators gain, borrowers lose'
)
