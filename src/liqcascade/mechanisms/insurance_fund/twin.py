"""Plain-Python twin of :mod:`liqcascade.mechanisms.insurance_fund.kernel` (naive, written independently; ``tests/parity``)."""

from __future__ import annotations


def fund_absorb(fund, bad_value):
    if bad_value <= 0:
        return fund, 0.0, 0.0
    d = max(0.0, min(fund, bad_value))
    return fund - d, d, bad_value - d
