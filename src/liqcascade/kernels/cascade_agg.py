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
  split, "seize ≥ collateral") is one binary search. A member within ``EXHAUST_SLACK`` (1e-12,
  relative) of "seize ≥ collateral" counts as exhausted: the per-position kernel would leave it
  rounding noise of collateral against real debt, and bad debt one round later. Each piece has one outcome: collateral
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
from ..protocols.aave.kernel import (
    RULE_FIXED,
    RULE_V32,
    R_CF,
    R_HF_CF,
    R_MIN_BASE,
    R_MIN_LEFTOVER,
    R_RULE,
)
from .cascade import MODE_MECHANICAL, _spot, apply_shock, multi_round, shock_status
from ..venues.dispatch import venue_sell, venue_spot
from ..venues.kernel import KIND

BIN_NONE = -2  # segment without a size-dependent rule
BIN_SMALL = -1  # v3.3: debt below MIN_BASE, always full close factor

ST_OPEN = 0
ST_BAD = 1  # closed, collateral exhausted: c = d = 0
ST_REPAID = 2  # closed, debt fully repaid: d = 0, c = c0 + beta·d0

# columns of the per-segment constants built once per shock
SP_PD, SP_LT, SP_LB, SP_PFEE, SP_CF, SP_HF_CF = 0, 1, 2, 3, 4, 5  # debt price, LT, 1 + bonus, ...
SI_ASSET, SI_RULE, SI_BIN = 0, 1, 2
# relative width of the band around the collateral-exhaustion boundary inside which a member
# counts as exhausted: far above the rounding of the cohort algebra (~1e-15), far below any
# economic difference
EXHAUST_SLACK = 1e-12


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
def _first_not_below(u, lo, hi, U):
    """First index i in [lo, hi) with u[i] >= U (``u = 1/key`` increases along the range).

    Galloping from ``lo``: crossing prefixes are usually short next to their cohort."""
    if lo >= hi or u[lo] >= U:
        return lo
    base = lo  # crosses
    step = 1
    while True:
        probe = base + step
        if probe >= hi:
            probe = hi
            break
        if u[probe] >= U:
            break
        base = probe
        step <<= 1
    lo = base + 1
    hi = probe
    while lo < hi:
        mid = (lo + hi) >> 1
        if u[mid] < U:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit
def _first_above(u, lo, hi, U):
    """First index i in [lo, hi) with u[i] > U.

    Galloping from ``lo`` like :func:`_first_not_below`: the members below a rule threshold
    (HF ≤ 0.95, collateral exhausted) are the most exposed ones at the start of a crossing
    prefix and usually few, so this costs O(log distance) rather than O(log range)."""
    if lo >= hi or u[lo] > U:
        return lo
    base = lo  # u[base] <= U
    step = 1
    while True:
        probe = base + step
        if probe >= hi:
            probe = hi
            break
        if u[probe] > U:
            break
        base = probe
        step <<= 1
    lo = base + 1
    hi = probe
    while lo < hi:
        mid = (lo + hi) >> 1
        if u[mid] <= U:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit
def _ensure(ci, cb, n, need):
    """Grow the cohort arrays (``ci``: int rows lo, hi, segment, partial count, state; ``cb``:
    float rows beta, gamma) to hold ``need`` entries (called once per round, never inside the
    cohort loop: replacing arrays there costs numba reference-count traffic)."""
    if need <= ci.shape[1]:
        return ci, cb
    m = max(need, 2 * ci.shape[1])
    ni = np.empty((ci.shape[0], m), np.int64)
    nb = np.empty((cb.shape[0], m))
    ni[:, :n] = ci[:, :n]
    nb[:, :n] = cb[:, :n]
    return ni, nb


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
def _pop_crossing(hv, hk, hn, price, act):
    """Pop every cohort whose trigger price is above its asset's price into ``act`` (room for
    every heap entry). The per-round work lives in helpers that take the arrays as arguments:
    arrays rebound inside a loop (the growth above) cost numba reference-count traffic on every
    use, arguments do not."""
    n_pop = 0
    for a in range(hn.shape[0]):
        while hn[a] > 0 and hv[a, 0] > price[a]:
            act[n_pop] = _hpop(hv, hk, hn, a)
            n_pop += 1
    return n_pop


