"""Concentrated-liquidity (Uniswap v3) pool kernels, float64: swaps that cross ticks exactly.

What is modelled
----------------
A v3 pool between ``token0`` and ``token1``; the price is ``token1`` per ``token0`` and the
pool keeps ``√P`` and the active liquidity ``L``. Liquidity is given per tick range; the
*initialized ticks* are held as two ascending arrays, ``tk_sqrt[m]`` (``√P`` at the tick) and
``tk_net[m]`` (``liquidityNet``: added when the price crosses the tick upwards, removed when it
crosses downwards). Amounts, prices and liquidity are in human units (the pack converts raw
on-chain values with the tokens' decimals).

Formulas (Uniswap/v3-core@d8b1c63):

* ``Δx = L (√b − √a) / (√a √b)`` and ``Δy = L (√b − √a)`` between two prices
  (``contracts/libraries/SqrtPriceMath.sol`` ``getAmount0Delta`` L153-173, ``getAmount1Delta``
  L182-194);
* next price from an input: token0 in ``√Q = L √P / (L + Δx √P)``, token1 in
  ``√Q = √P + Δy / L`` (``getNextSqrtPriceFromAmount0RoundingUp`` L28-56,
  ``getNextSqrtPriceFromAmount1RoundingDown`` L68-97, ``getNextSqrtPriceFromInput`` L106-120);
* one step (``contracts/libraries/SwapMath.sol`` ``computeSwapStep`` L21-97): the fee is taken
  from the input, ``amountRemaining · (1 − fee)`` is priced; if it reaches the step's target the
  step's fee is ``amountIn · fee / (1 − fee)``, otherwise the whole remainder not priced is the
  fee (L91-96);
* the swap loop (``contracts/UniswapV3Pool.sol`` ``swap`` L596-730): steps to the next
  initialized tick or the price limit; on reaching a tick its ``liquidityNet`` is added (upwards)
  or subtracted (downwards, L709-722); the fee leaves the active liquidity (it accrues to
  ``feeGrowthGlobal``, L688-690), so it does not move the price;
* ``√P`` at a tick is ``1.0001^(tick/2)`` (``contracts/libraries/TickMath.sol``
  ``getSqrtRatioAtTick`` L23-54 computes the same number in Q64.96).

Exact input only (the venue API sells a given amount or spends a given quote; exact output
and the protocol fee switch are not modelled). The amount out and the price move of a partial
step are computed from the input in cancellation-free forms
(``Δy_out = L Δx √P² / (L + Δx √P)``, ``Δx_out = Δy / (√P √Q)``), so tiny trades keep full
relative precision.

Running out of liquidity
------------------------
Below the lowest initialized tick (and above the highest) no liquidity is left. A sale that
reaches it stops there: the rest of the input is returned as *unsold* and the price stays at
the lower edge of the lowest range with ``L = 0`` (the contract would keep stepping through
empty ticks at no cost to the caller's price limit; no amount changes hands either way). The
spot at that point is the edge price; :func:`cl_bid_liquidity` is 0 there, so callers can tell
an empty side from a thin one. Nothing divides by a price that can be 0: all prices are at
initialized ticks or between them.

State layout
------------
``cs`` float64[NCS]: ``CS_SQRT`` (current ``√P``), ``CS_L`` (active liquidity), ``CS_BELOW``
(number of initialized ticks at or below the current tick, i.e. whose ``liquidityNet`` is in
``L``), ``CS_FEE`` (fraction), ``CS_FEES0``/``CS_FEES1`` (fees collected in each token),
``CS_ASSET0`` (1: the venue's asset is token0 and its spot is ``P``; 0: the asset is token1 and
its spot is ``1 / P``). Ticks: ``tk_sqrt``, ``tk_net`` float64[m], ascending.
"""

from __future__ import annotations

import math

from ...kernels._jit import njit
from ..kernel import AUX, FLOOR, NK, UNSOLD

