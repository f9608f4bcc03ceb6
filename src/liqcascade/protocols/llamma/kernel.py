"""crvUSD LLAMMA (Curve's lending AMM): bands, soft liquidation, health, hard liquidation.

Follows ``protocol-mechanics.md`` §5 (``curvefi/curve-stablecoin`` tag ``v1``: ``AMM.vy``,
``Controller.vy``, ``ControllerFactory.vy``); §8.6 for the limiter. Amounts are float64 real
numbers; the contract's 1e18 fixed point and its rounding (round the input up, the output down)
are not reproduced.

Bands (§5.1)
------------
``p_oracle_up(n) = p_base · ((A − 1) / A)^n`` and ``p_oracle_down(n) = p_oracle_up(n + 1)``: each
band is ``1/A`` wide in relative terms. ``p_base`` is ``BASE_PRICE``; the interest drift
``rate_mul`` is not modelled (rate 0), so the grid is fixed.

The AMM inside a band (§5.2)
----------------------------
At oracle price ``p_o`` band ``n`` trades between ``p_cd = p_o³ / p_up²`` (all collateral) and
``p_cu = p_o³ / p_down²`` (all stablecoin). Its invariant is ``(f + x)(g + y) = p_o·A²·y0²`` with
``f = p_o²·A·y0 / p_up`` and ``g = p_up·(A − 1)·y0 / p_o``; the spot is ``(f + x) / (g + y)``.
``y0`` is derived from the invariant itself: expanding it with these ``f`` and ``g`` gives
``f·g = p_o·A(A − 1)·y0²``, so ``p_o·A·y0² = f·y + g·x + x·y``, i.e. the quadratic

    p_o·A·y0² − y0·(p_up·(A − 1)·x / p_o + A·p_o²·y / p_up) − x·y = 0,

whose positive root is ``y0 = (b + sqrt(b² + 4·A·p_o·x·y)) / (2·A·p_o)`` (``b`` the bracket; with
``x = 0`` or ``y = 0`` it is ``b / (A·p_o)``), as in ``AMM._get_y0``. ``y0`` is recomputed from
the band's balances at every trade, so the fee that a trade leaves in a band raises the curve.

Trades (``AMM.calc_swap_out``, ``exchange``)
--------------------------------------------
*Pump* (stablecoin in, collateral out; the AMM price goes up) walks bands from the active band
towards higher ``n`` (lower oracle ranges, higher AMM prices); *dump* (collateral in, stablecoin
out) walks towards lower ``n``. Inside a band a trade moves along the band's curve; the fee is
taken on the input (``dx = x_dest / (1 − fee)``) and stays in the band, except the optional
``admin_fee`` share of it, which goes to the protocol (v1 ``admin_fees_x/y``). The active band
becomes the band where the trade ended. The "≈50 bands away from ``p_o``" guard of later
versions is not modelled.

Fees (§5.3)
-----------
The base fee, and two options. ``limiter``: ``AMM.limit_p_o`` caps the oracle move at
``MAX_P_O_CHG = 1.25`` within ``PREV_P_O_DELAY = 120 s`` of the previous write and adds a fee
``min((old_dfee + 1 − ratio³)·dt / 120, 1)`` with ``ratio = min/max`` of the two prices and
``dt = 120 − min(120, now − prev_time)``, so it decays linearly over 120 s. The AMM writes the
oracle once per step, at ``t·dt_seconds`` (the contract writes on every exchange).
``dynamic fee``: ``AMM.get_dynamic_fee`` — in a band whose ``[p_cd, p_cu]`` does not contain
``p_o`` the fee is at least ¼ of the relative gap. A band trades at
``max(fee, limiter fee, band dynamic fee)`` (capped below 1).

Soft liquidation (§5.3) by an arbitrageur
-----------------------------------------
Each step, after the oracle write, an arbitrageur trades the LLAMMA against the collateral's
venues (``av_idx[av_ptr[a]:av_ptr[a + 1]]``), trading the venues directly (this *is* the
mechanism, see docs/architecture.md "Protocol units"): when the best venue bid
(``spot·(1 − fee)``, books: mid) exceeds the AMM's marginal ask (band price ``/ (1 − fee)``)
by more than ``arb_threshold`` it pumps the AMM and sells exactly the collateral it got into that
venue; when the AMM's marginal bid (band price ``· (1 − fee)``) exceeds the best venue ask it
buys collateral on that venue and dumps it into the AMM ("de-liquidation"). The size
(:func:`arb_plan`) walks the bands in trade order and stops at the first marginal unit that is
not profitable: a band is taken whole while its last unit still pays, otherwise the two marginal
prices are made to meet inside it (Illinois root search on the band's input); since the
per-band dynamic fee can make the edge jump at band boundaries, a band whose first unit does not
pay stops the walk at its edge. Every unit traded is profitable, so the arbitrageur's P&L is
``>= 0``; one trade per round, a few rounds so that several venues are used. An asset without venues is arbitraged against an infinitely deep
outside market at the (unlimited) oracle price. No gas, no capital limit for the arbitrageur.

Health and hard liquidation (§5.4)
----------------------------------
``health = x_down·(1 − liquidation_discount) / debt − 1`` with ``x_down`` from
``AMM.get_x_down`` (the stablecoin the user's bands would hold if the price were walked down
adiabatically: a band with collateral only yields ``y·sqrt(p_up·p_down)``; a mixed band is first
traded to ``p_o`` on its curve). The "full" variant adds ``(p_o − p_up(n1))·y_up / debt`` while
the user's top band ``n1`` is above the active band and ``p_o > p_up(n1)``. As
``Controller._liquidate`` does, a position is hard-liquidated when the *full* health is
``< 0``: the liquidator repays the whole debt, receives all the stablecoin and collateral in the
user's bands (it pays ``debt − x`` when ``x < debt``, keeps ``x − debt`` otherwise) and sells the
collateral (``sold[a]``). crvUSD v1 has no bad-debt write-off: a *mechanical* liquidator
(``LQ_MODE = 0``) liquidates every eligible position even at a loss (a negative bonus); a
*rational* one only when ``x + proceeds − debt − gas > 0`` (proceeds quoted on the best venue
after the sales already queued), otherwise the loan stays open, unbacked. The per-step capital
``LQ_CAPITAL`` bounds the debt repaid, ``LQ_MAX`` the actions; users are scanned in index order.
Interest, partial liquidation (``liquidate_extended``) and self-liquidation are not modelled.
A withdrawal leaving less than ``1e-12`` of a band's shares empties the band (no float dust).

Pack layout (built by ``protocols/llamma/pack.py: build_pack``)
----------------------------------------------------------
``(par, st, bx, by, bs, u_n1, u_nb, u_sh, u_debt, u_ld, u_coll0, u_open)``:
``par[NPAR]`` parameters (``P_*``), ``st[NST]`` state and accounting (``S_*``); bands
``bx, by, bs`` (stablecoin, collateral, total shares) for band numbers ``P_NLO .. P_NLO + NB − 1``;
users: top band ``u_n1``, band count ``u_nb``, shares ``u_sh[U, MAX_TICKS]`` (entry ``k`` is band
``u_n1 + k``), debt ``u_debt``, liquidation discount ``u_ld``, deposited collateral ``u_coll0``,
``u_open``.
"""