@njit
def _push_pending(hv, hk, hn, pend, n_pend, u, ci, cb, sp, si):
    for j in range(n_pend):
        k = pend[j]
        sg = ci[2, k]
        den = u[ci[0, k]] + cb[0, k] * sp[sg, SP_LT] / sp[sg, SP_PD]  # ∝ its first member's collateral
        trig = cb[1, k] / den if den > 0.0 else np.inf
        _hpush(hv, hk, hn, si[sg, SI_ASSET], trig, k)


@njit
def _act_cohorts(act, n_pop, pend, u, cs, ci, cb, n_c, sp, si, price, sold, units, keep_closed, acc):
    """One round's liquidations of the popped cohorts ``act[:n_pop]`` (room for 4 new cohorts
    each in ``ci``/``cb``, 3 pending entries each in ``pend``). Quote totals are added to
    ``acc`` in the order of the original single loop. Returns ``(n_c, n_pend, liquidations)``."""
    n_pend = 0
    acted = 0
    liq_value = acc[0]
    repaid_value = acc[1]
    bad_value = acc[2]
    fee_value = acc[3]
    bonus_value = acc[4]
    for j in range(n_pop):
        k = act[j]
        lo = ci[0, k]
        hi = ci[1, k]
        seg = ci[2, k]
        beta = cb[0, k]
        gamma = cb[1, k]
        kk = ci[3, k]
        a = si[seg, SI_ASSET]
        p = price[a]
        pd = sp[seg, SP_PD]
        lt = sp[seg, SP_LT]
        lb = sp[seg, SP_LB]
        pfee = sp[seg, SP_PFEE]
        rule = si[seg, SI_RULE]
        cf = sp[seg, SP_CF]
        # HF = (u + beta·lt/pd)·p/gamma ; HF < h  <=>  u < h·gamma/p − beta·lt/pd
        shift = beta * lt / pd
        if u[lo] >= gamma / p - shift:
            # popped on a rounding tie but nothing crosses: back on the heap
            pend[n_pend] = k
            n_pend += 1
            continue
        x = _first_not_below(u, lo, hi, gamma / p - shift)
        if rule == RULE_FIXED:
            cf_lo = cf
            cf_hi = cf
        elif rule == RULE_V32:
            cf_lo = 1.0
            cf_hi = cf
        else:
            b = si[seg, SI_BIN]
            cf_lo = 1.0
            cf_hi = cf if (b >= 0 and kk <= b) else 1.0
        # members with HF <= hf_cf use cf_lo, the rest cf_hi
        xs = _first_above(u, lo, x, sp[seg, SP_HF_CF] * gamma / p - shift)
        # the crossing prefix is consumed; open leftovers form new cohorts
        ci[0, k] = x
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
            # collateral exhausted when HF <= cfp·lt·(1+b); a member within rounding of that
            # boundary counts as exhausted (a partial liquidation would leave it rounding noise
            # of collateral, or none, against positive debt)
            xe = cfp * lt * lb * gamma / p
            xb = _first_above(u, a0, a1, xe - shift + EXHAUST_SLACK * (abs(xe) + abs(shift)))
            if xb > a0:
                sc0 = cs[xb, 0] - cs[a0, 0]
                sd0 = cs[xb, 1] - cs[a0, 1]
                seize = sc0 + beta * sd0
                dtot = gamma * sd0
                # per position repay = c·p/(lb·pd) <= d; summed
                repay = seize * p / (lb * pd)
                if repay > dtot:
                    repay = dtot
                bad = dtot - repay
                fee = (seize - seize / lb) * pfee
                cnt = xb - a0
                acted += cnt
                sold[a] += seize
                units[a] += seize
                liq_value += seize * p
                repaid_value += repay * pd
                bad_value += bad * pd
                fee_value += fee * p
                bonus_value += (seize - fee) * p - repay * pd
                if keep_closed:
                    ci[0, n_c] = a0
                    ci[1, n_c] = xb
                    ci[2, n_c] = seg
                    ci[3, n_c] = kk
                    ci[4, n_c] = ST_BAD
                    cb[0, n_c] = beta
                    cb[1, n_c] = gamma
                    n_c += 1
            if a1 > xb:
                sc0 = cs[a1, 0] - cs[xb, 0]
                sd0 = cs[a1, 1] - cs[xb, 1]
                dtot = gamma * sd0
                repay = cfp * dtot
                seize = repay * pd * lb / p
                fee = (seize - seize / lb) * pfee
                cnt = a1 - xb
                acted += cnt
                sold[a] += seize
                units[a] += seize
                liq_value += seize * p
                repaid_value += repay * pd
                fee_value += fee * p
                bonus_value += (seize - fee) * p - repay * pd
                nbeta = beta - cfp * gamma * lb * pd / p
                if cfp < 1.0 or keep_closed:
                    ci[0, n_c] = xb
                    ci[1, n_c] = a1
                    ci[2, n_c] = seg
                    cb[0, n_c] = nbeta
                    if cfp >= 1.0:
                        ci[3, n_c] = kk
                        ci[4, n_c] = ST_REPAID
                        cb[1, n_c] = 0.0
                    else:
                        ci[3, n_c] = kk + 1
                        ci[4, n_c] = ST_OPEN
                        cb[1, n_c] = (1.0 - cfp) * gamma
                        pend[n_pend] = n_c
                        n_pend += 1
                    n_c += 1
    acc[0] = liq_value
    acc[1] = repaid_value
    acc[2] = bad_value
    acc[3] = fee_value
    acc[4] = bonus_value
    return n_c, n_pend, acted


