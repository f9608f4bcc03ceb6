"""Plain-Python twin of :mod:`.kernel`, written naively for the parity tests: the per-second
rates by linear interpolation through the kink (and straight on past 100 %), the market as a
small class with present values recomputed from principals at every use."""

from __future__ import annotations


def kinked(u, kink, low, high, base):
    at_kink = base + low * kink
    if u <= kink:
        return base + (at_kink - base) * (u / kink if kink > 0 else 0.0)
    return at_kink + high * (u - kink)


class Market:
    def __init__(self, par, supplied, borrowed):
        (self.sk, self.sl, self.sh, self.sb, self.bk, self.bl, self.bh, self.bb) = (float(v) for v in par)
        self.si = 1.0
        self.bi = 1.0
        self.sp = float(supplied)
        self.bp = float(borrowed)
        self.cash = float(supplied - borrowed)

    def supplied(self):
        return self.sp * self.si

    def borrowed(self):
        return self.bp * self.bi

    def utilization(self):
        s = self.supplied()
        return 0.0 if s == 0 else self.borrowed() / s

    def rates(self):
        u = self.utilization()
        return kinked(u, self.sk, self.sl, self.sh, self.sb), kinked(u, self.bk, self.bl, self.bh, self.bb)

    def accrue(self, dt):
        if dt <= 0:
            return 1.0
        sr, br = self.rates()
        self.si = self.si * (1 + sr * dt)
        self.bi = self.bi * (1 + br * dt)
        return 1 + br * dt

    def reserves(self):
        return self.cash - self.supplied() + self.borrowed()

    def supply(self, a):
        self.sp += a / self.si
        self.cash += a
        return a

    def withdraw(self, a):
        w = min(a, self.cash)
        if w <= 0:
            return 0.0
        self.sp -= w / self.si
        self.cash -= w
        return w

    def borrow(self, a):
        b = min(a, self.cash)
        if b <= 0:
            return 0.0
        self.bp += b / self.bi
        self.cash -= b
        return b

    def repay(self, a):
        r = min(a, self.borrowed())
        if r <= 0:
            return 0.0
        self.bp = max(self.bp - r / self.bi, 0.0)
        self.cash += r
        return r
