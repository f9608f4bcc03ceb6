"""What every oracle kind shares: parameter and state layouts, source readers, publication guard.

Every oracle of a simulation is an integer kind code, a float64 parameter vector of length
:data:`NPARAM` and a float64 state vector of length :data:`NSTATE`. One call of
:func:`liqcascade.oracles.dispatch.oracle_step` advances one oracle by one time step (one step = ``dt`` seconds; every time
quantity below is in steps) and returns the price it publishes at that step.

Sources
-------
``hist`` is a float64 matrix ``[n_sources, T + 1]`` of source prices (venue spot prices or
external feed prices) filled up to column ``t``; ``src_idx`` (int64) names the rows one oracle
reads. The *source value* at step ``s`` is the arithmetic mean of ``hist[src_idx, s]`` (summed
in ``src_idx`` order), except for ``ORACLE_MEDIAN``, which takes the median of the rows. Every
kind reads the source ``lag`` steps late, at ``max(0, s - lag)``.

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
layer (:func:`liqcascade.oracles.pack.oracle_params`) stores them as whole numbers:
``P_LAG`` (steps), ``P_HEARTBEAT`` (steps), ``P_DEVIATION`` (fraction), ``P_WINDOW`` (steps,
TWAP, < 1 read as 1), ``P_HOP`` (steps, OSM, < 1 read as 1), ``P_HALFLIFE`` (steps, EMA,
float), ``P_MAXJUMP`` (fraction, 0 = off), ``P_FUND`` (a pegged asset's fundamental value at step 0)
and ``P_FUND_G`` (its continuous growth per step), read by the ``fundamental`` kind.

State (float64[NSTATE]): ``S_PRICE`` (last published price; the OSM's ``cur``), ``S_LAST``
(step of the last accepted publication), ``S_NXT`` (OSM ``nxt``), ``S_ZZZ`` (OSM last poke
step), ``S_EMA`` (EMA value), ``S_SPARE``.
"""

from __future__ import annotations

import numpy as np

from liqcascade.kernels._jit import njit
from liqcascade.oracles import KINDS

# --- kind codes (a kind's position in the registry) ------------------------------------------
ORACLE_SPOT = KINDS.index("spot")
ORACLE_HEARTBEAT = KINDS.index("heartbeat")
ORACLE_TWAP = KINDS.index("twap")
ORACLE_MEDIAN = KINDS.index("median")
ORACLE_OSM = KINDS.index("osm")
ORACLE_EMA = KINDS.index("ema")
N_ORACLE_KINDS = len(KINDS)

# --- parameter vector layout -----------------------------------------------------------------
P_LAG = 0
P_HEARTBEAT = 1
P_DEVIATION = 2
P_WINDOW = 3
P_HOP = 4
P_HALFLIFE = 5
P_MAXJUMP = 6
P_FUND = 7
P_FUND_G = 8
NPARAM = 9

# --- state vector layout ---------------------------------------------------------------------
S_PRICE = 0
S_LAST = 1
S_NXT = 2
S_ZZZ = 3
S_EMA = 4
S_SPARE = 5
NSTATE = 6


@njit
def src_mean(src_idx, hist, s):
    """Arithmetic mean of ``hist[src_idx, s]``, summed in ``src_idx`` order (NaN if empty)."""
    n = src_idx.shape[0]
    if n == 0:
        return np.nan
    acc = 0.0
    for j in range(n):
        acc += hist[src_idx[j], s]
    return acc / n


@njit
def src_median(src_idx, hist, s):
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
def accept(params, state, cand):
    """True when ``cand`` passes the publication guard against ``state[S_PRICE]``."""
    if not np.isfinite(cand) or cand <= 0.0:
        return False
    mj = params[P_MAXJUMP]
    if mj > 0.0:
        if abs(cand / state[S_PRICE] - 1.0) > mj:
            return False
    return True