from __future__ import annotations

import math

import numpy as np

from liqcascade.kernels._jit import njit
from liqcascade.kernels.cascade import marginal_proceeds
from liqcascade.protocols.kernel import (
    ACC_BONUS,
    ACC_EV_LOST,
    ACC_FEES,
    ACC_GAS,
    ACC_LIQ_VALUE,
    ACC_NLIQ,
    ACC_REPAID,
    LQ_CAPITAL,
    LQ_GAS,
    LQ_MAX,
    LQ_MODE,
)
from liqcascade.venues.book.kernel import book_buy
from liqcascade.venues.cpmm.kernel import cpmm_buy
from liqcascade.venues.dispatch import best_venue as _best_bid_venue, venue_buy, venue_preview_sell, venue_sell, venue_spot
from liqcascade.venues.kernel import FEE, KIND, MID, NK, VENUE_CPMM, X, Y

# --- rule constants (AMM.vy / Controller.vy v1) --------------------------------------------
MIN_TICKS = 4
MAX_TICKS = 50
MAX_P_O_CHG = 1.25  # oracle ratio allowed within PREV_P_O_DELAY
PREV_P_O_DELAY = 120.0  # seconds
MAX_SKIP_TICKS = 1024
_FEE_CAP = 1.0 - 1e-12  # a band's fee stays below 1 (contract: 1 - 1e-18)

# --- parameter vector par[NPAR] --------------------------------------------------------------
P_A = 0
P_BASE = 1  # BASE_PRICE (p_oracle_up(0))
P_FEE = 2
P_ADMIN_FEE = 3
P_LOAN_DISC = 4
P_LIQ_DISC = 5
P_LIMITER = 6  # 1.0 = oracle limiter on
P_DYNFEE = 7  # 1.0 = band dynamic fee on
P_ASSET = 8  # collateral asset index
P_NLO = 9  # band number of band index 0
P_ARB_THR = 10  # arbitrageur's minimum relative edge
NPAR = 11

# --- state vector st[NST] --------------------------------------------------------------------
S_ACTIVE = 0  # active band number
S_PO = 1  # p_o used in the last step (after the limiter)
S_OLD_PO = 2  # limiter state: last written p_o
S_OLD_DFEE = 3  # limiter state: last written limiter fee
S_PREV_TIME = 4  # limiter state: time of the last write (seconds)
S_ADMIN_X = 5  # admin fees collected, stablecoin
S_ADMIN_Y = 6  # admin fees collected, collateral
S_FEE_X = 7  # all AMM fees paid in stablecoin (admin part included)
S_FEE_Y = 8  # all AMM fees paid in collateral
S_ARB_CASH = 9  # arbitrageur's quote P&L (cash)
S_ARB_INV = 10  # arbitrageur's collateral inventory
S_ARB_SOLD_Y = 11  # collateral the arbitrageur sold to venues / the outside market
S_ARB_BOUGHT_Y = 12  # collateral it bought from them
S_ARB_Q_IN = 13  # quote it received from them
S_ARB_Q_OUT = 14  # quote it paid to them
S_PUMP_X = 15  # stablecoin paid into the AMM (pumps)
S_PUMP_Y = 16  # collateral taken out of the AMM (pumps)
S_DUMP_Y = 17  # collateral put into the AMM (dumps)
S_DUMP_X = 18  # stablecoin taken out of the AMM (dumps)
S_LIQ_X = 19  # stablecoin taken from bands by hard liquidations
S_LIQ_Y = 20  # collateral taken from bands by hard liquidations
S_LIQR_CASH = 21  # liquidators' quote flow: x received − debt repaid
S_WD_X = 22  # stablecoin withdrawn by users closing their loans
S_WD_Y = 23  # collateral withdrawn by users closing their loans
S_REPAID = 24  # debt repaid (liquidations + closes)
S_BAD = 25  # debt written off (always 0: crvUSD v1 has no write-off)
S_COLL0 = 26  # collateral deposited at build
S_DEBT0 = 27  # debt at build
S_N_HARD = 28  # hard liquidations
S_N_ARB = 29  # arbitrage trades
S_LIM_FEE = 30  # limiter fee in force in the last step
NST = 31

