"""StableSwap (Curve) pool kernels, float64: invariant, exchange, spot, to-price helpers.

What is modelled
----------------
A pool of ``n`` coins (2 <= n <= 8) with balances ``bal[k]`` (coin units) and rate multipliers
``rates[k]`` (the value of one coin-``k`` unit in the pool's common unit: 1 for plain coins, the
exchange rate for a rate-bearing coin such as wstETH). The invariant works on
``xp[k] = bal[k] · rates[k]`` with the contract's amplification ``amp`` (the value ``A()``
returns; ``Ann = amp · n``)::

    Ann · Σ xp + D = Ann · D + D^(n+1) / (n^n · Π xp)

(the whitepaper's ``A n^n`` is the contract's ``Ann``). Every formula follows the contracts:

* ``get_D`` — Newton iteration ``D ← (Ann S + n D_P) D / ((Ann − 1) D + (n + 1) D_P)`` with
  ``D_P = D^(n+1) / (n^n Π xp)``, starting at ``D = S``
  (curvefi/curve-contract@574f440 ``contracts/pools/3pool/StableSwap3Pool.vy`` L193-218;
  curvefi/stableswap-ng@2abe778 ``contracts/main/CurveStableSwapNG.vy`` L1077-1125).
* ``get_y`` — the new balance of coin ``j`` when coin ``i`` is set to ``x`` at fixed ``D``,
  by Newton on ``y² + (b − D) y = c`` (3pool L354-397; NG L1007-1074).
* exchange — ``dy = xp_j − y``, computed by :func:`swap_delta` (the same quadratic in closed
  form for the change, free of the cancellation ``xp_j − y`` has in float64); the fee
  ``dy · fee`` is taken from the *output*; the admin
  share ``fee · admin_fee`` leaves the pool, the rest stays with the LPs, so ``D`` grows
  (3pool ``exchange`` L429-478; NG ``__exchange`` L903-939).
* dynamic fee — NG's off-peg multiplier
  ``fee_eff = m · fee / ((m − 1) · 4 xi xj / (xi + xj)² + 1)`` evaluated at the averages of the
  balances before and after the trade (NG ``_dynamic_fee`` L885-900 and L917-922); ``m <= 1``
  means a constant fee (every legacy pool).
* spot — the marginal price of coin ``i`` in coin ``j`` without fee,
  ``(Ann + D_P / xp_i) / (Ann + D_P / xp_j) · rates_i / rates_j`` (the implicit derivative of
  the invariant; NG ``_get_p`` L1311-1336 computes the same ratio against coin 0).
* ``get_dx`` — NG's view ``_get_dx`` (``CurveStableSwapNGViews.vy`` L347-376): the fee is the
  dynamic fee at the *current* balances, so under a dynamic fee it is not the exact inverse of
  ``get_dy`` (it is with a constant fee, up to rounding).

Float64 instead of integers: the contracts compute in ``uint256`` with 1e18 precision and
subtract 1 wei from every output "in case there were rounding errors"; here there is no
rounding guard (the tests compare with the integer contract math to ~1e-12 relative).
Newton stops when two iterates differ by less than 1e-15 relative (the contracts: 1 wei).

Running out of one side
-----------------------
In exact arithmetic a StableSwap pool never empties: selling coin ``i`` pushes the marginal
price towards 0 while the output coin's balance approaches 0. In float64 the invariant cannot
be evaluated once a balance is ~1e-16 of ``D``, so the pool keeps a floor of
``MIN_BALANCE_FRAC · D`` of every coin in the ``xp`` unit: a sale that would push the output
coin below the floor is executed only up to the floor and the rest is returned as *unsold*
(no division by a zero balance, no NaN). At the floor the marginal price is negligible
(about 2e-12 of par for A = 100).

Parameter vector ``par`` (float64[NSS]): ``SS_AMP`` (A as ``A()`` returns it), ``SS_FEE``
(fraction, e.g. 0.0004 for 4 bp), ``SS_OFFPEG`` (NG off-peg multiplier as a plain number, e.g.
2.0 for ``2e10``; <= 1 for a constant fee), ``SS_ADMIN`` (admin share of the fee, a fraction:
0.5 on NG pools, 3pool's ``admin_fee / 1e10``).

Venue-style entry points (the asset is coin ``i``, the quote coin ``j``):
``ss_sell(bal, rates, par, i, j, dq)``, ``ss_buy(bal, rates, par, i, j, dy)`` (both update
``bal`` in place and return ``(out, admin_out, unsold)``), ``ss_spot``, ``ss_sell_to_price``,
``ss_buy_to_price``, ``ss_depth``. Prices are in units of coin ``j`` per coin ``i``.
"""

