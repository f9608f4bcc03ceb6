"""Maker Oracle Security Module (OSM): prices acted on one hop late.

``poke`` is allowed when ``t >= zzz + hop``: ``cur <- nxt``, ``nxt <- source(t - lag)``,
``zzz = t - (t mod hop)``. :func:`liqcascade.oracles.dispatch.oracle_step` returns ``cur`` (``peek``), so the price acted
on is 1–2 hops old; :func:`liqcascade.oracles.dispatch.oracle_peep` returns ``nxt``. Simplified: a keeper pokes at the
first step it is allowed (every ``hop`` steps, on multiples of ``hop``); ``stop``/``void``
are not modelled. ``cur`` is stored in ``S_PRICE``.

Rules, sources and simplifications: ``README.md`` in this folder.
"""

from __future__ import annotations

from liqcascade.kernels._jit import njit
from liqcascade.oracles.kernel import P_HOP, S_LAST, S_NXT, S_PRICE, S_ZZZ, accept, src_mean


@njit
def step(params, src_idx, hist, t, s, state):
    """Advance the oracle to step ``t``, reading the source at step ``s`` (``t`` minus the lag)."""
    hop = int(params[P_HOP])
    if hop < 1:
        hop = 1
    if t >= int(state[S_ZZZ]) + hop:
        cand = state[S_NXT]
        if accept(params, state, cand):
            state[S_PRICE] = cand
            state[S_LAST] = t
        state[S_NXT] = src_mean(src_idx, hist, s)
        state[S_ZZZ] = t - (t % hop)
