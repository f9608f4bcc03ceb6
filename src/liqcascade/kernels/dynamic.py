"""Dynamic simulation — compiled time loop.

One step (``t = 1 … T``), for every path:

1. **exogenous flow**: each venue moves by the reference path's return ``path[t] / path[t-1]``
   (a pool is traded to the new spot; a book's reference mid moves); book impact decays;
2. **arbitrage**: gaps between venues of one asset above the threshold are closed; pools are
   arbitraged toward the reference price (venue recovery) when enabled;
3. **oracles** read the venue spots of this step (after lag, heartbeat, TWAP … rules);
4. **liquidations**: each protocol sees its oracle prices; liquidators liquidate positions with
   HF < 1 (mechanical: all of them; rational: only when selling the collateral at the best
   venue's execution price — after the sales already queued in this step — beats the repaid
   debt plus gas), within per-step capacity and capital;
5. **sales**: the collateral seized in the step is routed to the venues of its asset for best
   execution; each liquidation event gets the step's average execution price;
6. **record**: per-step market state and events (for the recorded paths only).

Positions use the same segments, pointers and cohorts as the static solver
(:mod:`liqcascade.kernels.cascade`), with the liquidation ratio ``debt / (coll · LT)`` compared
to ``p_coll / p_debt``. Liquidatable positions that liquidators skip stay in the store and are
re-examined every step (compacted in place, so the store does not grow with time).
"""

from __future__ import annotations

import numpy as np

from ._jit import njit, prange
from .aave import liquidate_pair, liquidate_position
from .comet import comet_step
from .liquity import liquity_step
from .llamma import llamma_step
from .maker import IK_PEEP, maker_step
from .oracles import oracle_peep
from .perp import perp_mark_init, perp_step
from .units import (
    ACC_BAD,
    ACC_BONUS,
    ACC_FEES,
    ACC_FUND_DRAW,
    ACC_GAS,
    ACC_LIQ_VALUE,
    ACC_NLIQ,
    ACC_REPAID,
    NACC,
)
from .cascade import _grow, marginal_proceeds
from .oracles import NSTATE, oracle_init, oracle_step
from .venues import best_venue as _best_venue
from .venues import (
    KIND,
    VENUE_CPMM,
    arbitrage,
    arbitrage_to_reference,
    route_sell,
    venue_apply_return,
    venue_decay,
    venue_spot,
)

MODE_MECHANICAL = 0
MODE_RATIONAL = 1

# per-path summary columns
SUM_NLIQ = 0
SUM_LIQ_VALUE = 1  # collateral seized, valued at the protocol (oracle) price
SUM_REPAID = 2
SUM_BAD = 3
SUM_FEES = 4
SUM_BONUS = 5  # liquidators' bonus at oracle prices
SUM_PROCEEDS = 6  # quote received from selling seized collateral
SUM_GAS = 7
SUM_SKIPPED = 8  # liquidatable-but-skipped position-steps
SUM_EV_LOST = 9  # events not recorded (buffer full)
SUM_FUND_DRAW = 10  # insurance fund / reserves / stability pool drawn by protocol units
NSUM = 11

# unit families and their row in ``umeta`` (proto_id, pos_offset, oracle whose next price the
# unit may read — Maker's OSM peep — or -1)
U_COMET = 0
U_LIQUITY = 1
U_PERP = 2
U_MAKER = 3
U_LLAMMA = 4
NUNIT = 5

# per-step recorded columns, per asset
ST_REF = 0
ST_SPOT = 1  # mean venue spot
ST_ORACLE = 2  # price protocol 0 acts on
ST_SEIZED = 3  # units seized in the step
ST_PROCEEDS = 4  # quote from sales
NST = 5
# per-step scalars
SS_NLIQ = 0
SS_REPAID = 1
SS_BAD = 2
NSS = 3


@njit
def _protocol_price(pr, a, stable, p_fixed, oracle_of, oprice, mean_spot):
    if stable[a]:
        return p_fixed[a]
    o = oracle_of[pr, a]
    if o >= 0:
        return oprice[o]
    return mean_spot[a]