from __future__ import annotations

import math

import numpy as np

from ...kernels._jit import njit
from ..kernel import AUX, FLOOR, UNSOLD, X, Y

# --- parameter vector --------------------------------------------------------------------------
SS_AMP = 0
SS_FEE = 1
SS_OFFPEG = 2
SS_ADMIN = 3
NSS = 4

MAX_COINS = 8
MIN_BALANCE_FRAC = 1e-9  # floor of any coin's xp balance, relative to D (see module docstring)
NEWTON_MAX = 255  # the contracts' iteration cap
_NEWTON_RTOL = 1e-15
_ROOT_MAX = 300
_ROOT_RTOL = 4e-16
_PRICE_RTOL = 2e-15  # sell-to-price: relative tolerance on the post-trade spot


# =============================================================================================
# Invariant
# =============================================================================================


@njit
def get_D(xp, amp):
    """The invariant ``D`` of balances ``xp`` (all > 0) at amplification ``amp``.

    Newton from ``D = S`` as in 3pool ``get_D`` (L193-218). Returns 0 if the balances sum to 0
    and NaN if a balance is <= 0 (the contract divides by zero there).
    """
    n = xp.shape[0]
    s = 0.0
    bad = False
    for k in range(n):
        s += xp[k]
        if not xp[k] > 0.0:
            bad = True
    if s == 0.0:
        return 0.0
    if bad:
        return math.nan
    ann = amp * n
    d = s
    for _ in range(NEWTON_MAX):
        d_p = d
        for k in range(n):
            d_p = d_p * d / (xp[k] * n)
        d_prev = d
        d = (ann * s + d_p * n) * d / ((ann - 1.0) * d + (n + 1) * d_p)
        if abs(d - d_prev) <= _NEWTON_RTOL * d:
            break
    return d


@njit
def get_y(xp, amp, d, i, j, x):
    """Balance of coin ``j`` (xp unit) after coin ``i`` is set to ``x``, at invariant ``d``.

    3pool ``get_y`` (L354-397): ``c = D^(n+1) / (n^n Π' Ann n)``, ``b = S' + D / Ann`` over the
    coins other than ``j`` (coin ``i`` counted at ``x``), then Newton
    ``y ← (y² + c) / (2 y + b − D)`` from ``y = D``. ``b − D`` is formed as ``(S' − D) + D / Ann``
    to keep its cancellation exact.
    """
    n = xp.shape[0]
    ann = amp * n
    c = d
    s_ = 0.0
    for k in range(n):
        if k == j:
            continue
        xk = x if k == i else xp[k]
        s_ += xk
        c = c * d / (xk * n)
    c = c * d / (ann * n)
    bmd = (s_ - d) + d / ann
    y = d
    for _ in range(NEWTON_MAX):
        y_prev = y
        y = (y * y + c) / (2.0 * y + bmd)
        if abs(y - y_prev) <= _NEWTON_RTOL * y:
            break
    return y


@njit
def dynamic_fee(xpi, xpj, fee, offpeg):
    """NG ``_dynamic_fee`` (L885-900): the fee rises towards ``offpeg · fee`` as the two
    balances part; ``offpeg <= 1`` returns ``fee`` unchanged."""
    if offpeg <= 1.0:
        return fee
    s = xpi + xpj
    return offpeg * fee / ((offpeg - 1.0) * 4.0 * xpi * xpj / (s * s) + 1.0)


@njit
def _dp(xp, d):
    """``D^(n+1) / (n^n Π xp)``."""
    n = xp.shape[0]
    d_p = d
    for k in range(n):
        d_p = d_p * d / (xp[k] * n)
    return d_p


@njit
def spot_xp(xp, amp, d, i, j):
    """Marginal price of coin ``i`` in coin ``j`` in the xp unit (no fee)."""
    n = xp.shape[0]
    ann = amp * n
    d_p = _dp(xp, d)
    return (ann + d_p / xp[i]) / (ann + d_p / xp[j])


