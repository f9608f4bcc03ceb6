"""Liquity v1 — the unit's configuration (pydantic) and presets.

Validated by the scenario (``[[protocols]] kind = "liquity"``, ``preset``, ``config``); the
rules and sources are in ``README.md`` in this folder, the state pack in :mod:`.pack`.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from liqcascade.strict import Strict


Fraction = Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)]
NonNegFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
FAMILY = "liquity"


class LiquityConfig(Strict):
    """Liquity v1 parameters. Defaults are the v1 mainnet constants (§4.1)."""

    mcr: Annotated[float, Field(gt=1, allow_inf_nan=False)] = Field(
        1.10, description="MCR, minimum collateral ratio per trove (§4.1)")
    ccr: Annotated[float, Field(gt=1, allow_inf_nan=False)] = Field(
        1.50, description="CCR, recovery mode when TCR < CCR (§4.1, §4.2)")
    gas_compensation: NonNegFloat = Field(
        200.0, description="LUSD_GAS_COMPENSATION: part of every trove's debt, paid to the liquidator (§4.1)")
    min_net_debt: NonNegFloat = Field(
        1800.0, description="MIN_NET_DEBT: minimum debt without the gas reserve (§4.1)")
    percent_divisor: Annotated[float, Field(ge=1, allow_inf_nan=False)] = Field(
        200.0, description="PERCENT_DIVISOR: collateral gas compensation = coll / 200 (§4.1)")
    stability_pool: NonNegFloat = Field(
        0.0, description="LUSD in the Stability Pool, one depositor (ignored when `depositors` is given)")
    depositors: list[NonNegFloat] | None = Field(
        None, description="LUSD deposit of each Stability Pool depositor")
    variant: Literal["2021", "2025"] = Field(
        "2021", description="2021: mainnet-era code, the whole pool is usable; 2025: repo HEAD, "
                            "MIN_LUSD_IN_SP stays in the pool (§4.5)")
    min_lusd_in_sp: NonNegFloat = Field(1.0, description="MIN_LUSD_IN_SP (variant 2025, §4.5)")
    sp_sells: Fraction = Field(
        0.0, description="fraction of their collateral gains depositors sell at once (0: they hold)")
    sequences_per_step: int = Field(
        1, ge=1, description="liquidateTroves calls per step (the next call sees the redistribution)")
    batch_gas_base: NonNegFloat | None = Field(
        None, description="gas cost (quote) of one batchLiquidateTroves call's fixed part; with "
                          "batch_gas_per_trove it replaces liquidators.gas_cost per trove (base + per-trove rule)")
    batch_gas_per_trove: NonNegFloat | None = Field(
        None, description="gas cost (quote) of each trove in a batch (the batch rule; see batch_gas_base)")
    check_min_debt: bool = Field(
        True, description="refuse troves whose debt − gas_compensation < min_net_debt")

    @model_validator(mode="after")
    def _check(self):
        if self.ccr < self.mcr:
            raise ValueError(f"ccr {self.ccr} is below mcr {self.mcr}")
        if self.depositors is not None and self.stability_pool > 0:
            raise ValueError("give either stability_pool or depositors, not both")
        if (self.batch_gas_base is None) != (self.batch_gas_per_trove is None):
            raise ValueError("give both batch_gas_base and batch_gas_per_trove (the batch rule), or neither")
        return self

    def deposits(self) -> np.ndarray:
        if self.depositors is not None:
            return np.asarray(self.depositors, dtype=np.float64)
        return np.asarray([self.stability_pool], dtype=np.float64)


#: v1 constants (§4.1); the 2025 preset differs only by the MIN_LUSD_IN_SP rule (§4.5).
PRESETS: dict[str, LiquityConfig] = {
    "v1-mainnet": LiquityConfig(),
    "v1-2025": LiquityConfig(variant="2025"),
}


def describe() -> dict:
    """What this unit models, for reports and ``--help`` texts."""
    return {
        "family": FAMILY,
        "title": "Liquity v1 (troves, Stability Pool, redistribution, recovery mode)",
        "reference": "shared/reference/protocol-mechanics.md §4 (liquity/dev b9dcdbd3 and 39f1f7f8)",
        "exact": [
            "ICR/TCR on entire amounts incl. pending rewards; recovery mode when TCR < CCR (§4.2)",
            "normal mode: full liquidation, gas compensation coll/200 + 200 LUSD, offset min(debt, SP), "
            "rest redistributed (§4.3)",
            "recovery mode: ICR ≤ 100 % redistribute; 100 %–MCR offset then redistribute; MCR–TCR with "
            "debt ≤ SP capped offset at debt·MCR/price, surplus to CollSurplusPool; else skipped (§4.4)",
            "sequence from the lowest ICR, TCR recomputed after each trove, switch back to normal mode "
            "mid-sequence, never the last trove (§4.4)",
            "Stability Pool losses and gains pro rata to deposits; 2021 whole pool vs 2025 MIN_LUSD_IN_SP (§4.5)",
            "redistribution by stake through L_ETH / L_LUSDDebt, pending rewards read lazily (§4.6)",
        ],
        "simplified": [
            "real-number amounts: no 18-decimal rounding, error feedback or P/S scale shifts",
            "per-depositor pro-rata arrays instead of the product P / sum S; no LQTY, no front ends",
            "LUSD = 1 quote unit; no redemptions, borrowing fees, new troves or adjustments",
            "stakes = collateral at build time (fresh system); deposits and troves are passive",
            "liquidators need no capital; LQ_MAX is liquidateTroves' n (troves visited per call)",
        ],
        "config": list(LiquityConfig.model_fields),
        "presets": list(PRESETS),
    }


#: the model of a `kind = "liquity"` protocol's `config` table (see `liqcascade.protocols.config_class`)
CONFIG = LiquityConfig
