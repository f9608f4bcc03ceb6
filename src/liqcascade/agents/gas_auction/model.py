"""Configuration of the gas auction (``[agents.gas_auction]``)."""

from __future__ import annotations

from pydantic import Field

from ...strict import NonNegFloat, PosFloat, Strict
from ...mechanisms.base import Share


class GasAuction(Strict):
    """Liquidators compete in a priority-gas auction: the winner pays a priority fee (a share of the
    liquidation's profit), gas rises with congestion (recent liquidations), and each liquidator sees
    a position ``latency_seconds`` after it becomes liquidatable."""

    RENAMED = {"latency_steps": "latency_seconds", "congestion_window_steps": "congestion_window_seconds"}

    competitors: int = Field(5, ge=1, description="liquidators bidding for each liquidation")
    priority_share: Share = Field(0.5, description="share of the expected profit the winner bids away (×(1 − 1/competitors))")
    latency_seconds: NonNegFloat = Field(0.0, description="time between a position becoming liquidatable and the first attempt")
    congestion_k: NonNegFloat = Field(0.0, description="gas multiplier rise per liquidation in the last congestion_window_seconds")
    congestion_window_seconds: PosFloat = Field(300.0, description="window of the congestion count (at least one step)")
    max_gas_multiple: PosFloat = Field(50.0, description="cap on the gas multiplier")


#: the table's model (the registry reads it)
CONFIG = GasAuction

#: the real system(s) that use it (sections of protocol-mechanics.md)
REAL_SYSTEM = 'Ethereum priority-gas auctions between liquidation bots'