CS_SQRT = 0
CS_L = 1
CS_BELOW = 2
CS_FEE = 3
CS_FEES0 = 4
CS_FEES1 = 5
CS_ASSET0 = 6
NCS = 7

MIN_TICK = -887272  # TickMath.sol L9
MAX_TICK = 887272  # TickMath.sol L11
LOG_TICK = math.log1p(0.0001)  # log(1.0001) without the rounding of 1.0001 itself


@njit
def sqrt_at_tick(tick):
    """``√(1.0001^tick)`` (TickMath ``getSqrtRatioAtTick`` in float64)."""
    return math.exp(0.5 * tick * LOG_TICK)


@njit
def tick_at_sqrt(sqrt_p):
    """The greatest tick whose ``√P`` is <= ``sqrt_p`` (TickMath ``getTickAtSqrtRatio``)."""
    t = int(math.floor(2.0 * math.log(sqrt_p) / LOG_TICK))
    # correct the floating-point estimate by one tick either way
    if sqrt_at_tick(t + 1) <= sqrt_p:
        t += 1
    elif sqrt_at_tick(t) > sqrt_p:
        t -= 1
    return t


@njit
def amount0_delta(sa, sb, liq):
    """``L (√b − √a) / (√a √b)`` for ``√a <= √b`` (getAmount0Delta, no rounding)."""
    return liq * (sb - sa) / (sa * sb)


@njit
def amount1_delta(sa, sb, liq):
    """``L (√b − √a)`` for ``√a <= √b`` (getAmount1Delta, no rounding)."""
    return liq * (sb - sa)


@njit
def swap_step(sp, st, liq, rem, fee, zero_for_one):
    """One ``computeSwapStep`` with an exact input ``rem`` (> 0, fee included) in the given
    direction (the contract infers it from ``sp >= st``; here it is passed, so that a step of
    zero length at a tick keeps its direction).

    Returns ``(√P_next, amount_in, amount_out, fee_amount)``; ``√P_next == st`` when the step
    reaches its target.
    """
    rem_less = rem * (1.0 - fee)
    if zero_for_one:
        amt_max = amount0_delta(st, sp, liq)
    else:
        amt_max = amount1_delta(sp, st, liq)
    if rem_less >= amt_max:
        if zero_for_one:
            out = amount1_delta(st, sp, liq)
        else:
            out = amount0_delta(sp, st, liq)
        return st, amt_max, out, amt_max * fee / (1.0 - fee)
    if zero_for_one:
        den = liq + rem_less * sp
        nxt = liq * sp / den
        out = liq * rem_less * sp * sp / den
        if nxt < st:
            nxt = st
    else:
        nxt = sp + rem_less / liq
        out = rem_less / (sp * nxt)
        if nxt > st:
            nxt = st
    return nxt, rem_less, out, rem - rem_less


