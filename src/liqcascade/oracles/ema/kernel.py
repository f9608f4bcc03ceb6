"""Exponential moving average of the source (a smoothed mark/index price).

Exponential moving average of the source: ``ema <- ema + a (x - ema)`` with
``a = 1 - 0.5 ** (1 / halflife)`` (``halflife <= 0`` means ``a = 1``: no smoothing). A
generic smoothed mark/index price (reference §6.5), not any one venue's exact formula.
A non-finite source value is skipped (the EMA is not poisoned by one bad print).

Rules, sources and simplifications: ``README.md`` in this folder.
"""

from __future__ import annotations

import numpy as np

from liqcascade.kernels._jit import njit
from liqcascade.oracles.kernel import P_HALFLIFE, S_EMA, S_LAST, S_PRICE, accept, src_mean


@njit
def step(params, src_idx, hist, t, s, state):
    """Advance the oracle to step ``t``, reading the source at step ``s`` (``t`` minus the lag)."""
    hl = params[P_HALFLIFE]
    if hl > 0.0:
        a = 1.0 - 0.5 ** (1.0 / hl)
    else:
        a = 1.0
    x = src_mean(src_idx, hist, s)
    ema = state[S_EMA]
    if np.isfinite(x):
        ema = ema + a * (x - ema)
        state[S_EMA] = ema
    if accept(params, state, ema):
        state[S_PRICE] = ema
        state[S_LAST] = t
