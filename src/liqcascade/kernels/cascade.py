"""Static cascade solver — compiled kernel (the "cascade curve").

Pinned semantics (README, docs/static-solver.md):

* one venue per asset; a shock δ is an exogenous sale into the venue until its spot is
  ``p0 · (1 − δ)``;
* a round starts at price ``p_r``: every open position with HF < 1 at ``p_r`` is liquidated at
  ``p_r`` (repay ``CF · debt``, seize ``repay · (1 + bonus) / p_r``, capped at the collateral,
  the rest of the debt becoming bad debt), then all collateral seized in the round is sold into
  the venue as one order, giving ``p_{r+1}``;
* stop when no open position has HF < 1 (mechanical) or no liquidation happened (rational).

Rational mode judges each liquidation on its own: the liquidator's share of the seized
collateral is priced by selling it alone into the venue as it stands at the round's start,
against the repaid debt plus gas. That keeps a round's outcome independent of the order in
which positions are examined. (The dynamic engine's agents instead price their lot after the
sales already queued in the step.)

Speed: positions arrive grouped in *segments* (one protocol × one collateral asset), each sorted
by liquidation price ``debt · p_debt / (collateral · LT)`` descending, so the untouched part of a
segment is consumed by a pointer. A position that stays open after a liquidation is appended to
a *cohort* in a small store; within a cohort the liquidation price keeps the segment's order
(a partial liquidation at one price is a monotone map of HF), so each round reads only the
crossing prefix of each cohort. Work per shock is O(liquidation events + rounds · cohorts).
Shocks run in parallel on Python threads (:func:`solve_rows` over disjoint rows of the grid,
without the GIL; ``engine/static.py`` splits the rows); each shock has its own scratch store.

Compile cost
------------
This module is what a cold ``curve`` or ``demo`` compiles first, so its kernels are shaped for
that as much as for speed:

* **a lean variant.** :func:`solve_rows` / :func:`solve_shock` take ``extras`` last: ``None``
  for a scenario whose static venues are all core kinds (:data:`liqcascade.venues.CORE_KINDS`:
  cpmm, book) and that has no multi-asset positions, ``True`` otherwise. numba prunes the
  ``extras is None`` branches before typing, so the lean variant compiles neither the other venue
  kinds' code nor the multi-asset round (:func:`multi_round`): about half the code. Two
  signatures per kernel, never more (:func:`liqcascade.engine.static.static_extras` picks one).
* **threads, not ``prange``.** A parfor costs a gufunc of its own, one more copy of the whole
  callee tree and the parfor passes (~3 s of the lean variant's compile); the rows run on Python
  threads instead (``engine/static.py`` :func:`~liqcascade.engine.static.run_rows`). A kernel
  called from Python holds a reference count on each array argument, and numba adds and drops a
  reference (two atomic operations) around every compiled call that passes one — once per
  liquidation in the scan, where a gufunc's arrays have none. :func:`solve_rows` therefore
  borrows its inputs (ownerless views, :mod:`liqcascade.kernels.borrow`, as the time loop does),
  and the scan's liquidation sizing is inlined into it; together the lean kernel takes ~17 %
  less CPU than the parfor did (1M positions × 200 shocks, one thread).
* **helpers without a CPython wrapper** (:data:`liqcascade.kernels._jit.internal`), and one call
  site of the scan (:func:`_scan_static`, for cohorts and segment heads alike), since numba
  links, re-optimises and re-emits a callee's whole tree at each call level; no slice
  assignment in the store's growth (it compiles numba's shape-mismatch message).

The aggregated kernel (:mod:`liqcascade.kernels.cascade_agg`) shares :func:`_spot`,
:func:`apply_shock` and :func:`multi_round` with their ``extras`` omitted (every venue kind) and
keeps its ``prange``.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import internal, njit
from .borrow import borrow
from ..protocols.aave.kernel import liquidate_pair, liquidate_position
from ..venues.dispatch import venue_preview_sell, venue_sell, venue_sell_to_price, venue_spot
from ..venues.kernel import KIND, MID
from .store import (
    L_BAD, L_BONUS, L_FEES, L_LIQ_VALUE, L_NLIQ, L_REPAID, NLEDGER, SN_COHORTS, SN_ENTRIES, book_liquidation,
    cohort_close, crossing_count, settle, store_new, store_reserve, store_write_back,
)

MODE_MECHANICAL = 0
MODE_RATIONAL = 1

# the scan's liquidation sizing inlined into it (numba IR), since it runs once per liquidation:
# a compiled call returns its five results through memory and checks for an exception (~20 % of
# the scan). Not cached: it never compiles on its own.
_liquidate_pair = njit(inline="always", cache=False, no_cpython_wrapper=True, no_cfunc_wrapper=True)(
    getattr(liquidate_pair, "py_func", liquidate_pair))


@internal
def _spot(vs, a, p_fixed, extras=True):
    if vs[a, KIND] < 0:
        return p_fixed[a]
    return venue_spot(vs, a, extras)


@njit
def _sale_quote(vs, vdk, vdq, a, q):
    """Quote received for selling ``q`` into venue ``a`` without changing it (down to the
    venue's floor, the rest at the floor price)."""
    if vs[a, KIND] < 0:
        return q * vs[a, MID]
    return venue_preview_sell(vs, vdk, vdq, a, q)[0]


@internal
def _quote(vs, vdk, vdq, a, q, extras):
    """:func:`_sale_quote` for the static kernels (``extras``: see the module docstring)."""
    if vs[a, KIND] < 0:
        return q * vs[a, MID]
    return venue_preview_sell(vs, vdk, vdq, a, q, extras)[0]


@njit
def marginal_proceeds(vs, vdk, vdq, a, queued, q):
    """Quote a liquidator gets for ``q`` more units when ``queued`` are already being sold
    into venue ``a`` in the same round/step (the earlier liquidations' sales come first)."""
    if queued <= 0.0:
        return _sale_quote(vs, vdk, vdq, a, q)
    return _sale_quote(vs, vdk, vdq, a, queued + q) - _sale_quote(vs, vdk, vdq, a, queued)


@internal
def multi_round(mc, md, m_open, m_ptr, m_asset, m_proto, price, lt_pa, bonus_pa, pfee_pa, rules,
                mode, gas, vs, vdk, vdq, sold, out_units):
    """One static round over the multi-asset positions (CSR ``m_ptr``/``m_asset``; state
    ``mc``/``md`` updated in place): each open one with HF < 1 gets one liquidation of the pair a
    bot picks (:func:`liqcascade.protocols.aave.kernel.liquidate_position`); rational mode undoes the ones
    that do not pay at the round-start venue. Seized units go to ``sold``/``out_units``.
    Returns ``(liquidations, liquidated value, repaid, bad debt, fees, liquidator bonus)``."""
    acc = np.zeros(NLEDGER)
    for m in range(m_proto.shape[0]):
        if not m_open[m]:
            continue
        s0 = m_ptr[m]
        s1 = m_ptr[m + 1]
        pr = m_proto[m]
        save_c = mc[s0:s1].copy()
        save_d = md[s0:s1].copy()
        ec, ed, seize, repay, badv, fee, closed = liquidate_position(
            mc[s0:s1], md[s0:s1], m_asset[s0:s1], price, lt_pa[pr], bonus_pa[pr], pfee_pa[pr], rules[pr])
        if ec < 0:
            continue
        a = m_asset[s0 + ec]
        pdj = price[m_asset[s0 + ed]]
        if mode == MODE_RATIONAL:
            got = seize - fee
            proceeds = _sale_quote(vs, vdk, vdq, a, got) if (got > 0.0 and vs[a, KIND] >= 0) else got * price[a]
            if proceeds - repay * pdj - gas <= 0.0:
                mc[s0:s1] = save_c
                md[s0:s1] = save_d
                continue
        if closed:
            m_open[m] = False
        sold[a] += seize
        out_units[a] += seize
        book_liquidation(acc, seize, repay, badv, fee, price[a], pdj)
    return int(acc[L_NLIQ]), acc[L_LIQ_VALUE], acc[L_REPAID], acc[L_BAD], acc[L_FEES], acc[L_BONUS]


@internal
def apply_shock(vs, vdk, vdq, a, target, extras=True):
    """Exogenous seller: sell into venue ``a`` until its spot is ``target``."""
    if vs[a, KIND] < 0:
        return
    dq = venue_sell_to_price(vs, vdk, vdq, a, target, extras)  # stops at the venue's floor
    if dq > 0.0:
        venue_sell(vs, vdk, vdq, a, dq, extras)


@internal
def _scan_static(p, pd, lt, bonus, pfee, rrow, mode, gas, vs, vdk, vdq, a, seg, src_k, src_c, src_d, src_pos,
                 from_store, h, e, store, sold, out_units, acc, out_coll, out_debt, extras):
    """One round's read of one source (a store cohort, or the untouched rest of segment
    ``seg``): every position with key > ``p`` from ``h`` on is liquidated at ``p`` (rational:
    when selling its lot alone into the round-start venue pays); open ones are appended to the
    store (room reserved by the caller). Returns the new read position ``h``."""
    t_pos = store.pos
    t_c = store.c
    t_d = store.d
    t_k = store.k
    n_t = store.n[SN_ENTRIES]
    n_c = store.n[SN_COHORTS]
    new_start = n_t
    last_key = np.inf
    acted = 0
    while h < e:
        kk = src_k[h]
        if not (kk > p):
            break
        c = src_c[h]
        d = src_d[h]
        i = src_pos[h] if from_store else h
        h += 1
        seize, repay, bad, fee, closed = _liquidate_pair(c, d, p, pd, lt, bonus, pfee, rrow)
        do_it = repay > 0.0 or bad > 0.0
        if do_it and mode == MODE_RATIONAL:
            got = seize - fee
            proceeds = _quote(vs, vdk, vdq, a, got, extras) if got > 0.0 else 0.0
            if proceeds - repay * pd - gas <= 0.0:
                do_it = False
        if do_it:
            acted += 1
            c, d = settle(c, d, seize, repay, bad, closed)
            sold[a] += seize
            out_units[a] += seize
            book_liquidation(acc, seize, repay, bad * pd, fee, p, pd)
        if do_it and closed:
            if out_coll.shape[0] > 0:
                out_coll[i] = c
                out_debt[i] = d
            continue
        if d <= 0.0:
            if out_coll.shape[0] > 0:
                out_coll[i] = c
                out_debt[i] = 0.0
            continue
        # still open: append to the store, starting a new cohort when order breaks
        nk_ = d * pd / (c * lt) if c > 0.0 else np.inf
        if nk_ > last_key and n_t > new_start:
            n_c = cohort_close(store.c_head, store.c_end, store.c_seg, n_c, new_start, n_t, seg)
            new_start = n_t
        t_pos[n_t] = i
        t_c[n_t] = c
        t_d[n_t] = d
        t_k[n_t] = nk_
        last_key = nk_
        n_t += 1
    store.n[SN_COHORTS] = cohort_close(store.c_head, store.c_end, store.c_seg, n_c, new_start, n_t, seg)
    store.n[SN_ENTRIES] = n_t
    return h, acted


@njit
def solve_shock(
    shock, coll, debt, key, seg_ptr, seg_asset, seg_proto, seg_pdebt,
    lt_pa, bonus_pa, pfee_pa, rules, vs0, vdk, vdq, p_fixed, shock_mask,
    mode, gas, max_rounds, out_coll, out_debt, out_price, out_units,
    m_ptr, m_asset, m_coll0, m_debt0, m_proto, out_mcoll, out_mdebt, extras,
):
    """Run one shock to its fixed point. Returns the scalar summary tuple.

    ``out_coll``/``out_debt`` (length N, or 0 to skip) receive the final position state;
    ``out_price``/``out_units`` (length A) receive final prices and seized units per asset.
    Multi-asset positions (CSR ``m_ptr``/``m_asset``/``m_coll0``/``m_debt0``, protocol
    ``m_proto``) are scanned every round — the exact, slower path; their final state goes to
    ``out_mcoll``/``out_mdebt`` when those are non-empty. Touched positions live in the store of
    :mod:`liqcascade.kernels.store` (shared with the time loop), the totals in its ledger.
    ``extras``: ``None`` for the lean variant (core venue kinds, no multi-asset positions: those
    would be ignored), ``True`` for the full one (module docstring).
    """
    n_assets = vs0.shape[0]
    n_seg = seg_asset.shape[0]
    vs = vs0.copy()
    for a in range(n_assets):
        if shock_mask[a] and vs[a, KIND] >= 0:
            apply_shock(vs, vdk, vdq, a, venue_spot(vs, a, extras) * (1.0 - shock), extras)
    ptr = seg_ptr[:-1].copy()
    n_multi = m_proto.shape[0]
    mc = m_coll0.copy()
    md = m_debt0.copy()
    m_open = np.ones(n_multi, np.bool_)
    store = store_new(1024, 64)
    price = np.empty(n_assets)
    sold = np.zeros(n_assets)
    for a in range(n_assets):
        out_units[a] = 0.0
    rounds = 0
    acc = np.zeros(NLEDGER)  # liquidations, liquidated value, repaid, bad debt, fees, liquidator bonus
    converged = True
    while True:
        for a in range(n_assets):
            price[a] = _spot(vs, a, p_fixed, extras)
            sold[a] = 0.0
        acted = 0
        n_c0 = store.n[SN_COHORTS]
        # --- pass 1: cohorts of touched positions, then pass 2: untouched segment heads
        for src in range(n_c0 + n_seg):
            cohort = src < n_c0
            if cohort:
                seg = store.c_seg[src]
                h = store.c_head[src]
                e = store.c_end[src]
            else:
                seg = src - n_c0
                h = ptr[seg]
                e = seg_ptr[seg + 1]
            a = seg_asset[seg]
            p = price[a]
            if cohort:
                if h >= e or not (store.k[h] > p):
                    continue
                room = e - h
            else:
                room = crossing_count(key, h, e, p)
                if room == 0:
                    continue
            store = store_reserve(store, room, room + 1)
            pr = seg_proto[seg]
            # one call site for both sources (a cohort of the store, or a segment's untouched
            # head): one compiled copy of the scan
            src_k, src_c, src_d = (store.k, store.c, store.d) if cohort else (key, coll, debt)
            h, n = _scan_static(p, seg_pdebt[seg], lt_pa[pr, a], bonus_pa[pr, a], pfee_pa[pr, a], rules[pr],
                                mode, gas, vs, vdk, vdq, a, seg, src_k, src_c, src_d, store.pos, cohort, h, e,
                                store, sold, out_units, acc, out_coll, out_debt, extras)
            if cohort:
                store.c_head[src] = h
            else:
                ptr[seg] = h
            acted += n
        # --- pass 3: multi-asset positions, scanned (not compiled into the lean variant)
        if extras is not None:
            if n_multi > 0:
                r = multi_round(mc, md, m_open, m_ptr, m_asset, m_proto, price, lt_pa, bonus_pa, pfee_pa, rules,
                                mode, gas, vs, vdk, vdq, sold, out_units)
                acted += r[0]
                acc[L_NLIQ] += r[0]
                acc[L_LIQ_VALUE] += r[1]
                acc[L_REPAID] += r[2]
                acc[L_BAD] += r[3]
                acc[L_FEES] += r[4]
                acc[L_BONUS] += r[5]
        if acted == 0:
            break
        rounds += 1
        for a in range(n_assets):
            if sold[a] > 0.0 and vs[a, KIND] >= 0:
                venue_sell(vs, vdk, vdq, a, sold[a], extras)
        if rounds >= max_rounds:
            converged = False
            break
    for a in range(n_assets):
        out_price[a] = _spot(vs, a, p_fixed, extras)
    if out_coll.shape[0] > 0:
        # the caller pre-fills out_coll/out_debt with the initial book (untouched positions
        # keep it); open touched positions hold their last state in the store
        store_write_back(store, out_coll, out_debt)
    if extras is not None:  # (the lean variant has no multi-asset positions)
        if out_mcoll.shape[0] > 0:
            out_mcoll[:] = mc
            out_mdebt[:] = md
    return (rounds, int(acc[L_NLIQ]), acc[L_LIQ_VALUE], acc[L_REPAID], acc[L_BAD], acc[L_FEES], acc[L_BONUS],
            converged)


@njit
def solve_rows(
    rows, shocks, coll, debt, key, seg_ptr, seg_asset, seg_proto, seg_pdebt,
    lt_pa, bonus_pa, pfee_pa, rules, vs0, vdk, vdq, p_fixed, shock_mask,
    mode, gas, max_rounds, m_ptr, m_asset, m_coll0, m_debt0, m_proto, extras,
    final_price, units, rounds, n_liq, liq_value, repaid, bad, fees, bonus, conv, status,
):
    """Solve the shocks ``shocks[rows]`` of a grid into rows ``rows`` of the outputs (indexed by
    shock; ``final_price``/``units`` are ``(S, A)``). Threads may run disjoint ``rows`` of the same
    outputs at once (the kernel releases the GIL); ``status`` gets 0 for a shock that finished
    with finite results, 2 for one that did not (:mod:`liqcascade.engine.extremes`), and keeps
    its value for a shock not run."""
    empty = np.empty(0)
    # the inputs as ownerless views (kernels/borrow.py; the caller holds them for the whole call):
    # no reference counting on them in the scan, which passes them on once per liquidation
    (coll, debt, key, seg_ptr, seg_asset, seg_proto, seg_pdebt, lt_pa, bonus_pa, pfee_pa, rules, vs0, vdk, vdq,
     p_fixed, shock_mask, m_ptr, m_asset, m_coll0, m_debt0, m_proto) = borrow(
        (coll, debt, key, seg_ptr, seg_asset, seg_proto, seg_pdebt, lt_pa, bonus_pa, pfee_pa, rules, vs0, vdk, vdq,
         p_fixed, shock_mask, m_ptr, m_asset, m_coll0, m_debt0, m_proto))
    for j in range(rows.shape[0]):
        s = rows[j]
        r = solve_shock(
            shocks[s], coll, debt, key, seg_ptr, seg_asset, seg_proto, seg_pdebt,
            lt_pa, bonus_pa, pfee_pa, rules, vs0, vdk, vdq, p_fixed, shock_mask,
            mode, gas, max_rounds, empty, empty, final_price[s], units[s],
            m_ptr, m_asset, m_coll0, m_debt0, m_proto, empty, empty, extras,
        )
        rounds[s] = r[0]
        n_liq[s] = r[1]
        liq_value[s] = r[2]
        repaid[s] = r[3]
        bad[s] = r[4]
        fees[s] = r[5]
        bonus[s] = r[6]
        conv[s] = r[7]
        status[s] = shock_status(r[2], r[3], r[4], r[5], r[6], final_price[s], units[s])


@internal
def shock_status(liq_value, repaid, bad, fees, bonus, price, units):
    """Status of one finished shock of a curve kernel: 0, or 2 when a result is not finite
    (the engine raises on anything but 0)."""
    if not (math.isfinite(liq_value) and math.isfinite(repaid) and math.isfinite(bad)
            and math.isfinite(fees) and math.isfinite(bonus)):
        return 2
    for a in range(price.shape[0]):
        if not (math.isfinite(price[a]) and math.isfinite(units[a])):
            return 2
    return 0
