"""The store of touched positions and the liquidation ledger, shared by the static solver
(:mod:`liqcascade.kernels.cascade`) and the time loop (:mod:`liqcascade.kernels.dynamic`).

**Positions.** Single-pair positions arrive sorted into segments (one protocol × collateral
asset × debt asset), each by liquidation key ``debt / (coll · LT)`` descending, so the untouched
part of a segment is consumed by a pointer: positions ``ptr[s] … seg_ptr[s+1]-1`` are untouched,
and those with ``key > threshold`` (a prefix) are the liquidatable ones.

**The store.** A position that stays open after a liquidation (or that the liquidators skip)
is appended to the store, in *cohorts*: runs of entries that keep the key order (a new cohort
starts when an appended key is above the previous one), so each step or round reads only the
crossing prefix of each cohort. Entries: ``pos`` (position index), ``c``, ``d`` (collateral and
debt now), ``k`` (key now); cohorts: ``c_head``, ``c_end`` (entry range still to read), ``c_seg``
(segment); counts ``n[SN_ENTRIES]``, ``n[SN_COHORTS]``.

The arrays grow only in :func:`store_reserve`, called *between* scans with the most entries
and cohorts the next scan can add; the scans themselves take the arrays as arguments and never
rebind them (an array rebound inside a loop costs numba reference-count traffic on every use).

**The ledger.** :func:`book_liquidation` adds one liquidation to an accumulator row whose first
six columns are ``L_NLIQ … L_BONUS`` — the time loop's summary row
(:mod:`liqcascade.kernels.layouts` ``SUM_*``), the units' accumulators
(:mod:`liqcascade.protocols.kernel` ``ACC_*``) and the static solver's totals share these columns.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._jit import internal, njit

# ledger columns (the first six of SUM_* and ACC_*)
L_NLIQ = 0  # liquidations
L_LIQ_VALUE = 1  # collateral seized × collateral price, quote
L_REPAID = 2  # debt repaid × debt price, quote
L_BAD = 3  # bad debt, quote
L_FEES = 4  # protocol fee × collateral price, quote
L_BONUS = 5  # (seized − fee) × collateral price − repaid value, quote
NLEDGER = 6

SN_ENTRIES = 0
SN_COHORTS = 1


class Store(NamedTuple):
    pos: np.ndarray
    c: np.ndarray
    d: np.ndarray
    k: np.ndarray
    c_head: np.ndarray
    c_end: np.ndarray
    c_seg: np.ndarray
    n: np.ndarray


@internal
def book_liquidation(acc, seize, repay, bad_value, fee, pc, pd):
    """Add one liquidation to the ledger row ``acc``: ``seize`` collateral units (``fee`` of
    them to the treasury) at price ``pc``, ``repay`` debt units at price ``pd``, ``bad_value``
    bad debt already in quote."""
    acc[L_NLIQ] += 1.0
    acc[L_LIQ_VALUE] += seize * pc
    acc[L_REPAID] += repay * pd
    acc[L_BAD] += bad_value
    acc[L_FEES] += fee * pc
    acc[L_BONUS] += (seize - fee) * pc - repay * pd


@internal
def settle(c, d, seize, repay, bad, closed):
    """Collateral and debt of a position after a liquidation (a closed position's float dust
    is clamped at 0)."""
    c = c - seize
    d = d - repay - bad
    if closed:
        if c < 0.0:
            c = 0.0
        if d < 0.0:
            d = 0.0
    return c, d


@internal
def store_new(cap, ccap):
    return Store(np.empty(cap, np.int64), np.empty(cap), np.empty(cap), np.empty(cap),
                 np.empty(ccap, np.int64), np.empty(ccap, np.int64), np.empty(ccap, np.int64),
                 np.zeros(2, np.int64))


@internal
def _grown(arr, n_used, need):
    out = np.empty(max(2 * arr.shape[0], need), arr.dtype)
    # an element loop, not ``out[:n_used] = arr[:n_used]``: a slice assignment compiles numba's
    # shape-mismatch error message (string formatting, ~1 s of compile per array type)
    for j in range(n_used):
        out[j] = arr[j]
    return out


@internal
def store_reserve(s, entries, cohorts):
    """``s`` with room for ``entries`` more entries and ``cohorts`` more cohorts (a grown copy
    when needed, else ``s`` itself)."""
    nt = s.n[SN_ENTRIES]
    nc = s.n[SN_COHORTS]
    grow_e = nt + entries > s.pos.shape[0]
    grow_c = nc + cohorts > s.c_head.shape[0]
    if not grow_e and not grow_c:
        return s
    pos, c, d, k = s.pos, s.c, s.d, s.k
    ch, ce, cs = s.c_head, s.c_end, s.c_seg
    if grow_e:
        pos = _grown(pos, nt, nt + entries)
        c = _grown(c, nt, nt + entries)
        d = _grown(d, nt, nt + entries)
        k = _grown(k, nt, nt + entries)
    if grow_c:
        ch = _grown(ch, nc, nc + cohorts)
        ce = _grown(ce, nc, nc + cohorts)
        cs = _grown(cs, nc, nc + cohorts)
    return Store(pos, c, d, k, ch, ce, cs, s.n)


@internal
def store_drop_finished(s):
    """Drop the cohorts that have been read to their end (keeps the order of the others)."""
    w = 0
    for j in range(s.n[SN_COHORTS]):
        if s.c_head[j] < s.c_end[j]:
            s.c_head[w] = s.c_head[j]
            s.c_end[w] = s.c_end[j]
            s.c_seg[w] = s.c_seg[j]
            w += 1
    s.n[SN_COHORTS] = w


@internal
def cohort_close(c_head, c_end, c_seg, n_c, start, end, seg):
    """Record entries ``[start, end)`` as cohort ``n_c`` of segment ``seg``; returns the new
    cohort count (unchanged when the range is empty)."""
    if end > start:
        c_head[n_c] = start
        c_end[n_c] = end
        c_seg[n_c] = seg
        return n_c + 1
    return n_c


@internal
def crossing_count(key, lo, hi, thr):
    """Number of leading entries of ``key[lo:hi]`` (sorted descending) with ``key > thr`` —
    the most positions a scan of that range can read."""
    if lo >= hi or not (key[lo] > thr):
        return 0
    a = lo
    b = hi
    while a < b:
        m = (a + b) >> 1
        if key[m] > thr:
            a = m + 1
        else:
            b = m
    return a - lo


@internal
def store_write_back(s, out_coll, out_debt):
    """Final state of the positions still open in the store into ``out_coll``/``out_debt``
    (indexed by position; the caller pre-fills the untouched ones)."""
    for j in range(s.n[SN_COHORTS]):
        for h in range(s.c_head[j], s.c_end[j]):
            out_coll[s.pos[h]] = s.c[h]
            out_debt[s.pos[h]] = s.d[h]