@njit
def cl_swap(cs, tk_sqrt, tk_net, zero_for_one, amount, sqrt_limit, apply):
    """Swap an exact input ``amount`` (fee included; ``inf`` = up to the limit) of token0
    (``zero_for_one``) or token1, stopping at ``sqrt_limit``.

    Returns ``(amount_in, amount_out, fee_paid, unsold)`` where ``amount_in`` includes the fee
    and ``unsold = amount − amount_in`` is the input left when the limit or the last liquidity
    is reached. The state is updated only when ``apply`` is true. A remainder below 4e-16 of
    ``amount`` is rounding and ends the swap (otherwise a crumb would cross an empty gap for
    free and stop at the next range instead of the gap's edge).
    """
    m = tk_sqrt.shape[0]
    sp = cs[CS_SQRT]
    liq = cs[CS_L]
    below = int(cs[CS_BELOW])
    fee = cs[CS_FEE]
    rem = amount
    total_in = 0.0
    total_out = 0.0
    total_fee = 0.0
    if not amount > 0.0:  # also NaN
        return 0.0, 0.0, 0.0, 0.0
    crumb = 4e-16 * amount  # rounding left over by the running sums (inf when amount is inf)
    while rem > crumb or rem == math.inf:
        if zero_for_one:
            if sp <= sqrt_limit or below == 0:
                break
            st = tk_sqrt[below - 1]
            reach_tick = st >= sqrt_limit
            if not reach_tick:
                st = sqrt_limit
        else:
            if sp >= sqrt_limit or below >= m:
                break
            st = tk_sqrt[below]
            reach_tick = st <= sqrt_limit
            if not reach_tick:
                st = sqrt_limit
        nxt, a_in, a_out, a_fee = swap_step(sp, st, liq, rem, fee, zero_for_one)
        total_in += a_in + a_fee
        total_out += a_out
        total_fee += a_fee
        if nxt == st:
            rem -= a_in + a_fee
            if reach_tick:
                if zero_for_one:
                    liq -= tk_net[below - 1]
                    below -= 1
                else:
                    liq += tk_net[below]
                    below += 1
                if liq < 0.0:  # rounding of the prefix sums; liquidity is never negative
                    liq = 0.0
        else:
            rem = 0.0
        sp = nxt
    unsold = amount - total_in  # inf for an unlimited swap (the to-price helpers ignore it)
    if amount < math.inf and unsold <= 4e-16 * amount:  # rounding of the running sums
        unsold = 0.0
        total_in = amount
    if apply:
        cs[CS_SQRT] = sp
        cs[CS_L] = liq
        cs[CS_BELOW] = below
        if zero_for_one:
            cs[CS_FEES0] += total_fee
        else:
            cs[CS_FEES1] += total_fee
    return total_in, total_out, total_fee, unsold


# =============================================================================================
# Venue-shaped functions (the asset against the quote)
# =============================================================================================


@njit
def cl_spot(cs):
    """Spot of the asset in quote units: ``P`` if the asset is token0, ``1 / P`` otherwise."""
    p = cs[CS_SQRT] * cs[CS_SQRT]
    if cs[CS_ASSET0] != 0.0:
        return p
    return 1.0 / p


@njit
def _sell_dir(cs):
    """``zero_for_one`` of a sale of the asset."""
    return cs[CS_ASSET0] != 0.0


@njit
def _sqrt_for_spot(cs, p):
    """The ``√P`` at which the asset's spot equals ``p``."""
    if cs[CS_ASSET0] != 0.0:
        return math.sqrt(p)
    return 1.0 / math.sqrt(p)


@njit
def cl_sell(cs, tk_sqrt, tk_net, dq):
    """Sell ``dq`` of the asset (state updated). Returns ``(quote_out, unsold)``."""
    if not dq > 0.0:
        return 0.0, 0.0
    z = _sell_dir(cs)
    lim = 0.0 if z else math.inf
    _, out, _, unsold = cl_swap(cs, tk_sqrt, tk_net, z, dq, lim, True)
    return out, unsold


@njit
def cl_buy(cs, tk_sqrt, tk_net, dy):
    """Spend ``dy`` quote on the asset (state updated). Returns ``(asset_out, unspent)``."""
    if not dy > 0.0:
        return 0.0, 0.0
    z = not _sell_dir(cs)
    lim = 0.0 if z else math.inf
    _, out, _, unsold = cl_swap(cs, tk_sqrt, tk_net, z, dy, lim, True)
    return out, unsold


@njit
def cl_quote_sell(cs, tk_sqrt, tk_net, dq):
    """Preview of :func:`cl_sell`: ``(quote_out, unsold, spot_after)`` (no state change)."""
    z = _sell_dir(cs)
    lim = 0.0 if z else math.inf
    c = cs.copy()
    _, out, _, unsold = cl_swap(c, tk_sqrt, tk_net, z, dq, lim, True)
    return out, unsold, cl_spot(c)


