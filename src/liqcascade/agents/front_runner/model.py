"""Configuration of the front runner (``[agents.front_runner]``)."""

from __future__ import annotations

from pydantic import Field

from ...strict import PosFloat, Strict
from ...mechanisms.base import Share


class FrontRunner(Strict):
    """Sees the liquidation sales queued in a step, sells ahead of them and buys back after."""

    asset: str | None = Field(None, description="asset traded (default: every risky asset)")
    capital: PosFloat = Field(description="quote value it may sell per step")
    share: Share = Field(1.0, description="sale size as a share of the queued liquidation sales")


#: the table's model (the registry reads it)
CONFIG = FrontRunner

#: the real system(s) that use it (sections of protocol-mechanics.md)
REAL_SYSTEM = 'searchers trading ahead of queued liquidation sales'
