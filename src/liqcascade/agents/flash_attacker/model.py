"""Configuration of the flash-loan attacker (``[agents.flash_attacker]``)."""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import Field

from ...flashloans.aave.model import AaveFlash
from ...flashloans.balancer.model import BalancerFlash
from ...flashloans.uniswap.model import UniswapFlash
from ...strict import NonNegFloat, Strict

#: one flash-loan source, chosen by its ``kind`` (the registry :data:`liqcascade.flashloans.SOURCES`)
FlashSource = Annotated[Union[AaveFlash, BalancerFlash, UniswapFlash], Field(discriminator="kind")]


class FlashAttacker(Strict):
    """An atomic flash-loan attacker: within one block it borrows the asset, sells it into a venue,
    liquidates the positions the oracle then shows under water (taking the bonus), buys the asset
    back and repays the loan with its fee — only when that bundle is profitable after fees, gas
    and slippage."""

    asset: str | None = Field(None, description="asset pushed (default: the first risky asset)")
    venue: str | None = Field(None, description="venue pushed (default: the asset's shallowest venue the oracle reads)")
    protocol: str | None = Field(None, description="protocol whose positions are liquidated (default: the first Aave-rule one)")
    sources: list[FlashSource] = Field(
        min_length=1, max_length=16,
        description="flash-loan sources [{kind = \"aave\" | \"balancer\" | \"uniswap\", liquidity, quote_liquidity, fee}], drawn cheapest first")
    gas_bundle: NonNegFloat = Field(15.0, description="quote: gas of the flash loan, the two swaps and the repayment (≈ 350k gas)")
    gas_per_liquidation: NonNegFloat = Field(12.0, description="quote: gas of one liquidationCall (≈ 300k gas)")
    max_liquidations: int = Field(200, ge=1, le=100_000, description="most liquidation calls in one bundle")
    min_profit: NonNegFloat = Field(0.0, description="quote: least profit for which the attacker acts")


#: the table's model (the registry reads it)
CONFIG = FlashAttacker

#: the real system(s) that use it (sections of protocol-mechanics.md)
REAL_SYSTEM = (
    'flash-loan manipulation of a spot-priced market within one transaction (bZx, Feb 2020; Cream '
    'Finance, Oct 2021); loans from Aave v3, Balancer v2, Uniswap v3 pools'
)
