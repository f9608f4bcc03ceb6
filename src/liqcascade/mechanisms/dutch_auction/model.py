"""Configuration of the dutch auction (``[mechanisms.dutch_auction]``)."""

from __future__ import annotations

from pydantic import Field, model_validator

from ...strict import NonNegFloat, PosFloat
from ..base import Mechanism


class DutchAuction(Mechanism):
    """Replace the fixed liquidation bonus by one that rises from ``start_bonus`` to ``max_bonus``
    over ``rise_seconds`` after a position first becomes liquidatable (Euler v2's reverse Dutch
    auction, §8.4; Maker's clip, §3.3)."""

    RENAMED = {"steps_to_max": "rise_seconds"}

    start_bonus: NonNegFloat = Field(0.0, description="bonus when the position first becomes liquidatable")
    max_bonus: NonNegFloat = Field(0.15, description="bonus cap")
    rise_seconds: PosFloat = Field(1800.0, description="time for the bonus to rise from start to max (at least one step)")

    @model_validator(mode="after")
    def _order(self):
        if self.max_bonus < self.start_bonus:
            raise ValueError("max_bonus must be ≥ start_bonus")
        return self


#: the table's model (the registry reads it)
CONFIG = DutchAuction

#: the real system(s) that use it (sections of protocol-mechanics.md)
REAL_SYSTEM = 'Euler v2 reverse Dutch auction discount (§8.4); Maker clip auction price curves (§3.3–3.4)'

#: does it reduce the loss, or only move it (and to whom)? (docs/mechanisms.md, 'Who bears the loss')
VERDICT = (
    'reduces bad debt and borrower loss: a lower bonus seizes less collateral per debt repaid; '
    'liquidators earn less (rational ones wait until it pays)'
)

#: protocol units with their own built-in version
BUILT_IN = 'maker (clip auction)'
