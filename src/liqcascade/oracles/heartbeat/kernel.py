"""Chainlink-style push feed: a deviation threshold and a heartbeat.

Candidate = source at ``t - lag``. Publish when ``|candidate / published - 1| >= deviation``
or ``t - last_update >= heartbeat``; otherwise keep the old price (stale prices persist, as
Aave's core does not check staleness). Simplified: the off-chain value is the source value
itself (no node aggregation or round latency beyond ``lag``), the check happens every step,
and ``minAnswer``/``maxAnswer`` are not modelled.

Rules, sources and simplifications: ``README.md`` in this folder.
"""

from __future__ import annotations

from liqcascade.kernels._jit import njit
from liqcascade.oracles.kernel import P_DEVIATION, P_HEARTBEAT, S_LAST, S_PRICE, accept, src_mean


@njit
def step(params, src_idx, hist, t, s, state):
    """Advance the oracle to step ``t``, reading the source at step ``s`` (``t`` minus the lag)."""
    cand = src_mean(src_idx, hist, s)
    hb = int(params[P_HEARTBEAT])
    pub = state[S_PRICE]
    due = (t - int(state[S_LAST])) >= hb
    moved = abs(cand / pub - 1.0) >= params[P_DEVIATION]
    if due or moved:
        if accept(params, state, cand):
            state[S_PRICE] = cand
            state[S_LAST] = t
