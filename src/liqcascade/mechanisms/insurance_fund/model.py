"""Configuration of the insurance fund (``[mechanisms.insurance_fund]``)."""

from __future__ import annotations

from pydantic import Field

from ...strict import NonNegFloat
from ..base import Mechanism, Share


class InsuranceFund(Mechanism):
    """A fund that absorbs bad debt; when it runs dry the rest is socialized as a pro-rata haircut
    to lenders (Aave's deficit and Umbrella, §1.6; perp insurance funds, §6)."""

    size: NonNegFloat = Field(description="initial fund, quote")
    fee_share: Share = Field(1.0, description="share of the protocol's liquidation fees paid into the fund")


#: the table's model (the registry reads it)
CONFIG = InsuranceFund

#: the real system(s) that use it (sections of protocol-mechanics.md)
REAL_SYSTEM = (
    'Aave deficit covered by Umbrella (§1.6); perp insurance funds (Binance, dYdX, §6.2, §6.4, §8.8);'
    ' Compound v3 reserves absorbing shortfalls (§2.2)'
)

#: does it reduce the loss, or only move it (and to whom)? (docs/mechanisms.md, 'Who bears the loss')
VERDICT = (
    'only moves the loss: the fund pays bad debt that lenders would otherwise bear; bad debt itself '
    'is unchanged'
)

#: protocol units with their own built-in version
BUILT_IN = 'perp (insurance fund, then ADL); comet (reserves absorb)'
