"""Aave v3 (``kind = "aave_v3"``) — a protocol entry of the scenario and its per-asset parameters.

Aave's rules are built into the static solver and the time loop (``kernel.py``); this model is
the ``[[protocols]]`` table of an Aave-style protocol, validated as Aave's ``PoolConfigurator``
would (see ``README.md`` in this folder).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from liqcascade.rates.pool import RatePool
from liqcascade.strict import Fraction, NonNegFloat, PosFloat, Strict

__all__ = ["AssetParams", "Protocol"]


class AssetParams(Strict):
    ltv: Fraction | None = None
    liquidation_threshold: Fraction
    liquidation_bonus: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = Field(
        None, description="liquidation bonus (required with incentive = 'fixed'; Morpho and Euler derive theirs)")
    protocol_fee: Fraction = 0.10

    @model_validator(mode="after")
    def _check(self):
        if self.ltv is not None and self.ltv > self.liquidation_threshold:
            raise ValueError(
                f"ltv {self.ltv} exceeds liquidation_threshold {self.liquidation_threshold}"
            )
        return self


class Protocol(Strict):
    name: str = Field(min_length=1)
    kind: Literal["aave_v3"] = "aave_v3"
    positions: str = Field(description="CSV or Parquet, relative to the scenario file")
    collateral: str | None = Field(None, description="collateral asset for the wide format id,collateral,debt")
    debt: str = Field(description="debt asset of wide-format files and synthetic books (long files name theirs per row)")
    close_factor_rule: Literal["v3.3", "v3.2", "fixed"] = "v3.3"
    close_factor: Annotated[float, Field(gt=0, le=1)] = 0.5
    hf_close_factor_threshold: PosFloat = 0.95
    min_base_close_factor: NonNegFloat = 2000.0
    min_leftover: NonNegFloat = 1000.0
    oracles: dict[str, str] = Field(default_factory=dict, description="asset -> oracle name")
    params: dict[str, AssetParams]
    allow_unsafe_bonus: bool = Field(
        False, description="accept LT·(1+bonus) > 1, which Aave's configurator refuses"
    )
    incentive: Literal["fixed", "morpho", "euler"] = Field(
        "fixed", description="liquidation incentive: the asset's fixed bonus (Aave), Morpho Blue's LIF from the "
        "LLTV (§8.5), or Euler v2's discount growing with 1 − HF (§8.4); morpho and euler have no close factor")
    morpho_cursor: Fraction = Field(0.3, description="Morpho LIQUIDATION_CURSOR")
    morpho_max_lif: Annotated[float, Field(ge=1, le=2, allow_inf_nan=False)] = Field(
        1.15, description="Morpho MAX_LIQUIDATION_INCENTIVE_FACTOR")
    euler_max_discount: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)] = Field(
        0.15, description="Euler maxLiquidationDiscount")
    rates: dict[str, RatePool] = Field(
        default_factory=dict, description="debt asset -> interest-rate model and lending pool (none: no accrual)")

    @model_validator(mode="after")
    def _check_bonus(self):
        if self.incentive != "fixed":
            for f in ("close_factor_rule", "close_factor"):
                if f in self.model_fields_set:
                    raise ValueError(f"{f}: incentive = {self.incentive!r} has no close factor (the whole debt may be repaid)")
        else:
            for asset, p in self.params.items():
                if p.liquidation_bonus is None:
                    raise ValueError(f"params.{asset}.liquidation_bonus: required with incentive = 'fixed'")
        if self.incentive == "fixed" and not self.allow_unsafe_bonus:
            for asset, p in self.params.items():
                if p.liquidation_threshold * (1 + p.liquidation_bonus) > 1 + 1e-12:
                    raise ValueError(
                        f"params.{asset}: liquidation_threshold·(1+liquidation_bonus) = "
                        f"{p.liquidation_threshold * (1 + p.liquidation_bonus):.4f} > 1 "
                        "(Aave's configurator refuses this; set allow_unsafe_bonus = true to accept)"
                    )
        return self