@njit
def _fill_xp(bal, rates, xp):
    for k in range(bal.shape[0]):
        xp[k] = bal[k] * rates[k]


# =============================================================================================
# Exchange
# =============================================================================================


@njit
def swap_delta(xp, amp, d, i, j, dxp):
    """Decrease of coin ``j``'s xp balance when coin ``i``'s changes by ``dxp`` at fixed ``d``.

    The same quadratic ``y² + (b − D) y = c`` that :func:`get_y` solves by Newton, solved in
    closed form for the *change* ``δ = xp_j − y``: with ``Y = xp_j`` and ``x = xp_i + dxp``,
    ``δ² − B δ + r = 0`` where ``B = 2 Y + (b − D)`` and, because the old balances lie on the
    invariant, ``r = dxp · (Y + c₀ / x)`` (``c₀`` is ``c`` at the old ``xp_i``). The small root
    ``δ = 2 r / (B + √(B² − 4 r))`` has no cancellation, so a trade of 1e-9 of the pool is as
    accurate as a large one; ``xp_j − get_y(...)`` in float64 would lose ``|log10(dxp/xp_j)|``
    digits (the contracts compute in integers, where the subtraction is exact). ``dxp < 0``
    (coin ``i`` removed) gives ``δ < 0``.
    """
    n = xp.shape[0]
    ann = amp * n
    c0 = d
    s_ = 0.0
    for k in range(n):
        if k == j:
            continue
        s_ += xp[k]
        c0 = c0 * d / (xp[k] * n)
    c0 = c0 * d / (ann * n)
    x = xp[i] + dxp
    big_y = xp[j]
    b = 2.0 * big_y + ((s_ + dxp) - d) + d / ann
    r = dxp * (big_y + c0 / x)
    if b > 0.0:
        # the same root scaled by b, so that a huge trade (b² overflowing) still drains to ~Y
        q = r / b
        t = 4.0 * q / b
        if t > 1.0:
            t = 1.0
        return 2.0 * q / (1.0 + math.sqrt(1.0 - t))
    disc = b * b - 4.0 * r
    if disc < 0.0:
        disc = 0.0
    return 2.0 * r / (b + math.sqrt(disc))


@njit
def _floor_x(xp, amp, d, i, j):
    """Increase of coin ``i``'s xp balance that takes coin ``j`` down to its floor (the
    largest sale of coin ``i`` the pool takes)."""
    return -swap_delta(xp, amp, d, j, i, MIN_BALANCE_FRAC * d - xp[j])


@njit
def _exchange_xp(xp, rates, par, i, j, dx):
    """Preview of selling ``dx`` coin ``i`` for coin ``j`` (nothing changes).

    Returns ``(dxp, dy, out, fee_xp, used)``: the xp-unit increase of coin ``i`` and decrease of
    coin ``j`` before the fee is credited, the coin-``j`` amount paid out (real units, after
    fee), the fee in the xp unit and the coin-``i`` amount actually taken (``< dx`` when the
    output coin hits its floor).
    """
    amp = par[SS_AMP]
    d = get_D(xp, amp)
    y_min = MIN_BALANCE_FRAC * d
    if not (d > 0.0) or not dx > 0.0 or not xp[j] > y_min:
        return 0.0, 0.0, 0.0, 0.0, 0.0
    dxp = dx * rates[i]
    used = dx
    dy = swap_delta(xp, amp, d, i, j, dxp)
    if not xp[j] - dy >= y_min:
        dxp = _floor_x(xp, amp, d, i, j)
        used = dxp / rates[i]
        if not used > 0.0:
            return 0.0, 0.0, 0.0, 0.0, 0.0
        if used > dx:
            used = dx
        dy = xp[j] - y_min
    if not dy > 0.0:
        return 0.0, 0.0, 0.0, 0.0, 0.0
    f = dynamic_fee(xp[i] + 0.5 * dxp, xp[j] - 0.5 * dy, par[SS_FEE], par[SS_OFFPEG])
    fee_xp = dy * f
    out = (dy - fee_xp) / rates[j]
    return dxp, dy, out, fee_xp, used


