"""Configuration of a Uniswap v3 pool used as a flash-loan source."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ...strict import NonNegFloat, PosFloat, Strict


class UniswapFlash(Strict):
    """A Uniswap v3 pool's ``flash``: the pool's fee tier on the amount, from its reserves. It must
    be another pool than the one pushed (``flash`` and ``swap`` share the pool's re-entrancy lock)."""

    kind: Literal["uniswap"] = "uniswap"
    fee: Annotated[float, Field(ge=0, le=0.01, allow_inf_nan=False)] = Field(
        0.0005, description="the lending pool's fee tier as a fraction (0.0001, 0.0005, 0.003 or 0.01)")
    liquidity: PosFloat = Field(description="the lending pool's reserve of the pushed asset (asset units)")
    quote_liquidity: NonNegFloat = Field(0.0, description="its reserve of the debt asset (quote units)")
