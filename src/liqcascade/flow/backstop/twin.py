"""Plain-Python twin of the stability/backstop pool (``kernel.py``), written naively.

A small class with named fields. Withdrawals use the half-life form ``0.5 ** (dt / h_eff)``
instead of the kernel's hazard and ``expm1``; the pro-rata split takes each tranche's share
separately. Used by the parity tests only.
"""

from __future__ import annotations


class BackstopPy:
    def __init__(self, size, retail_share, discount, half_life_s, mode, drawdown_ref, refill_s):
        self.retail = size * retail_share
        self.inst = size - self.retail
        self.inst0 = self.inst
        self.discount = discount
        self.half = half_life_s
        self.mode = mode  # "constant" | "drawdown"
        self.dd_ref = drawdown_ref
        self.refill_s = refill_s
        self.paid = 0.0
        self.asset = 0.0
        self.withdrawn = 0.0
        self.refilled = 0.0
        self.peak = 0.0

    @property
    def balance(self):
        return self.retail + self.inst

    def tick(self, ref, dt):
        self.peak = max(self.peak, ref)
        gone = 0.0
        if self.half > 0 and dt > 0 and self.retail > 0:
            if self.mode == "constant":
                keep = 0.5 ** (dt / self.half)
            else:
                dd = (self.peak - ref) / self.peak if ref < self.peak else 0.0
                keep = 0.5 ** (dt * (dd / self.dd_ref) / self.half) if dd > 0 else 1.0
            gone = min(self.retail, self.retail - self.retail * keep)
            self.retail -= gone
            self.withdrawn += gone
        add = 0.0
        if self.refill_s > 0 and dt > 0 and self.inst < self.inst0:
            add = min(self.inst0 - self.inst, self.inst0 / self.refill_s * dt)
            self.inst += add
            self.refilled += add
        return gone, add

    def absorb(self, q, ref):
        if q <= 0 or ref <= 0 or self.balance <= 0:
            return 0.0, 0.0
        price = ref * (1 - self.discount)
        if q * price >= self.balance:
            cost = self.balance
            got = min(q, cost / price)
            self.retail = 0.0
            self.inst = 0.0
        else:
            cost = q * price
            got = q
            share_r = self.retail / self.balance
            share_i = self.inst / self.balance
            self.retail = max(0.0, self.retail - cost * share_r)
            self.inst = max(0.0, self.inst - cost * share_i)
        self.paid += cost
        self.asset += got
        return got, cost