@njit
def solve_shock_agg(
    shock, coll, debt, u, cs, seg_ptr, seg_asset, seg_proto, seg_pdebt, seg_bin,
    lt_pa, bonus_pa, pfee_pa, rules, vs0, vdk, vdq, p_fixed, shock_mask, max_rounds,
    out_coll, out_debt, out_price, out_units,
    m_ptr, m_asset, m_coll0, m_debt0, m_proto, out_mcoll, out_mdebt,
):
    """One shock, mechanical mode. ``u`` is the inverse of the static key, ``c0·LT/(d0·pd)`` as
    ``1.0 / key`` (searches then need no division); ``cs[:, 0]``/``cs[:, 1]`` are exclusive prefix
    sums of ``coll``/``debt`` (N+1 rows, interleaved so that both sums at one index share a cache
    line; only differences inside one segment are used). Outputs as :func:`liqcascade.kernels.cascade.solve_shock`."""
    n_assets = vs0.shape[0]
    n_seg = seg_asset.shape[0]
    vs = vs0.copy()
    for a in range(n_assets):
        if shock_mask[a] and vs[a, KIND] >= 0:
            apply_shock(vs, vdk, vdq, a, venue_spot(vs, a) * (1.0 - shock))
    # small start (the arrays grow once per round when needed): a few hundred cohorts are
    # typical, and large per-shock allocations cost page faults and serialise the threads
    cap = 4 * n_seg + 64
    ci = np.empty((5, cap), np.int64)  # lo, hi, segment, partial liquidations k, state
    cb = np.empty((2, cap))  # beta, gamma
    # per-segment constants, read once per cohort action (few arrays: fewer refcounts per call)
    sp = np.empty((n_seg, 6))
    si = np.empty((n_seg, 3), np.int64)
    for s in range(n_seg):
        a = seg_asset[s]
        pr = seg_proto[s]
        sp[s, SP_PD] = seg_pdebt[s]
        sp[s, SP_LT] = lt_pa[pr, a]
        sp[s, SP_LB] = 1.0 + bonus_pa[pr, a]
        sp[s, SP_PFEE] = pfee_pa[pr, a]
        sp[s, SP_CF] = rules[pr, R_CF]
        sp[s, SP_HF_CF] = rules[pr, R_HF_CF]
        si[s, SI_ASSET] = a
        si[s, SI_RULE] = int(rules[pr, R_RULE])
        si[s, SI_BIN] = seg_bin[s]
    keep_closed = out_coll.shape[0] > 0
    n_c = 0
    for s in range(n_seg):
        if seg_ptr[s + 1] > seg_ptr[s]:
            ci[0, n_c] = seg_ptr[s]
            ci[1, n_c] = seg_ptr[s + 1]
            ci[2, n_c] = s
            ci[3, n_c] = 0
            ci[4, n_c] = ST_OPEN
            cb[0, n_c] = 0.0
            cb[1, n_c] = 1.0
            n_c += 1
    # one max-heap of open cohorts per asset, keyed by the price below which the cohort's most
    # exposed member crosses HF 1: gamma / (u[lo] + beta·LT/pd). Static prices only fall, so a
    # round pops the cohorts that act (and, on rounding ties, one that does not: it goes back).
    # The first trigger is 1/u[lo] = key[lo] within 2 ulp, raised by 1e-15 so that every
    # cohort whose first member crosses (u[lo] < 1/p) is popped.
    hv = np.empty((n_assets, cap))
    hk = np.empty((n_assets, cap), np.int64)
    hn = np.zeros(n_assets, np.int64)
    for k in range(n_c):
        sg = ci[2, k]
        a = seg_asset[sg]
        u0 = u[ci[0, k]]
        _hpush(hv, hk, hn, a, (1.0 / u0) * (1.0 + 1e-15) if u0 > 0.0 else np.inf, k)
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
    # seized units accumulate in a private array, copied out at the end: ``out_units`` is a row
    # of an array shared by the threads of solve_curve_agg, and passing it to the per-round
    # helpers would bounce its reference count between cores
    units = np.zeros(n_assets)
    rounds = 0
    n_liq = 0
    acc = np.zeros(5)  # liquidated value, repaid, bad debt, fees, liquidator bonus (quote)
    converged = True
    while True:
        for a in range(n_assets):
            price[a] = _spot(vs, a, p_fixed)
            sold[a] = 0.0
        # every open cohort is on a heap at most once, so ``act`` needs room for n_c
        if act.shape[0] < n_c:
            act = np.empty(2 * n_c, np.int64)
        n_pop = _pop_crossing(hv, hk, hn, price, act)
        # each acting cohort adds at most 4 entries this round
        ci, cb = _ensure(ci, cb, n_c, n_c + 4 * n_pop + 4)
        if pend.shape[0] < 3 * n_pop + 2:
            pend = np.empty(3 * n_pop + 2, np.int64)
        n_c, n_pend, acted = _act_cohorts(act, n_pop, pend, u, cs, ci, cb, n_c, sp, si, price, sold,
                                          units, keep_closed, acc)
        n_liq += acted
        # back on the heaps: what is left of the acting cohorts, and the new open cohorts
        mx = 0
        for a in range(n_assets):
            if hn[a] > mx:
                mx = hn[a]
        hv, hk = _heap_room(hv, hk, mx + n_pend + 1)
        _push_pending(hv, hk, hn, pend, n_pend, u, ci, cb, sp, si)
        # multi-asset positions: the scanned path of the per-position kernel
        if n_multi > 0:
            r = multi_round(mc, md, m_open, m_ptr, m_asset, m_proto, price, lt_pa, bonus_pa, pfee_pa, rules,
                            MODE_MECHANICAL, 0.0, vs, vdk, vdq, sold, units)
            acted += r[0]
            n_liq += r[0]
            acc[0] += r[1]
            acc[1] += r[2]
            acc[2] += r[3]
            acc[3] += r[4]
            acc[4] += r[5]
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
        out_units[a] = units[a]
    if keep_closed:
        for k in range(n_c):
            st = ci[4, k]
            for i in range(ci[0, k], ci[1, k]):
                if st == ST_BAD:
                    out_coll[i] = 0.0
                    out_debt[i] = 0.0
                elif st == ST_REPAID:
                    v = coll[i] + cb[0, k] * debt[i]
                    out_coll[i] = v if v > 0.0 else 0.0
                    out_debt[i] = 0.0
                else:
                    out_coll[i] = coll[i] + cb[0, k] * debt[i]
                    out_debt[i] = cb[1, k] * debt[i]
    if out_mcoll.shape[0] > 0:
        out_mcoll[:] = mc
        out_mdebt[:] = md
    return rounds, n_liq, acc[0], acc[1], acc[2], acc[3], acc[4], converged


def interleaved_order(n: int, threads: int) -> np.ndarray:
    """Shock order for :func:`solve_curve_agg` giving each of ``threads`` blocks every
    ``threads``-th shock."""
    threads = max(1, int(threads))
    return np.concatenate([np.arange(t, n, threads) for t in range(threads)]).astype(np.int64)


@njit(parallel=True)
def solve_curve_agg(
    shocks, coll, debt, u, cs, seg_ptr, seg_asset, seg_proto, seg_pdebt, seg_bin,
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
    status = np.full(S, 1, np.int64)  # 1 until the shock finishes: an error inside prange is not passed on
    empty = np.empty(0)
    for j in prange(S):
        s = order[j]
        r = solve_shock_agg(
            shocks[s], coll, debt, u, cs, seg_ptr, seg_asset, seg_proto, seg_pdebt, seg_bin,
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
        status[s] = shock_status(r[2], r[3], r[4], r[5], r[6], final_price[s], units[s])
    return final_price, units, rounds, n_liq, liq_value, repaid, bad, fees, bonus, conv, status