@njit
def ss_get_dy(bal, rates, par, i, j, dx):
    """``get_dy``: coin ``j`` received for ``dx`` coin ``i`` (no state change).

    Returns ``(out, admin_out, unsold)`` in real coin units (``admin_out`` in coin ``j``,
    ``unsold`` in coin ``i``).
    """
    n = bal.shape[0]
    xp = np.empty(n)
    _fill_xp(bal, rates, xp)
    _, _, out, fee_xp, used = _exchange_xp(xp, rates, par, i, j, dx)
    admin = fee_xp * par[SS_ADMIN] / rates[j]
    return out, admin, max(dx - used, 0.0) if dx > 0.0 else 0.0


@njit
def ss_exchange(bal, rates, par, i, j, dx):
    """Sell ``dx`` coin ``i`` for coin ``j``; ``bal`` is updated in place.

    ``bal[i] += taken``, ``bal[j] -= out + admin_out`` (the LP share of the fee stays in the
    pool). Returns ``(out, admin_out, unsold)``.
    """
    if not dx > 0.0:  # also NaN
        return 0.0, 0.0, 0.0
    n = bal.shape[0]
    xp = np.empty(n)
    _fill_xp(bal, rates, xp)
    _, _, out, fee_xp, used = _exchange_xp(xp, rates, par, i, j, dx)
    if used <= 0.0:
        return 0.0, 0.0, dx
    admin = fee_xp * par[SS_ADMIN] / rates[j]
    bal[i] += used
    bal[j] -= out + admin
    return out, admin, dx - used


@njit
def ss_sell(bal, rates, par, i, j, dq):
    """Sell ``dq`` of the asset (coin ``i``) for the quote coin ``j``; ``bal`` updated in place.
    Returns ``(quote_out, admin_out, unsold)``."""
    return ss_exchange(bal, rates, par, i, j, dq)


@njit
def ss_buy(bal, rates, par, i, j, dy):
    """Spend ``dy`` of the quote coin ``j`` on the asset (coin ``i``); ``bal`` updated in place.
    Returns ``(asset_out, admin_out, unspent)``."""
    return ss_exchange(bal, rates, par, j, i, dy)


@njit
def ss_get_dx(bal, rates, par, i, j, dy):
    """NG view ``get_dx``: coin ``i`` needed to receive ``dy`` coin ``j`` (no state change).

    ``fee = dynamic_fee(xp_i, xp_j)`` at the current balances; ``y = xp_j − dy·rate_j /
    (1 − fee)``; ``dx = (get_y(j, i, y) − xp_i) / rate_i``. Returns ``inf`` when ``dy`` would
    take coin ``j`` below its floor.
    """
    if not dy > 0.0:
        return 0.0
    n = bal.shape[0]
    xp = np.empty(n)
    _fill_xp(bal, rates, xp)
    amp = par[SS_AMP]
    d = get_D(xp, amp)
    f = dynamic_fee(xp[i], xp[j], par[SS_FEE], par[SS_OFFPEG])
    take = dy * rates[j] / (1.0 - f)
    if not xp[j] - take >= MIN_BALANCE_FRAC * d:
        return math.inf
    return -swap_delta(xp, amp, d, j, i, -take) / rates[i]


# =============================================================================================
# Prices
# =============================================================================================


@njit
def ss_spot(bal, rates, par, i, j):
    """Marginal price of coin ``i`` in units of coin ``j`` (no fee); NaN for an unusable pool."""
    n = bal.shape[0]
    xp = np.empty(n)
    _fill_xp(bal, rates, xp)
    d = get_D(xp, par[SS_AMP])
    if not d > 0.0:
        return math.nan
    return spot_xp(xp, par[SS_AMP], d, i, j) * rates[i] / rates[j]


@njit
def ss_marginal_sell(bal, rates, par, i, j):
    """Marginal price received for selling coin ``i`` (spot less the fee at the current
    balances)."""
    n = bal.shape[0]
    xp = np.empty(n)
    _fill_xp(bal, rates, xp)
    d = get_D(xp, par[SS_AMP])
    f = dynamic_fee(xp[i], xp[j], par[SS_FEE], par[SS_OFFPEG])
    return spot_xp(xp, par[SS_AMP], d, i, j) * rates[i] / rates[j] * (1.0 - f)