_ARB_SLACK = 1e-12
_SHARE_EPS = 1e-12  # a withdrawal of all but this fraction of a band's shares empties it
_SOLVE_MAX = 300
_SOLVE_RTOL = 1e-15


# ===========================================================================================
# Bands and prices (§5.1, §5.2)
# ===========================================================================================


@njit
def p_oracle_up(p_base, A, n):
    """Upper oracle edge of band ``n``: ``p_base · ((A − 1) / A)^n``."""
    return p_base * ((A - 1.0) / A) ** n


@njit
def p_oracle_down(p_base, A, n):
    """Lower oracle edge of band ``n``: ``p_oracle_up(n + 1)``."""
    return p_base * ((A - 1.0) / A) ** (n + 1)


@njit
def band_price_range(p_o, p_up, A):
    """``(p_cd, p_cu) = (p_o³ / p_up², p_o³ / p_down²)``: the AMM price of a band with only
    collateral and with only stablecoin, at oracle price ``p_o``."""
    p_down = p_up * (A - 1.0) / A
    return p_o * p_o / p_up * p_o / p_up, p_o * p_o / p_down * p_o / p_down


@njit
def get_y0(x, y, p_o, p_up, A):
    """Positive root of ``p_o·A·y0² − y0·(p_up(A − 1)x / p_o + A·p_o²·y / p_up) − x·y = 0``."""
    b = 0.0
    if x > 0.0:
        b = p_up * (A - 1.0) * x / p_o
    if y > 0.0:
        b += A * p_o * p_o / p_up * y
    if x > 0.0 and y > 0.0:
        return (b + math.sqrt(b * b + 4.0 * A * p_o * x * y)) / (2.0 * A * p_o)
    return b / (A * p_o)


@njit
def band_curve(x, y, p_o, p_up, A):
    """``(f, g, inv)`` of a band: ``f = p_o²·A·y0 / p_up``, ``g = p_up(A − 1)y0 / p_o``,
    ``inv = (f + x)(g + y)``."""
    y0 = get_y0(x, y, p_o, p_up, A)
    f = A * y0 * p_o / p_up * p_o
    g = (A - 1.0) * y0 * p_up / p_o
    return f, g, (f + x) * (g + y)


@njit
def band_price(x, y, p_o, p_up, A):
    """AMM spot price of a band (``AMM._get_p``): ``(f + x) / (g + y)``; ``p_cd`` when ``x = 0``,
    ``p_cu`` when ``y = 0``, the geometric middle when empty."""
    p_cd, p_cu = band_price_range(p_o, p_up, A)
    if x <= 0.0:
        if y <= 0.0:
            return p_cd * A / (A - 1.0)
        return p_cd
    if y <= 0.0:
        return p_cu
    f, g, _ = band_curve(x, y, p_o, p_up, A)
    return (f + x) / (g + y)


@njit
def limit_p_o(p, now, old_p_o, old_dfee, prev_time):
    """``AMM.limit_p_o``: ``(p_limited, limiter_fee)``."""
    elapsed = now - prev_time
    dt = PREV_P_O_DELAY - min(PREV_P_O_DELAY, elapsed)
    p_new = p
    fee = 0.0
    if dt > 0.0:
        if p > old_p_o:
            ratio = old_p_o / p
            if ratio < 1.0 / MAX_P_O_CHG:
                p_new = old_p_o * MAX_P_O_CHG
                ratio = 1.0 / MAX_P_O_CHG
        else:
            ratio = p / old_p_o
            if ratio < 1.0 / MAX_P_O_CHG:
                p_new = old_p_o / MAX_P_O_CHG
                ratio = 1.0 / MAX_P_O_CHG
        fee = min((1.0 + old_dfee - ratio * ratio * ratio) * dt / PREV_P_O_DELAY, _FEE_CAP)
        if fee < 0.0:
            fee = 0.0
    return p_new, fee


@njit
def dynamic_fee(p_o, p_up, A):
    """``AMM.get_dynamic_fee``: ¼ of the relative gap between ``p_o`` and the band's
    ``[p_cd, p_cu]``; 0 inside."""
    p_cd, p_cu = band_price_range(p_o, p_up, A)
    if p_o < p_cd:
        return (p_cd - p_o) / p_cd * 0.25
    if p_o > p_cu:
        return (p_o - p_cu) / p_o * 0.25
    return 0.0


@njit
def band_fee(par, p_o, p_up, lim_fee):
    """Fee a band trades at: ``max(fee, limiter fee, dynamic fee)`` (options on/off)."""
    fee = par[P_FEE]
    if lim_fee > fee:
        fee = lim_fee
    if par[P_DYNFEE] != 0.0:
        d = dynamic_fee(p_o, p_up, par[P_A])
        if d > fee:
            fee = d
    return min(fee, _FEE_CAP)


# ===========================================================================================
# Exchange (AMM.calc_swap_out / exchange)
# ===========================================================================================


