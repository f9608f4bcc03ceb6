"""Time-weighted average price (Uniswap v3 style, arithmetic).

Arithmetic mean of the source over steps ``max(0, e - window + 1) .. e`` with
``e = max(0, t - lag)``. Simplified: the real Uniswap v3 oracle is a *geometric* mean of
``1.0001^tick`` with ticks floored; here the mean is arithmetic on prices and sampled once
per step. Before ``window`` steps of history exist the mean is over the steps available.

Rules, sources and simplifications: ``README.md`` in this folder.
"""

from __future__ import annotations

from liqcascade.kernels._jit import njit
from liqcascade.oracles.kernel import P_WINDOW, S_LAST, S_PRICE, accept, src_mean


@njit
def step(params, src_idx, hist, t, s, state):
    """Advance the oracle to step ``t``, reading the source at step ``s`` (``t`` minus the lag)."""
    w = int(params[P_WINDOW])
    if w < 1:
        w = 1
    lo = s - w + 1
    if lo < 0:
        lo = 0
    acc = 0.0
    for u in range(lo, s + 1):
        acc += src_mean(src_idx, hist, u)
    cand = acc / (s + 1 - lo)
    if accept(params, state, cand):
        state[S_PRICE] = cand
        state[S_LAST] = t
