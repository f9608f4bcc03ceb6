"""Compound v3 (Comet) as callable actions: ``absorb`` and ``buyCollateral`` on a market's
storage, the way compound-finance/comet's own tests call them (``lc.protocols.comet``).

The rules are the compiled ones of :mod:`.kernel` (:func:`~.kernel.is_liquidatable`,
:func:`~.kernel.absorb_account`, :func:`~.kernel.quote_collateral`,
:func:`~.kernel.buy_allowed`), which the engine's Comet unit steps too. This module holds
the storage Comet keeps (``totalsBasic``, ``totalsCollateral``, balances, ``liquidatorPoints``)
and the reverts.

Sources: compound-finance/comet ``contracts/Comet.sol`` (``absorb``, ``absorbInternal``,
``repayAndSupplyAmount``, ``buyCollateral``, ``quoteCollateral``, ``getReserves``,
``getCollateralReserves``); ``shared/reference/protocol-mechanics.md`` §2.

Simplified (also in ``README.md``): real numbers instead of fixed-point integers; indices fixed
at 1 (no interest accrual: present value = principal); ``approxSpend`` (gas) is not tracked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import ProtocolError
from . import kernel as K

__all__ = [
    "Absorb", "Account", "Asset", "CometError", "InsufficientReserves", "Market", "NotForSale", "NotLiquidatable",
    "Paused", "TooMuchSlippage", "absorb", "buy_collateral", "is_liquidatable", "quote_collateral",
]


class CometError(ProtocolError):
    """A Comet revert (``CometMainInterface`` custom errors)."""

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        cls.revert = cls.__name__


class NotLiquidatable(CometError):
    """``absorb`` of an account that is not liquidatable."""


class Paused(CometError):
    """``PAUSE_ABSORB`` / ``PAUSE_BUY`` is set."""


class NotForSale(CometError):
    """``buyCollateral`` while reserves ≥ 0 and ≥ ``targetReserves``."""


class TooMuchSlippage(CometError):
    """``buyCollateral`` would pay out less than ``minAmount``."""


class InsufficientReserves(CometError):
    """``buyCollateral`` asks for more than the collateral reserves (the part no user owns)."""


@dataclass
class Asset:
    """A collateral asset: oracle price (quote per unit) and factors (fractions)."""

    price: float
    borrow_collateral_factor: float = 0.0
    liquidate_collateral_factor: float = 1.0
    liquidation_factor: float = 1.0
    #: ``totalsCollateral[asset].totalSupplyAsset``: what users hold
    total_supply: float = 0.0
    #: ``asset.balanceOf(comet)``: users' collateral plus the collateral reserves
    balance: float = 0.0


@dataclass
class Account:
    """``userBasic.principal`` (base units; negative = borrow) and the collateral balances."""

    principal: float = 0.0
    collateral: dict[str, float] = field(default_factory=dict)


class Market:
    """A Comet market's storage. ``base_balance`` is ``baseToken.balanceOf(comet)``;
    ``total_supply_base`` / ``total_borrow_base`` are ``totalsBasic`` (present values, indices 1).
    ``add_account`` books an account into the totals (as supplying and borrowing would); the
    fields may also be set directly, as Comet's tests set storage."""

    def __init__(self, assets: dict, *, base: str = "USDC", base_price: float = 1.0,
                 store_front_price_factor: float = 0.5, target_reserves: float = 5_000_000.0,
                 base_balance: float = 0.0, total_supply_base: float = 0.0, total_borrow_base: float = 0.0,
                 absorb_paused: bool = False, buy_paused: bool = False):
        if len(assets) > K.MAX_ASSETS:
            raise ValueError(f"{len(assets)} collateral assets > MAX_ASSETS = {K.MAX_ASSETS} (TooManyAssets)")
        self.assets: dict[str, Asset] = {k: (v if isinstance(v, Asset) else Asset(**v)) for k, v in assets.items()}
        self.base = base
        self.base_price = float(base_price)
        self.store_front_price_factor = float(store_front_price_factor)
        self.target_reserves = float(target_reserves)
        self.base_balance = float(base_balance)
        self.total_supply_base = float(total_supply_base)
        self.total_borrow_base = float(total_borrow_base)
        self.absorb_paused = absorb_paused
        self.buy_paused = buy_paused
        self.accounts: dict[str, Account] = {}
        #: ``liquidatorPoints[absorber]``: ``{"num_absorbs": …, "num_absorbed": …}``
        self.liquidator_points: dict[str, dict[str, int]] = {}

    @classmethod
    def from_preset(cls, name: str = "cUSDCv3-launch", prices: dict[str, float] | None = None, **kw) -> "Market":
        """A market with a preset's parameters (``protocols/comet/model.py``: ``cUSDCv3-launch``)."""
        from .model import PRESETS, CometConfig, truncate_factor

        cfg = CometConfig(**PRESETS[name])
        prices = prices or {}
        assets = {a: Asset(price=float(prices.get(a, 1.0)),
                           borrow_collateral_factor=truncate_factor(f.borrow_collateral_factor),
                           liquidate_collateral_factor=truncate_factor(f.liquidate_collateral_factor),
                           liquidation_factor=truncate_factor(f.liquidation_factor))
                  for a, f in cfg.assets.items()}
        kw.setdefault("store_front_price_factor", cfg.store_front_price_factor)
        kw.setdefault("target_reserves", cfg.target_reserves)
        return cls(assets, base=cfg.base, base_price=float(prices.get(cfg.base, 1.0)), **kw)

    # --- views ---------------------------------------------------------------------------------
    @property
    def reserves(self) -> float:
        """``getReserves``: ``balance − totalSupply + totalBorrow`` (may be negative)."""
        return self.base_balance - self.total_supply_base + self.total_borrow_base

    def collateral_reserves(self, asset: str) -> float:
        """``getCollateralReserves``: the asset's balance not owned by users."""
        a = self.asset(asset)
        return a.balance - a.total_supply

    def asset(self, name: str) -> Asset:
        try:
            return self.assets[name]
        except KeyError:
            raise KeyError(f"unknown collateral asset {name!r} (assets: {', '.join(self.assets)})") from None

    def account(self, name: str) -> Account:
        try:
            return self.accounts[name]
        except KeyError:
            raise KeyError(f"unknown account {name!r}") from None

    def set_price(self, asset: str, price: float) -> None:
        if asset == self.base:
            self.base_price = float(price)
        else:
            self.asset(asset).price = float(price)

    # --- storage helpers --------------------------------------------------------------------
    def add_account(self, name: str, principal: float = 0.0, collateral: dict[str, float] | None = None) -> Account:
        """An account that supplied ``collateral`` and borrowed (``principal < 0``) or supplied
        base, booked into the totals and balances."""
        collateral = {k: float(v) for k, v in (collateral or {}).items()}
        for k, v in collateral.items():
            a = self.asset(k)
            if not (math.isfinite(v) and v >= 0):
                raise ValueError(f"{k}: collateral must be finite and >= 0, got {v!r}")
            a.total_supply += v
            a.balance += v
        if principal < 0:
            self.total_borrow_base += -principal
        else:
            self.total_supply_base += principal
        self.base_balance += principal  # a borrow takes base out, a supply brings it in
        acct = Account(float(principal), collateral)
        self.accounts[name] = acct
        return acct

    def _arrays(self, acct: Account):
        names = list(self.assets)
        coll = np.array([acct.collateral.get(n, 0.0) for n in names])
        px = np.array([self.assets[n].price for n in names])
        liq_cf = np.array([self.assets[n].liquidate_collateral_factor for n in names])
        lf = np.array([self.assets[n].liquidation_factor for n in names])
        return names, coll, px, liq_cf, lf


