"""Plain-Python twin of :mod:`.kernel`: the hour's premium samples are kept in a list and
averaged explicitly; the 8-hour rate is divided by 8, capped and paid when the clock passes the
hour."""

from __future__ import annotations


class Funding:
    def __init__(self, interest=0.0001, damper=0.0005, cap=0.04, interval=3_600.0, sample=5.0, elapsed=0.0):
        self.i, self.d, self.cap, self.interval, self.sample = interest, damper, cap, interval, sample
        self.samples: list[float] = []
        self.elapsed = elapsed
        self.last_rate = 0.0

    def rate(self, p):
        f8 = p + min(max(self.i - p, -self.d), self.d)
        return min(max(f8 / 8, -self.cap), self.cap) * self.interval / 3600.0

    def step(self, dt, premium):
        n = round(dt / self.sample)
        paid = 0.0
        for _ in range(n):
            self.samples.append(premium)
            self.elapsed += self.sample
            if self.elapsed >= self.interval - 1e-9:
                f = self.rate(sum(self.samples) / len(self.samples))
                paid += f
                self.last_rate = f
                self.samples = []
                self.elapsed = 0.0
        return paid