@njit
def simulate_path(
    path, vs0, vdk0, vdq0, venue_asset, av_ptr, av_idx, arb_on, arb_thr, ref_on,
    o_kind, o_params, o_src_ptr, o_src,
    lt_pa, bonus_pa, pfee_pa, rules, oracle_of, stable, p_fixed,
    coll, debt, key, seg_ptr, seg_asset, seg_proto, seg_debt_asset,
    m_ptr, m_asset, m_coll0, m_debt0, m_proto,
    mode, gas, capital, max_per_step,
    summary, steps_asset, steps_scalar, record,
    ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid, ev_price, ev_exec, ev_bonus, ev_bad, ev_fee,
    out_coll, out_debt, out_mcoll, out_mdebt,
    dt_seconds, liq, umeta, comet_pack, liquity_pack, perp_pack, maker_pack, llamma_pack,
):
    """One path. Events of multi-asset position ``m`` carry ``position = N + m``; event
    ``bad_debt`` is a quote value. Returns the number of events recorded."""
    T = path.shape[0] - 1
    A = path.shape[1]
    V = vs0.shape[0]
    O = o_kind.shape[0]
    n_seg = seg_asset.shape[0]
    vs = vs0.copy()
    vdk = vdk0
    vdq = vdq0
    hist = np.zeros((max(V, 1), T + 1))
    ostate = np.zeros((max(O, 1), NSTATE))
    oprice = np.zeros(max(O, 1))
    mean_spot = np.zeros(A)
    for v in range(V):
        hist[v, 0] = venue_spot(vs, v)
    for a in range(A):
        mean_spot[a] = p_fixed[a]
    for o in range(O):
        src = o_src[o_src_ptr[o]:o_src_ptr[o + 1]]
        s = 0.0
        for j in range(src.shape[0]):
            s += hist[src[j], 0]
        p0 = s / src.shape[0] if src.shape[0] > 0 else 1.0
        oracle_init(o_kind[o], o_params[o], ostate[o], p0)
        oprice[o] = p0
    for k in range(NSUM):
        summary[k] = 0.0
    if perp_pack is not None:
        p0row = np.empty(A)
        for a in range(A):
            p0row[a] = _protocol_price(umeta[U_PERP, 0], a, stable, p_fixed, oracle_of, oprice,
                                       _mean_spots(vs, av_ptr, av_idx, stable, p_fixed))
        perp_mark_init(perp_pack, p0row, vs)
    acc = np.zeros(NACC)
    if record:
        for a in range(A):
            steps_asset[0, a, ST_REF] = path[0, a]
            steps_asset[0, a, ST_SPOT] = p_fixed[a] if stable[a] else _mean_spot(vs, av_ptr, av_idx, a)
            steps_asset[0, a, ST_ORACLE] = _protocol_price(0, a, stable, p_fixed, oracle_of, oprice, p_fixed)
            steps_asset[0, a, ST_SEIZED] = 0.0
            steps_asset[0, a, ST_PROCEEDS] = 0.0
        for k in range(NSS):
            steps_scalar[0, k] = 0.0
    n_ev = 0
    ev_cap = ev_step.shape[0]

    ptr = seg_ptr[:-1].copy()
    t_pos = np.empty(1024, np.int64)
    t_c = np.empty(1024)
    t_d = np.empty(1024)
    t_k = np.empty(1024)
    n_t = 0
    c_head = np.empty(64, np.int64)
    c_end = np.empty(64, np.int64)
    c_seg = np.empty(64, np.int64)
    n_c = 0
    sold = np.zeros(A)
    n_multi = m_proto.shape[0]
    n_simple = coll.shape[0]
    mc = m_coll0.copy()
    md = m_debt0.copy()
    m_open = np.ones(n_multi, np.bool_)
    P = lt_pa.shape[0]
    pprice = np.zeros((P, A))

    for t in range(1, T + 1):
        # 1. exogenous flow and impact decay
        for v in range(V):
            a = int(venue_asset[v])
            venue_apply_return(vs, v, path[t, a] / path[t - 1, a])
            venue_decay(vs, v)
        # 2. arbitrage
        for a in range(A):
            ids = av_idx[av_ptr[a]:av_ptr[a + 1]]
            if arb_on and ids.shape[0] > 1:
                arbitrage(vs, vdk, vdq, ids, arb_thr)
            if ref_on:
                for j in range(ids.shape[0]):
                    if int(vs[ids[j], KIND]) == VENUE_CPMM:
                        arbitrage_to_reference(vs, vdk, vdq, ids[j], path[t, a], arb_thr)
        # 3. oracles
        for v in range(V):
            hist[v, t] = venue_spot(vs, v)
        for a in range(A):
            mean_spot[a] = p_fixed[a] if stable[a] else _mean_spot(vs, av_ptr, av_idx, a)
        for o in range(O):
            oprice[o] = oracle_step(o_kind[o], o_params[o], o_src[o_src_ptr[o]:o_src_ptr[o + 1]], hist, t, ostate[o])
        for pr in range(P):
            for a in range(A):
                pprice[pr, a] = _protocol_price(pr, a, stable, p_fixed, oracle_of, oprice, mean_spot)
        # 4. liquidations
        for a in range(A):
            sold[a] = 0.0
        ev_first = n_ev
        step_n = 0
        step_repaid = 0.0
        step_bad = 0.0
        cap_left = capital
        # drop finished cohorts
        w = 0
        for k in range(n_c):
            if c_head[k] < c_end[k]:
                c_head[w] = c_head[k]
                c_end[w] = c_end[k]
                c_seg[w] = c_seg[k]
                w += 1
        n_c = w
        n_c0 = n_c
        full = False
        for src in range(n_c0 + n_seg):
            if full:
                break
            if src < n_c0:
                seg = c_seg[src]
                h = c_head[src]
                e = c_end[src]
            else:
                seg = src - n_c0
                h = ptr[seg]
                e = seg_ptr[seg + 1]
            head0 = h
            wr = h  # compaction write index for skipped store entries
            a = seg_asset[seg]
            pr = seg_proto[seg]
            da = seg_debt_asset[seg]
            pc = pprice[pr, a]
            pd = pprice[pr, da]
            ratio = pc / pd
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
                if not (kk > ratio):
                    break
                if max_per_step > 0 and step_n >= max_per_step:
                    full = True
                    break
                h += 1
                seize, repay, bad, fee, closed = liquidate_pair(c, d, pc, pd, lt, bonus, pfee, rules[pr])
                ok = repay > 0.0 or bad > 0.0
                if ok and repay * pd > cap_left:
                    ok = False
                if ok and mode == MODE_RATIONAL:
                    got = seize - fee
                    best = _best_venue(vs, av_ptr, av_idx, a)
                    proceeds = marginal_proceeds(vs, vdk, vdq, best, sold[a], got) if (best >= 0 and got > 0.0) else got * pc
                    if proceeds - repay * pd - gas <= 0.0:
                        ok = False
                if not ok:
                    summary[SUM_SKIPPED] += 1.0
                    if src < n_c0:
                        t_pos[wr] = i
                        t_c[wr] = c
                        t_d[wr] = d
                        t_k[wr] = kk
                        wr += 1
                        continue
                    # first skip of an untouched position: move it to the store
                else:
                    cap_left -= repay * pd
                    step_n += 1
                    c = c - seize
                    d = d - repay - bad
                    if closed:
                        if c < 0.0:
                            c = 0.0
                        if d < 0.0:
                            d = 0.0
                    sold[a] += seize
                    summary[SUM_NLIQ] += 1.0
                    summary[SUM_LIQ_VALUE] += seize * pc
                    summary[SUM_REPAID] += repay * pd
                    summary[SUM_BAD] += bad * pd
                    summary[SUM_FEES] += fee * pc
                    summary[SUM_BONUS] += (seize - fee) * pc - repay * pd
                    summary[SUM_GAS] += gas
                    step_repaid += repay * pd
                    step_bad += bad * pd
                    if record:
                        if n_ev < ev_cap:
                            ev_step[n_ev] = t
                            ev_pos[n_ev] = i
                            ev_proto[n_ev] = pr
                            ev_asset[n_ev] = a
                            ev_seized[n_ev] = seize
                            ev_repaid[n_ev] = repay
                            ev_price[n_ev] = pc
                            ev_exec[n_ev] = np.nan
                            ev_bonus[n_ev] = (seize - fee) * pc - repay * pd
                            ev_bad[n_ev] = bad * pd
                            ev_fee[n_ev] = fee
                            n_ev += 1
                        elif ev_cap > 0:
                            summary[SUM_EV_LOST] += 1.0
                    if closed or d <= 0.0:
                        if out_coll.shape[0] > 0:
                            out_coll[i] = c
                            out_debt[i] = d if d > 0.0 else 0.0
                        continue
                # still open: append to the store
                nk_ = d / (c * lt) if c > 0.0 else np.inf
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
                # skipped entries sit in [head0, wr); move them next to the unread rest [h, e)
                nskip = wr - head0
                for j in range(nskip - 1, -1, -1):
                    dst = h - nskip + j
                    t_pos[dst] = t_pos[head0 + j]
                    t_c[dst] = t_c[head0 + j]
                    t_d[dst] = t_d[head0 + j]
                    t_k[dst] = t_k[head0 + j]
                c_head[src] = h - nskip
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
        # multi-asset positions: scanned every step (exact, slower path)
        for m in range(n_multi):
            if full:
                break
            if not m_open[m]:
                continue
            if max_per_step > 0 and step_n >= max_per_step:
                break
            s0 = m_ptr[m]
            s1 = m_ptr[m + 1]
            pr = m_proto[m]
            save_c = mc[s0:s1].copy()
            save_d = md[s0:s1].copy()
            ec, ed, seize, repay, badv, fee, closed = liquidate_position(
                mc[s0:s1], md[s0:s1], m_asset[s0:s1], pprice[pr], lt_pa[pr], bonus_pa[pr], pfee_pa[pr], rules[pr])
            if ec < 0:
                continue
            a = m_asset[s0 + ec]
            pc = pprice[pr, a]
            pdj = pprice[pr, m_asset[s0 + ed]]
            ok = repay * pdj <= cap_left
            if ok and mode == MODE_RATIONAL:
                got = seize - fee
                best = _best_venue(vs, av_ptr, av_idx, a)
                proceeds = marginal_proceeds(vs, vdk, vdq, best, sold[a], got) if (best >= 0 and got > 0.0) else got * pc
                ok = proceeds - repay * pdj - gas > 0.0
            if not ok:
                mc[s0:s1] = save_c
                md[s0:s1] = save_d
                summary[SUM_SKIPPED] += 1.0
                continue
            cap_left -= repay * pdj
            step_n += 1
            if closed:
                m_open[m] = False
            sold[a] += seize
            summary[SUM_NLIQ] += 1.0
            summary[SUM_LIQ_VALUE] += seize * pc
            summary[SUM_REPAID] += repay * pdj
            summary[SUM_BAD] += badv
            summary[SUM_FEES] += fee * pc
            summary[SUM_BONUS] += (seize - fee) * pc - repay * pdj
            summary[SUM_GAS] += gas
            step_repaid += repay * pdj
            step_bad += badv
            if record:
                if n_ev < ev_cap:
                    ev_step[n_ev] = t
                    ev_pos[n_ev] = n_simple + m
                    ev_proto[n_ev] = pr
                    ev_asset[n_ev] = a
                    ev_seized[n_ev] = seize
                    ev_repaid[n_ev] = repay
                    ev_price[n_ev] = pc
                    ev_exec[n_ev] = np.nan
                    ev_bonus[n_ev] = (seize - fee) * pc - repay * pdj
                    ev_bad[n_ev] = badv
                    ev_fee[n_ev] = fee
                    n_ev += 1
                elif ev_cap > 0:
                    summary[SUM_EV_LOST] += 1.0
        # protocol units (Compound v3, Liquity, perps, Maker, crvUSD): each adds its sales to `sold`
        if comet_pack is not None:
            acc[:] = 0.0
            n_ev = comet_step(comet_pack, t, dt_seconds, pprice[umeta[U_COMET, 0]], vs, vdk, vdq, av_ptr, av_idx,
                              sold, acc, liq, ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid,
                              ev_price, ev_exec, ev_bonus, ev_bad, ev_fee, n_ev, umeta[U_COMET, 0], umeta[U_COMET, 1])
            step_n, step_repaid, step_bad = _take_acc(summary, acc, step_n, step_repaid, step_bad)
        if liquity_pack is not None:
            acc[:] = 0.0
            n_ev = liquity_step(liquity_pack, t, dt_seconds, pprice[umeta[U_LIQUITY, 0]], vs, vdk, vdq, av_ptr,
                                av_idx, sold, acc, liq, ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid,
                                ev_price, ev_exec, ev_bonus, ev_bad, ev_fee, n_ev, umeta[U_LIQUITY, 0],
                                umeta[U_LIQUITY, 1])
            step_n, step_repaid, step_bad = _take_acc(summary, acc, step_n, step_repaid, step_bad)
        if perp_pack is not None:
            acc[:] = 0.0
            n_ev = perp_step(perp_pack, t, dt_seconds, pprice[umeta[U_PERP, 0]], vs, vdk, vdq, av_ptr, av_idx,
                             sold, acc, liq, ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid,
                             ev_price, ev_exec, ev_bonus, ev_bad, ev_fee, n_ev, umeta[U_PERP, 0], umeta[U_PERP, 1])
            step_n, step_repaid, step_bad = _take_acc(summary, acc, step_n, step_repaid, step_bad)
        if maker_pack is not None:
            acc[:] = 0.0
            ilk = maker_pack[1]
            po = umeta[U_MAKER, 2]
            nxt = oracle_peep(ostate[po]) if po >= 0 else np.nan
            for i in range(ilk.shape[0]):
                ilk[i, IK_PEEP] = nxt
            n_ev = maker_step(maker_pack, t, dt_seconds, pprice[umeta[U_MAKER, 0]], vs, vdk, vdq, av_ptr, av_idx,
                              sold, acc, liq, ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid,
                              ev_price, ev_exec, ev_bonus, ev_bad, ev_fee, n_ev, umeta[U_MAKER, 0], umeta[U_MAKER, 1])
            step_n, step_repaid, step_bad = _take_acc(summary, acc, step_n, step_repaid, step_bad)
        if llamma_pack is not None:
            acc[:] = 0.0
            n_ev = llamma_step(llamma_pack, t, dt_seconds, pprice[umeta[U_LLAMMA, 0]], vs, vdk, vdq, av_ptr,
                               av_idx, sold, acc, liq, ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid,
                               ev_price, ev_exec, ev_bonus, ev_bad, ev_fee, n_ev, umeta[U_LLAMMA, 0],
                               umeta[U_LLAMMA, 1])
            step_n, step_repaid, step_bad = _take_acc(summary, acc, step_n, step_repaid, step_bad)
        # 5. sales, routed for best execution
        for a in range(A):
            proceeds = 0.0
            if sold[a] > 0.0:
                ids = av_idx[av_ptr[a]:av_ptr[a + 1]]
                if ids.shape[0] > 0:
                    r = route_sell(vs, vdk, vdq, ids, sold[a])
                    proceeds = r[0]
                else:
                    proceeds = sold[a] * p_fixed[a]
                summary[SUM_PROCEEDS] += proceeds
                if record:
                    px = proceeds / sold[a]
                    for j in range(ev_first, n_ev):
                        if ev_asset[j] == a and np.isnan(ev_exec[j]):
                            ev_exec[j] = px
            if record:
                steps_asset[t, a, ST_REF] = path[t, a]
                steps_asset[t, a, ST_SPOT] = p_fixed[a] if stable[a] else _mean_spot(vs, av_ptr, av_idx, a)
                steps_asset[t, a, ST_ORACLE] = pprice[0, a]
                steps_asset[t, a, ST_SEIZED] = sold[a]
                steps_asset[t, a, ST_PROCEEDS] = proceeds
        if record:
            steps_scalar[t, SS_NLIQ] = step_n
            steps_scalar[t, SS_REPAID] = step_repaid
            steps_scalar[t, SS_BAD] = step_bad
    if out_coll.shape[0] > 0:
        for k in range(n_c):
            for h in range(c_head[k], c_end[k]):
                out_coll[t_pos[h]] = t_c[h]
                out_debt[t_pos[h]] = t_d[h]
    if out_mcoll.shape[0] > 0:
        out_mcoll[:] = mc
        out_mdebt[:] = md
    return n_ev