@njit
def cl_sell_to_price(cs, tk_sqrt, tk_net, p_target):
    """Asset to sell (fee included) so that the spot becomes ``p_target`` (0 if it is already
    at or below). If the liquidity ends first, the amount that empties it (finite)."""
    if not p_target < cl_spot(cs):
        return 0.0
    z = _sell_dir(cs)
    if p_target <= 0.0:
        lim = 0.0 if z else math.inf
    else:
        lim = _sqrt_for_spot(cs, p_target)
    a_in, _, _, _ = cl_swap(cs, tk_sqrt, tk_net, z, math.inf, lim, False)
    return a_in


@njit
def cl_buy_to_price(cs, tk_sqrt, tk_net, p_target):
    """Quote to spend (fee included) so that the spot rises to ``p_target`` (0 if it is
    already at or above; the whole ask side if the liquidity ends first)."""
    if not p_target > cl_spot(cs):
        return 0.0
    z = not _sell_dir(cs)
    if p_target == math.inf:
        lim = 0.0 if z else math.inf
    else:
        lim = _sqrt_for_spot(cs, p_target)
    a_in, _, _, _ = cl_swap(cs, tk_sqrt, tk_net, z, math.inf, lim, False)
    return a_in


@njit
def cl_depth(cs, tk_sqrt, tk_net, frac):
    """Depth within ``frac`` below the spot: ``(asset_units, quote_out)`` of the sale that
    moves the spot to ``spot · (1 − frac)`` (or empties the bids first)."""
    s0 = cl_spot(cs)
    if frac <= 0.0:
        return 0.0, 0.0
    dq = cl_sell_to_price(cs, tk_sqrt, tk_net, s0 * (1.0 - frac))
    if dq <= 0.0:
        return 0.0, 0.0
    out, _, _ = cl_quote_sell(cs, tk_sqrt, tk_net, dq)
    return dq, out


@njit
def cl_bid_liquidity(cs, tk_sqrt, tk_net):
    """Liquidity a sale of the asset meets first (0 when that side is empty)."""
    if cs[CS_L] > 0.0:
        return cs[CS_L]
    # L = 0 here: the next range in the sale's direction, if any
    below = int(cs[CS_BELOW])
    liq = 0.0
    if _sell_dir(cs):
        for k in range(below - 1, -1, -1):
            liq -= tk_net[k]
            if liq > 0.0:
                return liq
    else:
        for k in range(below, tk_sqrt.shape[0]):
            liq += tk_net[k]
            if liq > 0.0:
                return liq
    return 0.0


@njit
def cl_reserves(cs, tk_sqrt, tk_net):
    """Token amounts held by all ranges at the current price: ``(amount0, amount1)`` (the
    collected fees not included)."""
    m = tk_sqrt.shape[0]
    sp = cs[CS_SQRT]
    a0 = 0.0
    a1 = 0.0
    liq = 0.0
    for k in range(m - 1):
        liq += tk_net[k]
        if liq <= 0.0:
            continue
        sa = tk_sqrt[k]
        sb = tk_sqrt[k + 1]
        if sp <= sa:
            a0 += amount0_delta(sa, sb, liq)
        elif sp >= sb:
            a1 += amount1_delta(sa, sb, liq)
        else:
            a0 += amount0_delta(sp, sb, liq)
            a1 += amount1_delta(sa, sp, liq)
    return a0, a1


# =============================================================================================
# The venue-kind interface (a row ``v`` of ``vs``; called by ``venues/dispatch.py``)
# =============================================================================================
# The state vector ``cs`` is the slice ``vs[v, AUX:AUX + NCS]``; the initialized ticks are the
# first ``NK`` entries of the padded rows ``vdk[v]`` (``√P``) and ``vdq[v]`` (``liquidityNet``).
# What a sale cannot place (below the lowest range, or under the venue's floor price
# ``vs[v, FLOOR]``) fills at the floor price (the stub bid) and is added to ``vs[v, UNSOLD]``.


@njit
def _cs(vs, v):
    return vs[v, AUX:AUX + NCS]


