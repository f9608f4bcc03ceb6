"""Configuration of an Aave v3 flash-loan source."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ...strict import NonNegFloat, PosFloat, Strict

#: ``FLASHLOAN_PREMIUM_TOTAL`` = 5 bps (0.05 %), Aave v3 Ethereum's setting (README.md)
AAVE_PREMIUM = 0.0005


class AaveFlash(Strict):
    """Aave v3 ``flashLoanSimple``: the premium ``FLASHLOAN_PREMIUM_TOTAL`` on the amount, from the
    reserve's unborrowed liquidity."""

    kind: Literal["aave"] = "aave"
    fee: Annotated[float, Field(ge=0, le=0.01, allow_inf_nan=False)] = Field(
        AAVE_PREMIUM, description="FLASHLOAN_PREMIUM_TOTAL as a fraction (5 bps = 0.0005)")
    liquidity: PosFloat = Field(description="the pushed asset the reserve can lend (asset units: supplied − borrowed)")
    quote_liquidity: NonNegFloat = Field(0.0, description="the debt asset the reserve can lend (quote units)")
