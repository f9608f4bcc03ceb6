"""Configuration of the hedger (``[agents.hedger]``)."""

from __future__ import annotations

from pydantic import Field

from ...strict import PosFloat, Strict


class Hedger(Strict):
    """Option market makers short gamma: to stay delta-neutral they sell as the price falls and buy
    as it rises, ``gamma_notional · Δp/p`` of quote per step."""

    asset: str | None = Field(None, description="asset hedged (default: the first risky asset)")
    gamma_notional: PosFloat = Field(description="quote traded per unit relative price move (short gamma > 0)")


#: the table's model (the registry reads it)
CONFIG = Hedger

#: the real system(s) that use it (sections of protocol-mechanics.md)
REAL_SYSTEM = 'option dealers short gamma hedging delta (sell into falls, buy into rises)'
