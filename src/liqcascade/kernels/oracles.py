"""Oracle kernels: the price a protocol *sees*, as a function of venue / feed prices.

Every oracle of a simulation is an integer kind code, a float64 parameter vector of length
:data:`NPARAM` and a float64 state vector of length :data:`NSTATE`. One call of
:func:`oracle_step` advances one oracle by one time step (one step = ``dt`` seconds; every time
quantity below is in steps) and returns the price it publishes at that step.

Sources
-------
``hist`` is a float64 matrix ``[n_sources, T + 1]`` of source prices (venue spot prices or
external feed prices) filled up to column ``t``; ``src_idx`` (int64) names the rows one oracle
reads. The *source value* at step ``s`` is the arithmetic mean of ``hist[src_idx, s]`` (summed
in ``src_idx`` order), except for ``ORACLE_MEDIAN``, which takes the median of the rows. Every
kind reads the source ``lag`` steps late, at ``max(0, s - lag)``.

Kinds (what is modelled — see ``shared/reference/protocol-mechanics.md``)
-------------------------------------------------------------------------
``ORACLE_SPOT = 0``
    The source value at ``max(0, t - lag)``: an oracle that follows the market with a fixed
    delay (a fast push feed, a keeper reading spot, a block delay).
``ORACLE_HEARTBEAT = 1`` — Chainlink (reference §7.1, §1.9)
    Candidate = source at ``t - lag``. Publish when ``|candidate / published - 1| >= deviation``
    or ``t - last_update >= heartbeat``; otherwise keep the old price (stale prices persist, as
    Aave's core does not check staleness). Simplified: the off-chain value is the source value
    itself (no node aggregation or round latency beyond ``lag``), the check happens every step,
    and ``minAnswer``/``maxAnswer`` are not modelled.
``ORACLE_TWAP = 2`` — Uniswap v3 style (reference §7.2)
    Arithmetic mean of the source over steps ``max(0, e - window + 1) .. e`` with
    ``e = max(0, t - lag)``. Simplified: the real Uniswap v3 oracle is a *geometric* mean of
    ``1.0001^tick`` with ticks floored; here the mean is arithmetic on prices and sampled once
    per step. Before ``window`` steps of history exist the mean is over the steps available.
``ORACLE_MEDIAN = 3`` — Maker median / multi-feed medians (reference §3.7, §7.3)
    The median across the ``src_idx`` rows at ``t - lag``; with an even count, the mean of the
    two middle values (Maker requires an odd quorum ``bar``; the even rule is a convenience).
    Simplified: no signer whitelist, no ``age`` check, equal weights (Hyperliquid's is weighted).
``ORACLE_OSM = 4`` — Maker Oracle Security Module (reference §3.7, §7.4)
    ``poke`` is allowed when ``t >= zzz + hop``: ``cur <- nxt``, ``nxt <- source(t - lag)``,
    ``zzz = t - (t mod hop)``. :func:`oracle_step` returns ``cur`` (``peek``), so the price acted
    on is 1–2 hops old; :func:`oracle_peep` returns ``nxt``. Simplified: a keeper pokes at the
    first step it is allowed (every ``hop`` steps, on multiples of ``hop``); ``stop``/``void``
    are not modelled. ``cur`` is stored in ``S_PRICE``.
``ORACLE_EMA = 5``
    Exponential moving average of the source: ``ema <- ema + a (x - ema)`` with
    ``a = 1 - 0.5 ** (1 / halflife)`` (``halflife <= 0`` means ``a = 1``: no smoothing). A
    generic smoothed mark/index price (reference §6.5), not any one venue's exact formula.
    A non-finite source value is skipped (the EMA is not poisoned by one bad print).

Publication guard (all kinds)
-----------------------------
A candidate price that is not finite or is ``<= 0`` is always rejected (like Aave's fallback on
``price <= 0`` and Liquity's "bad response" check). When ``P_MAXJUMP > 0``, a candidate with
``|candidate / published - 1| > max_jump`` is rejected too, like Liquity's 50 % rule
(reference §4.7). A rejected candidate leaves the published price and ``S_LAST`` unchanged.
Simplified: the comparison is against the last *published* price (Liquity compares two
consecutive Chainlink rounds and then switches to Tellor), and there is no fallback feed, so a
genuine move larger than ``max_jump`` that persists freezes the oracle at the old price — a
stuck-oracle failure mode. Internal state (the OSM's ``nxt``, the EMA) keeps tracking the source
while the published price is held.

Layouts
-------
Parameters (float64[NPARAM]); step counts are read with ``int()`` (truncation), so the Python
layer (``liqcascade.oracles.oracle_params``) stores them as whole numbers:
``P_LAG`` (steps), ``P_HEARTBEAT`` (steps), ``P_DEVIATION`` (fraction), ``P_WINDOW`` (steps,
TWAP, < 1 read as 1), ``P_HOP`` (steps, OSM, < 1 read as 1), ``P_HALFLIFE`` (steps, EMA,
float), ``P_MAXJUMP`` (fraction, 0 = off), ``P_SPARE``.

State (float64[NSTATE]): ``S_PRICE`` (last published price; the OSM's ``cur``), ``S_LAST``
(step of the last accepted publication), ``S_NXT`` (OSM ``nxt``), ``S_ZZZ`` (OSM last poke
step), ``S_EMA`` (EMA value), ``S_SPARE``.
"""

