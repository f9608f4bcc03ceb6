"""Configuration of the circuit breaker (``[mechanisms.circuit_breaker]``)."""

from __future__ import annotations

from pydantic import Field

from ...strict import Fraction, NonNegFloat, PosFloat
from ..base import Mechanism


class CircuitBreaker(Mechanism):
    """Pause liquidations when the oracle moves more than ``threshold`` within ``window_seconds``
    (Aave's reserve pause and grace period, §1.7; the sequencer sentinel's HF exemption, §1.8;
    Maker's ClipperMom, §3.5)."""

    RENAMED = {"window_steps": "window_seconds", "pause_steps": "pause_seconds", "grace_steps": "grace_seconds"}

    threshold: Fraction = Field(0.10, description="trip when an oracle price falls more than this share within the window")
    window_seconds: PosFloat = Field(1800.0, description="look-back window of the trip test (at least one step)")
    pause_seconds: PosFloat = Field(3600.0, description="how long liquidations stay paused after a trip (at least one step)")
    grace_seconds: NonNegFloat = Field(0.0, description="time after resuming in which only exempt positions are liquidated")
    exempt_hf: NonNegFloat = Field(0.0, description="positions with HF below this are liquidated even while paused or in grace (Aave sentinel: 0.95; 0 = none)")


#: the table's model (the registry reads it)
CONFIG = CircuitBreaker

#: the real system(s) that use it (sections of protocol-mechanics.md)
REAL_SYSTEM = (
    'Aave v3 reserve pause + liquidation grace period (§1.7, §8.1); Aave PriceOracleSentinel with its'
    ' HF < 0.95 exemption (§1.8); Maker ClipperMom tripBreaker (§3.5, §8.2)'
)

#: does it reduce the loss, or only move it (and to whom)? (docs/mechanisms.md, 'Who bears the loss')
VERDICT = (
    'moves the loss in time: liquidations wait out the pause; bad debt falls only if the price '
    'recovers during it, and rises if it keeps falling'
)

#: protocol units with their own built-in version
BUILT_IN = 'maker (ClipperMom / clip `stopped`)'
