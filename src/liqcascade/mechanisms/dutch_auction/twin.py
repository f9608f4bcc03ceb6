"""Plain-Python twin of :mod:`liqcascade.mechanisms.dutch_auction.kernel` (naive, written independently; ``tests/parity``)."""

from __future__ import annotations


def dutch_bonus(start, max_bonus, steps_to_max, age):
    frac = 1.0 if steps_to_max <= 0 else min(1.0, max(0, age) / steps_to_max)
    if age <= 0:
        return start
    if frac >= 1.0:
        return max_bonus
    return start + (max_bonus - start) * frac
