"""Plain-Python twin of :mod:`liqcascade.mechanisms.volatility_bonus.kernel` (naive, written independently; ``tests/parity``)."""

from __future__ import annotations


def vol_fee_bonus(bonus, vol, k, vol_ref, max_bonus):
    return min(max(max_bonus, bonus), bonus * (1.0 + k * max(0.0, vol - vol_ref)))
