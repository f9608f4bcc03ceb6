"""Plain-Python twin of :mod:`liqcascade.mechanisms.circuit_breaker.kernel` (naive, written independently; ``tests/parity``)."""

from __future__ import annotations


def window_fall(series, t, window):
    mx = max(series[max(0, t - window):t + 1])
    if mx <= 0:
        return 0.0
    return max(0.0, 1.0 - series[t] / mx)


class Breaker:
    def __init__(self):
        self.pause_end = 0
        self.grace_end = 0

    def step(self, t, fall, threshold, pause, grace):
        in_pause_or_grace = t < self.grace_end
        if not in_pause_or_grace and fall > threshold:
            self.pause_end = t + pause
            self.grace_end = t + pause + grace
        return t < self.pause_end, t < self.grace_end
