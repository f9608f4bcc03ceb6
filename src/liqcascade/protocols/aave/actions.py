"""Aave v3 as callable actions: one ``liquidationCall`` on a multi-asset account, the way
aave-v3-origin's own tests call it (``lc.protocols.aave``).

The rules are the compiled ones of :mod:`.kernel` (:func:`~.kernel.health_factor`,
:func:`~.kernel.max_liquidatable_debt`, :func:`~.kernel.liquidation_call_amounts`,
:func:`~.kernel.incentive_lb`), which the engine's liquidations follow too; this module holds
the state (a :class:`Market` of reserves, an :class:`Account`), the checks of
``ValidationLogic.validateLiquidationCall`` in the contract's order, the deficit of v3.3+ and
the reverts as exceptions named like the contract's errors.

Sources: aave-dao/aave-v3-origin ``src/contracts/protocol/libraries/logic/LiquidationLogic.sol``
(``executeLiquidationCall``, ``_calculateAvailableCollateralToLiquidate``, ``_burnBadDebt``),
``ValidationLogic.sol`` (``validateLiquidationCall``), ``helpers/Errors.sol``, and the tag
``v3.2.0`` for the earlier close factor; ``shared/reference/protocol-mechanics.md`` §1.

Simplified (also in ``README.md``): amounts are real numbers (the contract's floor/ceil rounding
moves results by a few base units of a token); no interest accrual between calls; no eMode,
isolation mode, caps or sentinel; ``receive_a_token`` changes only what the result says the
liquidator received (the reserve's liquidity for the underlying is not checked).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import ProtocolError
from . import kernel as K

__all__ = [
    "Account", "AaveError", "CollateralCannotBeLiquidated", "HealthFactorNotBelowThreshold", "LiquidationCall",
    "LiquidationGraceSentinelCheckFailed", "LiquidationInfo", "Market", "MustNotLeaveDust", "Reserve",
    "ReserveInactive", "ReservePaused", "SelfLiquidation", "SpecifiedCurrencyNotBorrowedByUser",
    "health_factor", "liquidation_call", "liquidation_info",
]

VERSIONS = {"v3.2": K.RULE_V32, "v3.3": K.RULE_V33, "fixed": K.RULE_FIXED}


# --- reverts (helpers/Errors.sol; v3.3's string codes in ``code``) --------------------------


class AaveError(ProtocolError):
    """An Aave ``liquidationCall`` revert. ``code``: the v3.0–v3.3 string code of the same error."""

    code = ""

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        cls.revert = cls.__name__


class HealthFactorNotBelowThreshold(AaveError):
    """HF ≥ 1 (``HEALTH_FACTOR_LIQUIDATION_THRESHOLD``)."""

    code = "45"


class MustNotLeaveDust(AaveError):
    """v3.3+: a partial liquidation would leave less than ``MIN_LEFTOVER_BASE`` of debt or collateral."""

    code = "103"


class CollateralCannotBeLiquidated(AaveError):
    """The collateral asset is not enabled as collateral by the borrower (or holds nothing)."""

    code = "46"


class SpecifiedCurrencyNotBorrowedByUser(AaveError):
    """The borrower has no debt in the debt asset."""

    code = "47"


class ReserveInactive(AaveError):
    code = "27"


class ReservePaused(AaveError):
    code = "29"


class LiquidationGraceSentinelCheckFailed(AaveError):
    """A reserve is in its liquidation grace period (v3.1+)."""

    code = "97"


class SelfLiquidation(AaveError):
    """The liquidator is the borrower (v3.4+)."""


# --- state ------------------------------------------------------------------------------------


@dataclass
class Reserve:
    """One reserve: its oracle price (quote per unit) and risk parameters (fractions: ``0.86``
    for Aave's 8600 bps; ``liquidation_bonus`` is the bonus ``b``, Aave's LB − 100 %)."""

    price: float
    liquidation_threshold: float = 0.0
    liquidation_bonus: float = 0.0
    protocol_fee: float = 0.10
    ltv: float | None = None
    active: bool = True
    paused: bool = False
    #: ``liquidationGracePeriodUntil``: liquidations on this reserve revert until ``Market.now``
    #: is past this time (seconds; None: never set)
    grace_period_until: float | None = None
    #: v3.3+ ``reserve.deficit``: debt written off by liquidations that exhausted the collateral
    deficit: float = 0.0
    #: collateral of this asset the treasury received as protocol fee
    treasury: float = 0.0


class Market:
    """A pool: its reserves (name → :class:`Reserve` or a dict of its fields) and the
    liquidation rule version (``"v3.3"``: v3.3 and later, ``"v3.2"``: v3.0–v3.2, ``"fixed"``:
    a fixed close factor, not an Aave rule). ``incentive = "euler"`` swaps the bonus for Euler
    v2's discount ``1 / max(HF, 1 − euler_max_discount)`` (§8.4) with a 100 % close factor."""

    def __init__(self, reserves: dict, *, version: str = "v3.3", close_factor: float = 0.5,
                 hf_close_factor_threshold: float = 0.95, min_base_close_factor: float = 2000.0,
                 min_leftover: float = 1000.0, incentive: str = "fixed", euler_max_discount: float = 0.15,
                 now: float = 0.0):
        if version not in VERSIONS:
            raise ValueError(f"version must be one of {', '.join(VERSIONS)}, got {version!r}")
        if incentive not in ("fixed", "euler"):
            raise ValueError(f"incentive must be 'fixed' or 'euler', got {incentive!r}")
        self.reserves: dict[str, Reserve] = {
            k: (v if isinstance(v, Reserve) else Reserve(**v)) for k, v in reserves.items()}
        for name, r in self.reserves.items():
            if not (math.isfinite(r.price) and r.price > 0):
                raise ValueError(f"reserve {name}: price must be a finite number > 0, got {r.price!r}")
        self.version = version
        self.now = float(now)
        self.rules = np.zeros(K.NRULE)
        self.rules[K.R_RULE] = VERSIONS[version] if incentive == "fixed" else K.RULE_FIXED
        self.rules[K.R_CF] = close_factor if incentive == "fixed" else 1.0
        self.rules[K.R_HF_CF] = hf_close_factor_threshold
        self.rules[K.R_MIN_BASE] = min_base_close_factor
        self.rules[K.R_MIN_LEFTOVER] = min_leftover
        self.rules[K.R_INC] = K.INC_EULER if incentive == "euler" else K.INC_FIXED
        self.rules[K.R_INC_MAXD] = euler_max_discount

    @classmethod
    def from_scenario(cls, scenario, protocol: int | str = 0) -> "Market":
        """The market of a scenario's Aave protocol (``lc.load(...)`` or a scenario model): its
        per-asset parameters, its rule version and the assets' initial prices."""
        sc = getattr(scenario, "model", scenario)
        protos = list(sc.protocols)
        pr = protos[protocol] if isinstance(protocol, int) else next(p for p in protos if p.name == protocol)
        if pr.incentive == "morpho":
            raise ValueError("incentive = 'morpho': use lc.protocols.morpho")
        prices = {a.name: a.price for a in sc.assets}
        reserves = {}
        for a in prices:
            p = pr.params.get(a)
            reserves[a] = Reserve(price=prices[a]) if p is None else Reserve(
                price=prices[a], liquidation_threshold=p.liquidation_threshold,
                liquidation_bonus=p.liquidation_bonus or 0.0, protocol_fee=p.protocol_fee, ltv=p.ltv)
        return cls(reserves, version=pr.close_factor_rule, close_factor=pr.close_factor,
                   hf_close_factor_threshold=pr.hf_close_factor_threshold,
                   min_base_close_factor=pr.min_base_close_factor, min_leftover=pr.min_leftover,
                   incentive=pr.incentive, euler_max_discount=pr.euler_max_discount)

    def set_price(self, asset: str, price: float) -> None:
        """The oracle moves (``MockAggregator`` in Aave's tests)."""
        self.reserve(asset).price = float(price)

    def reserve(self, asset: str) -> Reserve:
        try:
            return self.reserves[asset]
        except KeyError:
            raise KeyError(f"unknown asset {asset!r} (reserves: {', '.join(self.reserves)})") from None

    def _vectors(self, names):
        r = [self.reserves[n] for n in names]
        return (np.array([x.price for x in r], dtype=np.float64),
                np.array([x.liquidation_threshold for x in r], dtype=np.float64))


