"""Plain-Python twin of :mod:`liqcascade.flashloans.uniswap.kernel`: the fee tier in hundredths
of a basis point (pips), as the pool stores it."""

from __future__ import annotations


def fee_py(fraction, amount):
    pips = fraction * 1e6
    return amount * pips / 1e6
