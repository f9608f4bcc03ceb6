"""Compound v3 (Comet) — compiled rule functions and the protocol unit step.

Follows ``protocol-mechanics.md`` §2 (``compound-finance/comet`` ``Comet.sol`` /
``CometCore.sol``; launch values from ``deployments/mainnet/usdc/configuration.json``, §2.4)
and §8.3 (pause flags):

* three factors per collateral asset (§2.1): ``borrowCF`` (borrowing, ``isBorrowCollateralized``),
  ``liquidateCF`` (``isLiquidatable``) and ``liquidationFactor`` LF (share of the collateral
  value credited to the borrower when absorbed);
* liquidatable ⇔ ``principal < 0`` and
  ``liquidity = −debt·P_base + Σ_i c_i·P_i·liquidateCF_i < 0`` (§2.1; equality is *not*
  liquidatable);
* ``absorb`` (§2.2): **all** collateral of every asset is seized into the protocol's collateral
  reserves; the account is credited ``Σ value_i·LF_i / P_base``; a negative result is floored at
  0 (the reserves absorb the shortfall), a positive one becomes a base *supply* balance owned by
  the borrower; the reserves pay out ``newBalance − oldBalance`` and may go negative (for an
  underwater account that is the whole debt: the seized collateral is not counted in Comet's
  reserves, so valued at its credit ``value·LF`` the protocol's equity falls by exactly the
  shortfall ``debt − Σ value·LF``); the
  absorber gets nothing (only ``liquidatorPoints``: absorbs, accounts absorbed, gas spent);
  no close factor, no partial liquidation;
* ``buyCollateral`` (§2.3): at ``P·(1 − SFPF·(1 − LF))`` (2.5 % off at LF 0.95, SFPF 0.5), only
  while ``reserves < targetReserves`` or negative (checked before each call, so the call that
  crosses the target completes), never more than the collateral reserves; pause flags for
  absorb and buy (§8.3).

Agents (model choices, not protocol rules):

* **Absorbers.** Mechanical mode (``liq[LQ_MODE] = 0``): every liquidatable account is absorbed
  (accounts in index order, at most ``liq[LQ_MAX]`` per step; each costs ``liq[LQ_GAS]``).
  Rational mode: since Comet pays the absorber nothing, an account is absorbed only when the
  absorb-then-buy bundle pays: buying must be open after the absorb, and the venue proceeds of
  the account's whole collateral, less its store-front cost, must exceed one gas per call
  (the absorb plus one buy per asset held), venue quotes taken after the sales already queued.
* **Buyers.** Buyers buy each collateral asset at most once per step (asset slots in order,
  at most ``liq[LQ_MAX]`` buys, ``liq[LQ_CAPITAL]`` quote of capital shared per step). A buyer
  quotes the venue of the asset with the best spot; it buys the amount that brings that venue's
  marginal bid (``spot·(1 − fee)``; a book's mid) down to the store-front price after the
  sales already queued in ``sold`` this step, capped by the collateral reserves and the
  capital, and buys only if the venue proceeds exceed the cost plus gas (rounding guard: by
  ``MIN_EDGE`` = 1e-9 of the cost, and for at least 1e-9 of the collateral reserves). What it
  buys goes into ``sold[asset]``; the engine sells it.
* Collateral nobody buys stays in the collateral reserves, exposed to the price; the last
  protocol prices seen are kept in the pack so ``totals`` can mark it to market.

Simplifications: real numbers instead of Comet's fixed-point integers (factors are truncated
to 4 decimals by the Python layer, as Comet stores them); no interest accrual during the run
(present value = principal, base indices fixed at 1); supply caps, ``borrowMin`` and
``baseMinForRewards`` are not used by the step (``borrowMin`` is checked by the Python layer
on the initial book); absorbs are one call per account; the buyer sizes its purchase on the
single best venue (the engine then routes the sale over all venues of the asset).

Pack layout (``protocols/comet/pack.py: build_pack``), a tuple in this order:
``(par[NPAR], asset[K] int64, fac[K, NFAC], principal[N], coll[N, K], st[NST], cres[K],
seized[K], bought[K], last_px[K + 1])`` — ``K`` collateral slots, ``N`` accounts; amounts in
asset units, ``principal`` and reserves in base units; ``last_px[K]`` is the base price.
"""

