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

Prevention mechanisms (:mod:`liqcascade.kernels.mechanisms`, rules in its docstring) act on the
Aave-rule positions through the trailing arguments ``mech`` (float pack, ``mech[M_ON] = 0``
switches them all off so the hot loop does not pay), ``mmask[NMECH, P]`` (which protocols each
applies to) and ``pos_ltm`` (per-position LT multiplier of the size tiers, already folded into
``key`` by the engine; empty = 1). Positions that are liquidatable but wait (paused, delayed,
cooling down, throttled, not yet profitable at the auction's bonus) stay in the store and are
re-examined every step. ``ag`` is the market-participant pack of :mod:`liqcascade.kernels.agents`
(``None`` = none); its hooks are called at fixed points of the step.
"""

from __future__ import annotations

import numpy as np

from ._jit import njit, prange
from ..protocols.aave.kernel import liquidate_pair, liquidate_position
from ..protocols.comet.kernel import comet_step
from ..protocols.liquity.kernel import liquity_step
from ..protocols.llamma.kernel import llamma_step
from ..protocols.maker.kernel import IK_PEEP, maker_step
from ..oracles.dispatch import oracle_peep
from ..protocols.perp.kernel import perp_mark_init, perp_step
from ..protocols.kernel import (
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
from .agents import (
    BO_ON,
    BO_REACT,
    agents_borrower,
    agents_finish,
    agents_flow,
    agents_gas_multiple,
    agents_latency,
    agents_note_liquidation,
    agents_note_topup,
    agents_post_sales,
    agents_pre_sales,
    agents_priority,
)
from .cascade import _grow, marginal_proceeds
from .mechanisms import (
    M_BA_MAX, M_BA_ON, M_BP_CAP, M_BP_DISC, M_BP_ON, M_CB_EXEMPT, M_CB_GRACE, M_CB_ON, M_CB_PAUSE,
    M_CB_THR, M_CB_WIN, M_DA_MAX, M_DA_ON, M_DA_START, M_DA_STEPS, M_DM_BUF, M_DM_CONG, M_DM_HAIR,
    M_DM_K, M_DM_MIN, M_DM_ON, M_DM_VREF, M_DM_WIN, M_DT, M_IF_ON, M_IF_SHARE, M_IF_SIZE, M_ON,
    M_PA_COOL, M_PA_ON, M_RE_ON, M_RE_WIN, M_SEED, M_TH_DEBT, M_TH_ON, M_TH_SLIP, M_TH_WIN,
    M_TW_ON, M_TW_SLICES, M_VF_K, M_VF_MAX, M_VF_ON, M_VF_VREF, M_VF_WIN, MK_BA, MK_CB,
    MK_DA, MK_DM, MK_PA, MK_RE, MK_TH, MK_VF, NMECH, NMECH_PARAMS, DEPTH_REF_SLIPPAGE,
    account_liquidation, breaker_step, depth_units, dutch_bonus, lt_multiplier, multi_hf, pool_buy,
    random_delay, realized_vol, ring_advance, room_share, scale_liquidation, twap_left, twap_pop,
    twap_push, vol_fee_bonus, window_fall,
)
from ..oracles.dispatch import oracle_init, oracle_step
from ..oracles.kernel import NSTATE
from ..venues.dispatch import best_venue as _best_venue
from ..venues.dispatch import (
    arbitrage,
    arbitrage_to_reference,
    route_sell,
    venue_apply_return,
    venue_decay,
    venue_spot,
)
from ..venues.kernel import KIND, VENUE_CPMM

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
SUM_FUND_DRAW = 10  # insurance fund / reserves / stability pool drawn (units; [mechanisms.insurance_fund])
SUM_SOCIALIZED = 11  # Aave-rule bad debt socialized to lenders (not covered by an insurance fund), quote
SUM_NPOS_LIQ = 12  # distinct Aave-rule positions liquidated at least once
SUM_DISLOCATION = 13  # steps with the mean venue spot of a risky asset > 1 % below the reference path
SUM_PAUSED = 14  # steps with liquidations paused by the circuit breaker (pause, not grace)
SUM_HELD_VALUE = 15  # collateral held unsold (TWAP exit queue, buffer pool holdings) at the final spot
SUM_BORROWER_LOSS = 16  # Aave-rule: collateral seized at the oracle price − debt repaid, quote
SUM_ATTACKER_PNL = 17  # agents (kernels.agents): hunter and front-runner PnL
SUM_PRIORITY = 18  # agents: priority fees paid by liquidators
SUM_TOPUP = 19  # agents: collateral added / debt repaid by reacting borrowers
NSUM = 20
DISLOCATION = 0.01  # SUM_DISLOCATION threshold

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
    mech=None, mmask=None, pos_ltm=None, path_id=0, ag=None,
):
    """One path. Events of multi-asset position ``m`` carry ``position = N + m``; event
    ``bad_debt`` is a quote value. Returns the number of events recorded.

    Trailing arguments (all optional, "off" by default): ``mech``/``mmask``/``pos_ltm``, the
    prevention mechanisms (see the module docstring); ``path_id``, the path's index in the run
    (random execution hashes it); ``ag``, the agents' pack (copied, never modified)."""
    T = path.shape[0] - 1
    A = path.shape[1]
    V = vs0.shape[0]
    O = o_kind.shape[0]
    n_seg = seg_asset.shape[0]
    P = lt_pa.shape[0]
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
    seized_a = np.zeros(A)
    n_multi = m_proto.shape[0]
    n_simple = coll.shape[0]
    mc = m_coll0.copy()
    md = m_debt0.copy()
    m_open = np.ones(n_multi, np.bool_)
    pprice = np.zeros((P, A))
    pos_last = np.full(n_simple + n_multi, -1, np.int64)  # last step liquidated (-1: never)

    # ---- mechanisms and agents: state (sized 0/1 when off) ----
    if mech is None:
        mp = np.zeros(NMECH_PARAMS)
    else:
        mp = mech
    if mmask is None:
        mk = np.zeros((NMECH, max(P, 1)), np.int64)
    else:
        mk = mmask
    if pos_ltm is None:
        ltm = np.zeros(0)
    else:
        ltm = pos_ltm
    if ag is not None:
        agp = ag.copy()
    else:
        agp = np.zeros(0)
    mon = mp[M_ON] > 0.0
    cb_on = mon and mp[M_CB_ON] > 0.0
    th_on = mon and mp[M_TH_ON] > 0.0
    tw_on = mon and mp[M_TW_ON] > 0.0
    bp_on = mon and mp[M_BP_ON] > 0.0
    if_on = mon and mp[M_IF_ON] > 0.0
    da_on = mon and mp[M_DA_ON] > 0.0
    pa_on = mon and mp[M_PA_ON] > 0.0
    dm_on = mon and mp[M_DM_ON] > 0.0
    re_on = mon and mp[M_RE_ON] > 0.0
    ba_on = mon and mp[M_BA_ON] > 0.0
    vf_on = mon and mp[M_VF_ON] > 0.0
    has_ltm = ltm.shape[0] > 0
    need_first = da_on or re_on or (ag is not None)
    pos_first = np.full(n_simple + n_multi if need_first else 0, -1, np.int64)
    need_hist = cb_on or dm_on or vf_on
    phist = np.zeros((T + 1 if need_hist else 1, P, A))
    mmult = np.ones((P, A))  # dynamic-margin LT multiplier
    volvf = np.zeros((P, A))  # volatility-fee realized vol
    bon = bonus_pa.copy()  # bonus in force (volatility fee)
    cb_state = np.zeros((P, 2), np.int64)
    restricted = np.zeros(P, np.bool_)
    bcount = np.zeros(P, np.int64)
    th_win = int(mp[M_TH_WIN]) if th_on else 1
    th_ring = np.zeros(max(th_win, 1))
    th_used = 0.0
    th_sold = np.zeros(A)
    depth_cap = np.zeros(A)
    tw_slices = int(mp[M_TW_SLICES]) if tw_on else 1
    tw_ring = np.zeros((max(tw_slices, 1), A))
    tw_q = np.zeros(A)
    bp_q = np.zeros(A)
    tb_q = np.zeros(A)  # seized by protocols under both the TWAP exit and the buffer pool
    bp_q_step = np.zeros(A)
    bp_v = np.zeros(A)
    bp_units = np.zeros(A)
    bp_cap = mp[M_BP_CAP]
    fund = mp[M_IF_SIZE]
    depth0 = np.zeros(A)
    lt_row = np.zeros(A)
    bn_row = np.zeros(A)
    ones_a = np.ones(A)
    seed_u = int(mp[M_SEED])
    if need_hist:
        ms0 = _mean_spots(vs, av_ptr, av_idx, stable, p_fixed)
        for pr in range(P):
            for a in range(A):
                phist[0, pr, a] = _protocol_price(pr, a, stable, p_fixed, oracle_of, oprice, ms0)
    if dm_on and mp[M_DM_HAIR] > 0.0:
        for a in range(A):
            if not stable[a]:
                depth0[a] = depth_units(vs, vdk, vdq, av_ptr, av_idx, a, DEPTH_REF_SLIPPAGE) * _mean_spot(vs, av_ptr, av_idx, a)
    gas_t = gas
    lat = 0
    bo_react = 0.0
    if ag is not None:
        if agp[BO_ON] > 0.0:
            bo_react = agp[BO_REACT]
    bo_on = bo_react > 0.0

    for t in range(1, T + 1):
        # 1. exogenous flow and impact decay
        for v in range(V):
            a = int(venue_asset[v])
            venue_apply_return(vs, v, path[t, a] / path[t - 1, a])
            venue_decay(vs, v)
        if ag is not None:
            agents_flow(agp, t, path, vs, vdk, vdq, av_ptr, av_idx, summary)
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
        if ag is not None:
            gas_t = gas * agents_gas_multiple(agp, t)
            lat = agents_latency(agp)
        if mon:
            if need_hist:
                for pr in range(P):
                    for a in range(A):
                        phist[t, pr, a] = pprice[pr, a]
            for pr in range(P):
                bcount[pr] = 0
            if cb_on:
                any_paused = False
                for pr in range(P):
                    if mk[MK_CB, pr] == 0:
                        continue
                    fall = 0.0
                    for a in range(A):
                        if not stable[a] and lt_pa[pr, a] > 0.0:  # the protocol's collateral assets
                            f = window_fall(phist, t, pr, a, int(mp[M_CB_WIN]))
                            if f > fall:
                                fall = f
                    paused, restr = breaker_step(cb_state, pr, t, fall, mp[M_CB_THR], int(mp[M_CB_PAUSE]),
                                                 int(mp[M_CB_GRACE]))
                    restricted[pr] = restr
                    if paused:
                        any_paused = True
                if any_paused:
                    summary[SUM_PAUSED] += 1.0
            if dm_on:
                gm = 1.0
                if ag is not None:
                    gm = agents_gas_multiple(agp, t)
                for a in range(A):
                    if stable[a]:
                        continue
                    lost = 0.0
                    if depth0[a] > 0.0:
                        dnow = depth_units(vs, vdk, vdq, av_ptr, av_idx, a, DEPTH_REF_SLIPPAGE) * mean_spot[a]
                        lost = 1.0 - dnow / depth0[a]
                    for pr in range(P):
                        if mk[MK_DM, pr] != 0:
                            vol = realized_vol(phist, t, pr, a, int(mp[M_DM_WIN]), mp[M_DT])
                            mmult[pr, a] = lt_multiplier(vol, mp[M_DM_VREF], mp[M_DM_K], gm, mp[M_DM_CONG], lost,
                                                         mp[M_DM_HAIR], mp[M_DM_BUF], mp[M_DM_MIN])
            if vf_on:
                for pr in range(P):
                    if mk[MK_VF, pr] == 0:
                        continue
                    for a in range(A):
                        if not stable[a]:
                            volvf[pr, a] = realized_vol(phist, t, pr, a, int(mp[M_VF_WIN]), mp[M_DT])
                            bon[pr, a] = vol_fee_bonus(bonus_pa[pr, a], volvf[pr, a], mp[M_VF_K], mp[M_VF_VREF],
                                                       mp[M_VF_MAX])
            if th_on:
                th_used = ring_advance(th_ring, th_used, t)
                for a in range(A):
                    th_sold[a] = 0.0
                    if mp[M_TH_SLIP] > 0.0:
                        if stable[a] or av_ptr[a + 1] == av_ptr[a]:
                            depth_cap[a] = np.inf  # sold at a fixed price: no book to protect
                        else:
                            depth_cap[a] = depth_units(vs, vdk, vdq, av_ptr, av_idx, a, mp[M_TH_SLIP])
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
            a = seg_asset[seg]
            pr = seg_proto[seg]
            da = seg_debt_asset[seg]
            pc = pprice[pr, a]
            pd = pprice[pr, da]
            ratio = pc / pd
            lt0 = lt_pa[pr, a]  # the key's LT (size tiers folded in by the engine)
            lt = lt0
            bonus = bonus_pa[pr, a]
            pfee = pfee_pa[pr, a]
            thr = ratio  # liquidatable now iff key > thr
            thr_hf = ratio  # a position's HF is thr_hf / key
            ba_here = False
            if mon:
                mm = mmult[pr, a]
                thr = ratio * mm
                thr_hf = thr
                lt = lt0 * mm
                bonus = bon[pr, a]
                ba_here = ba_on and mk[MK_BA, pr] != 0
                if ba_here and bcount[pr] >= int(mp[M_BA_MAX]):
                    continue  # batch full: everything waits where it is
                if cb_on and mk[MK_CB, pr] != 0 and restricted[pr]:
                    ex = mp[M_CB_EXEMPT]
                    if ex <= 0.0:
                        thr = np.inf  # paused: nothing is liquidatable
                    elif thr_hf / ex > thr:
                        thr = thr_hf / ex  # only HF = thr_hf/key < exempt_hf
            thr_scan = thr  # positions read: key > thr_scan (reactive borrowers: HF < react_hf)
            if bo_on and thr_hf / bo_react < thr_scan:
                thr_scan = thr_hf / bo_react
            if thr_scan == np.inf:
                continue  # everything waits where it is
            head0 = h
            wr = h  # compaction write index for skipped store entries
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
                if not (kk > thr_scan):
                    break
                if max_per_step > 0 and step_n >= max_per_step:
                    full = True
                    break
                if ba_here and bcount[pr] >= int(mp[M_BA_MAX]):
                    break
                h += 1
                ok = True
                ltp = lt
                bon_i = bonus
                if bo_on:
                    cs_, ds_ = agents_borrower(agp, i, t, thr_hf / kk)
                    if cs_ != 1.0 or ds_ != 1.0:
                        agents_note_topup(agp, c * (cs_ - 1.0) * pc + d * (1.0 - ds_) * pd)
                        c = c * cs_
                        d = d * ds_
                        kk = d / (c * (lt0 * ltm[i])) if has_ltm else d / (c * lt0)
                    if not (kk > thr):
                        ok = False  # not liquidatable now: back to the store (not a skip)
                if ok and need_first:
                    if pos_first[i] < 0:
                        pos_first[i] = t
                    age = t - pos_first[i]
                    if ag is not None and age < lat:
                        ok = False
                    if re_on and mk[MK_RE, pr] != 0 and age < random_delay(seed_u, path_id, i, int(mp[M_RE_WIN])):
                        ok = False
                    if da_on and mk[MK_DA, pr] != 0:
                        bon_i = dutch_bonus(mp[M_DA_START], mp[M_DA_MAX], int(mp[M_DA_STEPS]), age)
                        if vf_on and mk[MK_VF, pr] != 0:
                            bon_i = vol_fee_bonus(bon_i, volvf[pr, a], mp[M_VF_K], mp[M_VF_VREF], mp[M_VF_MAX])
                if mon:
                    if has_ltm:
                        ltp = lt * ltm[i]
                    if pa_on and mk[MK_PA, pr] != 0 and pos_last[i] >= 0 and t - pos_last[i] <= int(mp[M_PA_COOL]):
                        ok = False
                seize = 0.0
                repay = 0.0
                bad = 0.0
                fee = 0.0
                closed = False
                if ok:
                    seize, repay, bad, fee, closed = liquidate_pair(c, d, pc, pd, ltp, bon_i, pfee, rules[pr])
                    ok = repay > 0.0 or bad > 0.0
                if ok and th_on and mk[MK_TH, pr] != 0:
                    sh = 1.0
                    if mp[M_TH_DEBT] > 0.0:
                        sh = room_share(mp[M_TH_DEBT] - th_used, repay * pd)
                    if mp[M_TH_SLIP] > 0.0:
                        s2 = room_share(depth_cap[a] - th_sold[a], seize)
                        if s2 < sh:
                            sh = s2
                    if sh <= 0.0:
                        ok = False
                    elif sh < 1.0:
                        seize, repay, bad, fee, closed = scale_liquidation(seize, repay, bad, fee, closed, sh)
                if ok and repay * pd > cap_left:
                    ok = False
                profit = 0.0
                if ok and mode == MODE_RATIONAL:
                    got = seize - fee
                    best = _best_venue(vs, av_ptr, av_idx, a)
                    proceeds = marginal_proceeds(vs, vdk, vdq, best, sold[a], got) if (best >= 0 and got > 0.0) else got * pc
                    profit = proceeds - repay * pd - gas_t
                    if profit <= 0.0:
                        ok = False
                if not ok:
                    if kk > thr:
                        summary[SUM_SKIPPED] += 1.0
                    if src < n_c0 and c == t_c[h - 1] and d == t_d[h - 1]:
                        t_pos[wr] = i
                        t_c[wr] = c
                        t_d[wr] = d
                        t_k[wr] = kk
                        wr += 1
                        continue
                    # first skip of an untouched position (or a changed one): move it to the store
                    nk_ = kk
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
                    summary[SUM_GAS] += gas_t
                    summary[SUM_BORROWER_LOSS] += seize * pc - repay * pd
                    if pos_last[i] < 0:
                        summary[SUM_NPOS_LIQ] += 1.0
                    pos_last[i] = t
                    step_repaid += repay * pd
                    step_bad += bad * pd
                    if ag is not None:
                        if mode == MODE_RATIONAL:
                            summary[SUM_PRIORITY] += agents_priority(agp, profit)
                        agents_note_liquidation(agp, t)
                    if mon:
                        if ba_here:
                            bcount[pr] += 1
                        th_add, fund, drawn, soc = account_liquidation(
                            mk, pr, a, t, seize, repay * pd, bad * pd, fee * pc, seize * pc, th_on, bp_on, tw_on,
                            if_on, mp[M_IF_SHARE], th_ring, th_sold, bp_q, bp_v, tw_q, tb_q, fund)
                        th_used += th_add
                        summary[SUM_FUND_DRAW] += drawn
                        summary[SUM_SOCIALIZED] += soc
                    else:
                        summary[SUM_SOCIALIZED] += bad * pd
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
                    if has_ltm:
                        nk_ = d / (c * (lt0 * ltm[i])) if c > 0.0 else np.inf
                    else:
                        nk_ = d / (c * lt0) if c > 0.0 else np.inf
                # still open: append to the store
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
            im = n_simple + m
            lt_use = lt_pa[pr]
            bn_use = bonus_pa[pr]
            waits = False
            if mon or ag is not None:
                if mon and ba_on and mk[MK_BA, pr] != 0 and bcount[pr] >= int(mp[M_BA_MAX]):
                    continue
                sc_ = ltm[im] if has_ltm else 1.0
                for a in range(A):
                    lt_row[a] = lt_pa[pr, a] * mmult[pr, a] * sc_
                    bn_row[a] = bon[pr, a]
                lt_use = lt_row
                bn_use = bn_row
                hf = multi_hf(mc[s0:s1], md[s0:s1], m_asset[s0:s1], pprice[pr], lt_row, ones_a)
                if bo_on and hf < bo_react:
                    cs_, ds_ = agents_borrower(agp, im, t, hf)
                    if cs_ != 1.0 or ds_ != 1.0:
                        val = 0.0
                        for e_ in range(s0, s1):
                            val += mc[e_] * (cs_ - 1.0) * pprice[pr, m_asset[e_]]
                            val += md[e_] * (1.0 - ds_) * pprice[pr, m_asset[e_]]
                            mc[e_] *= cs_
                            md[e_] *= ds_
                        agents_note_topup(agp, val)
                        hf = multi_hf(mc[s0:s1], md[s0:s1], m_asset[s0:s1], pprice[pr], lt_row, ones_a)
                if not (hf < 1.0):
                    continue
                if need_first:
                    if pos_first[im] < 0:
                        pos_first[im] = t
                    age = t - pos_first[im]
                    if ag is not None and age < lat:
                        waits = True
                    if re_on and mk[MK_RE, pr] != 0 and age < random_delay(seed_u, path_id, im, int(mp[M_RE_WIN])):
                        waits = True
                    if da_on and mk[MK_DA, pr] != 0:
                        b_ = dutch_bonus(mp[M_DA_START], mp[M_DA_MAX], int(mp[M_DA_STEPS]), age)
                        for a in range(A):
                            bn_row[a] = vol_fee_bonus(b_, volvf[pr, a], mp[M_VF_K], mp[M_VF_VREF], mp[M_VF_MAX]) \
                                if (vf_on and mk[MK_VF, pr] != 0) else b_
                if cb_on and mk[MK_CB, pr] != 0 and restricted[pr] and not (hf < mp[M_CB_EXEMPT]):
                    waits = True
                if pa_on and mk[MK_PA, pr] != 0 and pos_last[im] >= 0 and t - pos_last[im] <= int(mp[M_PA_COOL]):
                    waits = True
            if waits:
                summary[SUM_SKIPPED] += 1.0
                continue
            save_c = mc[s0:s1].copy()
            save_d = md[s0:s1].copy()
            ec, ed, seize, repay, badv, fee, closed = liquidate_position(
                mc[s0:s1], md[s0:s1], m_asset[s0:s1], pprice[pr], lt_use, bn_use, pfee_pa[pr], rules[pr])
            if ec < 0:
                continue
            a = m_asset[s0 + ec]
            pc = pprice[pr, a]
            pdj = pprice[pr, m_asset[s0 + ed]]
            ok = repay * pdj <= cap_left
            if ok and th_on and mk[MK_TH, pr] != 0:
                if mp[M_TH_DEBT] > 0.0 and repay * pdj > mp[M_TH_DEBT] - th_used:
                    ok = False
                if mp[M_TH_SLIP] > 0.0 and seize > depth_cap[a] - th_sold[a]:
                    ok = False
            profit = 0.0
            if ok and mode == MODE_RATIONAL:
                got = seize - fee
                best = _best_venue(vs, av_ptr, av_idx, a)
                proceeds = marginal_proceeds(vs, vdk, vdq, best, sold[a], got) if (best >= 0 and got > 0.0) else got * pc
                profit = proceeds - repay * pdj - gas_t
                ok = profit > 0.0
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
            summary[SUM_GAS] += gas_t
            summary[SUM_BORROWER_LOSS] += seize * pc - repay * pdj
            if pos_last[im] < 0:
                summary[SUM_NPOS_LIQ] += 1.0
            pos_last[im] = t
            step_repaid += repay * pdj
            step_bad += badv
            if ag is not None:
                if mode == MODE_RATIONAL:
                    summary[SUM_PRIORITY] += agents_priority(agp, profit)
                agents_note_liquidation(agp, t)
            if mon:
                if ba_on and mk[MK_BA, pr] != 0:
                    bcount[pr] += 1
                th_add, fund, drawn, soc = account_liquidation(
                    mk, pr, a, t, seize, repay * pdj, badv, fee * pc, seize * pc, th_on, bp_on, tw_on,
                    if_on, mp[M_IF_SHARE], th_ring, th_sold, bp_q, bp_v, tw_q, tb_q, fund)
                th_used += th_add
                summary[SUM_FUND_DRAW] += drawn
                summary[SUM_SOCIALIZED] += soc
            else:
                summary[SUM_SOCIALIZED] += badv
            if record:
                if n_ev < ev_cap:
                    ev_step[n_ev] = t
                    ev_pos[n_ev] = im
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
        # 5. sales, routed for best execution (after the buffer pool and the TWAP exit queue)
        for a in range(A):
            seized_a[a] = sold[a]
        if mon and (bp_on or tw_on):
            for a in range(A):
                q_pool = 0.0
                bp_q_step[a] = bp_q[a]
                if bp_on and bp_q[a] > 0.0:
                    q_pool, paid = pool_buy(bp_q[a], bp_v[a], bp_cap, mp[M_BP_DISC])
                    bp_cap -= paid
                    bp_units[a] += q_pool
                    bp_v[a] = paid  # quote the pool paid this step
                    sold[a] = sold[a] - q_pool if sold[a] > q_pool else 0.0
                else:
                    bp_v[a] = 0.0
                bp_q[a] = q_pool  # units the pool bought this step
                if tw_on:
                    # the pool buys pro rata from what its protocols seized; only its purchases
                    # from protocols that also exit by TWAP leave the TWAP queue
                    from_tw = 0.0
                    if q_pool > 0.0 and tb_q[a] > 0.0:
                        from_tw = q_pool * (tb_q[a] / bp_q_step[a])
                    tin = tw_q[a] - from_tw
                    if tin > sold[a]:
                        tin = sold[a]
                    if tin > 0.0:
                        sold[a] -= tin
                        twap_push(tw_ring, t, a, tin, tw_slices)
                    sold[a] += twap_pop(tw_ring, t, a)
                    tw_q[a] = 0.0
                    tb_q[a] = 0.0
        if ag is not None:
            agents_pre_sales(agp, sold, vs, vdk, vdq, av_ptr, av_idx, summary)
        for a in range(A):
            proceeds = 0.0
            pq = 0.0
            pquote = 0.0
            if mon and bp_on:
                pq = bp_q[a]
                pquote = bp_v[a]
                bp_q[a] = 0.0
                bp_v[a] = 0.0
            if sold[a] > 0.0:
                ids = av_idx[av_ptr[a]:av_ptr[a + 1]]
                if ids.shape[0] > 0:
                    r = route_sell(vs, vdk, vdq, ids, sold[a])
                    proceeds = r[0]
                else:
                    proceeds = sold[a] * p_fixed[a]
            if sold[a] > 0.0 or pq > 0.0:
                summary[SUM_PROCEEDS] += proceeds + pquote
                if record:
                    px = (proceeds + pquote) / (sold[a] + pq)
                    for j in range(ev_first, n_ev):
                        if ev_asset[j] == a and np.isnan(ev_exec[j]):
                            ev_exec[j] = px
            if record:
                steps_asset[t, a, ST_PROCEEDS] = proceeds + pquote
        if ag is not None:
            agents_post_sales(agp, sold, vs, vdk, vdq, av_ptr, av_idx, summary)
        dislocated = False
        for a in range(A):
            sp_a = p_fixed[a] if stable[a] else _mean_spot(vs, av_ptr, av_idx, a)
            if not stable[a] and sp_a < (1.0 - DISLOCATION) * path[t, a]:
                dislocated = True
            if record:
                steps_asset[t, a, ST_REF] = path[t, a]
                steps_asset[t, a, ST_SPOT] = sp_a
                steps_asset[t, a, ST_ORACLE] = pprice[0, a]
                steps_asset[t, a, ST_SEIZED] = seized_a[a]
        if dislocated:
            summary[SUM_DISLOCATION] += 1.0
        if record:
            steps_scalar[t, SS_NLIQ] = step_n
            steps_scalar[t, SS_REPAID] = step_repaid
            steps_scalar[t, SS_BAD] = step_bad
    if mon and (bp_on or tw_on):
        for a in range(A):
            held = bp_units[a] + twap_left(tw_ring, a)
            if held > 0.0:
                summary[SUM_HELD_VALUE] += held * (p_fixed[a] if stable[a] else _mean_spot(vs, av_ptr, av_idx, a))
    if ag is not None:
        agents_finish(agp, vs, vdk, vdq, av_ptr, av_idx, summary)
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
    mech=None, mmask=None, pos_ltm=None, path0=0, ag=None,
):
    """Many paths of an Aave-rule scenario (no protocol units), summaries only (no events): the
    Monte Carlo workhorse. Scenarios with units run path by path (see engine.dynamic).
    ``mech``/``mmask``/``pos_ltm``/``ag`` as in :func:`simulate_path`; path ``p`` of ``paths``
    is path ``path0 + p`` of the run.

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
            mech, mmask, pos_ltm, path0 + p, ag,
        )
        for a in range(A):
            m = np.inf
            for t in range(T + 1):
                if steps_asset[t, a, ST_SPOT] < m:
                    m = steps_asset[t, a, ST_SPOT]
            min_spot[p, a] = m
            final_spot[p, a] = steps_asset[T, a, ST_SPOT]
    return summary, min_spot, final_spot
