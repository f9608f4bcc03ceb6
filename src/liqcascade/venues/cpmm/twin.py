"""Plain-Python twin of :mod:`liqcascade.venues.cpmm.kernel`, written naively for parity tests.

A pool is a small class; a sale updates the reserves through the invariant
``x' · y' = x · (y after fee-less pricing)``; the "to price" amounts are found by bisection on
the trade size (no closed forms). Slow; never use it in the engine.
"""

from __future__ import annotations

import math

from liqcascade.venues.twin import bisect as _bisect


class Pool:
    """Constant-product pool with the fee on the input amount kept in the pool."""

    def __init__(self, x, y, fee, floor=0.0):
        self.x = float(x)
        self.y = float(y)
        self.fee = float(fee)
        self.floor = float(floor)  # no bids under it, a stub bid at it (0: none)

    @property
    def spot(self):
        return self.y / self.x

    def after_sell(self, dq):
        """State ``(x, y)`` after selling ``dq`` asset (without changing the pool)."""
        x_new = self.x + dq
        y_new = self.x * self.y / (self.x + (1.0 - self.fee) * dq)
        return x_new, y_new

    def after_buy(self, dy):
        y_new = self.y + dy
        x_new = self.x * self.y / (self.y + (1.0 - self.fee) * dy)
        return x_new, y_new

    def sell(self, dq):
        if dq <= 0:
            return 0.0
        x_new, y_new = self.after_sell(dq)
        rest = 0.0
        if self.floor > 0 and not y_new / x_new >= self.floor:
            # under the floor: down to it through the pool, the rest at the floor price
            cap = min(self.sell_to_price(self.floor), dq)
            rest = dq - cap
            x_new, y_new = self.after_sell(cap)
        out = self.y - y_new + rest * self.floor
        self.x, self.y = x_new, y_new
        return out

    def buy(self, dy):
        if dy <= 0:
            return 0.0
        x_new, y_new = self.after_buy(dy)
        out = self.x - x_new
        self.x, self.y = x_new, y_new
        return out

    def sell_to_price(self, p):
        p = max(p, self.floor)
        if p >= self.spot:
            return 0.0
        if p <= 0:
            return math.inf

        def f(dq):
            xn, yn = self.after_sell(dq)
            return p - yn / xn  # increasing in dq

        hi = self.x
        while f(hi) < 0:
            hi *= 2.0
        lo, hi = _bisect(f, 0.0, hi)
        return 0.5 * (lo + hi)

    def buy_to_price(self, p):
        if p <= self.spot:
            return 0.0

        def f(dy):
            xn, yn = self.after_buy(dy)
            return yn / xn - p

        hi = self.y
        while f(hi) < 0:
            hi *= 2.0
        lo, hi = _bisect(f, 0.0, hi)
        return 0.5 * (lo + hi)

    @property
    def gross(self):
        return 1.0 - self.fee


def cpmm_sell(x, y, fee, dq):
    pool = Pool(x, y, fee)
    out = pool.sell(dq)
    return pool.x, pool.y, out


def cpmm_buy(x, y, fee, dy):
    pool = Pool(x, y, fee)
    out = pool.buy(dy)
    return pool.x, pool.y, out


def cpmm_sell_to_price(x, y, fee, p_target):
    return Pool(x, y, fee).sell_to_price(p_target)


def cpmm_buy_to_price(x, y, fee, p_target):
    return Pool(x, y, fee).buy_to_price(p_target)


def cpmm_recentre(x, y, spot):
    """Twin: the pool's liquidity ``L = sqrt(x) · sqrt(y)`` kept, placed at spot ``spot``."""
    liquidity = math.sqrt(x) * math.sqrt(y)
    return liquidity / math.sqrt(spot), liquidity * math.sqrt(spot)


# --- the kind interface used by ``venues/twin.py`` (columns of ``vs`` as in ``venues/kernel.py``)

X, Y, FEE, REF, HALF, FLOOR = 1, 2, 3, 5, 6, 9


def load(vs, vdk, vdq, v):
    return Pool(vs[v, X], vs[v, Y], vs[v, FEE], vs[v, FLOOR])


def spot(vs, v):
    return vs[v, Y] / vs[v, X]


def store(vs, v, pool):
    vs[v, X] = pool.x
    vs[v, Y] = pool.y


def apply_return(vs, vdk, vdq, v, ret):
    if vs[v, HALF] > 0:  # re-centred pool: reference and spot move together, no trade
        spot = vs[v, Y] / vs[v, X]
        vs[v, REF] *= ret
        vs[v, X], vs[v, Y] = cpmm_recentre(vs[v, X], vs[v, Y], max(spot * ret, vs[v, FLOOR]))
        return
    pool = load(vs, None, None, v)
    target = max(pool.spot * ret, vs[v, FLOOR])
    if ret < 1:
        pool.sell(pool.sell_to_price(target))
    else:
        pool.buy(pool.buy_to_price(target))
    store(vs, v, pool)


def decay(vs, v):
    if vs[v, HALF] <= 0:
        return
    impact = (vs[v, REF] - vs[v, Y] / vs[v, X]) / vs[v, REF]
    impact = impact * math.exp(-math.log(2.0) / vs[v, HALF])
    vs[v, X], vs[v, Y] = cpmm_recentre(vs[v, X], vs[v, Y], max(vs[v, REF] - impact * vs[v, REF], vs[v, FLOOR]))


def follows_reference(vs, v):
    return vs[v, HALF] > 0