@njit
def amm_pump(par, st, bx, by, p_o, lim_fee, dx, commit):
    """Stablecoin ``dx`` in, collateral out, walking bands up from the active one.

    Returns ``(dx_used, dy_out, ask)``: ``ask`` is the marginal price (fee included) of the last
    unit traded — with ``dx = 0`` the price of the next unit; NaN when no band holds collateral.
    ``dx = inf`` takes all the collateral. ``commit`` writes the bands, the active band and fees.
    """
    A = par[P_A]
    base = par[P_BASE]
    adm = par[P_ADMIN_FEE]
    nlo = int(par[P_NLO])
    nb = bx.shape[0]
    i = int(st[S_ACTIVE]) - nlo
    if i < 0:
        i = 0
    last = i
    left = dx
    used = 0.0
    out = 0.0
    ask = math.nan
    while i < nb:
        y = by[i]
        if y > 0.0:
            x = bx[i]
            p_up = p_oracle_up(base, A, nlo + i)
            f, g, inv = band_curve(x, y, p_o, p_up, A)
            fee = band_fee(par, p_o, p_up, lim_fee)
            x_dest = inv / g - f - x
            if x_dest < 0.0:
                x_dest = 0.0
            dxb = x_dest / (1.0 - fee)
            last = i
            if dxb >= left:
                xd = left * (1.0 - fee)
                y_new = inv / (f + x + xd) - g
                if y_new < 0.0:
                    y_new = 0.0
                if y_new > y:
                    y_new = y
                out += y - y_new
                used += left
                ask = (f + x + xd) / (g + y_new) / (1.0 - fee)
                if commit and left > 0.0:
                    fee_amt = left - xd
                    a_fee = fee_amt * adm
                    bx[i] = x + left - a_fee
                    by[i] = y_new
                    st[S_ADMIN_X] += a_fee
                    st[S_FEE_X] += fee_amt
                left = 0.0
                break
            out += y
            used += dxb
            left -= dxb
            ask = (f + x + x_dest) / g / (1.0 - fee)
            if commit:
                fee_amt = dxb - x_dest
                a_fee = fee_amt * adm
                bx[i] = x + dxb - a_fee
                by[i] = 0.0
                st[S_ADMIN_X] += a_fee
                st[S_FEE_X] += fee_amt
        i += 1
    if commit and used > 0.0:
        st[S_ACTIVE] = float(nlo + last)
    return used, out, ask


@njit
def amm_dump(par, st, bx, by, p_o, lim_fee, dy, commit):
    """Collateral ``dy`` in, stablecoin out, walking bands down from the active one.

    Returns ``(dy_used, dx_out, bid)``, ``bid`` the marginal price (fee included) of the last
    unit (of the next one when ``dy = 0``; NaN when no band holds stablecoin).
    """
    A = par[P_A]
    base = par[P_BASE]
    adm = par[P_ADMIN_FEE]
    nlo = int(par[P_NLO])
    nb = bx.shape[0]
    i = int(st[S_ACTIVE]) - nlo
    if i > nb - 1:
        i = nb - 1
    last = i
    left = dy
    used = 0.0
    out = 0.0
    bid = math.nan
    while i >= 0:
        x = bx[i]
        if x > 0.0:
            y = by[i]
            p_up = p_oracle_up(base, A, nlo + i)
            f, g, inv = band_curve(x, y, p_o, p_up, A)
            fee = band_fee(par, p_o, p_up, lim_fee)
            y_dest = inv / f - g - y
            if y_dest < 0.0:
                y_dest = 0.0
            dyb = y_dest / (1.0 - fee)
            last = i
            if dyb >= left:
                yd = left * (1.0 - fee)
                x_new = inv / (g + y + yd) - f
                if x_new < 0.0:
                    x_new = 0.0
                if x_new > x:
                    x_new = x
                out += x - x_new
                used += left
                bid = (f + x_new) / (g + y + yd) * (1.0 - fee)
                if commit and left > 0.0:
                    fee_amt = left - yd
                    a_fee = fee_amt * adm
                    by[i] = y + left - a_fee
                    bx[i] = x_new
                    st[S_ADMIN_Y] += a_fee
                    st[S_FEE_Y] += fee_amt
                left = 0.0
                break
            out += x
            used += dyb
            left -= dyb
            bid = f / (g + y + y_dest) * (1.0 - fee)
            if commit:
                fee_amt = dyb - y_dest
                a_fee = fee_amt * adm
                by[i] = y + dyb - a_fee
                bx[i] = 0.0
                st[S_ADMIN_Y] += a_fee
                st[S_FEE_Y] += fee_amt
        i -= 1
    if commit and used > 0.0:
        st[S_ACTIVE] = float(nlo + last)
    return used, out, bid


# ===========================================================================================
# Soft liquidation: the arbitrageur
# ===========================================================================================


@njit
def _gross(vs, v):
    if int(vs[v, KIND]) == VENUE_CPMM:
        return 1.0 - vs[v, FEE]
    return 1.0


@njit
def _preview_sell(vs, vdk, vdq, v, p_ext, dq):
    """``(quote_out, spot_after)`` of selling ``dq`` on venue ``v`` (``v < 0``: outside market
    at ``p_ext``), without changing it."""
    if v < 0:
        return dq * p_ext, p_ext
    if not dq > 0.0:
        return 0.0, venue_spot(vs, v)
    return venue_preview_sell(vs, vdk, vdq, v, dq)  # honours the venue's floor


