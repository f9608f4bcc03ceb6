"""Static cascade solver, mechanical mode, aggregated — compiled kernel.

Same pinned semantics as :mod:`liqcascade.kernels.cascade` (which it must match; parity tests
check it), but the work per shock does not grow with the number of liquidations.

Why it can aggregate. In one segment (one protocol, one collateral asset, one debt asset:
uniform LT, bonus, fee and rule; positions sorted by ``key0 = d0·pd / (c0·LT)`` descending, with
``pd`` the debt price, constant in the static solver):

* a partial liquidation at price ``p`` with close factor ``CF`` maps ``(c, d)`` to
  ``(c − CF·d·(1+b)·pd/p, (1−CF)·d)``; from the initial ``(c0, d0)`` every history gives
  ``c = c0 + β·d0`` and ``d = γ·d0``. A *cohort* is a contiguous range of the sorted segment
  with one ``(β, γ)``; its sums come from prefix sums of ``c0`` and ``d0``;
* inside a cohort ``HF = (u + β·LT/pd)·p/γ`` with ``u = 1/key0`` increasing along the array, so
  the crossing set (HF < 1) is a prefix and every rule threshold on HF (the 0.95 close-factor
  split, "seize ≥ collateral") is one binary search. Each piece has one outcome: collateral
  exhausted (bad debt, closes), full repay (closes), or partial (becomes a new cohort).

Aave v3.3's size-dependent close factor is handled by splitting v3.3 segments at load time
into debt-size bins (``seg_bin``): a cohort in bin ``m`` after ``k`` partial liquidations is
eligible for the 50 % close factor for all its members iff ``k ≤ m``. The other v3.3 conditions
(collateral ≥ MIN_BASE, both dust rules) are implied when the segment passes
:func:`v33_aggregable`; the engine falls back to the per-position kernel otherwise, and in
rational mode (each lot's profitability depends on its own sale).

Cost per shock: O(rounds × cohorts × log N). Multi-asset positions use the scanned path of the
per-position kernel unchanged.
"""

from __future__ import annotations

import numpy as np

from ._jit import njit, prange
from .aave import R_CF, R_HF_CF, R_MIN_BASE, R_MIN_LEFTOVER, R_RULE, RULE_FIXED, RULE_V32
from .cascade import MODE_MECHANICAL, _spot, apply_shock, multi_round
from .venues import KIND, venue_sell, venue_spot

BIN_NONE = -2  # segment without a size-dependent rule
BIN_SMALL = -1  # v3.3: debt below MIN_BASE, always full close factor

ST_OPEN = 0
ST_BAD = 1  # closed, collateral exhausted: c = d = 0
ST_REPAID = 2  # closed, debt fully repaid: d = 0, c = c0 + beta·d0


@njit
def v33_aggregable(lt, bonus, rules):
    """True when a v3.3 segment's close factor depends only on HF and the debt-size bin."""
    cf = rules[R_CF]
    q = 1.0 - cf
    thr = rules[R_HF_CF]
    base = rules[R_MIN_BASE]
    left = rules[R_MIN_LEFTOVER]
    if cf != 0.5 or lt <= 0.0:  # bins are powers of 2, so halving debt is exact in floating point
        return False
    if lt > thr:  # collateral value >= MIN_BASE must follow from debt value >= MIN_BASE
        return False
    if q * base < left:  # leftover debt after a partial liquidation
        return False
    if base * (thr / lt - cf * (1.0 + bonus)) < left:  # leftover collateral at the worst point
        return False
    return True


@njit
def _first_not_below(key0, lo, hi, U):
    """First index i in [lo, hi) with 1/key0[i] >= U (1/key0 increases along the range).

    Galloping from ``lo``: crossing prefixes are usually short next to their cohort."""
    if lo >= hi or 1.0 / key0[lo] >= U:
        return lo
    base = lo  # crosses
    step = 1
    while True:
        probe = base + step
        if probe >= hi:
            probe = hi
            break
        if 1.0 / key0[probe] >= U:
            break
        base = probe
        step <<= 1
    lo = base + 1
    hi = probe
    while lo < hi:
        mid = (lo + hi) >> 1
        if 1.0 / key0[mid] < U:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit
def _first_above(key0, lo, hi, U):
    """First index i in [lo, hi) with 1/key0[i] > U."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if 1.0 / key0[mid] <= U:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit
def _ensure(c_lo, c_hi, c_seg, c_k, c_st, c_beta, c_gamma, n, need):
    """Grow the cohort arrays to hold ``need`` entries (called once per round, never inside
    the cohort loop: replacing arrays there costs numba reference-count traffic)."""
    if need <= c_lo.shape[0]:
        return c_lo, c_hi, c_seg, c_k, c_st, c_beta, c_gamma
    m = max(need, 2 * c_lo.shape[0])
    nl = np.empty(m, np.int64)
    nh = np.empty(m, np.int64)
    ns = np.empty(m, np.int64)
    nk = np.empty(m, np.int64)
    nst = np.empty(m, np.int64)
    nb = np.empty(m)
    ng = np.empty(m)
    nl[:n] = c_lo[:n]
    nh[:n] = c_hi[:n]
    ns[:n] = c_seg[:n]
    nk[:n] = c_k[:n]
    nst[:n] = c_st[:n]
    nb[:n] = c_beta[:n]
    ng[:n] = c_gamma[:n]
    return nl, nh, ns, nk, nst, nb, ng


@njit(inline="always")
def _hpush(hv, hk, hn, a, val, k):
    """Push cohort ``k`` with trigger price ``val`` on asset ``a``'s max-heap."""
    i = hn[a]
    hn[a] = i + 1
    while i > 0:
        parent = (i - 1) >> 1
        if hv[a, parent] >= val:
            break
        hv[a, i] = hv[a, parent]
        hk[a, i] = hk[a, parent]
        i = parent
    hv[a, i] = val
    hk[a, i] = k


@njit(inline="always")
def _hpop(hv, hk, hn, a):
    top = hk[a, 0]
    n = hn[a] - 1
    hn[a] = n
    if n > 0:
        val = hv[a, n]
        kk = hk[a, n]
        i = 0
        while True:
            left = 2 * i + 1
            if left >= n:
                break
            right = left + 1
            c = left if (right >= n or hv[a, left] >= hv[a, right]) else right
            if hv[a, c] <= val:
                break
            hv[a, i] = hv[a, c]
            hk[a, i] = hk[a, c]
            i = c
        hv[a, i] = val
        hk[a, i] = kk
    return top


@njit
def _heap_room(hv, hk, need):
    if need <= hv.shape[1]:
        return hv, hk
    m = max(need, 2 * hv.shape[1])
    nv = np.empty((hv.shape[0], m))
    nk = np.empty((hk.shape[0], m), np.int64)
    nv[:, : hv.shape[1]] = hv
    nk[:, : hk.shape[1]] = hk
    return nv, nk


