"""Perpetual-futures venues — the unit's configuration (pydantic) and presets.

Validated by the scenario (``[[protocols]] kind = "perp"``, ``preset``, ``config``); the
rules and sources are in ``README.md`` in this folder, the state pack in :mod:`.pack`.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Sequence, Union

import numpy as np
from pydantic import Field, model_validator

from liqcascade.funding.binance.model import BinanceFunding
from liqcascade.funding.hyperliquid.model import HyperliquidFunding
from liqcascade.protocols.perp import kernel as K
from liqcascade.strict import Fraction, NonNegFloat, PosFloat, Strict

__all__ = ["Tier", "PerpConfig", "PRESETS", "hyperliquid_tiers", "describe"]
OpenFraction = Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)]


#: the premium's fitted response ``P = a + phi · P_prev + beta · r`` per funding interval, from
#: ``calibration/funding.py`` on ``perp_venues_2025/funding_rates.parquet`` (+ candles), the
#: "returns" fits of the tables in ``funding/hyperliquid/README.md`` (hourly, 2025-03..2026-03) and
#: ``funding/binance/README.md`` (8-hourly); their out-of-sample errors are there too
PREMIUM_FITS: dict[str, tuple[float, float, float]] = {
    "hyperliquid_btc": (-3.80e-05, 0.905, 4.0e-03),
    "hyperliquid_eth": (-4.02e-05, 0.904, 2.9e-03),
    "hyperliquid_sol": (-5.90e-05, 0.835, 4.5e-03),
    "binance_btc": (-3.99e-04, 0.144, 1.5e-05),
    "binance_eth": (-3.97e-04, 0.155, 8.9e-04),
    "binance_sol": (-2.98e-04, 0.422, 2.2e-03),
}


class Tier(Strict):
    """One margin tier: applies to notionals above ``lower_bound`` (up to the next tier's)."""

    lower_bound: NonNegFloat = Field(description="notional (quote) above which the tier applies")
    mmr: OpenFraction = Field(description="maintenance margin rate")
    max_leverage: PosFloat | None = Field(None, description="informative")
    imr: Annotated[float, Field(gt=0, le=1)] | None = Field(
        None, description="initial margin rate (default 1/max_leverage, else 2·mmr)")

    def initial_rate(self) -> float:
        if self.imr is not None:
            return self.imr
        if self.max_leverage is not None:
            return min(1.0, 1.0 / self.max_leverage)
        return min(1.0, 2.0 * self.mmr)


class PerpConfig(Strict):
    """Rules of one perp venue (all markets of a pack share them unless tiers are given per
    market to :func:`build_pack`)."""

    name: str = Field("perp", min_length=1)
    tiers: list[Tier] = Field(min_length=1)
    # book liquidation
    slicing: Literal["full", "hyperliquid", "tier_down"] = Field(
        "full", description="full orders; Hyperliquid 20 % slices over 100k + cooldown; Bybit tier-down")
    slice_fraction: OpenFraction = 0.2
    slice_threshold: NonNegFloat = Field(100_000.0, description="notional over which positions are sliced")
    cooldown_seconds: NonNegFloat = 30.0
    order_limit: Literal["none", "bankruptcy", "dydx"] = Field(
        "none", description="market order; IOC at the bankruptcy price; dYdX fillable price")
    dydx_bankruptcy_adjustment: NonNegFloat = Field(1.0, description="BA (BankruptcyAdjustmentPpm / 1e6)")
    dydx_spread_to_mm: NonNegFloat = Field(0.1, description="SMMR (SpreadToMaintenanceMarginRatioPpm / 1e6)")
    liquidation_fee: Fraction = Field(0.0, description="clearance fee on the filled notional")
    fee_to_fund: Annotated[float, Field(ge=0, le=1)] = Field(1.0, description="share of the fee to the fund")
    # backstop vault
    backstop: bool = False
    backstop_fraction: Annotated[float, Field(gt=0, le=1)] = Field(2.0 / 3.0, description="takeover when E < f·MM")
    backstop_capital: NonNegFloat = 0.0
    unwind_backstop: Fraction = Field(0.0, description="fraction of the vault's position sold into the book per step")
    # insurance fund and ADL
    insurance_fund: NonNegFloat | None = Field(0.0, description="initial fund (quote); None: no fund")
    fund_position_cap: PosFloat | None = Field(None, description="net position ≤ cap × fund value")
    unwind_fund: Fraction = Field(0.0, description="fraction of the fund's position sold into the book per step")
    adl_ranking: Literal["hyperliquid", "pnl_leverage", "random"] = "pnl_leverage"
    adl_price: Literal["bankruptcy", "previous_mark"] = "bankruptcy"
    # mark price
    mark_price: Literal["index", "ema_basis", "hyperliquid", "binance"] = "ema_basis"
    basis_ema_seconds: PosFloat = 150.0
    book_ema_seconds: PosFloat = 30.0
    # funding (funding/kernel.py); None: no funding payments
    funding_premium: str = Field(
        "book", description="premium source: 'book' (impact prices on the perp's book), a fitted response "
        f"({', '.join(sorted(PREMIUM_FITS))}) or 'custom' (premium_a, premium_phi, premium_beta)")
    premium_a: float = Field(0.0, allow_inf_nan=False, description="custom fitted premium: intercept")
    premium_phi: float = Field(0.0, allow_inf_nan=False, description="custom fitted premium: weight of the previous interval's premium")
    premium_beta: float = Field(0.0, allow_inf_nan=False, description="custom fitted premium: weight of the log return since the interval's start")
    funding: Annotated[Union[BinanceFunding, HyperliquidFunding], Field(discriminator="kind")] | None = Field(
        None, description="funding rule of every market: Binance or Hyperliquid (premium from the book, clamp, "
        "interest, paid per interval); none: no funding")

    @model_validator(mode="after")
    def _check_premium(self):
        if self.funding_premium not in ("book", "custom") and self.funding_premium not in PREMIUM_FITS:
            raise ValueError(f"funding_premium: unknown {self.funding_premium!r}; known: book, custom, "
                             f"{', '.join(sorted(PREMIUM_FITS))}")
        return self

    def premium_coefficients(self) -> tuple[float, float, float] | None:
        """``(a, phi, beta)`` of the fitted premium, or None for the book's premium."""
        if self.funding_premium == "book":
            return None
        if self.funding_premium == "custom":
            return (self.premium_a, self.premium_phi, self.premium_beta)
        return PREMIUM_FITS[self.funding_premium]

    @model_validator(mode="after")
    def _check_tiers(self):
        lbs = [t.lower_bound for t in self.tiers]
        if lbs[0] != 0.0:
            raise ValueError("the first tier's lower_bound must be 0")
        if any(b <= a for a, b in zip(lbs, lbs[1:])):
            raise ValueError("tier lower bounds must be strictly increasing")
        return self

    def params(self) -> np.ndarray:
        p = np.zeros(K.NPARAM)
        p[K.P_SLICE] = {"full": K.SLICE_FULL, "hyperliquid": K.SLICE_HL,
                        "tier_down": K.SLICE_TIER_DOWN}[self.slicing]
        p[K.P_SLICE_FRAC] = self.slice_fraction
        p[K.P_SLICE_MIN] = self.slice_threshold
        p[K.P_COOLDOWN] = self.cooldown_seconds
        p[K.P_LIMIT] = {"none": K.LIMIT_NONE, "bankruptcy": K.LIMIT_BANKRUPTCY,
                        "dydx": K.LIMIT_DYDX}[self.order_limit]
        p[K.P_DYDX_BA] = self.dydx_bankruptcy_adjustment
        p[K.P_DYDX_SMMR] = self.dydx_spread_to_mm
        p[K.P_FEE] = self.liquidation_fee
        p[K.P_FEE_TO_FUND] = self.fee_to_fund
        p[K.P_BS_ON] = 1.0 if self.backstop else 0.0
        p[K.P_BS_FRAC] = self.backstop_fraction
        p[K.P_FUND_ON] = 0.0 if self.insurance_fund is None else 1.0
        p[K.P_FUND_CAP] = math.inf if self.fund_position_cap is None else self.fund_position_cap
        p[K.P_ADL_RANK] = {"hyperliquid": K.ADL_HL, "pnl_leverage": K.ADL_PNL_LEV,
                           "random": K.ADL_RANDOM}[self.adl_ranking]
        p[K.P_ADL_PRICE] = {"bankruptcy": K.ADL_AT_BANKRUPTCY,
                            "previous_mark": K.ADL_AT_PREV_MARK}[self.adl_price]
        p[K.P_MARK] = {"index": K.MARK_INDEX, "ema_basis": K.MARK_EMA, "hyperliquid": K.MARK_HL,
                       "binance": K.MARK_BINANCE}[self.mark_price]
        p[K.P_TAU_BASIS] = self.basis_ema_seconds
        p[K.P_TAU_BOOK] = self.book_ema_seconds
        p[K.P_UNWIND_FUND] = self.unwind_fund
        p[K.P_UNWIND_BS] = self.unwind_backstop
        return p


def hyperliquid_tiers(max_leverage: Sequence[float], lower_bounds: Sequence[float] = (0.0,)) -> list[Tier]:
    """Hyperliquid tiers (§6.1): ``mmr = IMR at the tier's max leverage / 2 = 1 / (2·lev)``."""
    if len(max_leverage) != len(lower_bounds):
        raise ValueError("one lower bound per max leverage")
    return [Tier(lower_bound=lb, mmr=0.5 / lev, max_leverage=lev, imr=1.0 / lev)
            for lb, lev in zip(lower_bounds, max_leverage)]


# Binance BTCUSDT, announcement of 2021-03-18 (§6.2): (lower bound, max leverage, MMR);
# initial margin 2 × MMR (§6.2; the 3× tier's 1/3 differs from 2 × 15 % = 30 %).
_BINANCE_BTCUSDT_2021 = (
    (0.0, 125, 0.004), (50e3, 100, 0.005), (250e3, 50, 0.01), (1e6, 20, 0.025),
    (10e6, 10, 0.05), (20e6, 5, 0.10), (50e6, 4, 0.125), (100e6, 3, 0.15),
    (200e6, 2, 0.25), (300e6, 1, 0.50),
)


# Bybit BTCUSDT (§6.3): the tiers listed with their neighbours (1–3); later rows of the
# reference's table skip tiers, so they cannot be placed.
_BYBIT_BTCUSDT = ((0.0, 100, 0.005), (2e6, 90, 0.0056), (2.6e6, 80, 0.0063))
PRESETS: dict[str, PerpConfig] = {
    "binance_btcusdt_2021": PerpConfig(
        name="binance_btcusdt_2021",
        tiers=[Tier(lower_bound=lb, mmr=r, max_leverage=lev, imr=2 * r)
               for lb, lev, r in _BINANCE_BTCUSDT_2021],
        slicing="full", order_limit="bankruptcy",
        liquidation_fee=0.005,  # "up to 0.5 %" (older docs, §6.2)
        insurance_fund=0.0, fund_position_cap=1.0,  # cap: 100 % of the fund (current docs)
        adl_ranking="pnl_leverage", adl_price="bankruptcy",
        mark_price="binance", basis_ema_seconds=150.0,  # MA(2.5-minute basis)
    ),
    "hyperliquid": PerpConfig(
        name="hyperliquid",
        tiers=hyperliquid_tiers([50.0]),  # max leverage 3–50× by asset; 50× → MMR 1 %
        slicing="hyperliquid", slice_fraction=0.2, slice_threshold=100_000.0, cooldown_seconds=30.0,
        order_limit="none", liquidation_fee=0.0,  # "There is no clearance fee"
        backstop=True, backstop_fraction=2.0 / 3.0,
        insurance_fund=None,  # losses go to ADL
        adl_ranking="hyperliquid", adl_price="previous_mark",
        mark_price="hyperliquid", basis_ema_seconds=150.0, book_ema_seconds=30.0,
    ),
    "bybit_btcusdt": PerpConfig(
        name="bybit_btcusdt",
        tiers=[Tier(lower_bound=lb, mmr=r, max_leverage=lev) for lb, lev, r in _BYBIT_BTCUSDT],
        slicing="tier_down", order_limit="bankruptcy",
        insurance_fund=0.0, adl_ranking="pnl_leverage", adl_price="bankruptcy",
        mark_price="ema_basis",
    ),
    "dydx_v4_large_cap": PerpConfig(
        name="dydx_v4_large_cap",
        tiers=[Tier(lower_bound=0.0, mmr=0.03, imr=0.05)],  # IMF 5 % × maintenance fraction 60 %
        slicing="full", order_limit="dydx", dydx_bankruptcy_adjustment=1.0, dydx_spread_to_mm=0.1,
        liquidation_fee=0.005,  # MaxLiquidationFeePpm 5,000, to the insurance fund
        insurance_fund=0.0, adl_ranking="random", adl_price="bankruptcy",
        mark_price="index",
    ),
}


def describe(config: PerpConfig | None = None) -> str:
    """A few lines on what the unit models (and, given a config, which rules it uses)."""
    lines = [
        "perp: perpetual-futures venue (protocol-mechanics.md §6).",
        "Trigger: account equity < Σ tiered MM (notional·mmr − deduction) at the mark price.",
        "Liquidation: orders into the market's own book venue; backstop vault below a fraction of MM;",
        "insurance fund takes bankrupt accounts at the bankruptcy price; ADL when it cannot.",
        "Not modelled: funding, trading fees, new positions; one fund and one vault for all markets.",
    ]
    if config is not None:
        lines.append(
            f"{config.name}: {len(config.tiers)} tier(s), mmr {config.tiers[0].mmr:g}…{config.tiers[-1].mmr:g}; "
            f"slicing {config.slicing}; order limit {config.order_limit}; fee {config.liquidation_fee:g}; "
            f"backstop {'at ' + format(config.backstop_fraction, '.4g') + '·MM' if config.backstop else 'off'}; "
            f"fund {'none' if config.insurance_fund is None else format(config.insurance_fund, 'g')}; "
            f"ADL {config.adl_ranking} at {config.adl_price}; mark {config.mark_price}."
        )
    return "\n".join(lines)


#: the model of a `kind = "perp"` protocol's `config` table (see `liqcascade.protocols.config_class`)
CONFIG = PerpConfig