@njit
def _post_spot(xp, rates, par, i, j, d, dy, post):
    """Spot (real units, coin ``i`` in coin ``j``) after a sale of coin ``i`` that takes
    ``dy`` (xp unit, before the fee is credited) out of coin ``j``, and the coin-``i`` amount
    sold."""
    amp = par[SS_AMP]
    dxp = -swap_delta(xp, amp, d, j, i, -dy)
    f = dynamic_fee(xp[i] + 0.5 * dxp, xp[j] - 0.5 * dy, par[SS_FEE], par[SS_OFFPEG])
    n = xp.shape[0]
    for k in range(n):
        post[k] = xp[k]
    post[i] = xp[i] + dxp
    post[j] = (xp[j] - dy) + dy * f * (1.0 - par[SS_ADMIN])
    d2 = get_D(post, amp)
    return spot_xp(post, amp, d2, i, j) * rates[i] / rates[j], dxp / rates[i]


@njit
def ss_sell_to_price(bal, rates, par, i, j, p_target):
    """Coin ``i`` to sell so that the spot of ``i`` in ``j`` after the sale is ``p_target``.

    0 if the spot is already at or below the target; a target below the spot at the floor
    returns the amount that reaches the floor (the pool's whole capacity). The post-trade spot
    decreases with the amount ``dy`` taken out of coin ``j`` (xp unit, in ``(0, xp_j − floor]``).
    The search works on ``u = log dy`` and ``g = log(spot / p_target)``, in which the curve is
    close to straight: a bracket grown or shrunk by factors of 8 from ``dy = 1e-3 xp_j`` (halving
    the distance to the floor once near it), then Illinois
    regula falsi with a bisection safeguard. It stops when the post-trade spot is within 2e-15
    of the target, or when the bracket is 4e-16 wide (keeping the side where the spot is still
    ``>= p_target``), and returns the coin-``i`` amount of that state.
    """
    n = bal.shape[0]
    xp = np.empty(n)
    post = np.empty(n)
    _fill_xp(bal, rates, xp)
    amp = par[SS_AMP]
    d = get_D(xp, amp)
    if not d > 0.0:
        return 0.0
    s0 = spot_xp(xp, amp, d, i, j) * rates[i] / rates[j]
    if not p_target < s0:
        return 0.0
    dy_max = xp[j] - MIN_BALANCE_FRAC * d
    if not dy_max > 0.0:
        return 0.0
    s_max, dx_max = _post_spot(xp, rates, par, i, j, d, dy_max, post)
    if p_target <= s_max:
        return dx_max
    lp = math.log(p_target)
    # bracket in u = log(dy): g(u_lo) >= 0 > g(u_hi), from a probe at 1e-3 of coin j
    dx_lo = 0.0
    dy = min(1e-3 * xp[j], 0.5 * dy_max)
    s, dx = _post_spot(xp, rates, par, i, j, d, dy, post)
    g = math.log(s) - lp if s > 0.0 else -745.0
    if g >= 0.0:
        u_lo = math.log(dy)
        g_lo = g
        dx_lo = dx
        u_hi = math.log(dy_max)
        g_hi = math.log(s_max) - lp if s_max > 0.0 else -745.0
        for _ in range(200):
            dy = min(8.0 * dy, 0.5 * (dy + dy_max))  # towards the floor, never onto it
            if not dy < dy_max:
                break
            s, dx = _post_spot(xp, rates, par, i, j, d, dy, post)
            g = math.log(s) - lp if s > 0.0 else -745.0
            if g >= 0.0:
                u_lo = math.log(dy)
                g_lo = g
                dx_lo = dx
            else:
                u_hi = math.log(dy)
                g_hi = g
                break
    else:
        u_hi = math.log(dy)
        g_hi = g
        u_lo = u_hi
        g_lo = g
        for _ in range(200):
            dy *= 0.125
            s, dx = _post_spot(xp, rates, par, i, j, d, dy, post)
            g = math.log(s) - lp if s > 0.0 else -745.0
            if g >= 0.0:
                u_lo = math.log(dy)
                g_lo = g
                dx_lo = dx
                break
            u_hi = math.log(dy)
            g_hi = g
            if dy < 1e-300:
                break
        if g_lo < 0.0:  # no sale small enough stays above the target
            return 0.0
    side = 0
    stuck = 0
    for _ in range(_ROOT_MAX):
        if math.exp(u_hi) - math.exp(u_lo) <= _ROOT_RTOL * math.exp(u_hi):
            break
        u = -1e308
        if stuck < 3:
            u = u_lo + (u_hi - u_lo) * (g_lo / (g_lo - g_hi))
        if not (u_lo < u < u_hi):
            stuck = 0
            u = 0.5 * (u_lo + u_hi)
            if not (u_lo < u < u_hi):
                break
        s, dx = _post_spot(xp, rates, par, i, j, d, math.exp(u), post)
        g = math.log(s) - lp if s > 0.0 else -745.0
        if abs(g) <= _PRICE_RTOL:  # the spot is on target to 2e-15: done (either side)
            dx_lo = dx
            break
        if g >= 0.0:
            u_lo = u
            g_lo = g
            dx_lo = dx
            if side == 1:
                g_hi *= 0.5
                stuck += 1
            else:
                side = 1
                stuck = 0
        else:
            u_hi = u
            g_hi = g
            if side == -1:
                g_lo *= 0.5
                stuck += 1
            else:
                side = -1
                stuck = 0
    return max(dx_lo, 0.0)