@njit
def _venue_cost(vs, vdk, vdq, v, p_ext, dy):
    """``(quote, spot_after)`` to buy exactly ``dy`` collateral on venue ``v`` (outside market at
    ``p_ext`` when ``v < 0``), without changing it; ``(inf, inf)`` when the venue cannot."""
    if v < 0:
        return dy * p_ext, p_ext
    if dy <= 0.0:
        return 0.0, venue_spot(vs, v)
    if int(vs[v, KIND]) == VENUE_CPMM:
        x = vs[v, X]
        y = vs[v, Y]
        if dy >= x:
            return math.inf, math.inf
        dq = y * dy / (x - dy) / (1.0 - vs[v, FEE])
        return dq, (y + dq) / (x - dy)
    mid = vs[v, MID]
    nk = int(vs[v, NK])
    lo = 0.0
    hi = dy * mid
    for _ in range(200):
        m, got = book_buy(mid, vdk[v], vdq[v], nk, hi)
        if got >= dy:
            break
        lo = hi
        hi *= 2.0
    for _ in range(_SOLVE_MAX):
        if hi - lo <= _SOLVE_RTOL * hi:
            break
        mq = 0.5 * (lo + hi)
        if not (lo < mq < hi):
            break
        m, got = book_buy(mid, vdk[v], vdq[v], nk, mq)
        if got >= dy:
            hi = mq
        else:
            lo = mq
    m, got = book_buy(mid, vdk[v], vdq[v], nk, hi)
    return hi, m


@njit
def _band_gap(side, w, x, y, f, g, inv, fee, cum, vs, vdk, vdq, v, p_ext, g_v, up):
    """Marginal edge after putting ``w`` into one band (decreasing in ``w``).

    ``side = 1``: ``w`` stablecoin pumped; the collateral taken so far (``cum`` + this band's)
    is sold on ``v``: venue bid after − band ask after · up.
    ``side = −1``: ``w`` collateral dumped, bought on ``v`` (``cum`` + ``w`` in all):
    band bid after − venue ask after · up.
    """
    if side == 1:
        xd = w * (1.0 - fee)
        y_new = inv / (f + x + xd) - g
        if y_new < 0.0:
            y_new = 0.0
        if y_new > y:
            y_new = y
        ask = (f + x + xd) / (g + y_new) / (1.0 - fee)
        _, s = _preview_sell(vs, vdk, vdq, v, p_ext, cum + (y - y_new))
        return s * g_v - ask * up
    yd = w * (1.0 - fee)
    x_new = inv / (g + y + yd) - f
    if x_new < 0.0:
        x_new = 0.0
    if x_new > x:
        x_new = x
    bid = (f + x_new) / (g + y + yd) * (1.0 - fee)
    _, s = _venue_cost(vs, vdk, vdq, v, p_ext, cum + w)
    return bid - s / g_v * up


@njit
def _band_solve(side, hi, flo, fhi, x, y, f, g, inv, fee, cum, vs, vdk, vdq, v, p_ext, g_v, up):
    """Root of :func:`_band_gap` in ``(0, hi)`` (``flo > 0 > fhi``): the largest ``w`` found with
    gap ``>= 0`` (Illinois regula falsi with a bisection safeguard)."""
    lo = 0.0
    sgn = 0
    stuck = 0
    for _ in range(_SOLVE_MAX):
        if hi - lo <= _SOLVE_RTOL * hi:
            break
        w = -1.0
        if stuck < 3:
            w = lo + (hi - lo) * (flo / (flo - fhi))
        if not (lo < w < hi):
            stuck = 0
            w = 0.5 * (lo + hi)
            if not (lo < w < hi):
                break
        fw = _band_gap(side, w, x, y, f, g, inv, fee, cum, vs, vdk, vdq, v, p_ext, g_v, up)
        if fw >= 0.0:
            lo = w
            flo = fw
            if fw == 0.0:
                break
            if sgn == 1:
                fhi *= 0.5
                stuck += 1
            else:
                sgn = 1
                stuck = 0
        else:
            hi = w
            fhi = fw
            if sgn == -1:
                flo *= 0.5
                stuck += 1
            else:
                sgn = -1
                stuck = 0
    return lo


