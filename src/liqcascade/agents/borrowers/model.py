"""Configuration of the borrowers (``[agents.borrowers]``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ...strict import NonNegFloat, Strict
from ...mechanisms.base import Share


class Borrowers(Strict):
    """A share of borrowers watch their health factor: below ``react_hf`` for ``delay_seconds``
    they top up collateral or repay debt to bring HF back to ``target_hf``."""

    RENAMED = {"delay_steps": "delay_seconds"}

    share: Share = Field(0.3, description="share of positions whose owners react")
    react_hf: Annotated[float, Field(gt=1, allow_inf_nan=False)] = Field(1.05, description="HF below which they act")
    target_hf: Annotated[float, Field(gt=1, allow_inf_nan=False)] = Field(1.3, description="HF they restore")
    delay_seconds: NonNegFloat = Field(300.0, description="reaction delay")
    action: Literal["topup", "deleverage"] = Field("topup", description="add collateral, or repay debt")


#: the table's model (the registry reads it)
CONFIG = Borrowers

#: the real system(s) that use it (sections of protocol-mechanics.md)
REAL_SYSTEM = 'borrowers (or their automation) topping up or deleveraging near HF 1'
