"""Configuration of a concentrated-liquidity (Uniswap v3) venue, validated at the edge."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from ...strict import Strict

PosFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]

#: v3-core fee tiers and their tick spacings (UniswapV3Factory constructor: 500 → 10, 3000 → 60,
#: 10000 → 200; 100 → 1 was enabled later by governance)
FEE_TICK_SPACING = {0.0001: 1, 0.0005: 10, 0.003: 60, 0.01: 200}


class SyntheticRanges(Strict):
    """Liquidity as a normal density in log price around the pool's price (see
    :func:`snapshot.synthetic_ranges`)."""

    tvl: PosFloat = Field(description="value of all positions at the current price, in the quote token")
    sigma: PosFloat = Field(0.1, description="standard deviation of the density in log price")
    cut: PosFloat = Field(3.0, description="buckets within cut·sigma of the price hold liquidity")
    full_range_share: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.0


class ConcentratedVenue(Strict):
    """A Uniswap v3 pool in which ``asset`` is sold for ``quote``.

    ``price`` is the asset's current price in quote units. ``asset_is_token0`` says which side of
    the pool the asset is (the pool's own price is token1 per token0). Ranges come from a CSV
    snapshot (``ticks_file``: ``tick_lower,tick_upper,liquidity`` in raw on-chain units, with the
    tokens' ``decimals0``/``decimals1``) or from ``synthetic``.
    """

    name: str = Field(min_length=1)
    kind: Literal["concentrated"] = "concentrated"
    asset: str = Field(min_length=1)
    quote: str = Field(min_length=1)
    price: PosFloat = Field(description="asset price in quote units")
    fee: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = 0.003
    tick_spacing: int | None = Field(None, ge=1, le=16384, description="default: the fee tier's spacing")
    asset_is_token0: bool = True
    decimals0: int = Field(0, ge=0, le=36)
    decimals1: int = Field(0, ge=0, le=36)
    ticks_file: str | None = None
    synthetic: SyntheticRanges | None = None

    @model_validator(mode="after")
    def _check(self):
        if self.asset == self.quote:
            raise ValueError("asset and quote must be different tokens")
        if (self.ticks_file is None) == (self.synthetic is None):
            raise ValueError("give exactly one of ticks_file or synthetic")
        if self.tick_spacing is None and self.fee not in FEE_TICK_SPACING:
            raise ValueError(f"fee {self.fee} is not a v3 tier {sorted(FEE_TICK_SPACING)}: give tick_spacing")
        return self

    @property
    def spacing(self) -> int:
        return self.tick_spacing if self.tick_spacing is not None else FEE_TICK_SPACING[self.fee]

    @property
    def pool_price(self) -> float:
        """token1 per token0."""
        return self.price if self.asset_is_token0 else 1.0 / self.price

    def snapshot(self, base_dir: Path | str = "."):
        from . import snapshot as S  # NumPy and the kernels: loaded when a snapshot is built

        if self.ticks_file is not None:
            return S.load_tick_csv(Path(base_dir) / self.ticks_file, tick_spacing=self.spacing)
        syn = self.synthetic
        # the quote is token1 when the asset is token0; otherwise convert quote (token0) to token1
        tvl_token1 = syn.tvl if self.asset_is_token0 else syn.tvl * self.pool_price
        return S.synthetic_ranges(self.pool_price, tvl_token1, tick_spacing=self.spacing, sigma=syn.sigma,
                                  cut=syn.cut, full_range_share=syn.full_range_share,
                                  decimals0=self.decimals0, decimals1=self.decimals1)

    def pack(self, base_dir: Path | str = "."):
        """``(cs, tk_sqrt, tk_net, tk_tick)`` for the kernels."""
        from . import snapshot as S

        return S.build_state(self.snapshot(base_dir), self.pool_price, self.fee,
                             asset_is_token0=self.asset_is_token0, decimals0=self.decimals0,
                             decimals1=self.decimals1)


__all__ = ["ConcentratedVenue", "SyntheticRanges", "FEE_TICK_SPACING"]