@njit
def _take_acc(summary, acc, step_n, step_repaid, step_bad):
    """Add a unit's step accumulators to the path summary and the step counters."""
    summary[SUM_NLIQ] += acc[ACC_NLIQ]
    summary[SUM_LIQ_VALUE] += acc[ACC_LIQ_VALUE]
    summary[SUM_REPAID] += acc[ACC_REPAID]
    summary[SUM_BAD] += acc[ACC_BAD]
    summary[SUM_FEES] += acc[ACC_FEES]
    summary[SUM_BONUS] += acc[ACC_BONUS]
    summary[SUM_GAS] += acc[ACC_GAS]
    summary[SUM_FUND_DRAW] += acc[ACC_FUND_DRAW]
    return step_n + int(acc[ACC_NLIQ]), step_repaid + acc[ACC_REPAID], step_bad + acc[ACC_BAD]


@njit
def _mean_spots(vs, av_ptr, av_idx, stable, p_fixed):
    out = np.empty(stable.shape[0])
    for a in range(stable.shape[0]):
        out[a] = p_fixed[a] if stable[a] else _mean_spot(vs, av_ptr, av_idx, a)
    return out


@njit
def _mean_spot(vs, av_ptr, av_idx, a):
    n = av_ptr[a + 1] - av_ptr[a]
    if n == 0:
        return np.nan
    s = 0.0
    for j in range(av_ptr[a], av_ptr[a + 1]):
        s += venue_spot(vs, av_idx[j])
    return s / n