def is_liquidatable(market: Market, account: str) -> bool:
    """``isLiquidatable``: borrowing and ``Σ c·P·liquidateCF < debt·P_base``."""
    acct = market.account(account)
    _, coll, px, liq_cf, _ = market._arrays(acct)
    return bool(K.is_liquidatable(acct.principal, coll, px, liq_cf, market.base_price))


def quote_collateral(market: Market, asset: str, base_amount: float) -> float:
    """``quoteCollateral``: collateral for ``base_amount`` at the store-front price
    ``P·(1 − SFPF·(1 − LF))``."""
    a = market.asset(asset)
    return float(K.quote_collateral(float(base_amount), a.price, a.liquidation_factor,
                                    market.store_front_price_factor, market.base_price))


@dataclass(frozen=True)
class AbsorbedAccount:
    """One account of an ``absorb`` (the ``AbsorbCollateral`` and ``AbsorbDebt`` events)."""

    account: str
    collateral_absorbed: dict[str, float]
    collateral_value: dict[str, float]  # usdValue per asset
    base_paid_out: float  # newBalance − oldBalance, paid by the reserves
    old_principal: float
    new_principal: float
    shortfall: float  # debt the credit Σ value·LF did not cover


@dataclass(frozen=True)
class Absorb:
    """What one ``absorb`` call did: the accounts and the reserves before and after."""

    absorber: str
    accounts: tuple[AbsorbedAccount, ...]
    reserves_before: float
    reserves_after: float


