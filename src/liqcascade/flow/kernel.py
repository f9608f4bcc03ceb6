"""The external-flow loop: one venue driven by a liquidation-volume series (compiled).

:func:`flow_run` steps once per row of the series. Row ``i`` covers ``dt[i]`` seconds and ends
at reference price ``mid[i]``:

1. **Reference move.** The venue moves by the reference's return ``mid[i] / mid[i-1]``
   (``venue_apply_return``: a book's or a re-centred pool's ``REF`` and spot are multiplied; an
   ordinary pool is traded to ``spot · return`` by an outside trader).
2. **Recovery** over ``dt[i]`` by the venue's own rule (``venue_decay`` with
   ``HALF = h / dt[i]`` steps, ``h`` the venue's ``half_life_seconds``): the impact
   ``I = 1 - spot / REF`` of a book or of a re-centred pool decays as ``I ← I · 0.5 ** (dt / h)``.
   With ``h = 0`` the venue does not recover (an ordinary pool stays where trades left it).
3. **Backstop** (when present): retail withdrawals and institutional refill over ``dt[i]``
   (:func:`liqcascade.flow.backstop.kernel.backstop_tick`).
4. **Forced sells** ``q = sells[i] · multiplier``: the backstop buys what its balance pays for at
   ``mid · (1 - discount)``; the rest is sold on the venue down to the floor
   ``mid · (1 - max_slippage)`` (no floor when ``max_slippage >= 1``); what the floor stops is
   *unfilled*. The venue's spot now is the step's ``R_SPOT_LOW``.
5. **Forced buys** ``buys[i] · multiplier`` asset bought on the venue up to the cap
   ``mid · (1 + max_slippage)``; what the cap stops is unfilled.
6. A pool's liquidity ``L = sqrt(x · y)`` is set back to its starting value at its current
   spot (its fee income goes to its LPs), so the flow does not compound into depth.

Inside a row the sells go before the buys (the series has no order inside a row; this gives
the deeper low). Per-step records go to ``rec[T, NREC]`` (columns ``R_*``). Every flow is
conserved: ``in = absorbed + filled + unfilled`` per step (the unfilled amount of a buy is the
asset the cap left unbought; below the cap the amount bought equals the order to about 1e-15
relative, the bisection's last float).
"""

from __future__ import annotations

import math

from liqcascade.flow.backstop.kernel import S_INST, S_RETAIL, backstop_absorb, backstop_tick
from liqcascade.kernels._jit import njit
from liqcascade.venues.dispatch import (
    _venue_preview_buy,
    venue_apply_return,
    venue_buy,
    venue_buy_to_price,
    venue_decay,
    venue_sell,
    venue_sell_to_price,
    venue_spot,
)
from liqcascade.venues.kernel import HALF, KIND, VENUE_CPMM, X, Y

# --- per-step record columns -------------------------------------------------------------------
R_SPOT_LOW = 0  # venue spot after the step's forced sells (before its buys)
R_SPOT_END = 1  # venue spot at the end of the step
R_SELL_IN = 2  # forced sells sent (asset, after the multiplier)
R_ABSORBED = 3  # bought by the backstop (asset)
R_SOLD = 4  # filled on the venue (asset)
R_SELL_UNFILLED = 5  # stopped by the floor (asset)
R_BUY_IN = 6  # forced buys sent (asset)
R_BOUGHT = 7  # filled on the venue (asset)
R_BUY_UNFILLED = 8  # stopped by the cap (asset)
R_PROCEEDS = 9  # quote received for the venue sells
R_SPENT = 10  # quote spent on the venue buys
R_PAID = 11  # quote the backstop paid this step
R_BACKSTOP = 12  # backstop balance at the end of the step (quote)
R_WITHDRAWN = 13  # retail quote withdrawn this step
R_REFILLED = 14  # institutional quote added this step
R_SPOT_PRE = 15  # venue spot right before the step's forced sells (after the move and recovery)
NREC = 16

_BISECT_MAX = 400
_RTOL = 1e-15


@njit
def set_half_life(vs, v, dt, half_s):
    """The venue's half-life in steps of this row (``HALF = half_s / dt``; 0 when ``half_s <= 0``)."""
    if half_s > 0.0 and dt > 0.0:
        vs[v, HALF] = half_s / dt
    else:
        vs[v, HALF] = 0.0


