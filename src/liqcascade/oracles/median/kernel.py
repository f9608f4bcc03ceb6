"""Median of several source feeds (Maker median and multi-feed medians).

The median across the ``src_idx`` rows at ``t - lag``; with an even count, the mean of the
two middle values (Maker requires an odd quorum ``bar``; the even rule is a convenience).
Simplified: no signer whitelist, no ``age`` check, equal weights (Hyperliquid's is weighted).

Rules, sources and simplifications: ``README.md`` in this folder.
"""

from __future__ import annotations

from liqcascade.kernels._jit import njit
from liqcascade.oracles.kernel import S_LAST, S_PRICE, accept, src_median


@njit
def step(params, src_idx, hist, t, s, state):
    """Advance the oracle to step ``t``, reading the source at step ``s`` (``t`` minus the lag)."""
    cand = src_median(src_idx, hist, s)
    if accept(params, state, cand):
        state[S_PRICE] = cand
        state[S_LAST] = t
