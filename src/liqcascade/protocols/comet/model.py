"""Compound v3 (Comet) — the unit's configuration (pydantic) and presets.

Validated by the scenario (``[[protocols]] kind = "comet"``, ``preset``, ``config``); the
rules and sources are in ``README.md`` in this folder, the state pack in :mod:`.pack`.
"""

from __future__ import annotations

import math

from pydantic import Field, model_validator

from liqcascade.protocols.comet import kernel as K
from liqcascade.strict import Strict

__all__ = ["CometAsset", "CometConfig", "PRESETS", "describe", "truncate_factor"]


def truncate_factor(x: float) -> float:
    """Comet keeps 4 decimals of each factor (integer division by 1e14 of an 18-decimal value)."""
    return math.floor(round(x * 1e4, 6)) / 1e4


class CometAsset(Strict):
    """One collateral asset of a Comet market (§2.1)."""

    borrow_collateral_factor: float = Field(
        ge=0, le=1, allow_inf_nan=False,
        description="borrowCF: share of the collateral value that counts for borrowing",
    )
    liquidate_collateral_factor: float = Field(
        gt=0, allow_inf_nan=False,
        description="liquidateCF: share that counts in the liquidation test (≤ 1)",
    )
    liquidation_factor: float = Field(
        ge=0, allow_inf_nan=False,
        description="LF: share of the collateral value credited to the borrower on absorb (≤ 1)",
    )
    supply_cap: float | None = Field(
        None, ge=0, description="supply cap in asset units (informational; not enforced in the step)"
    )

    @model_validator(mode="after")
    def _check(self):
        if self.liquidate_collateral_factor > 1:
            raise ValueError("liquidate_collateral_factor > 1 (Comet: LiquidateCFTooLarge)")
        if self.liquidation_factor > 1:
            raise ValueError("liquidation_factor > 1 (Comet: LiqPenaltyTooHigh)")
        if self.borrow_collateral_factor >= self.liquidate_collateral_factor:
            raise ValueError(
                "borrow_collateral_factor must be < liquidate_collateral_factor (Comet: BorrowCFTooLarge)"
            )
        if truncate_factor(self.borrow_collateral_factor) >= truncate_factor(self.liquidate_collateral_factor):
            raise ValueError(
                "borrow/liquidate collateral factors are equal once truncated to 4 decimals "
                "(Comet: BorrowCFTooLarge)"
            )
        return self


class CometConfig(Strict):
    """A Comet market: one base (borrowable) token, up to 15 collateral assets (§2)."""

    base: str = Field("USDC", min_length=1, description="base token (borrowed and supplied)")
    store_front_price_factor: float = Field(
        0.5, ge=0, le=1, allow_inf_nan=False,
        description="SFPF: buyCollateral discount = SFPF·(1 − LF) (Comet: BadDiscount if > 1)",
    )
    target_reserves: float = Field(
        5_000_000.0, ge=0, allow_inf_nan=False,
        description="buyCollateral is open only while reserves < targetReserves (base units)",
    )
    borrow_min: float = Field(
        100.0, ge=0, allow_inf_nan=False,
        description="baseBorrowMin: smallest borrow balance that can be opened (base units)",
    )
    initial_reserves: float = Field(
        0.0, allow_inf_nan=False, description="protocol reserves at the start (base units; may be negative)",
    )
    absorb_paused: bool = Field(False, description="PAUSE_ABSORB flag (§8.3)")
    buy_paused: bool = Field(False, description="PAUSE_BUY flag (§8.3)")
    record_buys: bool = Field(False, description="record each buyCollateral as an event with position -1")
    assets: dict[str, CometAsset] = Field(
        min_length=1, description="collateral assets in Comet's order: name -> factors"
    )

    @model_validator(mode="after")
    def _check(self):
        if len(self.assets) > K.MAX_ASSETS:
            raise ValueError(
                f"{len(self.assets)} collateral assets > MAX_ASSETS = {K.MAX_ASSETS} (Comet: TooManyAssets)"
            )
        if self.base in self.assets:
            raise ValueError(f"the base token {self.base!r} cannot also be a collateral asset")
        return self


def _asset(borrow_cf: float, liquidate_cf: float, lf: float) -> dict:
    return {"borrow_collateral_factor": borrow_cf, "liquidate_collateral_factor": liquidate_cf,
            "liquidation_factor": lf}


# Launch configuration of cUSDCv3 on Ethereum mainnet (§2.4: deployments/mainnet/usdc/
# configuration.json, the initial configuration; governance has changed values since).
PRESETS: dict[str, dict] = {
    "cUSDCv3-launch": {
        "base": "USDC",
        "store_front_price_factor": 0.5,
        "target_reserves": 5_000_000.0,
        "borrow_min": 100.0,
        "assets": {
            "WETH": _asset(0.825, 0.895, 0.95),
            "WBTC": _asset(0.7, 0.77, 0.95),
            "COMP": _asset(0.65, 0.7, 0.93),
            "UNI": _asset(0.75, 0.81, 0.93),
            "LINK": _asset(0.79, 0.85, 0.93),
        },
    },
}


def describe() -> list[tuple[str, object, str]]:
    """``(parameter, default, description)`` for every configuration field."""
    out = []
    for name, f in CometConfig.model_fields.items():
        default = "required" if f.is_required() else f.default
        out.append((name, default, f.description or ""))
    for name, f in CometAsset.model_fields.items():
        default = "required" if f.is_required() else f.default
        out.append((f"assets.<name>.{name}", default, f.description or ""))
    return out


#: the model of a `kind = "comet"` protocol's `config` table (see `liqcascade.protocols.config_class`)
CONFIG = CometConfig