@njit(parallel=True)
def simulate_many(
    paths, vs0, vdk, vdq, venue_asset, av_ptr, av_idx, arb_on, arb_thr, ref_on,
    o_kind, o_params, o_src_ptr, o_src,
    lt_pa, bonus_pa, pfee_pa, rules, oracle_of, stable, p_fixed,
    coll, debt, key, seg_ptr, seg_asset, seg_proto, seg_debt_asset,
    m_ptr, m_asset, m_coll0, m_debt0, m_proto,
    mode, gas, capital, max_per_step,
):
    """Many paths of an Aave-rule scenario (no protocol units), summaries only (no events): the
    Monte Carlo workhorse. Scenarios with units run path by path (see engine.dynamic).

    Returns ``summary[P, NSUM]``, ``min_spot[P, A]`` and ``final_spot[P, A]`` (mean venue spot).
    """
    n_paths = paths.shape[0]
    T = paths.shape[1] - 1
    A = paths.shape[2]
    summary = np.zeros((n_paths, NSUM))
    min_spot = np.zeros((n_paths, A))
    final_spot = np.zeros((n_paths, A))
    umeta_none = np.full((NUNIT, 3), -1, np.int64)
    for p in prange(n_paths):
        steps_asset = np.zeros((T + 1, A, NST))
        steps_scalar = np.zeros((T + 1, NSS))
        e_i = np.zeros(0, np.int64)
        e_f = np.zeros(0)
        empty = np.zeros(0)
        simulate_path(
            paths[p], vs0, vdk, vdq, venue_asset, av_ptr, av_idx, arb_on, arb_thr, ref_on,
            o_kind, o_params, o_src_ptr, o_src,
            lt_pa, bonus_pa, pfee_pa, rules, oracle_of, stable, p_fixed,
            coll, debt, key, seg_ptr, seg_asset, seg_proto, seg_debt_asset,
            m_ptr, m_asset, m_coll0, m_debt0, m_proto,
            mode, gas, capital, max_per_step,
            summary[p], steps_asset, steps_scalar, True,
            e_i, e_i, e_i, e_i, e_f, e_f, e_f, e_f, e_f, e_f, e_f,
            empty, empty, empty, empty,
            60.0, empty, umeta_none, None, None, None, None, None,
        )
        for a in range(A):
            m = np.inf
            for t in range(T + 1):
                if steps_asset[t, a, ST_SPOT] < m:
                    m = steps_asset[t, a, ST_SPOT]
            min_spot[p, a] = m
            final_spot[p, a] = steps_asset[T, a, ST_SPOT]
    return summary, min_spot, final_spot
