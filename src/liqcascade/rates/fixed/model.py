"""Configuration of a fixed, per-second compounded borrow rate (Maker's stability fee)."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from ...strict import Strict
from . import kernel as K


class FixedRate(Strict):
    """A stability fee: ``annual`` (e.g. 0.02 for 2 % a year, converted as the Maker spells do)
    or ``duty_ray`` (the on-chain per-second value, e.g. ``"1000000000627937192491029810"``);
    ``base`` is the jug's global add-on as an annual fee (usually 0)."""

    kind: Literal["fixed"] = "fixed"
    annual: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] | None = None
    duty_ray: str | None = Field(None, pattern=r"^[0-9]{28}$", description="per-second rate in ray (27 decimals)")
    base: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] = 0.0

    @model_validator(mode="after")
    def _check(self):
        if (self.annual is None) == (self.duty_ray is None):
            raise ValueError("give exactly one of annual or duty_ray")
        if self.duty_ray is not None and int(self.duty_ray) < 10**27:
            raise ValueError("duty_ray must be >= 1e27 (a rate below one shrinks debt)")
        return self

    def per_second(self) -> float:
        if self.duty_ray is not None:
            return (int(self.duty_ray) - 10**27) / 1e27
        return float(K.per_second_rate(self.annual))

    def pack(self) -> np.ndarray:
        par = np.zeros(K.NFP)
        par[K.FP_RATE] = self.per_second()
        par[K.FP_BASE] = float(K.per_second_rate(self.base)) if self.base else 0.0
        return par

    @staticmethod
    def initial_state() -> np.ndarray:
        st = np.zeros(K.NFS)
        st[K.FS_RATE] = 1.0
        return st