@njit
def arb_plan(side, par, st, bx, by, p_o, lim_fee, vs, vdk, vdq, v, p_ext):
    """How much the arbitrageur puts into the AMM: ``(n_full, w, u)``.

    It walks the bands in trade order (pump: up from the active band through bands holding
    collateral; dump: down through bands holding stablecoin). A band whose *first* unit is not
    profitable (``venue bid <= band ask · (1 + thr) · (1 + 1e-12)`` after what was already taken;
    mirror for dumps) stops the walk at its edge; a band whose *last* unit is still profitable is
    taken whole; otherwise the walk ends inside the band where the marginal prices meet. So the
    arbitrageur stops at the first unprofitable marginal unit (the per-band dynamic fee can make
    the edge jump at band boundaries). ``n_full`` bands are taken whole, then ``w`` (stablecoin
    for a pump, collateral for a dump) goes into the next one; ``u`` is the total input.
    """
    A = par[P_A]
    base = par[P_BASE]
    nlo = int(par[P_NLO])
    nb = bx.shape[0]
    up = 1.0 + par[P_ARB_THR]
    g_v = 1.0 if v < 0 else _gross(vs, v)
    i = int(st[S_ACTIVE]) - nlo
    if side == 1 and i < 0:
        i = 0
    if side == -1 and i > nb - 1:
        i = nb - 1
    n_full = 0
    u = 0.0
    cum = 0.0  # pump: collateral taken so far; dump: collateral put in so far
    while i >= 0 and i < nb:
        x = bx[i]
        y = by[i]
        if (side == 1 and y > 0.0) or (side == -1 and x > 0.0):
            p_up = p_oracle_up(base, A, nlo + i)
            f, g, inv = band_curve(x, y, p_o, p_up, A)
            fee = band_fee(par, p_o, p_up, lim_fee)
            f0 = _band_gap(side, 0.0, x, y, f, g, inv, fee, cum, vs, vdk, vdq, v, p_ext, g_v, up * (1.0 + _ARB_SLACK))
            if not f0 > 0.0:
                return n_full, 0.0, u
            if side == 1:
                room = inv / g - f - x  # stablecoin that empties the band's collateral
            else:
                room = inv / f - g - y  # collateral that empties the band's stablecoin
            if room < 0.0:
                room = 0.0
            gross = room / (1.0 - fee)
            f1 = _band_gap(side, gross, x, y, f, g, inv, fee, cum, vs, vdk, vdq, v, p_ext, g_v, up)
            if f1 >= 0.0:
                n_full += 1
                u += gross
                cum += y if side == 1 else gross
            else:
                f0 = _band_gap(side, 0.0, x, y, f, g, inv, fee, cum, vs, vdk, vdq, v, p_ext, g_v, up)
                w = _band_solve(side, gross, f0, f1, x, y, f, g, inv, fee, cum, vs, vdk, vdq, v, p_ext, g_v, up)
                return n_full, w, u + w
        i += side
    return n_full, 0.0, u


@njit
def arb_exec(side, par, st, bx, by, p_o, lim_fee, n_full, w):
    """Carry out a plan of :func:`arb_plan` on the bands: ``(input_used, output)``."""
    A = par[P_A]
    base = par[P_BASE]
    adm = par[P_ADMIN_FEE]
    nlo = int(par[P_NLO])
    nb = bx.shape[0]
    i = int(st[S_ACTIVE]) - nlo
    if side == 1 and i < 0:
        i = 0
    if side == -1 and i > nb - 1:
        i = nb - 1
    done = 0
    used = 0.0
    out = 0.0
    last = -1
    while i >= 0 and i < nb:
        if done == n_full and not w > 0.0:
            break
        x = bx[i]
        y = by[i]
        if (side == 1 and y > 0.0) or (side == -1 and x > 0.0):
            p_up = p_oracle_up(base, A, nlo + i)
            f, g, inv = band_curve(x, y, p_o, p_up, A)
            fee = band_fee(par, p_o, p_up, lim_fee)
            last = i
            if side == 1:
                if done < n_full:
                    room = max(inv / g - f - x, 0.0)
                    gin = room / (1.0 - fee)
                    out += y
                    y_new = 0.0
                    net = room
                else:
                    gin = w
                    net = w * (1.0 - fee)
                    y_new = min(max(inv / (f + x + net) - g, 0.0), y)
                    out += y - y_new
                a_fee = (gin - net) * adm
                bx[i] = x + gin - a_fee
                by[i] = y_new
                st[S_ADMIN_X] += a_fee
                st[S_FEE_X] += gin - net
            else:
                if done < n_full:
                    room = max(inv / f - g - y, 0.0)
                    gin = room / (1.0 - fee)
                    out += x
                    x_new = 0.0
                    net = room
                else:
                    gin = w
                    net = w * (1.0 - fee)
                    x_new = min(max(inv / (g + y + net) - f, 0.0), x)
                    out += x - x_new
                a_fee = (gin - net) * adm
                by[i] = y + gin - a_fee
                bx[i] = x_new
                st[S_ADMIN_Y] += a_fee
                st[S_FEE_Y] += gin - net
            used += gin
            if done < n_full:
                done += 1
            else:
                break
        i += side
    if last >= 0:
        st[S_ACTIVE] = float(nlo + last)
    return used, out


@njit
def soft_liquidate(par, st, bx, by, p_o, lim_fee, p_ext, vs, vdk, vdq, ids):
    """Arbitrage the AMM against the venues ``ids`` (outside market at ``p_ext`` when empty):
    pump (buy collateral from the AMM, sell it on the best-bid venue) or dump (buy collateral on
    the best-ask venue, sell it to the AMM), sized by :func:`arb_plan`; a few rounds. Returns
    the arbitrageur's quote profit in this call."""
    nv = ids.shape[0]
    profit = 0.0
    for _ in range(4 * nv + 4):
        vb = -1
        va = -1
        if nv > 0:
            bid_v = -math.inf
            ask_v = math.inf
            for j in range(nv):
                v = ids[j]
                s = venue_spot(vs, v)
                gv = _gross(vs, v)
                if s * gv > bid_v:
                    bid_v = s * gv
                    vb = v
                if s / gv < ask_v:
                    ask_v = s / gv
                    va = v
        traded = False
        n_full, w, u = arb_plan(1, par, st, bx, by, p_o, lim_fee, vs, vdk, vdq, vb, p_ext)
        if u > 0.0:
            used, dy = arb_exec(1, par, st, bx, by, p_o, lim_fee, n_full, w)
            if vb < 0:
                q = dy * p_ext
            else:
                q = venue_sell(vs, vdk, vdq, vb, dy)
            st[S_PUMP_X] += used
            st[S_PUMP_Y] += dy
            st[S_ARB_SOLD_Y] += dy
            st[S_ARB_Q_IN] += q
            st[S_ARB_CASH] += q - used
            st[S_N_ARB] += 1.0
            profit += q - used
            traded = True
        else:
            n_full, w, u = arb_plan(-1, par, st, bx, by, p_o, lim_fee, vs, vdk, vdq, va, p_ext)
            if u > 0.0:
                dq, _ = _venue_cost(vs, vdk, vdq, va, p_ext, u)
                if dq < math.inf:
                    if va < 0:
                        got = u
                    else:
                        got = venue_buy(vs, vdk, vdq, va, dq)
                    used, dx = arb_exec(-1, par, st, bx, by, p_o, lim_fee, n_full, w)
                    st[S_ARB_BOUGHT_Y] += got
                    st[S_ARB_Q_OUT] += dq
                    st[S_ARB_INV] += got - used
                    st[S_DUMP_Y] += used
                    st[S_DUMP_X] += dx
                    st[S_ARB_CASH] += dx - dq
                    st[S_N_ARB] += 1.0
                    profit += dx - dq
                    traded = True
        if not traded:
            break
    return profit


