"""Spot oracle: the source value with a fixed lag.

The source value at ``max(0, t - lag)``: an oracle that follows the market with a fixed
delay (a fast push feed, a keeper reading spot, a block delay).

Rules, sources and simplifications: ``README.md`` in this folder.
"""

from __future__ import annotations

from liqcascade.kernels._jit import njit
from liqcascade.oracles.kernel import S_LAST, S_PRICE, accept, src_mean


@njit
def step(params, src_idx, hist, t, s, state):
    """Advance the oracle to step ``t``, reading the source at step ``s`` (``t`` minus the lag)."""
    cand = src_mean(src_idx, hist, s)
    if accept(params, state, cand):
        state[S_PRICE] = cand
        state[S_LAST] = t