@dataclass
class Account:
    """A borrower on a :class:`Market`: collateral (aToken balances) and debt per asset, in
    asset units. ``collateral_enabled``: the assets the borrower uses as collateral (default:
    every supplied asset with LT > 0)."""

    market: Market
    collateral: dict[str, float] = field(default_factory=dict)
    debt: dict[str, float] = field(default_factory=dict)
    collateral_enabled: set[str] | None = None
    address: str = "borrower"

    def __post_init__(self):
        for side in (self.collateral, self.debt):
            for a, v in side.items():
                self.market.reserve(a)
                if not (math.isfinite(v) and v >= 0):
                    raise ValueError(f"{a}: amounts must be finite and >= 0, got {v!r}")
        if self.collateral_enabled is None:
            self.collateral_enabled = {a for a in self.collateral
                                       if self.market.reserves[a].liquidation_threshold > 0}
        self.collateral = {a: float(v) for a, v in self.collateral.items()}
        self.debt = {a: float(v) for a, v in self.debt.items()}

    def _dense(self):
        names = list(self.market.reserves)
        p, lt = self.market._vectors(names)
        enabled = self.collateral_enabled or set()
        c = np.array([self.collateral.get(n, 0.0) if n in enabled else 0.0 for n in names])
        d = np.array([self.debt.get(n, 0.0) for n in names])
        return names, c, d, p, lt

    def health_factor(self) -> float:
        return health_factor(self)

    @property
    def total_collateral_value(self) -> float:
        """``totalCollateralInBaseCurrency``: enabled collateral with LT > 0, at oracle prices."""
        _, c, _, p, lt = self._dense()
        return float(np.sum(np.where(lt > 0, c * p, 0.0)))

    @property
    def total_debt_value(self) -> float:
        _, _, d, p, _ = self._dense()
        return float(np.sum(d * p))


