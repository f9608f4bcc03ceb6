"""Plain-Python twin of :mod:`liqcascade.kernels.oracles`, written naively for parity tests.

Each kind is a small class that keeps its own Python attributes (no state vector) and reads the
*whole* source matrix; :func:`run_oracle_py` runs one oracle over every step. The OSM twin does
not track ``zzz``: it computes the poke times in closed form (every multiple of ``hop`` from
``hop`` on, which is when a keeper that pokes as early as allowed would poke). The rules, and
what they simplify, are documented in :mod:`liqcascade.kernels.oracles`; this module must agree
with it to within floating-point rounding.
"""

from __future__ import annotations

import math

import numpy as np

SPOT, HEARTBEAT, TWAP, MEDIAN, OSM, EMA = 0, 1, 2, 3, 4, 5


def _mean_of_rows(sources, s):
    vals = [float(sources[r][s]) for r in range(len(sources))]
    if not vals:
        return math.nan
    total = 0.0
    for v in vals:
        total = total + v
    return total / len(vals)


def _median_of_rows(sources, s):
    vals = sorted(float(sources[r][s]) for r in range(len(sources)))
    n = len(vals)
    if n == 0:
        return math.nan
    if n % 2 == 1:
        return vals[n // 2]
    return (vals[n // 2 - 1] + vals[n // 2]) * 0.5


class _Base:
    """Shared publication rule: reject non-finite, non-positive and (optionally) too-big jumps."""

    def __init__(self, params, p0):
        self.lag = int(params[0])
        self.heartbeat = int(params[1])
        self.deviation = float(params[2])
        self.window = int(params[3])
        self.hop = int(params[4])
        self.halflife = float(params[5])
        self.max_jump = float(params[6])
        self.published = float(p0)
        self.last_update = 0

    def read_time(self, t):
        return max(0, t - self.lag)

    def try_publish(self, t, candidate):
        if not math.isfinite(candidate) or candidate <= 0.0:
            return
        if self.max_jump > 0.0 and abs(candidate / self.published - 1.0) > self.max_jump:
            return
        self.published = candidate
        self.last_update = t


class SpotPy(_Base):
    def step(self, t, sources):
        self.try_publish(t, _mean_of_rows(sources, self.read_time(t)))
        return self.published


class HeartbeatPy(_Base):
    def step(self, t, sources):
        candidate = _mean_of_rows(sources, self.read_time(t))
        stale = t - self.last_update >= self.heartbeat
        deviates = abs(candidate / self.published - 1.0) >= self.deviation
        if stale or deviates:
            self.try_publish(t, candidate)
        return self.published


class TwapPy(_Base):
    def step(self, t, sources):
        end = self.read_time(t)
        window = max(1, self.window)
        start = max(0, end - window + 1)
        samples = [_mean_of_rows(sources, u) for u in range(start, end + 1)]
        total = 0.0
        for v in samples:
            total = total + v
        self.try_publish(t, total / len(samples))
        return self.published


class MedianPy(_Base):
    def step(self, t, sources):
        self.try_publish(t, _median_of_rows(sources, self.read_time(t)))
        return self.published


class OsmPy(_Base):
    """Maker OSM with a keeper poking at every multiple of ``hop`` (``t >= hop``)."""

    def __init__(self, params, p0):
        super().__init__(params, p0)
        self.hop = max(1, self.hop)
        self.next_value = float(p0)

    def step(self, t, sources):
        if t >= self.hop and t % self.hop == 0:  # a poke happens now
            self.try_publish(t, self.next_value)
            self.next_value = _mean_of_rows(sources, self.read_time(t))
        return self.published

    def peep(self):
        return self.next_value


class EmaPy(_Base):
    def __init__(self, params, p0):
        super().__init__(params, p0)
        self.ema = float(p0)
        if self.halflife > 0.0:
            self.alpha = 1.0 - 0.5 ** (1.0 / self.halflife)
        else:
            self.alpha = 1.0

    def step(self, t, sources):
        x = _mean_of_rows(sources, self.read_time(t))
        if math.isfinite(x):
            self.ema = self.ema + self.alpha * (x - self.ema)
            self.try_publish(t, self.ema)
        else:
            self.try_publish(t, self.ema)
        return self.published


TWINS = {SPOT: SpotPy, HEARTBEAT: HeartbeatPy, TWAP: TwapPy, MEDIAN: MedianPy, OSM: OsmPy, EMA: EmaPy}


def make_oracle_py(kind, params, p0):
    """A fresh twin object of ``kind`` (an ``ORACLE_*`` code) starting at ``p0``."""
    return TWINS[int(kind)](list(params), p0)


def run_oracle_py(kind, params, sources_matrix, p0):
    """Published price at every step ``0 .. T`` given ``sources_matrix[n_rows, T + 1]``.

    ``sources_matrix`` holds only the rows this oracle reads (the kernel's ``hist[src_idx]``).
    """
    sources = [list(map(float, row)) for row in np.atleast_2d(np.asarray(sources_matrix))]
    n_t = len(sources[0]) if sources else 0
    oracle = make_oracle_py(kind, params, p0)
    return np.array([oracle.step(t, sources) for t in range(n_t)], dtype=np.float64)