@njit
def ss_buy_to_price(bal, rates, par, i, j, p_target):
    """Coin ``j`` to spend so that the spot of ``i`` in ``j`` rises to ``p_target`` (0 if it is
    already there); the mirror image ``ss_sell_to_price(j, i, 1 / p_target)``."""
    if not p_target > 0.0:
        return 0.0
    if p_target == math.inf:
        return ss_sell_to_price(bal, rates, par, j, i, 0.0)
    return ss_sell_to_price(bal, rates, par, j, i, 1.0 / p_target)


@njit
def ss_depth(bal, rates, par, i, j, frac):
    """Depth within ``frac`` below the spot: ``(asset_units, quote_out)``, the coin-``i``
    amount that moves the spot of ``i`` in ``j`` down to ``spot · (1 − frac)`` and what that
    sale pays (no state change)."""
    s0 = ss_spot(bal, rates, par, i, j)
    if not s0 > 0.0 or frac <= 0.0:
        return 0.0, 0.0
    dq = ss_sell_to_price(bal, rates, par, i, j, s0 * (1.0 - frac))
    if dq <= 0.0:
        return 0.0, 0.0
    out, _, _ = ss_get_dy(bal, rates, par, i, j, dq)
    return dq, out


@njit
def ss_capacity(bal, rates, par, i, j):
    """The largest amount of coin ``i`` the pool takes before coin ``j`` reaches its floor."""
    n = bal.shape[0]
    xp = np.empty(n)
    _fill_xp(bal, rates, xp)
    d = get_D(xp, par[SS_AMP])
    if not d > 0.0 or not xp[j] > MIN_BALANCE_FRAC * d:
        return 0.0
    return max(_floor_x(xp, par[SS_AMP], d, i, j) / rates[i], 0.0)


@njit
def ss_invariant(bal, rates, par):
    """``D`` of the pool (xp unit)."""
    n = bal.shape[0]
    xp = np.empty(n)
    _fill_xp(bal, rates, xp)
    return get_D(xp, par[SS_AMP])


# =============================================================================================
# The venue-kind interface (a row ``v`` of ``vs``; called by ``venues/dispatch.py``)
# =============================================================================================
# A two-coin pool in the loop: the asset is coin 0, the quote coin 1. Balances are ``vs[v, X]``
# (asset) and ``vs[v, Y]`` (quote), read as the slice ``vs[v, X:Y + 1]``; the rate multipliers
# are ``vs[v, AUX:AUX + 2]`` and the parameter vector ``vs[v, AUX + 2:AUX + 2 + NSS]``.
# Prices are in quote-coin units, which the scenario's quote unit must be (``venues/stableswap/
# README.md``). What a sale cannot place in the pool (the balance floor, or the venue's floor
# price ``vs[v, FLOOR]``) fills at the floor price (the stub bid) and is added to ``vs[v, UNSOLD]``.

V_RATES = AUX
V_PAR = AUX + 2


@njit
def _bal(vs, v):
    return vs[v, X:Y + 1]


@njit
def _rates(vs, v):
    return vs[v, V_RATES:V_RATES + 2]


@njit
def _par(vs, v):
    return vs[v, V_PAR:V_PAR + NSS]


@njit
def spot(vs, v):
    """Marginal price of the asset in the quote coin, without fee."""
    return ss_spot(_bal(vs, v), _rates(vs, v), _par(vs, v), 0, 1)