# ===========================================================================================
# Health (§5.4)
# ===========================================================================================


@njit
def user_xy_up(par, st, bx, by, bs, n1, nb, sh, p_o, use_y):
    """``AMM.get_xy_up``: stablecoin the user's bands give when the price walks down
    adiabatically (``use_y = False``, ``get_x_down``) or collateral when it walks up
    (``use_y = True``, ``get_y_up``). ``sh`` is the user's share row."""
    A = par[P_A]
    base = par[P_BASE]
    nlo = int(par[P_NLO])
    active = int(st[S_ACTIVE])
    sqrt_ratio = math.sqrt(A / (A - 1.0))
    total = 0.0
    for k in range(nb):
        n = n1 + k
        i = n - nlo
        x = bx[i] if n <= active else 0.0
        y = by[i] if n >= active else 0.0
        if x <= 0.0 and y <= 0.0:
            continue
        s = bs[i]
        us = sh[k]
        if s <= 0.0 or us <= 0.0:
            continue
        frac = us / s
        p_up = p_oracle_up(base, A, n)
        p_dn = p_up * (A - 1.0) / A
        p_mid = p_o * p_o / p_dn * p_o / p_dn * (A - 1.0) / A
        if x <= 0.0 or y <= 0.0:
            if p_o > p_up:
                y_eq = y if y > 0.0 else x / p_mid
                total += (y_eq if use_y else y_eq * p_up / sqrt_ratio) * frac
                continue
            if p_o < p_dn:
                x_eq = x if x > 0.0 else y * p_mid
                total += (x_eq * sqrt_ratio / p_up if use_y else x_eq) * frac
                continue
        f, g, inv = band_curve(x, y, p_o, p_up, A)
        if p_o > p_up:
            y_o = max(inv / f, g) - g
            total += (y_o if use_y else y_o * p_up / sqrt_ratio) * frac
        elif p_o < p_dn:
            x_o = max(inv / g, f) - f
            total += (x_o * sqrt_ratio / p_up if use_y else x_o) * frac
        else:
            y_o = max(math.sqrt(inv / p_o), g) - g
            x_o = max(inv / (g + y_o), f) - f
            if use_y:
                total += (y_o + x_o / math.sqrt(p_up * p_o)) * frac
            else:
                total += (x_o + y_o * math.sqrt(p_dn * p_o)) * frac
    return total


@njit
def user_health(pack, u, p_o, full):
    """``Controller._health``: ``x_down·(1 − ld) / debt − 1`` (+ the full-variant term)."""
    par, st, bx, by, bs, u_n1, u_nb, u_sh, u_debt, u_ld, u_coll0, u_open = pack
    debt = u_debt[u]
    n1 = u_n1[u]
    nb = u_nb[u]
    xmax = user_xy_up(par, st, bx, by, bs, n1, nb, u_sh[u], p_o, False)
    h = xmax / debt - 1.0
    if full and n1 > int(st[S_ACTIVE]):
        p_up = p_oracle_up(par[P_BASE], par[P_A], n1)
        if p_o > p_up:
            y_up = user_xy_up(par, st, bx, by, bs, n1, nb, u_sh[u], p_o, True)
            h += (p_o - p_up) * y_up / debt
    return h - xmax * u_ld[u] / debt


@njit
def user_sum_xy(pack, u):
    """``AMM.get_sum_xy``: the user's share of stablecoin and collateral in its bands."""
    par, st, bx, by, bs, u_n1, u_nb, u_sh, u_debt, u_ld, u_coll0, u_open = pack
    nlo = int(par[P_NLO])
    sx = 0.0
    sy = 0.0
    for k in range(u_nb[u]):
        i = u_n1[u] + k - nlo
        s = bs[i]
        if s > 0.0 and u_sh[u, k] > 0.0:
            sx += bx[i] * (u_sh[u, k] / s)
            sy += by[i] * (u_sh[u, k] / s)
    return sx, sy


@njit
def withdraw_user(pack, u):
    """``AMM.withdraw``: remove the user's shares; returns ``(x, y)`` taken from the bands."""
    par, st, bx, by, bs, u_n1, u_nb, u_sh, u_debt, u_ld, u_coll0, u_open = pack
    nlo = int(par[P_NLO])
    tx = 0.0
    ty = 0.0
    for k in range(u_nb[u]):
        i = u_n1[u] + k - nlo
        s = bs[i]
        ds = u_sh[u, k]
        if s > 0.0 and ds > 0.0:
            if ds >= s * (1.0 - _SHARE_EPS):  # the last holder takes the rest (no dust)
                dx = bx[i]
                dy = by[i]
                bs[i] = 0.0
                bx[i] = 0.0
                by[i] = 0.0
            else:
                dx = bx[i] * (ds / s)
                dy = by[i] * (ds / s)
                bs[i] = s - ds
                bx[i] -= dx
                by[i] -= dy
            tx += dx
            ty += dy
        u_sh[u, k] = 0.0
    return tx, ty


