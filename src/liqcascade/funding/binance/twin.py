"""Plain-Python twin of :mod:`.kernel`: every 5-second premium sample is kept in a list, the
interval's average is the explicit weighted sum ``Σ t·P_t / Σ t``, and the rate is applied
when the clock passes the interval's end (sample by sample, no closed-form weight sums)."""

from __future__ import annotations


class Funding:
    def __init__(self, interest=0.0001, damper=0.0005, interval=28_800.0, cap=0.003, floor=-0.003, sample=5.0,
                 elapsed=0.0):
        self.i, self.d, self.interval, self.cap, self.floor, self.sample = interest, damper, interval, cap, floor, sample
        self.samples: list[float] = []
        self.elapsed = elapsed
        self.last_rate = 0.0

    def rate(self, p):
        f8 = p + min(max(self.i - p, -self.d), self.d)
        return min(max(f8 * self.interval / 28_800.0, self.floor), self.cap)

    def step(self, dt, premium):
        """Whole samples only: ``dt`` must be a multiple of the sampling period."""
        n = round(dt / self.sample)
        paid = 0.0
        for _ in range(n):
            self.samples.append(premium)
            self.elapsed += self.sample
            if self.elapsed >= self.interval - 1e-9:
                w = list(range(1, len(self.samples) + 1))
                p = sum(wi * pi for wi, pi in zip(w, self.samples)) / sum(w)
                f = self.rate(p)
                paid += f
                self.last_rate = f
                self.samples = []
                self.elapsed = 0.0
        return paid
