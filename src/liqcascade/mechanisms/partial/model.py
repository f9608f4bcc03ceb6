"""Configuration of the partial (``[mechanisms.partial]``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ...strict import NonNegFloat
from ..base import Mechanism


class Partial(Mechanism):
    """Gradual liquidation: at most ``close_factor`` of a position's debt per liquidation and at
    least ``cooldown_seconds`` between two liquidations of one position (Hyperliquid's 20 % slices
    and 30 s cooldown, §6.1; Euler's cool-off, §8.4). Soft liquidation is the crvUSD unit (§5)."""

    RENAMED = {"cooldown_steps": "cooldown_seconds"}

    close_factor: Annotated[float, Field(gt=0, le=1)] = Field(0.25, description="share of the debt one liquidation may repay")
    cooldown_seconds: NonNegFloat = Field(0.0, description="time between two liquidations of the same position")


#: the table's model (the registry reads it)
CONFIG = Partial

#: the real system(s) that use it (sections of protocol-mechanics.md)
REAL_SYSTEM = 'Hyperliquid 20 % partial liquidation and 30 s cooldown (§6.1, §8.8); Euler v2 cool-off (§8.4)'

#: does it reduce the loss, or only move it (and to whom)? (docs/mechanisms.md, 'Who bears the loss')
VERDICT = (
    'slower liquidation: on a fall that continues it adds bad debt (liquidators gain); it spares '
    'borrowers on a fall that recovers'
)

#: protocol units with their own built-in version
BUILT_IN = 'llamma (soft liquidation); perp (partial liquidation)'