@njit
def close_loan(pack, u):
    """The user repays its whole debt and withdraws its bands (``Controller.repay`` of all the
    debt). Returns ``(x, y)`` withdrawn."""
    par, st, bx, by, bs, u_n1, u_nb, u_sh, u_debt, u_ld, u_coll0, u_open = pack
    if not u_open[u]:
        return 0.0, 0.0
    tx, ty = withdraw_user(pack, u)
    st[S_WD_X] += tx
    st[S_WD_Y] += ty
    st[S_REPAID] += u_debt[u]
    u_debt[u] = 0.0
    u_open[u] = False
    return tx, ty


# ===========================================================================================
# The unit step
# ===========================================================================================


@njit
def oracle_write(par, st, p_raw, now):
    """The AMM reads and writes its oracle once: ``(p_o, limiter_fee)``."""
    if par[P_LIMITER] != 0.0:
        p_o, lim_fee = limit_p_o(p_raw, now, st[S_OLD_PO], st[S_OLD_DFEE], st[S_PREV_TIME])
    else:
        p_o = p_raw
        lim_fee = 0.0
    st[S_OLD_PO] = p_o
    st[S_OLD_DFEE] = lim_fee
    st[S_PREV_TIME] = now
    st[S_PO] = p_o
    st[S_LIM_FEE] = lim_fee
    return p_o, lim_fee


@njit
def llamma_step(pack, t, dt_seconds, prices, vs, vdk, vdq, av_ptr, av_idx,
                sold, acc, liq, ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid,
                ev_price, ev_exec, ev_bonus, ev_bad, ev_fee, n_ev, proto_id, pos_offset):
    """One step of the LLAMMA unit (docs/architecture.md "Protocol units").

    1. oracle write (limiter when on) at time ``t · dt_seconds``;
    2. soft liquidation: the arbitrageur trades the AMM against the asset's venues;
    3. hard liquidation of every open loan with full health < 0 (liquidator settings ``liq``),
       its collateral added to ``sold[asset]``; one event each.

    Returns the new ``n_ev``.
    """
    par, st, bx, by, bs, u_n1, u_nb, u_sh, u_debt, u_ld, u_coll0, u_open = pack
    a = int(par[P_ASSET])
    p_raw = prices[a]
    p_o, lim_fee = oracle_write(par, st, p_raw, t * dt_seconds)
    ids = av_idx[av_ptr[a]:av_ptr[a + 1]]

    ax0 = st[S_ADMIN_X]
    ay0 = st[S_ADMIN_Y]
    soft_liquidate(par, st, bx, by, p_o, lim_fee, p_raw, vs, vdk, vdq, ids)
    acc[ACC_FEES] += (st[S_ADMIN_X] - ax0) + (st[S_ADMIN_Y] - ay0) * p_o

    mode = int(liq[LQ_MODE])
    gas = liq[LQ_GAS]
    cap_left = liq[LQ_CAPITAL]
    max_n = int(liq[LQ_MAX])
    n_done = 0
    ev_cap = ev_step.shape[0]
    U = u_debt.shape[0]
    for u in range(U):
        if not u_open[u]:
            continue
        if max_n > 0 and n_done >= max_n:
            break
        debt = u_debt[u]
        if user_health(pack, u, p_o, True) >= 0.0:
            continue
        if debt > cap_left:
            continue
        if mode == 1:
            x_u, y_u = user_sum_xy(pack, u)
            best = _best_bid_venue(vs, av_ptr, av_idx, a)
            if best >= 0 and y_u > 0.0:
                proceeds = marginal_proceeds(vs, vdk, vdq, best, sold[a], y_u)
            else:
                proceeds = y_u * p_o
            if x_u + proceeds - debt - gas <= 0.0:
                continue
        x_u, y_u = withdraw_user(pack, u)
        u_debt[u] = 0.0
        u_open[u] = False
        cap_left -= debt
        n_done += 1
        st[S_LIQ_X] += x_u
        st[S_LIQ_Y] += y_u
        st[S_LIQR_CASH] += x_u - debt
        st[S_REPAID] += debt
        st[S_N_HARD] += 1.0
        sold[a] += y_u
        bonus = x_u + y_u * p_o - debt
        acc[ACC_NLIQ] += 1.0
        acc[ACC_LIQ_VALUE] += y_u * p_o
        acc[ACC_REPAID] += debt
        acc[ACC_BONUS] += bonus
        acc[ACC_GAS] += gas
        if n_ev < ev_cap:
            ev_step[n_ev] = t
            ev_pos[n_ev] = pos_offset + u
            ev_proto[n_ev] = proto_id
            ev_asset[n_ev] = a
            ev_seized[n_ev] = y_u
            ev_repaid[n_ev] = debt
            ev_price[n_ev] = p_o
            ev_exec[n_ev] = np.nan
            ev_bonus[n_ev] = bonus
            ev_bad[n_ev] = 0.0
            ev_fee[n_ev] = 0.0
            n_ev += 1
        else:
            acc[ACC_EV_LOST] += 1.0
    return n_ev
