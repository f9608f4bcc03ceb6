"""Plain-Python twin of :mod:`.kernel`: the base rate decays **one minute at a time** in a loop
(the contract exponentiates by squaring; the kernel uses ``exp(m · log d)``)."""

from __future__ import annotations

import math

DECAY = 0.999037758833783


class Fees:
    def __init__(self, base_rate, last_op):
        self.base = float(base_rate)
        self.last = float(last_op)
        self.fees = 0.0

    def decayed(self, now):
        m = math.floor((now - self.last) / 60)
        b = self.base
        for _ in range(max(m, 0)):
            b *= DECAY
        return b

    def _touch(self, now):
        if now - self.last >= 60:
            self.last = now

    def borrow_fee(self, now, lusd):
        self.base = self.decayed(now)
        self._touch(now)
        fee = min(0.005 + self.base, 0.05) * lusd
        self.fees += fee
        return fee

    def redeem(self, now, eth, price, total):
        b = self.decayed(now)
        self.base = min(b + (eth * price / total) / 2, 1.0)
        self._touch(now)
        return min(0.005 + self.base, 1.0)
