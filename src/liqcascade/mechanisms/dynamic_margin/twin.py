"""Plain-Python twin of :mod:`liqcascade.mechanisms.dynamic_margin.kernel` (naive, written independently; ``tests/parity``)."""

from __future__ import annotations


def lt_multiplier(vol, vol_ref, lt_per_vol, gas_mult, congestion_k, depth_lost, haircut_k, buffer, min_mult):
    m = 1.0 - buffer - lt_per_vol * max(0.0, vol - vol_ref) - congestion_k * max(0.0, gas_mult - 1.0) \
        - haircut_k * max(0.0, depth_lost)
    return max(min_mult, min(1.0, m))


class Ramp:
    """Euler v2's liquidation-LTV ramp, written as the contract states it: a setting remembers
    the value in force, the target, and when the ramp ends."""

    def __init__(self):
        self.original, self.target, self.end = 1.0, 1.0, 0.0

    def value(self, t, ramp):
        if t >= self.end or self.target >= self.original or ramp <= 0:
            return self.target
        remaining = self.end - t
        return self.target + (self.original - self.target) * remaining / ramp

    def set(self, t, target, ramp):
        if abs(target - self.target) <= 1e-12 * abs(self.target):  # the same setting, to rounding
            return self.value(t, ramp)
        now = self.value(t, ramp)
        if target < now and ramp > 0:
            self.original, self.end = now, t + ramp
        else:
            self.original, self.end = target, t
        self.target = target
        return self.value(t, ramp)


def tier_in_force(tier, t, ramp):
    if ramp <= 0:
        return tier
    share = min(1.0, t / ramp)
    return 1.0 - share * (1.0 - tier)
