"""The base of every scenario and unit configuration model, and the number types they share.

A leaf module (it imports only pydantic and the leaf :mod:`liqcascade.bounds`): the scenario,
the unit folders' ``model.py`` files and the registries all build on it without importing each
other. Every model refuses a finite number beyond what the engine's float64 arithmetic carries.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from liqcascade.bounds import check_magnitude

PosFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)]


class Strict(BaseModel):
    """A configuration table: unknown keys are refused.

    ``RENAMED`` maps keys an older version read to their replacement (``lag_steps`` →
    ``lag_seconds``): a table that still uses one gets a one-line error naming the new key.
    """

    model_config = ConfigDict(extra="forbid", frozen=False)

    # no finite number beyond what float64 arithmetic in the engine carries (liqcascade.bounds)
    _float64_range = field_validator("*", mode="after")(check_magnitude)

    RENAMED: ClassVar[dict[str, str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _renamed_keys(cls, data):
        if isinstance(data, dict):
            for old, new in cls.RENAMED.items():
                if old in data:
                    raise ValueError(f"{old}: replaced by {new} (durations are in seconds; one step is "
                                     "simulation.dt_seconds)")
        return data


__all__ = ["Fraction", "NonNegFloat", "PosFloat", "Strict"]