@njit
def gross(vs, v):
    """``1 − fee`` at the current balances (NG's dynamic fee when ``offpeg > 1``)."""
    bal = _bal(vs, v)
    rates = _rates(vs, v)
    par = _par(vs, v)
    return 1.0 - dynamic_fee(bal[0] * rates[0], bal[1] * rates[1], par[SS_FEE], par[SS_OFFPEG])


@njit
def _sell_floored(vs, v, bal, dq):
    """Sell ``dq`` on the balances ``bal`` (updated): through the pool down to the venue's floor
    price ``vs[v, FLOOR]`` (0: none) or the pool's balance floor, the rest to the stub bid at the
    floor price. Returns ``(quote_out, taken_by_the_stub_bid)``."""
    if not dq > 0.0:
        return 0.0, 0.0
    rates = _rates(vs, v)
    par = _par(vs, v)
    floor = vs[v, FLOOR]
    cap = dq
    if floor > 0.0:
        cap = min(dq, ss_sell_to_price(bal, rates, par, 0, 1, floor))
    out, _, unsold = ss_exchange(bal, rates, par, 0, 1, cap)
    rest = (dq - cap) + unsold
    return out + rest * floor, rest


@njit
def sell(vs, vdk, vdq, v, dq):
    """Sell ``dq`` asset for the quote coin (state updated); what the pool cannot take above the
    venue's floor fills at the floor price and is counted in ``UNSOLD``. Returns the quote
    received."""
    out, rest = _sell_floored(vs, v, _bal(vs, v), dq)
    vs[v, UNSOLD] += rest
    return out


@njit
def buy(vs, vdk, vdq, v, dy):
    """Spend ``dy`` quote coin on the asset (state updated); returns the asset received."""
    out, _, _ = ss_buy(_bal(vs, v), _rates(vs, v), _par(vs, v), 0, 1, dy)
    return out


@njit
def preview_sell(vs, vdk, vdq, v, dq):
    """``(quote_out, spot_after)`` of selling ``dq``, without changing the pool."""
    bal = _bal(vs, v).copy()
    out, _ = _sell_floored(vs, v, bal, dq)
    return out, ss_spot(bal, _rates(vs, v), _par(vs, v), 0, 1)


@njit
def preview_buy(vs, vdk, vdq, v, dy):
    """``(asset_out, spot_after)`` of spending ``dy``, without changing the pool."""
    bal = _bal(vs, v).copy()
    out, _, _ = ss_exchange(bal, _rates(vs, v), _par(vs, v), 1, 0, dy)
    return out, ss_spot(bal, _rates(vs, v), _par(vs, v), 0, 1)


@njit
def sell_to_price(vs, vdk, vdq, v, p_target):
    """Asset to sell to bring the spot to ``p_target`` (the whole capacity if the floor comes
    first; finite)."""
    return ss_sell_to_price(_bal(vs, v), _rates(vs, v), _par(vs, v), 0, 1, p_target)


@njit
def buy_to_price(vs, vdk, vdq, v, p_target):
    """Quote coin to spend to lift the spot to ``p_target``."""
    return ss_buy_to_price(_bal(vs, v), _rates(vs, v), _par(vs, v), 0, 1, p_target)


@njit
def apply_return(vs, vdk, vdq, v, ret):
    """An outside trader trades the pool to ``spot · ret`` (an exogenous flow: it sells the
    asset when ``ret < 1``, buys it otherwise; fees stay with the LPs, the admin share leaves,
    the trader's proceeds leave the model)."""
    bal = _bal(vs, v)
    rates = _rates(vs, v)
    par = _par(vs, v)
    target = ss_spot(bal, rates, par, 0, 1) * ret
    if target < vs[v, FLOOR]:
        target = vs[v, FLOOR]
    if ret < 1.0:
        dq = ss_sell_to_price(bal, rates, par, 0, 1, target)
        ss_exchange(bal, rates, par, 0, 1, dq)
    else:
        dy = ss_buy_to_price(bal, rates, par, 0, 1, target)
        ss_exchange(bal, rates, par, 1, 0, dy)


@njit
def decay(vs, v):
    """A pool has no transient impact: no-op."""
    return


@njit
def follows_reference(vs, v):
    """A pool does not return to a reference by itself (arbitrage toward it trades it)."""
    return False
