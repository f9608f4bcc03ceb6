"""Plain-Python twin of :mod:`liqcascade.oracles.dispatch`, written naively for parity tests.

Each kind is a small class in its folder (``oracles/<kind>/twin.py``) that keeps its own Python
attributes (no state vector) and reads the *whole* source matrix; they build on :class:`Base`
and the source readers here, so :func:`make_oracle_py` imports them when called.
:func:`run_oracle_py` runs one oracle over every step. The OSM twin does not track ``zzz``: it
computes the poke times in closed form (every multiple of ``hop`` from ``hop`` on, which is when
a keeper that pokes as early as allowed would poke). The rules, and what they simplify, are
documented in the kinds' kernels and READMEs; the twins must agree with them to within
floating-point rounding.
"""

from __future__ import annotations

import importlib
import math

import numpy as np

from liqcascade.oracles import KINDS


def mean_of_rows(sources, s):
    vals = [float(sources[r][s]) for r in range(len(sources))]
    if not vals:
        return math.nan
    total = 0.0
    for v in vals:
        total = total + v
    return total / len(vals)


def median_of_rows(sources, s):
    vals = sorted(float(sources[r][s]) for r in range(len(sources)))
    n = len(vals)
    if n == 0:
        return math.nan
    if n % 2 == 1:
        return vals[n // 2]
    return (vals[n // 2 - 1] + vals[n // 2]) * 0.5


class Base:
    """Shared publication rule: reject non-finite, non-positive and (optionally) too-big jumps."""

    def __init__(self, params, p0):
        self.lag = int(params[0])
        self.heartbeat = int(params[1])
        self.deviation = float(params[2])
        self.window = int(params[3])
        self.hop = int(params[4])
        self.halflife = float(params[5])
        self.max_jump = float(params[6])
        self.fund = float(params[7]) if len(params) > 7 else 0.0
        self.fund_g = float(params[8]) if len(params) > 8 else 0.0
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


def make_oracle_py(kind, params, p0):
    """A fresh twin object of ``kind`` (an ``ORACLE_*`` code) starting at ``p0``."""
    name = KINDS[int(kind)]  # the registry's order gives the codes
    return importlib.import_module(f"liqcascade.oracles.{name}.twin").TWIN(list(params), p0)


def run_oracle_py(kind, params, sources_matrix, p0):
    """Published price at every step ``0 .. T`` given ``sources_matrix[n_rows, T + 1]``.

    ``sources_matrix`` holds only the rows this oracle reads (the kernel's ``hist[src_idx]``).
    """
    sources = [list(map(float, row)) for row in np.atleast_2d(np.asarray(sources_matrix))]
    n_t = len(sources[0]) if sources else 0
    oracle = make_oracle_py(kind, params, p0)
    return np.array([oracle.step(t, sources) for t in range(n_t)], dtype=np.float64)