from __future__ import annotations

import math

from liqcascade.kernels._jit import njit
from liqcascade.kernels.cascade import _sale_quote
from liqcascade.protocols.kernel import (
    ACC_BAD,
    ACC_BONUS,
    ACC_EV_LOST,
    ACC_FEES,
    ACC_FUND_DRAW,
    ACC_GAS,
    ACC_LIQ_VALUE,
    ACC_NLIQ,
    ACC_REPAID,
    LQ_CAPITAL,
    LQ_GAS,
    LQ_MAX,
    LQ_MODE,
)
from liqcascade.venues.dispatch import best_venue, venue_sell_to_price, venue_spot
from liqcascade.venues.kernel import FEE, KIND, VENUE_CPMM

# --- protocol constants (CometCore, §2.1) ------------------------------------------------------
MAX_ASSETS = 15
FACTOR_DECIMALS = 4  # factors are stored with 4 decimals

# --- pack index constants ----------------------------------------------------------------------
PK_PAR = 0
PK_ASSET = 1
PK_FAC = 2
PK_PRINCIPAL = 3
PK_COLL = 4
PK_ST = 5
PK_CRES = 6
PK_SEIZED = 7
PK_BOUGHT = 8
PK_LAST_PX = 9
NPACK = 10

# parameter vector par[NPAR]
P_BASE = 0  # asset index of the base token
P_SFPF = 1  # storeFrontPriceFactor
P_TARGET = 2  # targetReserves (base units)
P_BORROW_MIN = 3  # baseBorrowMin (base units; not used by the step)
P_ABSORB_PAUSED = 4  # 1 = absorb paused (§8.3)
P_BUY_PAUSED = 5  # 1 = buyCollateral paused (§8.3)
P_BUY_EVENTS = 6  # 1 = record each buyCollateral as an event (ev_pos = -1)
NPAR = 7

# factor matrix fac[K, NFAC]
F_BORROW_CF = 0
F_LIQ_CF = 1
F_LF = 2
NFAC = 3

# scalar state st[NST]
S_RESERVES = 0  # protocol reserves (base units; may be negative)
S_NUM_ABSORBS = 1  # liquidatorPoints.numAbsorbs (one absorb call per account here)
S_NUM_ABSORBED = 2  # liquidatorPoints.numAbsorbed
S_APPROX_SPEND = 3  # liquidatorPoints.approxSpend: absorbers' gas (quote)
S_DEBT_ABSORBED = 4  # base debt removed from absorbed accounts (cumulative)
S_SUPPLY_CREDITED = 5  # base supply credited to absorbed accounts (cumulative)
S_SHORTFALL = 6  # debt not covered by Σ value·LF, borne by the reserves (cumulative, base)
S_BUY_BASE = 7  # base paid into the reserves by buyCollateral (cumulative)
S_NUM_BUYS = 8  # buyCollateral calls
S_BUY_GAS = 9  # buyers' gas (quote)
S_LAST_T = 10  # last step the unit ran
NST = 11

MODE_MECHANICAL = 0
MODE_RATIONAL = 1

# rounding guard: a buyer (or rational absorber) acts only when its gain beats gas by this
# share of the cost, and a buyer ignores purchases below this share of the collateral reserves,
# so that a venue left exactly at the store-front price by the last purchase does not trigger
# dust purchases whose size and sign are rounding noise
MIN_EDGE = 1e-9


# ===========================================================================================
# Rule functions (pure)
# ===========================================================================================


@njit
def liquidity(principal, coll_row, px, cf, pb):
    """``−debt·P_base + Σ c_i·P_i·cf_i`` in quote units for ``principal < 0`` (§2.1);
    ``principal·P_base + Σ …`` in general (a supplier's liquidity is positive)."""
    total = principal * pb
    for k in range(coll_row.shape[0]):
        c = coll_row[k]
        if c > 0.0:
            total += c * px[k] * cf[k]
    return total


