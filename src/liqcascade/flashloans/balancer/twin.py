"""Plain-Python twin of :mod:`liqcascade.flashloans.balancer.kernel` (18-decimal fixed-point
percentage as the contract stores it, in floats)."""

from __future__ import annotations


def fee_py(fraction, amount):
    pct_e18 = fraction * 1e18
    return amount * pct_e18 / 1e18
