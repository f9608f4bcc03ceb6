"""Configuration of an external liquidation flow (``[flow]``): a series file, its column mapping
and how its volumes are sent into a venue. See ``README.md`` in this folder."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from liqcascade.flow.backstop.model import Backstop
from liqcascade.strict import NonNegFloat, PosFloat, Strict


class Flow(Strict):
    """An exogenous forced-sale (and forced-buy) series driving one venue."""

    file: str = Field(description="CSV or Parquet series, relative to the scenario file")
    venue: str = Field(description="name of the [[venues]] entry the flow trades on")
    time: str = Field("timestamp", description="time column: epoch s / ms / µs or ISO 8601")
    bid: str | None = Field("bid_price", description="best-bid column (the reference is the bid/ask mid)")
    ask: str | None = Field("ask_price", description="best-ask column")
    price: str | None = Field(None, description="a price column to use as the reference instead of bid/ask")
    sells: str | None = Field(None, description="column of forced sales (long liquidations)")
    buys: str | None = Field(None, description="column of forced buys (short liquidations)")
    units: Literal["base", "quote"] = Field("base", description="volumes in asset units or in quote (converted at the mid)")
    side: Literal["both", "sells", "buys"] = Field("both", description="which of the two flows is sent")
    multiplier: NonNegFloat = Field(1.0, description="every volume is multiplied by this")
    max_slippage: PosFloat = Field(
        1.0, description="forced orders fill only within this fraction of the reference (sells down to "
                         "ref·(1-s), buys up to ref·(1+s)); the rest is unfilled")
    start: str | None = Field(None, description="first time used (ISO 8601 or epoch), inclusive")
    end: str | None = Field(None, description="last time used (ISO 8601 or epoch), inclusive")
    backstop: Backstop | None = Field(None, description="a stability/backstop pool in front of the venue")

    @model_validator(mode="after")
    def _check(self):
        if self.price is None and (self.bid is None or self.ask is None):
            raise ValueError("give price = \"<column>\" or both bid and ask columns")
        if self.sells is None and self.buys is None:
            raise ValueError("give at least one volume column: sells = \"<column>\" and/or buys = \"<column>\"")
        if self.side == "sells" and self.sells is None:
            raise ValueError("side = \"sells\" needs a sells column")
        if self.side == "buys" and self.buys is None:
            raise ValueError("side = \"buys\" needs a buys column")
        return self
