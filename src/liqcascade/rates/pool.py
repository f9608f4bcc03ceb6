"""``[protocols.rates.ASSET]``: the rate model and lending pool of one debt asset of an Aave-rule
protocol, as the time loop runs it (:mod:`liqcascade.kernels.accrual`).

``kind`` picks the rate model (its parameters as in its folder's ``model.py``); the pool fields
(``supply``, ``utilization``) and the lenders' and borrowers' behaviour are common to the kinds
that have a pool (``aave_v3``, ``comet``). ``fixed`` (Maker's stability fee) and ``liquity`` (a
one-off fee, no interest) have no pool: nothing to withdraw, nothing to cap.

Defaults, with their sources:

* ``aave_v3``: ``optimal_usage = 0.9, base = 0, slope1 = 0.04, slope2 = 0.6`` — the stablecoin
  strategy ``rateStrategyStableOne`` of aave/aave-v3-deploy (``markets/test/rateStrategies.ts``;
  the same numbers as Aave v3 Ethereum's USDC strategy at launch); ``reserve_factor = 0.1``.
* ``comet``: the ``cUSDCv3-launch`` preset (compound-finance/comet@d5a30b0
  ``deployments/mainnet/usdc/configuration.json``), any field overridable.
* ``fixed``: ``annual`` required (no default fee).
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from ..strict import Strict

Frac = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
NonNeg = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class _Pool(Strict):
    supply: Annotated[float, Field(gt=0, allow_inf_nan=False)] = Field(
        description="lenders' deposits at the start, units of the debt asset")
    utilization: Frac | None = Field(
        None, description="borrows / supply at the start (default: the book's debt of this asset / supply); "
        "the book's debt counts inside it")
    withdraw_per_step: Frac = Field(
        0.0, description="lenders' exits: fraction of the claims not yet queued that ask to withdraw each step "
        "of the window (served up to the available liquidity; the rest is locked out and stays queued)")
    withdraw_start_seconds: NonNeg = Field(0.0, description="start of the withdrawal window")
    withdraw_for_seconds: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = Field(
        None, description="length of the withdrawal window (default: to the end of the run)")
    react_rate: NonNeg = Field(
        0.0, description="borrow rate per year above which borrowers repay (0: no reaction)")
    react_repay: Frac = Field(0.01, description="fraction of their debt borrowers repay per step above react_rate")


class AaveV3Pool(_Pool):
    kind: Literal["aave_v3"] = "aave_v3"
    optimal_usage: Annotated[float, Field(ge=0.01, le=0.99, allow_inf_nan=False)] = 0.9
    base: NonNeg = 0.0
    slope1: NonNeg = 0.04
    slope2: NonNeg = 0.6
    reserve_factor: Frac = 0.1

    def model(self):
        from .aave_v3.model import AaveV3Rates

        return AaveV3Rates(optimal_usage=self.optimal_usage, base=self.base, slope1=self.slope1,
                           slope2=self.slope2, reserve_factor=self.reserve_factor)

    @model_validator(mode="after")
    def _check(self):
        self.model()  # the contract's limits (slope1 <= slope2, max borrow rate)
        return self


class CometPool(_Pool):
    kind: Literal["comet"] = "comet"
    preset: str = "cUSDCv3-launch"
    supply_kink: Frac | None = None
    supply_slope_low: NonNeg | None = None
    supply_slope_high: NonNeg | None = None
    supply_base: NonNeg | None = None
    borrow_kink: Frac | None = None
    borrow_slope_low: NonNeg | None = None
    borrow_slope_high: NonNeg | None = None
    borrow_base: NonNeg | None = None

    def model(self):
        from .comet.model import PRESETS, CometRates

        if self.preset not in PRESETS:
            raise ValueError(f"preset: unknown {self.preset!r}; known: {sorted(PRESETS)}")
        kw = dict(PRESETS[self.preset])
        for k in kw:
            v = getattr(self, k)
            if v is not None:
                kw[k] = v
        return CometRates(**kw)

    @model_validator(mode="after")
    def _check(self):
        self.model()
        return self


class FixedPool(Strict):
    kind: Literal["fixed"] = "fixed"
    annual: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] | None = None
    duty_ray: str | None = Field(None, pattern=r"^[0-9]{28}$")
    base: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] = 0.0
    react_rate: NonNeg = 0.0
    react_repay: Frac = 0.01

    def model(self):
        from .fixed.model import FixedRate

        return FixedRate(annual=self.annual, duty_ray=self.duty_ray, base=self.base)

    @model_validator(mode="after")
    def _check(self):
        self.model()
        return self


class LiquityPool(Strict):
    kind: Literal["liquity"] = "liquity"
    base_rate: Frac = 0.0

    def model(self):
        from .liquity.model import LiquityFee

        return LiquityFee(base_rate=self.base_rate)


RatePool = Annotated[Union[AaveV3Pool, CometPool, FixedPool, LiquityPool], Field(discriminator="kind")]

__all__ = ["AaveV3Pool", "CometPool", "FixedPool", "LiquityPool", "RatePool"]
