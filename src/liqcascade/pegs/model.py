"""Configuration of a pegged asset (``[[pegs]]`` in a scenario file)."""

from __future__ import annotations

from pydantic import Field

from ..strict import PosFloat, Strict


class PegSeries(Strict):
    """A recorded market/fundamental ratio: ``numerator / denominator`` (both prices of the
    same unit, e.g. stETH and ETH in USD, or BTC in USD and BTC in USDC), read from
    ``time,price`` CSVs, CoinGecko exports (``symbol,timestamp,USD_price``, ms) or 1-minute bar
    files (``open_time,open,high,low,close,volume``; the close is used)."""

    numerator: str = Field(min_length=1, description="price file of the pegged asset (or its market)")
    denominator: str | None = Field(None, description="price file of what it is pegged to (default: 1)")
    start: str = Field(min_length=1, description="ISO-8601 time (UTC) of the run's first step")


class Peg(Strict):
    asset: str = Field(min_length=1)
    fundamental: PosFloat = Field(1.0, description="fundamental value at t = 0 in the quote unit (1 for a "
                                                   "stablecoin; the exchange/redemption rate of an LST)")
    drift_per_year: float = Field(0.0, ge=-1.0, le=1.0,
                                  description="continuous growth of the fundamental per 365-day year "
                                              "(an LST's staking yield); 0 for a stablecoin")
    series: PegSeries | None = Field(
        None, description="recorded market/fundamental ratio: the asset's venues are moved along "
                          "fundamental(t) × ratio(t), rescaled to the asset's start price (the exogenous flow)")

    def fundamental_at(self, seconds):
        """The fundamental value ``seconds`` after the start."""
        import numpy as np

        return self.fundamental * np.exp(self.drift_per_year * np.asarray(seconds, dtype=float) / YEAR_SECONDS)


YEAR_SECONDS = 365.0 * 86400.0
