"""Plain-Python twin of the external-flow loop (``kernel.py``), written naively for parity tests.

Same rules, different arithmetic: the venues are stepped with the venue twins
(:mod:`liqcascade.venues.twin`: bisection and numerical integration instead of closed forms,
the venues' own recovery rule), the backstop with
:class:`liqcascade.flow.backstop.twin.BackstopPy`; a buy of a given asset amount is found by
bisection on copies of the venue arrays. Returns a list of per-step dicts. Slow; parity tests only.
"""

from __future__ import annotations

import math

from liqcascade.venues import twin as V

CPMM = V.VENUE_CPMM


def _buy_asset(vs, vdk, vdq, v, q, cap):
    if q <= 0:
        return 0.0, 0.0, False
    dy_max = V.venue_buy_to_price(vs, vdk, vdq, v, cap)
    if dy_max <= 0:
        return 0.0, 0.0, True

    def out(dy):
        c = vs.copy()
        return V.venue_buy(c, vdk, vdq, v, dy)

    if out(dy_max) <= q:
        return V.venue_buy(vs, vdk, vdq, v, dy_max), dy_max, True
    lo, hi = 0.0, dy_max
    for _ in range(400):
        m = (lo + hi) / 2
        if hi - lo <= 1e-15 * hi or m in (lo, hi):
            break
        if out(m) < q:
            lo = m
        else:
            hi = m
    return V.venue_buy(vs, vdk, vdq, v, lo), lo, False


def run_twin(vs, vdk, vdq, v, mid, dt, sells, buys, multiplier, max_slippage, half_s, liq0, backstop=None):
    """Per-step dicts with the keys of the kernel's record columns (lower case, no ``R_``)."""
    steps = []
    for i in range(len(mid)):
        ref = float(mid[i])
        row = dict.fromkeys(("spot_low", "spot_end", "sell_in", "absorbed", "sold", "sell_unfilled", "buy_in",
                             "bought", "buy_unfilled", "proceeds", "spent", "paid", "backstop", "withdrawn",
                             "refilled", "spot_pre"), 0.0)
        vs[v, V.HALF] = half_s / dt[i] if (half_s > 0 and dt[i] > 0) else 0.0
        if i > 0:
            V.venue_apply_return(vs, vdk, vdq, v, ref / float(mid[i - 1]))
        V.venue_decay(vs, v)
        if backstop is not None:
            row["withdrawn"], row["refilled"] = backstop.tick(ref, float(dt[i]))
        q = float(sells[i]) * multiplier
        row["sell_in"] = q
        got = 0.0
        if backstop is not None and q > 0:
            got, row["paid"] = backstop.absorb(q, ref)
        row["absorbed"] = got
        rest = q - got
        row["spot_pre"] = V.venue_spot(vs, v)
        if rest > 0:
            fill = rest
            if max_slippage < 1:
                fill = min(fill, V.venue_sell_to_price(vs, vdk, vdq, v, ref * (1 - max_slippage)))
            fill = max(fill, 0.0)
            if fill > 0:
                row["proceeds"] = V.venue_sell(vs, vdk, vdq, v, fill)
            row["sold"] = fill
            row["sell_unfilled"] = rest - fill
        row["spot_low"] = V.venue_spot(vs, v)
        qb = float(buys[i]) * multiplier
        row["buy_in"] = qb
        if qb > 0:
            row["bought"], row["spent"], capped = _buy_asset(vs, vdk, vdq, v, qb, ref * (1 + max_slippage))
            if capped:
                row["buy_unfilled"] = qb - row["bought"]
        row["spot_end"] = V.venue_spot(vs, v)
        if backstop is not None:
            row["backstop"] = backstop.balance
        if int(vs[v, V.KIND]) == CPMM and liq0 > 0:
            p = vs[v, V.Y] / vs[v, V.X]
            vs[v, V.X] = liq0 / math.sqrt(p)
            vs[v, V.Y] = liq0 * math.sqrt(p)
        steps.append(row)
    return steps
