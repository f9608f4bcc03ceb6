"""Plain-Python twin of :mod:`liqcascade.venues.book.kernel`, written naively for parity tests.

A book is a small class holding its segments ``(k0, k1, density)``. Depth ``D(k)`` is a sum of
rectangles; the asset absorbed ``∫ D'(u) / (m (1 ∓ u)) du`` is integrated numerically
(Gauss–Legendre on pieces that shrink geometrically towards the ``u = 1`` singularity); the
inverse maps are found by bisection on ``k``. Slow; never use it in the engine.
"""

from __future__ import annotations

import math

import numpy as np

from liqcascade.venues.twin import bisect as _bisect

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(16)


def _gauss(f, a, b):
    """Gauss–Legendre integral of a vectorised ``f`` over ``[a, b]``."""
    half = 0.5 * (b - a)
    centre = 0.5 * (a + b)
    return half * float(np.dot(_GL_WEIGHTS, f(centre + half * _GL_NODES)))


def _integrate_bid(a, b):
    """``∫_a^b du / (1 - u)`` numerically, for ``0 <= a <= b < 1``."""
    total = 0.0
    cur = a
    f = lambda u: 1.0 / (1.0 - u)  # noqa: E731
    while cur < b:
        nxt = min(b, cur + 0.5 * (1.0 - cur))
        if nxt <= cur:
            break
        total += _gauss(f, cur, nxt)
        cur = nxt
    return total


def _integrate_ask(a, b):
    """``∫_a^b du / (1 + u)`` numerically, for ``0 <= a <= b``."""
    total = 0.0
    cur = a
    f = lambda u: 1.0 / (1.0 + u)  # noqa: E731
    while cur < b:
        nxt = min(b, cur + 0.5 * (1.0 + cur))
        total += _gauss(f, cur, nxt)
        cur = nxt
    return total


class Book:
    """Depth-curve book: piecewise-constant quote density over fractions from the mid."""

    def __init__(self, mid, depth_k, depth_q, nk, floor=0.0):
        self.mid = float(mid)
        self.floor = float(floor)  # no bids under it, a stub bid at it (0: none)
        nk = int(nk)
        ks = [float(depth_k[j]) for j in range(nk)]
        qs = [float(depth_q[j]) for j in range(nk)]
        self.segments = []  # (k0, k1, density); the last one runs to infinity
        k0, q0 = 0.0, 0.0
        for k1, q1 in zip(ks, qs):
            self.segments.append((k0, k1, (q1 - q0) / (k1 - k0)))
            k0, q0 = k1, q1
        tail = self.segments[-1][2]
        if tail <= 0:
            tail = qs[-1] / ks[-1]
        self.segments.append((k0, math.inf, tail))

    def depth(self, k):
        total = 0.0
        for k0, k1, rho in self.segments:
            if k > k0:
                total += rho * (min(k, k1) - k0)
        return total

    def sell_asset(self, k):
        if k >= 1.0:
            return math.inf
        total = 0.0
        for k0, k1, rho in self.segments:
            if k > k0 and rho > 0:
                total += rho * _integrate_bid(k0, min(k, k1))
        return total / self.mid

    def buy_asset(self, k):
        total = 0.0
        for k0, k1, rho in self.segments:
            if k > k0 and rho > 0:
                total += rho * _integrate_ask(k0, min(k, k1))
        return total / self.mid

    def sell(self, dq):
        """Sell ``dq`` asset; returns the quote, moves the mid."""
        if dq <= 0:
            return 0.0
        if self.floor > 0:
            cap = self.sell_to_price(self.floor)
            if cap < dq:  # under the floor: down to it through the bids, the rest at the floor price
                quote = self.depth(1.0 - self.floor / self.mid) if self.floor < self.mid else 0.0
                self.mid = self.floor
                return quote + (dq - cap) * self.floor
        hi = 0.5
        while self.sell_asset(hi) < dq:
            hi = 1.0 - 0.5 * (1.0 - hi)
            if hi >= 1.0:
                break
        _, k = _bisect(lambda k: self.sell_asset(k) - dq, 0.0, hi)
        quote = self.depth(k)
        self.mid = self.mid * (1.0 - k)
        return quote

    def buy(self, dy):
        if dy <= 0:
            return 0.0
        hi = 1.0
        while self.depth(hi) < dy:
            hi *= 2.0
        _, k = _bisect(lambda k: self.depth(k) - dy, 0.0, hi)
        asset = self.buy_asset(k)
        self.mid = self.mid * (1.0 + k)
        return asset

    def sell_to_price(self, p):
        p = max(p, self.floor)
        if p >= self.mid:
            return 0.0
        if p <= 0:
            return math.inf
        return self.sell_asset(1.0 - p / self.mid)

    def buy_to_price(self, p):
        if p <= self.mid:
            return 0.0
        return self.depth(p / self.mid - 1.0)

    @property
    def spot(self):
        return self.mid

    gross = 1.0


def book_depth(depth_k, depth_q, nk, k):
    return Book(1.0, depth_k, depth_q, nk).depth(k)


def book_marginal_sell_k(depth_k, depth_q, nk, quote):
    book = Book(1.0, depth_k, depth_q, nk)
    if quote <= 0:
        return 0.0
    hi = 1.0
    while book.depth(hi) < quote:
        hi *= 2.0
    lo, hi = _bisect(lambda k: book.depth(k) - quote, 0.0, hi)
    return hi


def book_sell(mid, depth_k, depth_q, nk, dq):
    book = Book(mid, depth_k, depth_q, nk)
    out = book.sell(dq)
    return book.mid, out


def book_buy(mid, depth_k, depth_q, nk, dy):
    book = Book(mid, depth_k, depth_q, nk)
    out = book.buy(dy)
    return book.mid, out


def book_sell_to_price(mid, depth_k, depth_q, nk, p_target):
    return Book(mid, depth_k, depth_q, nk).sell_to_price(p_target)


def book_buy_to_price(mid, depth_k, depth_q, nk, p_target):
    return Book(mid, depth_k, depth_q, nk).buy_to_price(p_target)


# --- the kind interface used by ``venues/twin.py`` (columns of ``vs`` as in ``venues/kernel.py``)

MID, REF, HALF, NK, FLOOR = 4, 5, 6, 7, 9


def load(vs, vdk, vdq, v):
    return Book(vs[v, MID], vdk[v], vdq[v], int(vs[v, NK]), vs[v, FLOOR])


def spot(vs, v):
    return vs[v, MID]


def store(vs, v, book):
    vs[v, MID] = book.mid


def apply_return(vs, vdk, vdq, v, ret):
    vs[v, REF] *= ret
    vs[v, MID] = max(vs[v, MID] * ret, vs[v, FLOOR])


def decay(vs, v):
    if vs[v, HALF] <= 0:
        return
    impact = (vs[v, REF] - vs[v, MID]) / vs[v, REF]
    impact = impact * math.exp(-math.log(2.0) / vs[v, HALF])
    vs[v, MID] = max(vs[v, REF] - impact * vs[v, REF], vs[v, FLOOR])


def follows_reference(vs, v):
    return True
