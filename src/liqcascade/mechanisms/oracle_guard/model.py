"""Configuration of the oracle guard (``[mechanisms.oracle_guard]``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ...strict import Fraction, PosFloat
from ..base import Mechanism


class OracleGuard(Mechanism):
    """Smooth the price protocols read: TWAP, EMA or a median of all venues, with an optional
    deviation guard capping the move per update (crvUSD's limiter, §8.6; Liquity's 50 % rule, §8.7)."""

    RENAMED = {"window_steps": "window_seconds", "half_life_steps": "half_life_seconds"}

    kind: Literal["twap", "ema", "median"] = Field("twap", description="smoothing replacing the protocol's oracles")
    window_seconds: PosFloat = Field(1800.0, description="TWAP window (at least one step)")
    half_life_seconds: PosFloat = Field(600.0, description="EMA half-life")
    max_jump: Fraction = Field(0.0, description="largest move per update (0 = no guard)")


#: the table's model (the registry reads it)
CONFIG = OracleGuard

#: the real system(s) that use it (sections of protocol-mechanics.md)
REAL_SYSTEM = (
    'crvUSD oracle change limiter (§5.3, §8.6); Liquity PriceFeed 50 % rule (§4.7, §8.7); Uniswap v3 '
    'TWAP oracles (§7.2)'
)

#: does it reduce the loss, or only move it (and to whom)? (docs/mechanisms.md, 'Who bears the loss')
VERDICT = (
    'moves the loss to liquidators: positions are liquidated at the stale, higher price, which '
    'mechanical liquidators pay; rational liquidators wait instead, and bad debt falls less'
)

#: protocol units with their own built-in version
BUILT_IN = 'maker (OSM delay)'
