"""The base of every mechanism's configuration (``mechanisms/<name>/model.py``): the
``applies_to`` field they all carry, and the ``Share`` type (a fraction in [0, 1])."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ..strict import Strict

Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class Mechanism(Strict):
    applies_to: list[str] | None = Field(
        None, min_length=1, description="protocol names the mechanism acts on (default: every Aave-rule protocol)")
