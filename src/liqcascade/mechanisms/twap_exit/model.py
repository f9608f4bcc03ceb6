"""Configuration of the twap exit (``[mechanisms.twap_exit]``)."""

from __future__ import annotations

from pydantic import Field

from ..base import Mechanism


class TwapExit(Mechanism):
    """Seized collateral is sold in equal slices over ``slices`` consecutive steps instead of one
    market order (time-weighted exit, as liquidators and Maker keepers do on thin books)."""

    slices: int = Field(10, ge=1, description="steps over which each step's seized collateral is sold")


#: the table's model (the registry reads it)
CONFIG = TwapExit

#: the real system(s) that use it (sections of protocol-mechanics.md)
REAL_SYSTEM = (
    'keepers and liquidators splitting sales over time on thin books (practice, not a protocol rule)'
)

#: does it reduce the loss, or only move it (and to whom)? (docs/mechanisms.md, 'Who bears the loss')
VERDICT = 'moves price risk to the liquidators (they hold the unsold slices); does not reduce bad debt'
