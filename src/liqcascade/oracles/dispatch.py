"""Oracle dispatch: the price a protocol *sees*, one step at a time, whatever the oracle's kind.

Every oracle of a simulation is an integer kind code, a float64 parameter vector and a float64
state vector (layouts, source readers and the publication guard: :mod:`liqcascade.oracles.kernel`).
:func:`oracle_step` advances one oracle by one time step (every time quantity is in steps) and
returns the price it publishes at that step; it reads the source ``lag`` steps late and hands
the step to the kind's own kernel (``oracles/<kind>/kernel.py``), whose rules and
simplifications are in that folder's ``README.md``.

The dispatch is built from the registry :data:`liqcascade.oracles.KINDS`: a kind's code is its
position there, and every registered kind's ``step(params, src_idx, hist, t, s, state)`` gets
one compiled branch (``literal_unroll`` over the tuple of steps). Adding a kind is a folder with
that ``step`` plus one registry entry; nothing here changes. The lean time loop steps the core
kinds alone (:data:`liqcascade.oracles.CORE_KINDS`: its copy of :func:`oracle_step` unrolls
over their steps, :data:`CORE_BIND`); a scenario with an oracle of another kind runs on the full
loop.
"""

from __future__ import annotations

import importlib

import numpy as np

from liqcascade.kernels._jit import literal_unroll, njit
from liqcascade.oracles import CORE_KINDS, KINDS
from liqcascade.oracles.kernel import NSTATE, P_LAG, S_EMA, S_LAST, S_NXT, S_PRICE, S_ZZZ

#: every kind's ``step``, in registry order: the kind code of ``KINDS[i]`` selects ``_STEPS[i]``
_STEPS = tuple(importlib.import_module(f"liqcascade.oracles.{k}.kernel").step for k in KINDS)
assert KINDS[:len(CORE_KINDS)] == CORE_KINDS

#: (every kind's steps, the core kinds' steps): the binding that makes a kernel family's ``_core``
#: copies (:class:`liqcascade.kernels._jit.Rebound`; the lean time loop) compile the core oracle
#: kinds alone (an oracle of another kind would then publish nothing: the engine runs such a
#: scenario on the full loop)
CORE_BIND = ((_STEPS, _STEPS[:len(CORE_KINDS)]),)


@njit
def oracle_init(kind, params, state, p0):
    """Reset ``state`` so that the oracle publishes ``p0`` at step 0 (OSM: cur = nxt = p0, zzz = 0)."""
    for j in range(state.shape[0]):
        state[j] = 0.0
    state[S_PRICE] = p0
    state[S_LAST] = 0.0
    state[S_NXT] = p0
    state[S_ZZZ] = 0.0
    state[S_EMA] = p0


@njit
def oracle_peep(state):
    """The OSM's next price (``peep()``): public one hop before it becomes ``cur``."""
    return state[S_NXT]


@njit
def oracle_step(kind, params, src_idx, hist, t, state):
    """Advance one oracle to step ``t`` and return the price it publishes at ``t``.

    ``kind``: an ``ORACLE_*`` code; ``params``: float64[NPARAM]; ``src_idx``: int64 rows of
    ``hist`` to read; ``hist``: float64[n_sources, T + 1] filled up to column ``t``; ``state``:
    float64[NSTATE], updated in place. Call it once per step with increasing ``t``.
    """
    lag = int(params[P_LAG])
    s = t - lag
    if s < 0:
        s = 0

    i = 0
    for step in literal_unroll(_STEPS):  # compiled as one branch per registered kind
        if i == kind:
            step(params, src_idx, hist, t, s, state)
        i += 1
    return state[S_PRICE]


@njit
def oracles_step_all(kinds, params2d, src_ptr, src_flat, hist, t, states2d, out):
    """Step every oracle of a simulation to step ``t``; ``out[i]`` gets oracle ``i``'s price.

    ``kinds``: int64[N]; ``params2d``: float64[N, NPARAM]; sources in CSR form (oracle ``i``
    reads rows ``src_flat[src_ptr[i]:src_ptr[i + 1]]`` of ``hist``); ``states2d``:
    float64[N, NSTATE], updated in place; ``out``: float64[N].
    """
    for i in range(kinds.shape[0]):
        out[i] = oracle_step(
            kinds[i],
            params2d[i],
            src_flat[src_ptr[i] : src_ptr[i + 1]],
            hist,
            t,
            states2d[i],
        )


@njit
def oracles_init_all(kinds, params2d, states2d, p0s):
    """:func:`oracle_init` for every oracle: oracle ``i`` starts at ``p0s[i]``."""
    for i in range(kinds.shape[0]):
        oracle_init(kinds[i], params2d[i], states2d[i], p0s[i])


@njit
def run_oracle(kind, params, src_idx, hist, p0):
    """Run one oracle over every column of ``hist``; returns float64[T + 1] of published prices."""
    n_t = hist.shape[1]
    state = np.zeros(NSTATE, dtype=np.float64)
    oracle_init(kind, params, state, p0)
    out = np.empty(n_t, dtype=np.float64)
    for t in range(n_t):
        out[t] = oracle_step(kind, params, src_idx, hist, t, state)
    return out
