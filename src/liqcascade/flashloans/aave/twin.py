"""Plain-Python twin of :mod:`liqcascade.flashloans.aave.kernel`: the premium in basis points,
as the contract states it (``amount · bps / 10000``)."""

from __future__ import annotations


def fee_py(fraction, amount):
    bps = fraction * 10000.0
    return amount * bps / 10000.0