@njit
def solve_shock_agg(
    shock, coll, debt, key, csum, dsum, seg_ptr, seg_asset, seg_proto, seg_pdebt, seg_bin,
    lt_pa, bonus_pa, pfee_pa, rules, vs0, vdk, vdq, p_fixed, shock_mask, max_rounds,
    out_coll, out_debt, out_price, out_units,
    m_ptr, m_asset, m_coll0, m_debt0, m_proto, out_mcoll, out_mdebt,
):
    """One shock, mechanical mode. ``key`` is the static key ``d0·pd/(c0·LT)``; ``csum``/``dsum``
    are exclusive prefix sums of ``coll``/``debt`` (length N+1; only differences inside one
    segment are used). Outputs as :func:`liqcascade.kernels.cascade.solve_shock`."""
    n_assets = vs0.shape[0]
    n_seg = seg_asset.shape[0]
    vs = vs0.copy()
    for a in range(n_assets):
        if shock_mask[a] and vs[a, KIND] >= 0:
            apply_shock(vs, vdk, vdq, a, venue_spot(vs, a) * (1.0 - shock))
    cap = 64 * n_seg + 1024
    c_lo = np.empty(cap, np.int64)
    c_hi = np.empty(cap, np.int64)
    c_seg = np.empty(cap, np.int64)
    c_k = np.empty(cap, np.int64)
    c_st = np.empty(cap, np.int64)
    c_beta = np.empty(cap)
    c_gamma = np.empty(cap)
    keep_closed = out_coll.shape[0] > 0
    n_c = 0
    for s in range(n_seg):
        if seg_ptr[s + 1] > seg_ptr[s]:
            c_lo[n_c] = seg_ptr[s]
            c_hi[n_c] = seg_ptr[s + 1]
            c_seg[n_c] = s
            c_k[n_c] = 0
            c_st[n_c] = ST_OPEN
            c_beta[n_c] = 0.0
            c_gamma[n_c] = 1.0
            n_c += 1
    # one max-heap of open cohorts per asset, keyed by the price below which the cohort's most
    # exposed member crosses HF 1: gamma / (1/key[lo] + beta·LT/pd). Static prices only fall,
    # so a round pops exactly the cohorts that act.
    hv = np.empty((n_assets, cap))
    hk = np.empty((n_assets, cap), np.int64)
    hn = np.zeros(n_assets, np.int64)
    for k in range(n_c):
        sg = c_seg[k]
        a = seg_asset[sg]
        _hpush(hv, hk, hn, a, key[c_lo[k]], k)
    act = np.empty(cap, np.int64)
    pend = np.empty(cap, np.int64)
    n_multi = m_proto.shape[0]
    mc = m_coll0.copy()
    md = m_debt0.copy()
    m_open = np.ones(n_multi, np.bool_)
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
        n_pop = 0
        for a in range(n_assets):
            while hn[a] > 0 and hv[a, 0] > price[a]:
                if n_pop >= act.shape[0]:
                    act2 = np.empty(2 * act.shape[0], np.int64)
                    act2[:n_pop] = act[:n_pop]
                    act = act2
                act[n_pop] = _hpop(hv, hk, hn, a)
                n_pop += 1
        # each acting cohort adds at most 4 entries this round
        c_lo, c_hi, c_seg, c_k, c_st, c_beta, c_gamma = _ensure(
            c_lo, c_hi, c_seg, c_k, c_st, c_beta, c_gamma, n_c, n_c + 4 * n_pop + 4)
        if pend.shape[0] < 3 * n_pop + 2:
            pend = np.empty(3 * n_pop + 2, np.int64)
        n_pend = 0
        for j in range(n_pop):
            k = act[j]
            lo = c_lo[k]
            hi = c_hi[k]
            seg = c_seg[k]
            beta = c_beta[k]
            gamma = c_gamma[k]
            kk = c_k[k]
            a = seg_asset[seg]
            pr = seg_proto[seg]
            p = price[a]
            pd = seg_pdebt[seg]
            lt = lt_pa[pr, a]
            lb = 1.0 + bonus_pa[pr, a]
            pfee = pfee_pa[pr, a]
            rule = int(rules[pr, R_RULE])
            cf = rules[pr, R_CF]
            # HF = (u + beta·lt/pd)·p/gamma ; HF < h  <=>  u < h·gamma/p − beta·lt/pd
            shift = beta * lt / pd
            if 1.0 / key[lo] >= gamma / p - shift:
                # popped on a rounding tie but nothing crosses: back on the heap
                pend[n_pend] = k
                n_pend += 1
                continue
            x = _first_not_below(key, lo, hi, gamma / p - shift)
            if rule == RULE_FIXED:
                cf_lo = cf
                cf_hi = cf
            elif rule == RULE_V32:
                cf_lo = 1.0
                cf_hi = cf
            else:
                b = seg_bin[seg]
                cf_lo = 1.0
                cf_hi = cf if (b >= 0 and kk <= b) else 1.0
            # members with HF <= hf_cf use cf_lo, the rest cf_hi
            xs = _first_above(key, lo, x, rules[pr, R_HF_CF] * gamma / p - shift)
            # the crossing prefix is consumed; open leftovers form new cohorts
            c_lo[k] = x
            if x < hi:
                pend[n_pend] = k
                n_pend += 1
            for part in range(2):
                if part == 0:
                    a0 = lo
                    a1 = xs
                    cfp = cf_lo
                else:
                    a0 = xs
                    a1 = x
                    cfp = cf_hi
                if a1 <= a0:
                    continue
                # collateral exhausted when HF <= cfp·lt·(1+b)
                xb = _first_above(key, a0, a1, cfp * lt * lb * gamma / p - shift)
                if xb > a0:
                    sc0 = csum[xb] - csum[a0]
                    sd0 = dsum[xb] - dsum[a0]
                    seize = sc0 + beta * sd0
                    dtot = gamma * sd0
                    # per position repay = c·p/(lb·pd) <= d; summed
                    repay = seize * p / (lb * pd)
                    if repay > dtot:
                        repay = dtot
                    bad = dtot - repay
                    fee = (seize - seize / lb) * pfee
                    cnt = xb - a0
                    n_liq += cnt
                    acted += cnt
                    sold[a] += seize
                    out_units[a] += seize
                    liq_value += seize * p
                    repaid_value += repay * pd
                    bad_value += bad * pd
                    fee_value += fee * p
                    bonus_value += (seize - fee) * p - repay * pd
                    if keep_closed:
                        c_lo[n_c] = a0
                        c_hi[n_c] = xb
                        c_seg[n_c] = seg
                        c_k[n_c] = kk
                        c_st[n_c] = ST_BAD
                        c_beta[n_c] = beta
                        c_gamma[n_c] = gamma
                        n_c += 1
                if a1 > xb:
                    sc0 = csum[a1] - csum[xb]
                    sd0 = dsum[a1] - dsum[xb]
                    dtot = gamma * sd0
                    repay = cfp * dtot
                    seize = repay * pd * lb / p
                    fee = (seize - seize / lb) * pfee
                    cnt = a1 - xb
                    n_liq += cnt
                    acted += cnt
                    sold[a] += seize
                    out_units[a] += seize
                    liq_value += seize * p
                    repaid_value += repay * pd
                    fee_value += fee * p
                    bonus_value += (seize - fee) * p - repay * pd
                    nbeta = beta - cfp * gamma * lb * pd / p
                    if cfp < 1.0 or keep_closed:
                        c_lo[n_c] = xb
                        c_hi[n_c] = a1
                        c_seg[n_c] = seg
                        c_beta[n_c] = nbeta
                        if cfp >= 1.0:
                            c_k[n_c] = kk
                            c_st[n_c] = ST_REPAID
                            c_gamma[n_c] = 0.0
                        else:
                            c_k[n_c] = kk + 1
                            c_st[n_c] = ST_OPEN
                            c_gamma[n_c] = (1.0 - cfp) * gamma
                            pend[n_pend] = n_c
                            n_pend += 1
                        n_c += 1
        # back on the heaps: what is left of the acting cohorts, and the new open cohorts
        mx = 0
        for a in range(n_assets):
            if hn[a] > mx:
                mx = hn[a]
        hv, hk = _heap_room(hv, hk, mx + n_pend + 1)
        for j in range(n_pend):
            k = pend[j]
            sg = c_seg[k]
            a = seg_asset[sg]
            pr = seg_proto[sg]
            trig = c_gamma[k] / (1.0 / key[c_lo[k]] + c_beta[k] * lt_pa[pr, a] / seg_pdebt[sg])
            _hpush(hv, hk, hn, a, trig, k)
        # multi-asset positions: the scanned path of the per-position kernel
        if n_multi > 0:
            r = multi_round(mc, md, m_open, m_ptr, m_asset, m_proto, price, lt_pa, bonus_pa, pfee_pa, rules,
                            MODE_MECHANICAL, 0.0, vs, vdk, vdq, sold, out_units)
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
    if keep_closed:
        for k in range(n_c):
            st = c_st[k]
            for i in range(c_lo[k], c_hi[k]):
                if st == ST_BAD:
                    out_coll[i] = 0.0
                    out_debt[i] = 0.0
                elif st == ST_REPAID:
                    v = coll[i] + c_beta[k] * debt[i]
                    out_coll[i] = v if v > 0.0 else 0.0
                    out_debt[i] = 0.0
                else:
                    out_coll[i] = coll[i] + c_beta[k] * debt[i]
                    out_debt[i] = c_gamma[k] * debt[i]
    if out_mcoll.shape[0] > 0:
        out_mcoll[:] = mc
        out_mdebt[:] = md
    return rounds, n_liq, liq_value, repaid_value, bad_value, fee_value, bonus_value, converged


