"""Plain-Python twin of :mod:`.kernel`: ``(1 + r)^dt`` as a 50-digit decimal power, the
per-second rate from an annual fee by 50-digit ``exp(ln(1 + f) / year)`` (the spells' formula)."""

from __future__ import annotations

from decimal import Decimal, localcontext

YEAR = 31_536_000


def per_second_rate(annual: float) -> float:
    with localcontext() as c:
        c.prec = 50
        return float((((Decimal(1) + Decimal(annual)).ln()) / YEAR).exp() - 1)


def growth(r: float, dt: float) -> float:
    with localcontext() as c:
        c.prec = 50
        return float((Decimal(1) + Decimal(r)) ** Decimal(dt))


class Ilk:
    def __init__(self, r, base=0.0):
        self.r = float(r)
        self.base = float(base)
        self.rate = 1.0
        self.fees = 0.0

    def drip(self, dt):
        g = growth(self.r + self.base, dt)
        old = self.rate
        self.rate = old * g
        self.fees += self.rate - old
        return g
