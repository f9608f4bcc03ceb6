"""Plain-Python twin of :mod:`liqcascade.mechanisms.partial.kernel` (naive; ``tests/parity``)."""

from __future__ import annotations


def cooldown_holds(under, last, t, cooldown_steps):
    """``under``: the protocol is under the mechanism; ``last``: the step of the position's last
    liquidation, or None."""
    if not under or last is None:
        return False
    return t - last <= cooldown_steps