@njit
def is_liquidatable(principal, coll_row, px, liq_cf, pb):
    """Comet ``isLiquidatable``: ``principal < 0`` and liquidity (liquidateCF) ``< 0``."""
    if not principal < 0.0:
        return False
    return liquidity(principal, coll_row, px, liq_cf, pb) < 0.0


@njit
def is_borrow_collateralized(principal, coll_row, px, borrow_cf, pb):
    """Comet ``isBorrowCollateralized``: ``principal >= 0`` or liquidity (borrowCF) ``>= 0``."""
    if principal >= 0.0:
        return True
    return liquidity(principal, coll_row, px, borrow_cf, pb) >= 0.0


@njit
def store_front_discount(lf, sfpf):
    """``discountFactor = SFPF · (1 − LF)`` (§2.3): 0.025 at LF 0.95, SFPF 0.5."""
    return sfpf * (1.0 - lf)


@njit
def store_front_price(p, lf, sfpf):
    """``P · (1 − SFPF·(1 − LF))`` — the quote price per asset unit in ``buyCollateral``."""
    return p * (1.0 - sfpf * (1.0 - lf))


@njit
def quote_collateral(base_amount, p, lf, sfpf, pb):
    """Comet ``quoteCollateral``: asset units for ``base_amount`` base units (§2.3)."""
    return base_amount * pb / store_front_price(p, lf, sfpf)


@njit
def buy_allowed(reserves, target):
    """``buyCollateral`` is open while ``reserves < 0`` or ``reserves < targetReserves``."""
    return reserves < 0.0 or reserves < target


@njit
def absorb_account(principal, coll_row, px, lf, pb):
    """Comet ``absorbInternal`` for one account (caller checks it is liquidatable).

    Returns ``(new_principal, credit_value, paid_out, repaid, shortfall)``: ``credit_value``
    ``= Σ c_i·P_i·LF_i`` (quote); the new balance is ``old + credit_value / P_base`` floored at
    0; ``paid_out = new − old`` is what the reserves pay (base units); of the old debt,
    ``repaid = min(debt, credit)`` is covered by the credit and ``shortfall = debt − repaid``
    is absorbed by the reserves; ``new_principal`` (``>= 0``) is the borrower's new supply.
    """
    credit_value = 0.0
    for k in range(coll_row.shape[0]):
        c = coll_row[k]
        if c > 0.0:
            credit_value += c * px[k] * lf[k]
    credit = credit_value / pb
    new = principal + credit
    if new < 0.0:
        new = 0.0
    debt = -principal if principal < 0.0 else 0.0
    repaid = credit if credit < debt else debt
    shortfall = debt - repaid
    paid_out = new - principal
    return new, credit_value, paid_out, repaid, shortfall


# ===========================================================================================
# Helpers of the step
# ===========================================================================================


@njit
def _proceeds(vs, vdk, vdq, v, queued, q):
    """Quote for ``q`` more units into venue ``v`` after ``queued`` units (no state change)."""
    if q <= 0.0:
        return 0.0
    if queued <= 0.0:
        return _sale_quote(vs, vdk, vdq, v, q)
    return _sale_quote(vs, vdk, vdq, v, queued + q) - _sale_quote(vs, vdk, vdq, v, queued)


@njit
def _gross(vs, v):
    if int(vs[v, KIND]) == VENUE_CPMM:
        return 1.0 - vs[v, FEE]
    return 1.0


@njit
def buy_size(vs, vdk, vdq, v, queued, sp):
    """Units a buyer takes at store-front price ``sp``: what brings venue ``v``'s marginal bid
    down to ``sp`` once ``queued`` units are already being sold (0 if none)."""
    q = venue_sell_to_price(vs, vdk, vdq, v, sp / _gross(vs, v)) - queued
    return q if q > 0.0 else 0.0