def health_factor(account: Account) -> float:
    """§1.1 ``Σ collateral·price·LT / Σ debt·price`` (``GenericLogic.calculateUserAccountData``);
    ``inf`` without debt. Vectorised over many accounts: :func:`.health.health_factors`."""
    _, c, d, p, lt = account._dense()
    return float(K.health_factor(c, d, p, lt))


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiquidationCall:
    """What one ``liquidationCall`` did (the ``LiquidationCall`` and ``DeficitCreated`` events).

    ``debt_repaid`` (``debtToCover`` actually used), ``collateral_to_liquidator`` (the event's
    ``liquidatedCollateralAmount``, net of the fee), ``protocol_fee`` (collateral to the treasury),
    ``deficit`` (debt written off per asset, v3.3+ when no collateral is left), ``max_debt`` (the
    close-factor cap), the health factor before and after."""

    collateral_asset: str
    debt_asset: str
    debt_repaid: float
    collateral_to_liquidator: float
    protocol_fee: float
    deficit: dict[str, float]
    max_debt: float
    health_factor_before: float
    health_factor_after: float
    receive_a_token: bool

    @property
    def collateral_seized(self) -> float:
        """Collateral the borrower lost: the liquidator's part and the fee."""
        return self.collateral_to_liquidator + self.protocol_fee


@dataclass(frozen=True)
class LiquidationInfo:
    """``LiquidationDataProvider.getLiquidationInfo``: the largest call that does not revert.
    ``amount_to_pass``: ``inf`` (type(uint256).max) when it clears the debt or the collateral
    reserve, else ``max_debt_to_liquidate``."""

    max_collateral_to_liquidate: float
    max_debt_to_liquidate: float
    protocol_fee: float
    amount_to_pass: float


# --- the call ---------------------------------------------------------------------------------


def _pair(account: Account, collateral: str, debt: str, debt_to_cover, liquidator: str):
    m = account.market
    rc, rd = m.reserve(collateral), m.reserve(debt)
    if isinstance(debt_to_cover, str):
        if debt_to_cover != "max":
            raise ValueError(f"debt_to_cover: a number or 'max', got {debt_to_cover!r}")
        debt_to_cover = math.inf
    debt_to_cover = float(debt_to_cover)
    if not debt_to_cover >= 0:
        raise ValueError(f"debt_to_cover must be >= 0, got {debt_to_cover!r}")
    hf = health_factor(account)
    if liquidator == account.address:
        raise SelfLiquidation(borrower=account.address)
    if not (rc.active and rd.active):
        raise ReserveInactive(asset=collateral if not rc.active else debt)
    if rc.paused or rd.paused:
        raise ReservePaused(asset=collateral if rc.paused else debt)
    for r in (rc, rd):
        if r.grace_period_until is not None and not r.grace_period_until < m.now:
            raise LiquidationGraceSentinelCheckFailed(now=m.now, grace_period_until=r.grace_period_until)
    if not hf < 1.0:
        raise HealthFactorNotBelowThreshold(health_factor=hf)
    if collateral not in (account.collateral_enabled or set()) or account.collateral.get(collateral, 0.0) <= 0:
        raise CollateralCannotBeLiquidated(asset=collateral)
    if account.debt.get(debt, 0.0) <= 0:
        raise SpecifiedCurrencyNotBorrowedByUser(asset=debt)
    return m, rc, rd, hf, debt_to_cover


