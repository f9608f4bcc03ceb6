"""Plain-Python twin of :mod:`.kernel`, written naively for the parity tests.

The borrow curve is evaluated by linear interpolation through its three corner points
``(0, base)``, ``(U_opt, base + slope1)``, ``(1, base + slope1 + slope2)``; the compounded
interest is the explicit sum ``Σ_{k=0..3} x^k / k!`` (the contract's truncated series); the
reserve is a small class whose operations follow ReserveLogic in plain Python.
"""

from __future__ import annotations

import math

YEAR = 365 * 24 * 3600


def borrow_rate(u, base, slope1, slope2, opt):
    pts = [(0.0, base), (opt, base + slope1), (1.0, base + slope1 + slope2)]
    for (u0, r0), (u1, r1) in zip(pts, pts[1:]):
        if u <= u1 or u1 == 1.0:
            return r0 + (r1 - r0) * (u - u0) / (u1 - u0)
    raise AssertionError("unreachable")


def rates(debt, available, unbacked, base, slope1, slope2, opt, rf):
    if debt == 0:
        return 0.0, base
    u_b = debt / (available + debt)
    u_s = debt / (available + debt + unbacked)
    b = borrow_rate(u_b, base, slope1, slope2, opt)
    return b * u_s * (1 - rf), b


def compounded(rate, dt):
    x = rate * dt / YEAR
    return sum(x**k / math.factorial(k) for k in range(4))


class Reserve:
    def __init__(self, par, supplied, borrowed, unbacked=0.0):
        self.base, self.s1, self.s2, self.opt, self.rf = (float(v) for v in par)
        self.li = 1.0
        self.vi = 1.0
        self.supply_scaled = float(supplied)
        self.debt_scaled = float(borrowed)
        self.available = float(supplied - borrowed)
        self.treasury_scaled = 0.0
        self.unbacked = float(unbacked)
        self.lr, self.vr = 0.0, 0.0
        self._rates(0.0, 0.0)

    def debt(self):
        return self.debt_scaled * self.vi

    def _rates(self, added, taken):
        avail = self.available + added - taken
        self.lr, self.vr = rates(self.debt(), avail, self.unbacked, self.base, self.s1, self.s2, self.opt, self.rf)
        self.available = avail

    def accrue(self, dt, refresh=True):
        growth = 1.0
        if dt > 0:
            if self.lr != 0:
                self.li *= 1 + self.lr * dt / YEAR
            if self.debt_scaled != 0:
                growth = compounded(self.vr, dt)
                old = self.vi
                self.vi = old * growth
                if self.rf:
                    self.treasury_scaled += self.debt_scaled * (self.vi - old) * self.rf / self.li
        if refresh:
            self._rates(0.0, 0.0)
        return growth

    def supply(self, a):
        self.supply_scaled += a / self.li
        self._rates(a, 0.0)
        return a

    def withdraw(self, a):
        w = min(a, self.available)
        if w <= 0:
            return 0.0
        self.supply_scaled -= w / self.li
        self._rates(0.0, w)
        return w

    def borrow(self, a):
        b = min(a, self.available)
        if b <= 0:
            return 0.0
        self.debt_scaled += b / self.vi
        self._rates(0.0, b)
        return b

    def repay(self, a):
        r = min(a, self.debt())
        if r <= 0:
            return 0.0
        self.debt_scaled = max(self.debt_scaled - r / self.vi, 0.0)
        self._rates(r, 0.0)
        return r