def absorb(market: Market, accounts, absorber: str = "absorber") -> Absorb:
    """``Comet.absorb(absorber, accounts)``: each account's collateral goes to the protocol, its
    debt is repaid from the reserves, a credit ``Σ value·LF`` above the debt becomes its supply.
    The whole call reverts (:class:`NotLiquidatable`, :class:`Paused`) with nothing changed."""
    if isinstance(accounts, str):
        accounts = [accounts]
    if market.absorb_paused:
        raise Paused(action="absorb")
    for name in accounts:
        if not is_liquidatable(market, name):
            acct = market.account(name)
            _, coll, px, liq_cf, _ = market._arrays(acct)
            raise NotLiquidatable(account=name, liquidity=float(
                K.liquidity(acct.principal, coll, px, liq_cf, market.base_price)))
    seen = set()
    for name in accounts:
        if name in seen:  # absorbed once already: the second absorbInternal reverts the call
            raise NotLiquidatable("listed twice", account=name)
        seen.add(name)
    r0 = market.reserves
    out = []
    for name in accounts:
        acct = market.account(name)
        names, coll, px, _, lf = market._arrays(acct)
        old = acct.principal
        new, _credit, paid_out, _repaid, shortfall = K.absorb_account(old, coll, px, lf, market.base_price)
        absorbed, values = {}, {}
        for n, c, p in zip(names, coll, px):
            if c > 0:
                a = market.assets[n]
                a.total_supply -= c
                absorbed[n] = float(c)
                values[n] = float(c * p)
        acct.collateral = {}
        # repayAndSupplyAmount(old, new)
        if new <= 0:
            repay, supply = new - old, 0.0
        elif old >= 0:
            repay, supply = 0.0, new - old
        else:
            repay, supply = -old, new
        market.total_supply_base += supply
        market.total_borrow_base -= repay
        acct.principal = float(new)
        out.append(AbsorbedAccount(name, absorbed, values, float(paid_out), float(old), float(new), float(shortfall)))
    pts = market.liquidator_points.setdefault(absorber, {"num_absorbs": 0, "num_absorbed": 0})
    pts["num_absorbs"] += 1
    pts["num_absorbed"] += len(accounts)
    return Absorb(absorber, tuple(out), r0, market.reserves)


def buy_collateral(market: Market, asset: str, min_amount: float, base_amount: float) -> float:
    """``Comet.buyCollateral(asset, minAmount, baseAmount, recipient)``: pays ``base_amount``
    into the reserves and returns the collateral bought. Reverts :class:`Paused`,
    :class:`NotForSale` (reserves ≥ 0 and ≥ target), :class:`TooMuchSlippage` (less than
    ``min_amount``), :class:`InsufficientReserves` (more than the collateral reserves)."""
    if market.buy_paused:
        raise Paused(action="buyCollateral")
    r = market.reserves
    if not K.buy_allowed(r, market.target_reserves):
        raise NotForSale(reserves=r, target_reserves=market.target_reserves)
    amount = quote_collateral(market, asset, base_amount)
    if amount < min_amount:
        raise TooMuchSlippage(collateral_amount=amount, min_amount=float(min_amount))
    cres = market.collateral_reserves(asset)
    if amount > cres:
        raise InsufficientReserves(collateral_amount=amount, collateral_reserves=cres)
    market.base_balance += float(base_amount)
    market.asset(asset).balance -= amount
    return amount
