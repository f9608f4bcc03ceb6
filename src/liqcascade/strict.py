"""The base of every scenario and unit configuration model, and the number types they share.

A leaf module (it imports only pydantic): the scenario, the unit folders' ``model.py`` files and
the registries all build on it without importing each other.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

PosFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)]


class Strict(BaseModel):
    """A configuration table: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=False)


__all__ = ["Fraction", "NonNegFloat", "PosFloat", "Strict"]