@njit
def spot(vs, v):
    """Spot of the asset in quote units."""
    return cl_spot(_cs(vs, v))


@njit
def gross(vs, v):
    """``1 − fee`` (the fee is taken on the input)."""
    return 1.0 - vs[v, AUX + CS_FEE]


@njit
def _sell_floored(vs, vdk, vdq, v, cs, dq):
    """Sell ``dq`` on the state ``cs`` (updated): through the ticks down to the venue's floor
    price ``vs[v, FLOOR]`` (0: none) or the last liquidity, the rest to the stub bid at the floor
    price. Returns ``(quote_out, taken_by_the_stub_bid)``."""
    if not dq > 0.0:
        return 0.0, 0.0
    m = int(vs[v, NK])
    floor = vs[v, FLOOR]
    cap = dq
    if floor > 0.0:
        cap = min(dq, cl_sell_to_price(cs, vdk[v, :m], vdq[v, :m], floor))
    out, unsold = cl_sell(cs, vdk[v, :m], vdq[v, :m], cap)
    rest = (dq - cap) + unsold
    return out + rest * floor, rest


@njit
def sell(vs, vdk, vdq, v, dq):
    """Sell ``dq`` asset (state updated); what the pool cannot take above the venue's floor
    fills at the floor price and is counted in ``UNSOLD``. Returns the quote received."""
    out, rest = _sell_floored(vs, vdk, vdq, v, _cs(vs, v), dq)
    vs[v, UNSOLD] += rest
    return out


@njit
def buy(vs, vdk, vdq, v, dy):
    """Spend ``dy`` quote on the asset (state updated); returns the asset received."""
    m = int(vs[v, NK])
    out, _ = cl_buy(_cs(vs, v), vdk[v, :m], vdq[v, :m], dy)
    return out


@njit
def preview_sell(vs, vdk, vdq, v, dq):
    """``(quote_out, spot_after)`` of selling ``dq``, without changing the pool."""
    c = _cs(vs, v).copy()
    out, _ = _sell_floored(vs, vdk, vdq, v, c, dq)
    return out, cl_spot(c)


@njit
def preview_buy(vs, vdk, vdq, v, dy):
    """``(asset_out, spot_after)`` of spending ``dy``, without changing the pool."""
    m = int(vs[v, NK])
    c = _cs(vs, v).copy()
    out, _ = cl_buy(c, vdk[v, :m], vdq[v, :m], dy)
    return out, cl_spot(c)


@njit
def sell_to_price(vs, vdk, vdq, v, p_target):
    m = int(vs[v, NK])
    return cl_sell_to_price(_cs(vs, v), vdk[v, :m], vdq[v, :m], p_target)


@njit
def buy_to_price(vs, vdk, vdq, v, p_target):
    m = int(vs[v, NK])
    return cl_buy_to_price(_cs(vs, v), vdk[v, :m], vdq[v, :m], p_target)


@njit
def apply_return(vs, vdk, vdq, v, ret):
    """An outside trader trades the pool to ``spot · ret`` across ticks (up to the last
    liquidity on that side); its proceeds leave the model."""
    m = int(vs[v, NK])
    cs = _cs(vs, v)
    target = cl_spot(cs) * ret
    if target < vs[v, FLOOR]:
        target = vs[v, FLOOR]
    if ret < 1.0:
        dq = cl_sell_to_price(cs, vdk[v, :m], vdq[v, :m], target)
        cl_sell(cs, vdk[v, :m], vdq[v, :m], dq)
    else:
        dy = cl_buy_to_price(cs, vdk[v, :m], vdq[v, :m], target)
        cl_buy(cs, vdk[v, :m], vdq[v, :m], dy)


@njit
def decay(vs, v):
    """A pool has no transient impact: no-op."""
    return


@njit
def follows_reference(vs, v):
    """A pool does not return to a reference by itself (arbitrage toward it trades it)."""
    return False
