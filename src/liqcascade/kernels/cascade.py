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
Shocks run in parallel (``prange``); each has its own scratch store.
"""

from __future__ import annotations

import numpy as np

from ._jit import njit, prange
from ..protocols.aave.kernel import liquidate_pair, liquidate_position
from ..venues.book.kernel import book_sell, book_sell_to_price
from ..venues.cpmm.kernel import cpmm_sell, cpmm_sell_to_price
from ..venues.dispatch import venue_sell, venue_spot
from ..venues.kernel import FEE, KIND, MID, NK, VENUE_BOOK, VENUE_CPMM, X, Y

MODE_MECHANICAL = 0
MODE_RATIONAL = 1


@njit
def _spot(vs, a, p_fixed):
    if vs[a, KIND] < 0:
        return p_fixed[a]
    return venue_spot(vs, a)


@njit
def _sale_quote(vs, vdk, vdq, a, q):
    """Quote received for selling ``q`` into venue ``a`` without changing it."""
    kind = int(vs[a, KIND])
    if kind == VENUE_CPMM:
        r = cpmm_sell(vs[a, X], vs[a, Y], vs[a, FEE], q)
        return r[2]
    if kind == VENUE_BOOK:
        nk = int(vs[a, NK])
        r = book_sell(vs[a, MID], vdk[a], vdq[a], nk, q)
        return r[1]
    return q * vs[a, MID]


@njit
def marginal_proceeds(vs, vdk, vdq, a, queued, q):
    """Quote a liquidator gets for ``q`` more units when ``queued`` are already being sold
    into venue ``a`` in the same round/step (the earlier liquidations' sales come first)."""
    if queued <= 0.0:
        return _sale_quote(vs, vdk, vdq, a, q)
    return _sale_quote(vs, vdk, vdq, a, queued + q) - _sale_quote(vs, vdk, vdq, a, queued)


@njit
def multi_round(mc, md, m_open, m_ptr, m_asset, m_proto, price, lt_pa, bonus_pa, pfee_pa, rules,
                mode, gas, vs, vdk, vdq, sold, out_units):
    """One static round over the multi-asset positions (CSR ``m_ptr``/``m_asset``; state
    ``mc``/``md`` updated in place): each open one with HF < 1 gets one liquidation of the pair a
    bot picks (:func:`liqcascade.protocols.aave.kernel.liquidate_position`); rational mode undoes the ones
    that do not pay at the round-start venue. Seized units go to ``sold``/``out_units``.
    Returns ``(liquidations, liquidated value, repaid, bad debt, fees, liquidator bonus)``."""
    n_liq = 0
    liq_value = 0.0
    repaid_value = 0.0
    bad_value = 0.0
    fee_value = 0.0
    bonus_value = 0.0
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
        n_liq += 1
        if closed:
            m_open[m] = False
        sold[a] += seize
        out_units[a] += seize
        liq_value += seize * price[a]
        repaid_value += repay * pdj
        bad_value += badv
        fee_value += fee * price[a]
        bonus_value += (seize - fee) * price[a] - repay * pdj
    return n_liq, liq_value, repaid_value, bad_value, fee_value, bonus_value


@njit
def apply_shock(vs, vdk, vdq, a, target):
    """Exogenous seller: sell into venue ``a`` until its spot is ``target``."""
    kind = int(vs[a, KIND])
    if kind == VENUE_CPMM:
        dq = cpmm_sell_to_price(vs[a, X], vs[a, Y], vs[a, FEE], target)
    elif kind == VENUE_BOOK:
        dq = book_sell_to_price(vs[a, MID], vdk[a], vdq[a], int(vs[a, NK]), target)
    else:
        return
    if dq > 0.0:
        venue_sell(vs, vdk, vdq, a, dq)


@njit
def _grow(arr, n):
    out = np.empty(max(2 * arr.shape[0], n), arr.dtype)
    out[: arr.shape[0]] = arr
    return out


@njit
def solve_shock(
    shock, coll, debt, key, seg_ptr, seg_asset, seg_proto, seg_pdebt,
    lt_pa, bonus_pa, pfee_pa, rules, vs0, vdk, vdq, p_fixed, shock_mask,
    mode, gas, max_rounds, out_coll, out_debt, out_price, out_units,
    m_ptr, m_asset, m_coll0, m_debt0, m_proto, out_mcoll, out_mdebt,
):
    """Run one shock to its fixed point. Returns the scalar summary tuple.

    ``out_coll``/``out_debt`` (length N, or 0 to skip) receive the final position state;
    ``out_price``/``out_units`` (length A) receive final prices and seized units per asset.
    Multi-asset positions (CSR ``m_ptr``/``m_asset``/``m_coll0``/``m_debt0``, protocol
    ``m_proto``) are scanned every round — the exact, slower path; their final state goes to
    ``out_mcoll``/``out_mdebt`` when those are non-empty.
    """
    n_assets = vs0.shape[0]
    n_seg = seg_asset.shape[0]
    vs = vs0.copy()
    for a in range(n_assets):
        if shock_mask[a] and vs[a, KIND] >= 0:
            apply_shock(vs, vdk, vdq, a, venue_spot(vs, a) * (1.0 - shock))
    ptr = seg_ptr[:-1].copy()
    n_multi = m_proto.shape[0]
    mc = m_coll0.copy()
    md = m_debt0.copy()
    m_open = np.ones(n_multi, np.bool_)
    # touched store and cohorts
    cap = 1024
    t_pos = np.empty(cap, np.int64)
    t_c = np.empty(cap, np.float64)
    t_d = np.empty(cap, np.float64)
    t_k = np.empty(cap, np.float64)
    n_t = 0
    ccap = 64
    c_head = np.empty(ccap, np.int64)
    c_end = np.empty(ccap, np.int64)
    c_seg = np.empty(ccap, np.int64)
    n_c = 0
    price = np.empty(n_assets)
    sold = np.zeros(n_assets)
    for a in range(n_assets):
        out_units[a] = 0.0
    rounds = 0
    n_liq = 0
    liq_value = 0.0
    repaid_value = 0.0
    bad_value = 0.0
    fee_value = 0.0
    bonus_value = 0.0
    converged = True
    while True:
        for a in range(n_assets):
            price[a] = _spot(vs, a, p_fixed)
            sold[a] = 0.0
        acted = 0
        n_c0 = n_c
        # --- pass 1: cohorts of touched positions, then pass 2: untouched segment heads
        for src in range(n_c0 + n_seg):
            if src < n_c0:
                seg = c_seg[src]
                h = c_head[src]
                e = c_end[src]
            else:
                seg = src - n_c0
                h = ptr[seg]
                e = seg_ptr[seg + 1]
            a = seg_asset[seg]
            pr = seg_proto[seg]
            p = price[a]
            pd = seg_pdebt[seg]
            lt = lt_pa[pr, a]
            bonus = bonus_pa[pr, a]
            pfee = pfee_pa[pr, a]
            new_start = n_t
            last_key = np.inf
            while h < e:
                if src < n_c0:
                    kk = t_k[h]
                    c = t_c[h]
                    d = t_d[h]
                    i = t_pos[h]
                else:
                    kk = key[h]
                    c = coll[h]
                    d = debt[h]
                    i = h
                if not (kk > p):
                    break
                h += 1
                seize, repay, bad, fee, closed = liquidate_pair(c, d, p, pd, lt, bonus, pfee, rules[pr])
                do_it = repay > 0.0 or bad > 0.0
                if do_it and mode == MODE_RATIONAL:
                    got = seize - fee
                    proceeds = _sale_quote(vs, vdk, vdq, a, got) if got > 0.0 else 0.0
                    if proceeds - repay * pd - gas <= 0.0:
                        do_it = False
                if do_it:
                    acted += 1
                    n_liq += 1
                    c = c - seize
                    d = d - repay - bad
                    if closed:
                        # closed: whatever is left is dust of float arithmetic
                        if c < 0.0:
                            c = 0.0
                        if d < 0.0:
                            d = 0.0
                    sold[a] += seize
                    out_units[a] += seize
                    liq_value += seize * p
                    repaid_value += repay * pd
                    bad_value += bad * pd
                    fee_value += fee * p
                    bonus_value += (seize - fee) * p - repay * pd
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
                if n_t >= t_pos.shape[0]:
                    t_pos = _grow(t_pos, n_t + 1)
                    t_c = _grow(t_c, n_t + 1)
                    t_d = _grow(t_d, n_t + 1)
                    t_k = _grow(t_k, n_t + 1)
                if nk_ > last_key and n_t > new_start:
                    if n_c + 1 >= c_head.shape[0]:
                        c_head = _grow(c_head, n_c + 2)
                        c_end = _grow(c_end, n_c + 2)
                        c_seg = _grow(c_seg, n_c + 2)
                    c_head[n_c] = new_start
                    c_end[n_c] = n_t
                    c_seg[n_c] = seg
                    n_c += 1
                    new_start = n_t
                t_pos[n_t] = i
                t_c[n_t] = c
                t_d[n_t] = d
                t_k[n_t] = nk_
                last_key = nk_
                n_t += 1
            if src < n_c0:
                c_head[src] = h
            else:
                ptr[seg] = h
            if n_t > new_start:
                if n_c + 1 >= c_head.shape[0]:
                    c_head = _grow(c_head, n_c + 2)
                    c_end = _grow(c_end, n_c + 2)
                    c_seg = _grow(c_seg, n_c + 2)
                c_head[n_c] = new_start
                c_end[n_c] = n_t
                c_seg[n_c] = seg
                n_c += 1
        # --- pass 3: multi-asset positions, scanned
        if n_multi > 0:
            r = multi_round(mc, md, m_open, m_ptr, m_asset, m_proto, price, lt_pa, bonus_pa, pfee_pa, rules,
                            mode, gas, vs, vdk, vdq, sold, out_units)
            acted += r[0]
            n_liq += r[0]
            liq_value += r[1]
            repaid_value += r[2]
            bad_value += r[3]
            fee_value += r[4]
            bonus_value += r[5]
        if acted == 0:
            break
        rounds += 1
        for a in range(n_assets):
            if sold[a] > 0.0 and vs[a, KIND] >= 0:
                venue_sell(vs, vdk, vdq, a, sold[a])
        if rounds >= max_rounds:
            converged = False
            break
    for a in range(n_assets):
        out_price[a] = _spot(vs, a, p_fixed)
    if out_coll.shape[0] > 0:
        # the caller pre-fills out_coll/out_debt with the initial book (untouched positions
        # keep it); open touched positions hold their last state in the store
        for k in range(n_c):
            for h in range(c_head[k], c_end[k]):
                out_coll[t_pos[h]] = t_c[h]
                out_debt[t_pos[h]] = t_d[h]
    if out_mcoll.shape[0] > 0:
        out_mcoll[:] = mc
        out_mdebt[:] = md
    return rounds, n_liq, liq_value, repaid_value, bad_value, fee_value, bonus_value, converged


@njit(parallel=True)
def solve_curve(
    shocks, coll, debt, key, seg_ptr, seg_asset, seg_proto, seg_pdebt,
    lt_pa, bonus_pa, pfee_pa, rules, vs0, vdk, vdq, p_fixed, shock_mask,
    mode, gas, max_rounds, m_ptr, m_asset, m_coll0, m_debt0, m_proto,
):
    """Solve every shock of a grid. Returns arrays indexed by shock."""
    S = shocks.shape[0]
    A = vs0.shape[0]
    final_price = np.empty((S, A))
    units = np.empty((S, A))
    rounds = np.empty(S, np.int64)
    n_liq = np.empty(S, np.int64)
    liq_value = np.empty(S)
    repaid = np.empty(S)
    bad = np.empty(S)
    fees = np.empty(S)
    bonus = np.empty(S)
    conv = np.empty(S, np.bool_)
    empty = np.empty(0)
    for s in prange(S):
        r = solve_shock(
            shocks[s], coll, debt, key, seg_ptr, seg_asset, seg_proto, seg_pdebt,
            lt_pa, bonus_pa, pfee_pa, rules, vs0, vdk, vdq, p_fixed, shock_mask,
            mode, gas, max_rounds, empty, empty, final_price[s], units[s],
            m_ptr, m_asset, m_coll0, m_debt0, m_proto, empty, empty,
        )
        rounds[s] = r[0]
        n_liq[s] = r[1]
        liq_value[s] = r[2]
        repaid[s] = r[3]
        bad[s] = r[4]
        fees[s] = r[5]
        bonus[s] = r[6]
        conv[s] = r[7]
    return final_price, units, rounds, n_liq, liq_value, repaid, bad, fees, bonus, conv