def liquidation_call(account: Account, collateral: str, debt: str, debt_to_cover, receive_a_token: bool = False,
                     *, liquidator: str = "liquidator") -> LiquidationCall:
    """``Pool.liquidationCall(collateralAsset, debtAsset, user, debtToCover, receiveAToken)``.

    Repays up to ``debt_to_cover`` (``math.inf`` or ``"max"`` for ``type(uint256).max``) of the
    account's ``debt`` and seizes ``collateral`` with the bonus; updates ``account`` (and, v3.3+,
    the reserves' ``deficit`` when no collateral is left) in place and returns what happened.
    Raises the contract's reverts (:class:`HealthFactorNotBelowThreshold`,
    :class:`MustNotLeaveDust`, ...) with nothing changed.
    """
    m, rc, rd, hf, to_cover = _pair(account, collateral, debt, debt_to_cover, liquidator)
    c_bal = account.collateral[collateral]
    d_bal = account.debt[debt]
    lb = float(K.incentive_lb(m.rules, hf, rc.liquidation_bonus))
    code, max_debt, repaid, seized, fee = K.liquidation_call_amounts(
        m.rules, hf, c_bal, rc.price, d_bal, rd.price, account.total_debt_value, lb, rc.protocol_fee, to_cover)
    if code == K.CALL_DUST:
        cap = min(to_cover, max_debt)
        raise MustNotLeaveDust(
            debt_to_cover=cap, debt_left_value=max(d_bal - cap, 0.0) * rd.price,
            collateral_left_value=max(c_bal - cap * rd.price * lb / rc.price, 0.0) * rc.price,
            min_leftover=float(m.rules[K.R_MIN_LEFTOVER]))
    others = account.total_collateral_value - c_bal * rc.price
    account.collateral[collateral] = c_bal - seized if seized < c_bal else 0.0
    account.debt[debt] = d_bal - repaid if repaid < d_bal else 0.0
    if account.collateral[collateral] == 0.0:
        account.collateral_enabled.discard(collateral)
    rc.treasury += fee
    deficit: dict[str, float] = {}
    if m.version != "v3.2" and account.collateral[collateral] == 0.0 and not others > 0.0:
        # v3.3+ _burnBadDebt: no collateral left, every remaining debt becomes reserve deficit
        for a, v in account.debt.items():
            if v > 0.0:
                deficit[a] = v
                m.reserves[a].deficit += v
                account.debt[a] = 0.0
    return LiquidationCall(
        collateral_asset=collateral, debt_asset=debt, debt_repaid=float(repaid),
        collateral_to_liquidator=float(seized - fee), protocol_fee=float(fee), deficit=deficit,
        max_debt=float(max_debt), health_factor_before=hf, health_factor_after=health_factor(account),
        receive_a_token=bool(receive_a_token))


def liquidation_info(account: Account, collateral: str, debt: str, debt_to_cover=math.inf, *,
                     liquidator: str = "liquidator") -> LiquidationInfo:
    """``LiquidationDataProvider.getLiquidationInfo``: the largest ``liquidationCall`` on this
    pair that does not revert, leaving at least ``min_leftover`` of debt and collateral when it
    is partial (``_adjustAmountsForGoodLeftovers``). Raises the same validation reverts as
    :func:`liquidation_call`."""
    m, rc, rd, hf, to_cover = _pair(account, collateral, debt, debt_to_cover, liquidator)
    c_bal, d_bal = account.collateral[collateral], account.debt[debt]
    lb = float(K.incentive_lb(m.rules, hf, rc.liquidation_bonus))
    max_debt = float(K.max_liquidatable_debt(m.rules, hf, c_bal * rc.price, d_bal, rd.price, account.total_debt_value))
    d = min(to_cover, max_debt)
    seized = d * rd.price * lb / rc.price
    if seized > c_bal:
        seized, d = c_bal, c_bal * rc.price / (rd.price * lb)
    left = float(m.rules[K.R_MIN_LEFTOVER])
    if m.version == "v3.3" and seized < c_bal and d < d_bal:
        c_left, d_left = (c_bal - seized) * rc.price, (d_bal - d) * rd.price
        if c_left < left or d_left < left:
            c_dec = max(left - c_left, 0.0)
            d_dec = max(left - d_left, 0.0)
            if c_dec > d_dec:
                seized -= c_dec / rc.price
                d = seized * rc.price / (rd.price * lb)
            else:
                d -= d_dec / rd.price
                seized = d * rd.price * lb / rc.price
    fee = (seized - seized / lb) * rc.protocol_fee
    clears = (d > 0 and d >= d_bal) or (seized > 0 and seized >= c_bal)
    return LiquidationInfo(max_collateral_to_liquidate=seized - fee, max_debt_to_liquidate=d, protocol_fee=fee,
                           amount_to_pass=math.inf if clears else d)