from __future__ import annotations

import numpy as np

from liqcascade.kernels._jit import njit

# --- kind codes -------------------------------------------------------------------------------
ORACLE_SPOT = 0
ORACLE_HEARTBEAT = 1
ORACLE_TWAP = 2
ORACLE_MEDIAN = 3
ORACLE_OSM = 4
ORACLE_EMA = 5
N_ORACLE_KINDS = 6

# --- parameter vector layout -----------------------------------------------------------------
P_LAG = 0
P_HEARTBEAT = 1
P_DEVIATION = 2
P_WINDOW = 3
P_HOP = 4
P_HALFLIFE = 5
P_MAXJUMP = 6
P_SPARE = 7
NPARAM = 8

# --- state vector layout ---------------------------------------------------------------------
S_PRICE = 0
S_LAST = 1
S_NXT = 2
S_ZZZ = 3
S_EMA = 4
S_SPARE = 5
NSTATE = 6


@njit
def _src_mean(src_idx, hist, s):
    """Arithmetic mean of ``hist[src_idx, s]``, summed in ``src_idx`` order (NaN if empty)."""
    n = src_idx.shape[0]
    if n == 0:
        return np.nan
    acc = 0.0
    for j in range(n):
        acc += hist[src_idx[j], s]
    return acc / n


@njit
def _src_median(src_idx, hist, s):
    """Median of ``hist[src_idx, s]``; even count: mean of the two middle values."""
    n = src_idx.shape[0]
    if n == 0:
        return np.nan
    buf = np.empty(n, dtype=np.float64)
    for j in range(n):
        buf[j] = hist[src_idx[j], s]
    buf.sort()
    h = n // 2
    if n % 2 == 1:
        return buf[h]
    return (buf[h - 1] + buf[h]) * 0.5


@njit
def _accept(params, state, cand):
    """True when ``cand`` passes the publication guard against ``state[S_PRICE]``."""
    if not np.isfinite(cand) or cand <= 0.0:
        return False
    mj = params[P_MAXJUMP]
    if mj > 0.0:
        if abs(cand / state[S_PRICE] - 1.0) > mj:
            return False
    return True


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

    if kind == ORACLE_SPOT:
        cand = _src_mean(src_idx, hist, s)
        if _accept(params, state, cand):
            state[S_PRICE] = cand
            state[S_LAST] = t

    elif kind == ORACLE_HEARTBEAT:
        cand = _src_mean(src_idx, hist, s)
        hb = int(params[P_HEARTBEAT])
        pub = state[S_PRICE]
        due = (t - int(state[S_LAST])) >= hb
        moved = abs(cand / pub - 1.0) >= params[P_DEVIATION]
        if due or moved:
            if _accept(params, state, cand):
                state[S_PRICE] = cand
                state[S_LAST] = t

    elif kind == ORACLE_TWAP:
        w = int(params[P_WINDOW])
        if w < 1:
            w = 1
        lo = s - w + 1
        if lo < 0:
            lo = 0
        acc = 0.0
        for u in range(lo, s + 1):
            acc += _src_mean(src_idx, hist, u)
        cand = acc / (s + 1 - lo)
        if _accept(params, state, cand):
            state[S_PRICE] = cand
            state[S_LAST] = t

    elif kind == ORACLE_MEDIAN:
        cand = _src_median(src_idx, hist, s)
        if _accept(params, state, cand):
            state[S_PRICE] = cand
            state[S_LAST] = t

    elif kind == ORACLE_OSM:
        hop = int(params[P_HOP])
        if hop < 1:
            hop = 1
        if t >= int(state[S_ZZZ]) + hop:
            cand = state[S_NXT]
            if _accept(params, state, cand):
                state[S_PRICE] = cand
                state[S_LAST] = t
            state[S_NXT] = _src_mean(src_idx, hist, s)
            state[S_ZZZ] = t - (t % hop)

    elif kind == ORACLE_EMA:
        hl = params[P_HALFLIFE]
        if hl > 0.0:
            a = 1.0 - 0.5 ** (1.0 / hl)
        else:
            a = 1.0
        x = _src_mean(src_idx, hist, s)
        ema = state[S_EMA]
        if np.isfinite(x):
            ema = ema + a * (x - ema)
            state[S_EMA] = ema
        if _accept(params, state, ema):
            state[S_PRICE] = ema
            state[S_LAST] = t

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
