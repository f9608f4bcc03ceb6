"""Scenario sections for prevention mechanisms (``[mechanisms.*]``) and market participants
(``[agents.*]``).

Each mechanism is a sub-table; its presence switches it on. Mechanisms act on the Aave-rule
protocols of the scenario (``applies_to`` narrows that list); the protocol units carry their own
versions where the real protocol has one (Maker's ``Hole``/``hole`` and ClipperMom, Liquity's
stability pool, a perp venue's insurance fund and ADL) — see ``docs/mechanisms.md``.

Every field has a description: ``liqcascade mechanisms`` prints them.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from ..agents.flash_attacker.model import FlashAttacker
from ..mechanisms.clearinghouse.model import Clearinghouse
from ..strict import Fraction, NonNegFloat, PosFloat
from ..strict import Strict as _Strict

Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class _Mechanism(_Strict):
    applies_to: list[str] | None = Field(
        None, min_length=1, description="protocol names the mechanism acts on (default: every Aave-rule protocol)")


# ---- prevention mechanisms ------------------------------------------------------------------


class CircuitBreaker(_Mechanism):
    """Pause liquidations when the oracle moves more than ``threshold`` within ``window_seconds``
    (Aave's reserve pause and grace period, §1.7; the sequencer sentinel's HF exemption, §1.8;
    Maker's ClipperMom, §3.5)."""

    RENAMED = {"window_steps": "window_seconds", "pause_steps": "pause_seconds", "grace_steps": "grace_seconds"}

    threshold: Fraction = Field(0.10, description="trip when an oracle price falls more than this share within the window")
    window_seconds: PosFloat = Field(1800.0, description="look-back window of the trip test (at least one step)")
    pause_seconds: PosFloat = Field(3600.0, description="how long liquidations stay paused after a trip (at least one step)")
    grace_seconds: NonNegFloat = Field(0.0, description="time after resuming in which only exempt positions are liquidated")
    exempt_hf: NonNegFloat = Field(0.0, description="positions with HF below this are liquidated even while paused or in grace (Aave sentinel: 0.95; 0 = none)")


class Throttle(_Mechanism):
    """Cap what liquidation may take per window (Maker's ``Hole``/``hole``, §3.2) and/or cap the
    collateral sold per step at what the venues absorb within ``depth_slippage``."""

    RENAMED = {"window_steps": "window_seconds"}

    max_debt_per_window: NonNegFloat = Field(0.0, description="debt repaid per window, quote (0 = no cap)")
    window_seconds: PosFloat = Field(3600.0, description="rolling window of the debt cap (at least one step)")
    depth_slippage: Fraction = Field(0.0, description="cap collateral seized per step at what the venues absorb within this slippage (0 = off)")

    @model_validator(mode="after")
    def _some(self):
        if self.max_debt_per_window == 0 and self.depth_slippage == 0:
            raise ValueError("set max_debt_per_window and/or depth_slippage")
        return self


class TwapExit(_Mechanism):
    """Seized collateral is sold in equal slices over ``slices`` consecutive steps instead of one
    market order (time-weighted exit, as liquidators and Maker keepers do on thin books)."""

    slices: int = Field(10, ge=1, description="steps over which each step's seized collateral is sold")


class BufferPool(_Mechanism):
    """A backstop that buys seized collateral at the oracle price less ``discount`` before it reaches
    the venues, while its capital lasts (Liquity's stability pool, §4.5; B.Protocol-style backstops).
    It holds what it buys; its end value is reported."""

    capital: PosFloat = Field(description="quote the pool can spend")
    discount: Fraction = Field(0.05, description="discount to the oracle price at which the pool buys")


class InsuranceFund(_Mechanism):
    """A fund that absorbs bad debt; when it runs dry the rest is socialized as a pro-rata haircut
    to lenders (Aave's deficit and Umbrella, §1.6; perp insurance funds, §6)."""

    size: NonNegFloat = Field(description="initial fund, quote")
    fee_share: Share = Field(1.0, description="share of the protocol's liquidation fees paid into the fund")


class DutchAuction(_Mechanism):
    """Replace the fixed liquidation bonus by one that rises from ``start_bonus`` to ``max_bonus``
    over ``rise_seconds`` after a position first becomes liquidatable (Euler v2's reverse Dutch
    auction, §8.4; Maker's clip, §3.3)."""

    RENAMED = {"steps_to_max": "rise_seconds"}

    start_bonus: NonNegFloat = Field(0.0, description="bonus when the position first becomes liquidatable")
    max_bonus: NonNegFloat = Field(0.15, description="bonus cap")
    rise_seconds: PosFloat = Field(1800.0, description="time for the bonus to rise from start to max (at least one step)")

    @model_validator(mode="after")
    def _order(self):
        if self.max_bonus < self.start_bonus:
            raise ValueError("max_bonus must be ≥ start_bonus")
        return self


class Partial(_Mechanism):
    """Gradual liquidation: at most ``close_factor`` of a position's debt per liquidation and at
    least ``cooldown_seconds`` between two liquidations of one position (Hyperliquid's 20 % slices
    and 30 s cooldown, §6.1; Euler's cool-off, §8.4). Soft liquidation is the crvUSD unit (§5)."""

    RENAMED = {"cooldown_steps": "cooldown_seconds"}

    close_factor: Annotated[float, Field(gt=0, le=1)] = Field(0.25, description="share of the debt one liquidation may repay")
    cooldown_seconds: NonNegFloat = Field(0.0, description="time between two liquidations of the same position")


class OracleGuard(_Mechanism):
    """Smooth the price protocols read: TWAP, EMA or a median of all venues, with an optional
    deviation guard capping the move per update (crvUSD's limiter, §8.6; Liquity's 50 % rule, §8.7)."""

    RENAMED = {"window_steps": "window_seconds", "half_life_steps": "half_life_seconds"}

    kind: Literal["twap", "ema", "median"] = Field("twap", description="smoothing replacing the protocol's oracles")
    window_seconds: PosFloat = Field(1800.0, description="TWAP window (at least one step)")
    half_life_seconds: PosFloat = Field(600.0, description="EMA half-life")
    max_jump: Fraction = Field(0.0, description="largest move per update (0 = no guard)")


class DynamicMargin(_Mechanism):
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


class RandomExecution(_Mechanism):
    """An opaque settlement queue: each position is liquidated at a step drawn uniformly within
    ``window_seconds`` after it becomes liquidatable (seeded), so hunters cannot time the sales."""

    RENAMED = {"window_steps": "window_seconds"}

    window_seconds: PosFloat = Field(600.0, description="width of the random execution window (at least one step)")


class Batch(_Mechanism):
    """Batch liquidation: the collateral seized over ``window_seconds`` is cleared together in one
    uniform-price batch auction (keepers bid on the bundle), and the keepers' sales go out over
    the next window under a depth budget (batch auctions against liquidation MEV; dYdX v4's
    per-block batching of liquidations, §8.8)."""

    window_seconds: PosFloat = Field(300.0, description="collection window; the batch clears at its end (at least one step)")
    depth_slippage: Fraction = Field(0.02, description="keepers' resale per step at most what the venues absorb within this slippage (0 = no budget)")
    keeper_margin: Fraction = Field(0.0, description="keepers bid this share below what the bundle fetches sold at once")

    #: keys of an older meaning -> the one-line message that names where they went
    MOVED: ClassVar[dict[str, str]] = {"max_per_step": "the per-step count cap is now liquidators.max_per_step; mechanisms.batch is a "
                             "batch auction (window_seconds, depth_slippage, keeper_margin)"}

    @model_validator(mode="before")
    @classmethod
    def _old_meaning(cls, data):
        if isinstance(data, dict):
            for k, msg in cls.MOVED.items():
                if k in data:
                    raise ValueError(f"{k}: {msg}")
        return data


class VolatilityFee(_Mechanism):
    """A leverage fee: a borrow-rate add-on proportional to realized volatility,
    ``min(max_rate, k · max(0, σ − σ_ref))`` a year, that accrues into the debt of the positions
    it applies to step by step (a charge on leverage while markets are volatile)."""

    RENAMED = {"vol_window_steps": "vol_window_seconds"}

    k: NonNegFloat = Field(0.5, description="borrow-rate add-on (per year) per unit of annualized volatility above vol_ref")
    vol_ref: NonNegFloat = Field(0.8, description="annualized volatility below which no fee accrues")
    vol_window_seconds: PosFloat = Field(3600.0, description="window of the realized-volatility estimate (at least two steps)")
    max_rate: NonNegFloat = Field(5.0, description="cap on the add-on, per year")

    @model_validator(mode="before")
    @classmethod
    def _old_meaning(cls, data):
        if isinstance(data, dict) and "max_bonus" in data:
            raise ValueError("max_bonus: volatility_fee is now a leverage fee (a borrow-rate add-on); the "
                             "bonus-raising mechanism is mechanisms.volatility_bonus")
        return data


class VolatilityBonus(_Mechanism):
    """Liquidation bonus that scales with realized volatility: ``bonus · (1 + k · max(0, σ − σ_ref))``
    capped at ``max_bonus`` (crvUSD's dynamic fee, §5.3, applied to the liquidation penalty).
    It adds bad debt: a larger bonus seizes more collateral per debt repaid."""

    k: NonNegFloat = Field(0.5, description="relative bonus increase per unit of annualized volatility above vol_ref")
    RENAMED = {"vol_window_steps": "vol_window_seconds"}

    vol_ref: NonNegFloat = Field(0.8, description="annualized volatility at which the bonus is unchanged")
    vol_window_seconds: PosFloat = Field(3600.0, description="window of the realized-volatility estimate (at least two steps)")
    max_bonus: NonNegFloat = Field(0.2, description="cap on the bonus")


class Mechanisms(_Strict):
    circuit_breaker: CircuitBreaker | None = None
    throttle: Throttle | None = None
    twap_exit: TwapExit | None = None
    buffer_pool: BufferPool | None = None
    insurance_fund: InsuranceFund | None = None
    dutch_auction: DutchAuction | None = None
    partial: Partial | None = None
    oracle_guard: OracleGuard | None = None
    dynamic_margin: DynamicMargin | None = None
    random_execution: RandomExecution | None = None
    batch: Batch | None = None
    volatility_fee: VolatilityFee | None = None
    volatility_bonus: VolatilityBonus | None = None
    clearinghouse: Clearinghouse | None = None

    def active(self) -> list[str]:
        return [k for k in type(self).model_fields if getattr(self, k) is not None]


# ---- participants and adversaries -------------------------------------------------------------


class GasAuction(_Strict):
    """Liquidators compete in a priority-gas auction: the winner pays a priority fee (a share of the
    liquidation's profit), gas rises with congestion (recent liquidations), and each liquidator sees
    a position ``latency_seconds`` after it becomes liquidatable."""

    RENAMED = {"latency_steps": "latency_seconds", "congestion_window_steps": "congestion_window_seconds"}

    competitors: int = Field(5, ge=1, description="liquidators bidding for each liquidation")
    priority_share: Share = Field(0.5, description="share of the expected profit the winner bids away (×(1 − 1/competitors))")
    latency_seconds: NonNegFloat = Field(0.0, description="time between a position becoming liquidatable and the first attempt")
    congestion_k: NonNegFloat = Field(0.0, description="gas multiplier rise per liquidation in the last congestion_window_seconds")
    congestion_window_seconds: PosFloat = Field(300.0, description="window of the congestion count (at least one step)")
    max_gas_multiple: PosFloat = Field(50.0, description="cap on the gas multiplier")


class Hunter(_Strict):
    """A cascade hunter: reads the liquidation-price ladder, sells spot ahead of the largest cluster
    within reach to push the oracle through it, and buys back after ``hold_seconds``."""

    RENAMED = {"start_step": "start_seconds", "sell_steps": "sell_seconds", "hold_steps": "hold_seconds"}

    asset: str | None = Field(None, description="asset attacked (default: the first risky asset)")
    capital: NonNegFloat = Field(description="quote value of the asset the hunter can sell (borrowed or held)")
    start_seconds: PosFloat | None = Field(None, description="first time the hunter may act (default: the first step)")
    sell_seconds: PosFloat | None = Field(None, description="time over which the sale is spread (default: one step)")
    hold_seconds: PosFloat = Field(1800.0, description="time after the last sale before buying back (at least one step)")
    reach: Fraction = Field(0.2, description="largest drop below spot at which the hunter targets a cluster")
    buy_discounted: bool = Field(True, description="also buy collateral the liquidators dump, when cheaper than the buy-back")


class FrontRunner(_Strict):
    """Sees the liquidation sales queued in a step, sells ahead of them and buys back after."""

    asset: str | None = Field(None, description="asset traded (default: every risky asset)")
    capital: PosFloat = Field(description="quote value it may sell per step")
    share: Share = Field(1.0, description="sale size as a share of the queued liquidation sales")


class Hedger(_Strict):
    """Option market makers short gamma: to stay delta-neutral they sell as the price falls and buy
    as it rises, ``gamma_notional · Δp/p`` of quote per step."""

    asset: str | None = Field(None, description="asset hedged (default: the first risky asset)")
    gamma_notional: PosFloat = Field(description="quote traded per unit relative price move (short gamma > 0)")


class Borrowers(_Strict):
    """A share of borrowers watch their health factor: below ``react_hf`` for ``delay_seconds``
    they top up collateral or repay debt to bring HF back to ``target_hf``."""

    RENAMED = {"delay_steps": "delay_seconds"}

    share: Share = Field(0.3, description="share of positions whose owners react")
    react_hf: Annotated[float, Field(gt=1, allow_inf_nan=False)] = Field(1.05, description="HF below which they act")
    target_hf: Annotated[float, Field(gt=1, allow_inf_nan=False)] = Field(1.3, description="HF they restore")
    delay_seconds: NonNegFloat = Field(300.0, description="reaction delay")
    action: Literal["topup", "deleverage"] = Field("topup", description="add collateral, or repay debt")


class Agents(_Strict):
    gas_auction: GasAuction | None = None
    hunter: Hunter | None = None
    front_runner: FrontRunner | None = None
    hedger: Hedger | None = None
    borrowers: Borrowers | None = None
    flash_attacker: FlashAttacker | None = None

    def active(self) -> list[str]:
        return [k for k in type(self).model_fields if getattr(self, k) is not None]
