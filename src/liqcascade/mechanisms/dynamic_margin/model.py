"""Configuration of the dynamic margin (``[mechanisms.dynamic_margin]``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ...strict import Fraction, NonNegFloat, PosFloat
from ..base import Mechanism


class DynamicMargin(Mechanism):
    """Liquidation thresholds that tighten with realized volatility and network congestion, a
    liquidity-adjusted collateral haircut, a constant liquidation buffer, and leverage tiers by
    position size; by default a tighter threshold reaches the existing book over ``ramp_seconds``
    (Euler v2's liquidation-LTV ramp)."""

    RENAMED = {"vol_window_steps": "vol_window_seconds"}

    apply: Literal["ramp", "new_positions", "at_once"] = Field(
        "ramp", description="how a tighter threshold reaches the book: ramp = the existing book moves linearly to it "
                            "over ramp_seconds (Euler v2); new_positions = only new or increased positions (the "
                            "simulated book has none, so it does not act in a run); at_once = the whole book at "
                            "once (liquidates it immediately)")
    ramp_seconds: PosFloat = Field(86400.0, description="apply = ramp: time over which the in-force threshold moves "
                                                        "linearly from its old value to a tighter target")

    vol_window_seconds: PosFloat = Field(3600.0, description="window of the realized-volatility estimate (at least two steps)")
    vol_ref: NonNegFloat = Field(0.8, description="annualized volatility below which thresholds do not move")
    lt_per_vol: NonNegFloat = Field(0.1, description="LT multiplier lost per unit of annualized volatility above vol_ref")
    congestion_k: NonNegFloat = Field(0.0, description="LT multiplier lost per unit of gas multiple above 1 (with [agents.gas_auction])")
    haircut_k: NonNegFloat = Field(0.0, description="LT multiplier lost per unit share of venue depth lost since the start (every venue kind)")
    haircut_band: Annotated[float, Field(gt=0, lt=1)] = Field(
        0.02, description="the haircut's depth: quote the venues absorb before their price falls this far below the "
                          "price the protocol values the collateral at")
    buffer: Fraction = Field(0.0, description="constant reduction of the LT multiplier (liquidation buffer)")
    min_multiplier: Annotated[float, Field(gt=0, le=1)] = Field(0.7, description="floor of the LT multiplier")
    size_tiers: list[tuple[PosFloat, Annotated[float, Field(gt=0, le=1)]]] = Field(
        default_factory=list, description="[[collateral value above which, LT multiplier], ...] — leverage tiers by size")


#: the table's model (the registry reads it)
CONFIG = DynamicMargin

#: the real system(s) that use it (sections of protocol-mechanics.md)
REAL_SYSTEM = (
    "size tiers: Hyperliquid/Binance/Bybit margin tiers (§6.1–6.3); the ramp: Euler v2's liquidation-"
    'LTV ramp (EVK LTVConfig.getLTV/setLTV, §8.4); volatility, congestion and depth terms: a design '
    '(risk managers change LTs by governance, not by rule)'
)

#: does it reduce the loss, or only move it (and to whom)? (docs/mechanisms.md, 'Who bears the loss')
VERDICT = (
    'a tightening, so never fewer liquidations than none: the default ramp reaches the existing book '
    'slowly (within noise of none in a crash of hours); apply = at_once liquidates the book at once '
    'and deepens the drawdown'
)