@njit
def reset_liquidity(vs, v, liq0):
    """Step 6: a pool keeps its spot and gets back its starting liquidity ``liq0 = sqrt(x·y)``."""
    if int(vs[v, KIND]) != VENUE_CPMM or not liq0 > 0.0:
        return
    p = vs[v, Y] / vs[v, X]
    r = math.sqrt(p)
    vs[v, X] = liq0 / r
    vs[v, Y] = liq0 * r


@njit
def buy_asset(vs, vdk, vdq, v, q, cap_price):
    """Buy ``q`` asset on venue ``v`` without lifting its spot above ``cap_price``.

    Returns ``(asset bought, quote spent, capped)``. Below the cap the quote is found by
    bisection on the amount spent (the largest amount that buys no more than ``q``)."""
    if not q > 0.0:
        return 0.0, 0.0, False
    dy_max = venue_buy_to_price(vs, vdk, vdq, v, cap_price)
    if not dy_max > 0.0:
        return 0.0, 0.0, True
    got_max, _ = _venue_preview_buy(vs, vdk, vdq, v, dy_max)
    if got_max <= q:
        got = venue_buy(vs, vdk, vdq, v, dy_max)
        return got, dy_max, True
    lo = 0.0
    hi = dy_max
    for _ in range(_BISECT_MAX):
        if hi - lo <= _RTOL * hi:
            break
        m = 0.5 * (lo + hi)
        if not (lo < m < hi):
            break
        out, _ = _venue_preview_buy(vs, vdk, vdq, v, m)
        if out < q:
            lo = m
        else:
            hi = m
    got = venue_buy(vs, vdk, vdq, v, lo)
    return got, lo, False


@njit
def flow_run(vs, vdk, vdq, v, mid, dt, sells, buys, multiplier, max_slippage, half_s, liq0,
             has_backstop, bparams, bstate, rec):
    """Run the whole series on venue ``v`` (state arrays updated in place); fill ``rec``.

    ``bparams``/``bstate``: the backstop's vectors (ignored when ``has_backstop`` is False).
    Returns the number of steps run."""
    n = mid.shape[0]
    for i in range(n):
        for j in range(NREC):
            rec[i, j] = 0.0
        ref = mid[i]
        set_half_life(vs, v, dt[i], half_s)
        if i > 0:
            venue_apply_return(vs, vdk, vdq, v, ref / mid[i - 1])
        venue_decay(vs, v)
        if has_backstop:
            w, a = backstop_tick(bparams, bstate, ref, dt[i])
            rec[i, R_WITHDRAWN] = w
            rec[i, R_REFILLED] = a
        # forced sells
        q = sells[i] * multiplier
        rec[i, R_SELL_IN] = q
        absorbed = 0.0
        if has_backstop and q > 0.0:
            absorbed, paid = backstop_absorb(bparams, bstate, q, ref)
            rec[i, R_ABSORBED] = absorbed
            rec[i, R_PAID] = paid
        rest = q - absorbed
        rec[i, R_SPOT_PRE] = venue_spot(vs, v)
        if rest > 0.0:
            fill = rest
            if max_slippage < 1.0:
                room = venue_sell_to_price(vs, vdk, vdq, v, ref * (1.0 - max_slippage))
                if room < fill:
                    fill = room
            if fill > 0.0:
                rec[i, R_PROCEEDS] = venue_sell(vs, vdk, vdq, v, fill)
            else:
                fill = 0.0
            rec[i, R_SOLD] = fill
            rec[i, R_SELL_UNFILLED] = rest - fill
        rec[i, R_SPOT_LOW] = venue_spot(vs, v)
        # forced buys
        qb = buys[i] * multiplier
        rec[i, R_BUY_IN] = qb
        if qb > 0.0:
            got, spent, capped = buy_asset(vs, vdk, vdq, v, qb, ref * (1.0 + max_slippage))
            rec[i, R_BOUGHT] = got
            rec[i, R_SPENT] = spent
            if capped:
                rec[i, R_BUY_UNFILLED] = qb - got
            # below the cap the bisection stops at the last float: got = qb to ~1e-15 relative
        rec[i, R_SPOT_END] = venue_spot(vs, v)
        if has_backstop:
            rec[i, R_BACKSTOP] = bstate[S_RETAIL] + bstate[S_INST]
        reset_liquidity(vs, v, liq0)
    return n
