"""Configuration of a Balancer v2 flash-loan source."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ...strict import NonNegFloat, PosFloat, Strict


class BalancerFlash(Strict):
    """Balancer v2 Vault ``flashLoan``: the protocol's flash-loan fee percentage (0 on the deployed
    Vault) on the amount, from the Vault's balance of the token."""

    kind: Literal["balancer"] = "balancer"
    fee: Annotated[float, Field(ge=0, le=0.01, allow_inf_nan=False)] = Field(
        0.0, description="flash-loan fee percentage as a fraction (0 today; at most 1 %)")
    liquidity: PosFloat = Field(description="the Vault's balance of the pushed asset (asset units)")
    quote_liquidity: NonNegFloat = Field(0.0, description="the Vault's balance of the debt asset (quote units)")