@njit
def _absorb_pays(vs, vdk, vdq, av_ptr, av_idx, asset, coll_row, px, lf, sfpf, sold, gas):
    """Rational absorber: venue proceeds of the account's collateral minus its store-front cost
    minus one gas per call (absorb + one buy per asset held) is positive."""
    gain = -gas
    cost = 0.0
    for k in range(coll_row.shape[0]):
        c = coll_row[k]
        if c <= 0.0:
            continue
        a = asset[k]
        v = best_venue(vs, av_ptr, av_idx, a)
        if v < 0:
            continue
        ck = c * store_front_price(px[k], lf[k], sfpf)
        cost += ck
        gain += _proceeds(vs, vdk, vdq, v, sold[a], c) - ck - gas
    return gain > MIN_EDGE * cost


# ===========================================================================================
# The unit step
# ===========================================================================================


@njit
def comet_step(pack, t, dt_seconds, prices, vs, vdk, vdq, av_ptr, av_idx,
               sold, acc, liq, ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid,
               ev_price, ev_exec, ev_bonus, ev_bad, ev_fee, n_ev, proto_id, pos_offset):
    """One step of a Comet market: absorb every liquidatable account (agents permitting), then
    let buyers buy collateral reserves while ``buyCollateral`` is open. See the module doc.

    Absorb events: one per collateral asset seized (``ev_seized`` units, ``ev_repaid`` the base
    debt covered by that asset's credit, ``ev_bad`` its share of the shortfall in quote,
    ``ev_fee`` the penalty ``c·(1 − LF)`` in asset units kept by the protocol, ``ev_bonus`` 0);
    an account with no collateral gives one event on the base asset. Buy events (only when
    ``par[P_BUY_EVENTS]``): ``ev_pos = -1``, ``ev_seized`` units bought, ``ev_repaid`` base
    paid, ``ev_bonus`` the buyer's discount at the protocol price. Returns the new ``n_ev``.
    """
    par = pack[0]
    asset = pack[1]
    fac = pack[2]
    principal = pack[3]
    coll = pack[4]
    st = pack[5]
    cres = pack[6]
    seized = pack[7]
    bought = pack[8]
    last_px = pack[9]
    K = asset.shape[0]
    N = principal.shape[0]
    ev_cap = ev_step.shape[0]
    base = int(par[P_BASE])
    pb = prices[base]
    sfpf = par[P_SFPF]
    target = par[P_TARGET]
    mode = int(liq[LQ_MODE])
    gas = liq[LQ_GAS]
    max_n = int(liq[LQ_MAX])
    px = last_px[:K].copy()
    for k in range(K):
        px[k] = prices[asset[k]]
        last_px[k] = px[k]
    last_px[K] = pb
    st[S_LAST_T] = t
    lf = fac[:, F_LF].copy()
    lcf = fac[:, F_LIQ_CF].copy()

    # --- 1. absorb ----------------------------------------------------------------------
    if par[P_ABSORB_PAUSED] == 0.0:
        n_abs = 0
        for i in range(N):
            if max_n > 0 and n_abs >= max_n:
                break
            row = coll[i]
            if not is_liquidatable(principal[i], row, px, lcf, pb):
                continue
            if mode == MODE_RATIONAL:
                new0, cv0, paid0, rep0, short0 = absorb_account(principal[i], row, px, lf, pb)
                if not buy_allowed(st[S_RESERVES] - paid0, target) or par[P_BUY_PAUSED] != 0.0:
                    continue
                if not _absorb_pays(vs, vdk, vdq, av_ptr, av_idx, asset, row, px, lf, sfpf, sold, gas):
                    continue
            old = principal[i]
            new, credit_value, paid_out, repaid, shortfall = absorb_account(old, row, px, lf, pb)
            n_abs += 1
            principal[i] = new
            st[S_RESERVES] -= paid_out
            st[S_NUM_ABSORBS] += 1.0
            st[S_NUM_ABSORBED] += 1.0
            st[S_APPROX_SPEND] += gas
            st[S_DEBT_ABSORBED] += -old
            st[S_SUPPLY_CREDITED] += new
            st[S_SHORTFALL] += shortfall
            acc[ACC_NLIQ] += 1.0
            acc[ACC_REPAID] += repaid * pb
            acc[ACC_BAD] += shortfall * pb
            acc[ACC_GAS] += gas
            acc[ACC_FUND_DRAW] += paid_out * pb
            any_coll = False
            for k in range(K):
                c = row[k]
                if c <= 0.0:
                    continue
                any_coll = True
                value = c * px[k]
                share = value * lf[k] / credit_value if credit_value > 0.0 else 0.0
                acc[ACC_LIQ_VALUE] += value
                acc[ACC_FEES] += value * (1.0 - lf[k])
                cres[k] += c
                seized[k] += c
                row[k] = 0.0
                if n_ev < ev_cap:
                    ev_step[n_ev] = t
                    ev_pos[n_ev] = pos_offset + i
                    ev_proto[n_ev] = proto_id
                    ev_asset[n_ev] = asset[k]
                    ev_seized[n_ev] = c
                    ev_repaid[n_ev] = repaid * share
                    ev_price[n_ev] = px[k]
                    ev_exec[n_ev] = math.nan
                    ev_bonus[n_ev] = 0.0
                    ev_bad[n_ev] = shortfall * pb * share
                    ev_fee[n_ev] = c * (1.0 - lf[k])
                    n_ev += 1
                else:
                    acc[ACC_EV_LOST] += 1.0
            if not any_coll and n_ev >= ev_cap:
                acc[ACC_EV_LOST] += 1.0
            elif not any_coll:
                ev_step[n_ev] = t
                ev_pos[n_ev] = pos_offset + i
                ev_proto[n_ev] = proto_id
                ev_asset[n_ev] = base
                ev_seized[n_ev] = 0.0
                ev_repaid[n_ev] = 0.0
                ev_price[n_ev] = pb
                ev_exec[n_ev] = math.nan
                ev_bonus[n_ev] = 0.0
                ev_bad[n_ev] = shortfall * pb
                ev_fee[n_ev] = 0.0
                n_ev += 1

    # --- 2. buyCollateral -----------------------------------------------------------------
    if par[P_BUY_PAUSED] == 0.0:
        cap_left = liq[LQ_CAPITAL]
        n_buy = 0
        for k in range(K):
            if max_n > 0 and n_buy >= max_n:
                break
            if not buy_allowed(st[S_RESERVES], target):
                break  # reserves only grow while buying: closed for the rest of the step
            if cres[k] <= 0.0:
                continue
            a = asset[k]
            v = best_venue(vs, av_ptr, av_idx, a)
            if v < 0:
                continue
            sp = store_front_price(px[k], lf[k], sfpf)
            if not sp > 0.0:
                continue
            q = buy_size(vs, vdk, vdq, v, sold[a], sp)
            if q > cres[k]:
                q = cres[k]
            if q * sp > cap_left:
                q = cap_left / sp
            if not q > MIN_EDGE * cres[k]:
                continue  # nothing, or dust whose size is rounding noise
            cost = q * sp
            if _proceeds(vs, vdk, vdq, v, sold[a], q) - cost - gas <= MIN_EDGE * cost:
                continue
            n_buy += 1
            base_paid = cost / pb
            cap_left -= cost
            cres[k] -= q
            if cres[k] < 0.0:
                cres[k] = 0.0
            bought[k] += q
            sold[a] += q
            st[S_RESERVES] += base_paid
            st[S_BUY_BASE] += base_paid
            st[S_NUM_BUYS] += 1.0
            st[S_BUY_GAS] += gas
            acc[ACC_BONUS] += q * px[k] - cost
            acc[ACC_GAS] += gas
            if par[P_BUY_EVENTS] != 0.0 and n_ev >= ev_cap:
                acc[ACC_EV_LOST] += 1.0
            elif par[P_BUY_EVENTS] != 0.0:
                ev_step[n_ev] = t
                ev_pos[n_ev] = -1
                ev_proto[n_ev] = proto_id
                ev_asset[n_ev] = a
                ev_seized[n_ev] = q
                ev_repaid[n_ev] = base_paid
                ev_price[n_ev] = px[k]
                ev_exec[n_ev] = math.nan
                ev_bonus[n_ev] = q * px[k] - cost
                ev_bad[n_ev] = 0.0
                ev_fee[n_ev] = 0.0
                n_ev += 1
    return n_ev
