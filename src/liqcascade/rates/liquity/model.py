"""Configuration of Liquity v1's borrowing fee (the base rate at the start of a run)."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from ...strict import Strict
from . import kernel as K


class LiquityFee(Strict):
    """One-off borrowing fee ``min(0.5 % + baseRate, 5 %)`` with the base rate decaying at a
    12-hour half-life (constants of ``TroveManager.sol``; only the starting base rate is
    configurable, as on chain)."""

    kind: Literal["liquity"] = "liquity"
    base_rate: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.0
    seconds_since_last_fee_op: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0

    def initial_state(self, now: float = 0.0) -> np.ndarray:
        st = np.zeros(K.NLS)
        st[K.LS_BASE_RATE] = self.base_rate
        st[K.LS_LAST_OP] = now - self.seconds_since_last_fee_op
        return st
