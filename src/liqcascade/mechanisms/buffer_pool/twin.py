"""Plain-Python twin of :mod:`liqcascade.mechanisms.buffer_pool.kernel` (naive, written independently; ``tests/parity``)."""

from __future__ import annotations


def pool_buy(q, value, capital, discount):
    if q <= 0 or value <= 0 or capital <= 0:
        return 0.0, 0.0
    cost = value * (1.0 - discount)
    frac = min(1.0, capital / cost)
    return q * frac, cost * frac
