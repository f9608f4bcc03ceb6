"""Plain-Python twin of :mod:`liqcascade.mechanisms.throttle.kernel` (naive, written independently; ``tests/parity``)."""

from __future__ import annotations


def scale_liquidation(seize, repay, bad, fee, closed, s):
    if s >= 1.0:
        return seize, repay, bad, fee, closed
    s = max(s, 0.0)
    return seize * s, repay * s, 0.0, fee * s, False


def room_share(room, amount):
    if amount <= room:
        return 1.0
    if room <= 1e-9 * amount:  # a rounding residue of a window filled exactly: no room
        return 0.0
    return room / amount
