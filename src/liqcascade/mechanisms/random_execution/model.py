"""Configuration of the random execution (``[mechanisms.random_execution]``)."""

from __future__ import annotations

from pydantic import Field

from ...strict import PosFloat
from ..base import Mechanism


class RandomExecution(Mechanism):
    """An opaque settlement queue: each position is liquidated at a step drawn uniformly within
    ``window_seconds`` after it becomes liquidatable (seeded), so hunters cannot time the sales."""

    RENAMED = {"window_steps": "window_seconds"}

    window_seconds: PosFloat = Field(600.0, description="width of the random execution window (at least one step)")


#: the table's model (the registry reads it)
CONFIG = RandomExecution

#: the real system(s) that use it (sections of protocol-mechanics.md)
REAL_SYSTEM = 'no deployed lending protocol: a design against liquidation hunting'

#: does it reduce the loss, or only move it (and to whom)? (docs/mechanisms.md, 'Who bears the loss')
VERDICT = 'against hunting, not bad debt: delaying liquidation adds bad debt on a falling price'