def interleaved_order(n: int, threads: int) -> np.ndarray:
    """Shock order for :func:`solve_curve_agg` giving each of ``threads`` blocks every
    ``threads``-th shock."""
    threads = max(1, int(threads))
    return np.concatenate([np.arange(t, n, threads) for t in range(threads)]).astype(np.int64)


@njit(parallel=True)
def solve_curve_agg(
    shocks, coll, debt, key, csum, dsum, seg_ptr, seg_asset, seg_proto, seg_pdebt, seg_bin,
    lt_pa, bonus_pa, pfee_pa, rules, vs0, vdk, vdq, p_fixed, shock_mask, max_rounds,
    m_ptr, m_asset, m_coll0, m_debt0, m_proto, order,
):
    """Every shock of a grid; outputs as :func:`liqcascade.kernels.cascade.solve_curve`.

    ``order`` is a permutation of the shock indices; ``prange`` hands each thread a contiguous
    block of it, so interleaving shocks (thread t gets t, t+T, …) balances cheap and deep ones."""
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
    for j in prange(S):
        s = order[j]
        r = solve_shock_agg(
            shocks[s], coll, debt, key, csum, dsum, seg_ptr, seg_asset, seg_proto, seg_pdebt, seg_bin,
            lt_pa, bonus_pa, pfee_pa, rules, vs0, vdk, vdq, p_fixed, shock_mask, max_rounds,
            empty, empty, final_price[s], units[s],
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
