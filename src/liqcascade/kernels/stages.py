"""The stages of one step of the time loop (:func:`liqcascade.kernels.dynamic.simulate_path`).

Each stage is a compiled function over the named layouts of :mod:`liqcascade.kernels.layouts`;
its docstring says what it reads, what it writes and in which order, precisely enough to write
an independent twin from it. Notation: ``t`` the step (1 … T), ``path[T+1, A]`` the reference
price path, ``st`` the path's :class:`~liqcascade.kernels.layouts.State`, ``mst`` its
:class:`~liqcascade.kernels.layouts.MechState`, ``out`` its
:class:`~liqcascade.kernels.layouts.Out`, ``ev`` its event buffer
(:class:`~liqcascade.kernels.events.Events`), ``store`` its store of touched positions
(:class:`~liqcascade.kernels.store.Store`).

One step, in order::

    move_market            exogenous flow, impact decay, agents' flow, arbitrage
    read_oracles           venue spots → oracles → the price each protocol acts on
    mechanisms_before      agents' gas and latency; breaker, dynamic margin, volatility fee, throttle
    open_step              reset the step's sales and counters
    liquidate_books        Aave-rule single-pair positions (store cohorts, then segment heads)
    liquidate_multi_asset  Aave-rule multi-asset positions (scanned)
    step_units             protocol units: Compound v3, Liquity, perps, Maker, crvUSD
    route_sales            buffer pool, TWAP exit, front-runner, routed sales, execution prices
    record                 dislocation count and the step's records

Implementation rule: every stage binds the layout fields it uses to local names at its top and
never reads ``layout.field[...]`` inside a loop. numba pays a reference-count increment and
decrement (atomic) on each field read of a tuple argument it cannot prove redundant; a local
bound once costs one pair per call.

Variants (:mod:`liqcascade.kernels.dynamic`): in the lean loop ``mechs`` is None (and the
MechState ``mst`` with it); a stage keeps the code of the mechanisms, the loop's agents, interest
rates and multi-asset positions under ``mechs is not None`` (``full = mechs is not None``), which
numba removes before typing when ``mechs`` is None. An inlined stage must receive the loop's own
``mechs`` argument for that test to resolve, so it takes an ownerless view of it itself
(``me = borrow(mechs)``) before its hot loop passes the arrays on. In the full loop the branches
stay (the test is a constant there): a variable must never be None on one branch and a layout on
the other, or numba types it as an optional.

Prices: ``pprice[pr, a]`` is what protocol ``pr`` acts on: ``p_fixed[a]`` for a stable asset,
else its oracle ``oprice[of[pr, a]]``, else (``of = -1``) the mean venue spot of the asset.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._jit import internal, njit
from .borrow import borrow, keep

#: decorator of the small per-step stages: compiled into the loop itself (numba IR inlining), so a
#: step does not pass the layouts to them as call arguments (hundreds of words per call)
inlined = njit(inline="always", no_cpython_wrapper=True, no_cfunc_wrapper=True)
from ..protocols.aave.kernel import liquidate_pair, liquidate_position
from ..agents.borrowers.kernel import agents_borrower, agents_note_topup
from ..agents.gas_auction.kernel import agents_gas_multiple, agents_latency, agents_note_liquidation, agents_priority
from ..agents.hooks import agents_finish, agents_flow, agents_post_sales, agents_pre_sales
from ..agents.kernel import BO_ON, BO_REACT
from .cascade import marginal_proceeds
from .accrual import rates_after_scan, rates_borrowers_repaid, rates_cap, rates_segment_price
from ..protocols.comet.kernel import comet_step
from .events import EV_LIMIT, EV_N, ev_push
from .layouts import (
    MODE_RATIONAL, MS_FUND, MS_TH_USED, NSS, NST, SC_BAD, SC_CAP_LEFT, SC_EV_FIRST, SC_FULL, SC_GAS, SC_LAT,
    SC_BO_REPAID, SC_N, SC_PATH, SC_REPAID, SS_BAD, SS_NLIQ, SS_REPAID, ST_ORACLE, ST_PROCEEDS, ST_REF, ST_SEIZED,
    ST_SPOT, SUM_BORROWER_LOSS, SUM_DISL_FIRST, SUM_DISL_LAST, SUM_DISLOCATION, SUM_EV_LOST, SUM_MAX_MOVE,
    SUM_FUND_DRAW, SUM_GAS, SUM_HELD_VALUE, SUM_NPOS_LIQ,
    SUM_PAUSED, SUM_PRIORITY, SUM_PROCEEDS, SUM_SKIPPED, SUM_SOCIALIZED, DISLOCATION, U_COMET, U_LIQUITY,
    U_LLAMMA, U_MAKER, U_PERP, UM_OFFSET, UM_PEEP, UM_PROTO,
)
from ..protocols.liquity.kernel import liquity_step
from ..protocols.llamma.kernel import llamma_step
from ..protocols.maker.kernel import IK_PEEP, maker_step
from ..mechanisms.batch.kernel import batch_held, batch_sales
from ..mechanisms.circuit_breaker.kernel import breaker_before
from ..mechanisms.dutch_auction.kernel import dutch_bonus
from ..mechanisms.dynamic_margin.kernel import dynamic_margin_before, tier_in_force
from ..mechanisms.buffer_pool.kernel import pool_take
from ..mechanisms.hooks import account_liquidation, held_units, queue_sales
from ..mechanisms.kernel import (
    M_CB_EXEMPT, M_DM_RAMP, M_DA_MAX, M_DA_START, M_DA_STEPS, M_IF_SHARE, M_RE_WIN, M_SEED,
    M_TH_DEBT, M_TH_SLIP, M_VF_K, M_VF_MAX, M_VF_VREF, MK_BA, MK_CB, MK_DA, MK_RE, MK_TH, MK_VF,
    BA_STEP, mechanisms_on, multi_hf,
)
from ..mechanisms.partial.kernel import cooldown_holds
from ..mechanisms.random_execution.kernel import random_delay
from ..mechanisms.throttle.kernel import room_share, scale_liquidation, throttle_before
from ..mechanisms.volatility_bonus.kernel import vol_fee_bonus, volatility_fee_before
from ..mechanisms.volatility_fee.kernel import leverage_fee_before, leverage_fee_on
from ..oracles.dispatch import oracle_peep, oracle_step
from ..protocols.perp.kernel import perp_step
from .sales import direct_watch, note_direct_trades, note_unit_totals, sales_open, sell_recorded
from ..mechanisms.clearinghouse.kernel import (
    ch_after_sale, ch_check, ch_finish, ch_note_hf, ch_perp_after, ch_perp_before, ch_step_fills, clearing_on,
    clearinghouse_sales,
)
from .store import (
    SN_COHORTS, SN_ENTRIES, book_liquidation, cohort_close, crossing_count, settle, store_drop_finished,
    store_reserve, store_write_back,
)
from ..protocols.kernel import (
    ACC_BAD, ACC_BONUS, ACC_EV_LOST, ACC_FEES, ACC_FUND_DRAW, ACC_GAS, ACC_LIQ_VALUE, ACC_NLIQ, ACC_REPAID,
)
from ..venues.dispatch import arbitrage, arbitrage_to_reference, best_venue
from ..venues.dispatch import venue_apply_return, venue_decay, venue_follows_reference, venue_spot


# ---- small shared pieces ----------------------------------------------------------------------


@internal
def mean_venue_spot(vs, av_ptr, av_idx, a):
    """Mean spot of the venues of asset ``a`` (NaN when it has none)."""
    n = av_ptr[a + 1] - av_ptr[a]
    if n == 0:
        return np.nan
    s = 0.0
    for j in range(av_ptr[a], av_ptr[a + 1]):
        s += venue_spot(vs, av_idx[j])
    return s / n


@internal
def protocol_price(pr, a, stable, p_fixed, of, oprice, mean_spot):
    """The price protocol ``pr`` acts on for asset ``a`` (see the module docstring)."""
    if stable[a]:
        return p_fixed[a]
    o = of[pr, a]
    if o >= 0:
        return oprice[o]
    return mean_spot[a]


@internal
def agents_on(ag):
    """Agents are present (``ag`` non-empty); reactive borrowers' ``react_hf`` (0: none)."""
    if ag.shape[0] == 0:
        return False, 0.0
    return True, ag[BO_REACT] if ag[BO_ON] > 0.0 else 0.0


# ---- 1. market ---------------------------------------------------------------------------------


@inlined
def move_market(t, path, mkt, mechs, st, out):
    """Stage 1: the exogenous flow and the arbitrage of step ``t``.

    1. every venue ``v`` moves by ``r = path[t, a] / path[t-1, a]`` of its asset ``a``
       (:func:`venue_apply_return`) and then decays its impact by one step
       (:func:`venue_decay`), venue by venue in index order;
    2. agents present (never in the lean variant, ``mechs`` None): :func:`agents_flow` (hedger,
       hunter) trades ``st.vs`` and writes its summary columns;
    3. for each asset ``a`` in order: if ``mkt.arb_on`` and it has more than one venue,
       :func:`arbitrage` among its venues at ``mkt.arb_thr``; then, if ``mkt.ref_on``, every
       pool of the asset that does not follow the reference by itself
       (:func:`venue_follows_reference` false) is arbitraged toward ``path[t, a]``
       (:func:`arbitrage_to_reference`), in venue order.

    Writes ``st.vs`` (and ``st.ag``, ``out.summary`` through the agents)."""
    vs = st.vs
    vdk = mkt.vdk
    vdq = mkt.vdq
    av_ptr = mkt.av_ptr
    av_idx = mkt.av_idx
    venue_asset = mkt.venue_asset
    ag = st.ag
    for v in range(vs.shape[0]):
        a = venue_asset[v]
        venue_apply_return(vs, vdk, vdq, v, path[t, a] / path[t - 1, a])
        venue_decay(vs, v)
    if mechs is not None and ag.shape[0] > 0:
        agents_flow(ag, t, path, vs, vdk, vdq, av_ptr, av_idx, out.summary)
    arb_on = mkt.arb_on
    ref_on = mkt.ref_on
    thr = mkt.arb_thr
    if not (arb_on or ref_on):
        return
    for a in range(av_ptr.shape[0] - 1):
        ids = av_idx[av_ptr[a]:av_ptr[a + 1]]
        if arb_on and ids.shape[0] > 1:
            arbitrage(vs, vdk, vdq, ids, thr)
        if ref_on:
            for j in range(ids.shape[0]):
                if not venue_follows_reference(vs, ids[j]):
                    arbitrage_to_reference(vs, vdk, vdq, ids[j], path[t, a], thr)


@inlined
def read_oracles(t, mkt, orc, st):
    """Stage 2: what the protocols see at step ``t``.

    ``st.hist[v, t]`` ← spot of every venue; ``st.mean_spot[a]`` ← ``p_fixed[a]`` for a stable
    asset, else the mean venue spot; for each oracle ``o`` in order ``st.oprice[o]`` ←
    :func:`oracle_step` over its sources' history ``hist[src, ≤ t]`` (state ``st.ostate[o]``);
    then ``st.pprice[pr, a]`` for every protocol and asset (:func:`protocol_price`)."""
    vs = st.vs
    hist = st.hist
    mean_spot = st.mean_spot
    oprice = st.oprice
    ostate = st.ostate
    pprice = st.pprice
    stable = mkt.stable
    p_fixed = mkt.p_fixed
    av_ptr = mkt.av_ptr
    av_idx = mkt.av_idx
    kind = orc.kind
    params = orc.params
    src = orc.src
    src_ptr = orc.src_ptr
    of = orc.of
    for v in range(vs.shape[0]):
        hist[v, t] = venue_spot(vs, v)
    for a in range(stable.shape[0]):
        mean_spot[a] = p_fixed[a] if stable[a] else mean_venue_spot(vs, av_ptr, av_idx, a)
    for o in range(kind.shape[0]):
        oprice[o] = oracle_step(kind[o], params[o], src[src_ptr[o]:src_ptr[o + 1]], hist, t, ostate[o])
    for pr in range(pprice.shape[0]):
        for a in range(stable.shape[0]):
            pprice[pr, a] = protocol_price(pr, a, stable, p_fixed, of, oprice, mean_spot)


@internal
def mechanisms_before(t, mkt, rules, liqs, mechs, mst, st, out):
    """Stage 3: what the agents and the mechanisms set before the liquidations of step ``t``.

    * agents present: ``st.sc[SC_GAS]`` ← ``liqs.gas`` × :func:`agents_gas_multiple` and
      ``st.sc[SC_LAT]`` ← :func:`agents_latency` (else they keep ``liqs.gas`` and 0);
    * mechanisms on (``mechs.p[M_ON]``): ``mst.phist[t]`` ← ``st.pprice`` (when the breaker,
      the dynamic margin or the volatility fee needs the history); then, for
      the mechanisms that are on, in this order: the circuit breaker
      (:func:`breaker_before`; ``out.summary[SUM_PAUSED] += 1`` when some protocol is paused),
      the dynamic margin (:func:`dynamic_margin_before`, gas multiple from the agents or 1), the
      volatility bonus (:func:`volatility_fee_before`), the leverage fee
      (:func:`leverage_fee_before`), the throttle (:func:`throttle_before`)."""
    ag = st.ag
    if ag.shape[0] > 0:
        sc = st.sc
        sc[SC_GAS] = liqs.gas * agents_gas_multiple(ag, t)
        sc[SC_LAT] = agents_latency(ag)
    mp = mechs.p
    mk = mechs.mask
    mon, cb_on, th_on, tw_on, bp_on, if_on, da_on, pa_on, dm_on, re_on, ba_on, vf_on = mechanisms_on(mp)
    if not mon:
        return
    pprice = st.pprice
    if cb_on or dm_on or vf_on or leverage_fee_on(mp):
        phist = mst.phist
        for pr in range(pprice.shape[0]):
            for a in range(pprice.shape[1]):
                phist[t, pr, a] = pprice[pr, a]
    if cb_on:
        if breaker_before(mp, mk, t, rules.lt, mkt.stable, mst.phist, mst.cb_state, mst.restricted):
            out.summary[SUM_PAUSED] += 1.0
    if dm_on:
        gm = agents_gas_multiple(ag, t) if ag.shape[0] > 0 else 1.0
        dynamic_margin_before(mp, mk, t, gm, mkt.stable, mst.phist, mst.mmult, mst.depth0, st.vs, mkt.vdk,
                              mkt.vdq, mkt.av_ptr, mkt.av_idx, st.mean_spot, mst.dm_ramp)
    if vf_on:
        volatility_fee_before(mp, mk, t, mkt.stable, mst.phist, rules.bonus, mst.volvf, mst.bon)
    if leverage_fee_on(mp):
        leverage_fee_before(mp, mk, t, rules.lt, mkt.stable, mst.phist, mst.lev_ix)
    if th_on:
        throttle_before(mp, t, mkt.stable, mst.th_ring, mst.ms, mst.th_sold, mst.depth_cap, st.vs, mkt.vdk,
                        mkt.vdq, mkt.av_ptr, mkt.av_idx)


@inlined
def open_step(liqs, st, ev):
    """Reset the step: ``st.sold`` ← 0, the step's liquidation count, repaid and bad debt ← 0,
    capital left ← ``liqs.capital``, the scan is not full, and the step's first event is the
    next one to be written."""
    st.sold[:] = 0.0
    sc = st.sc
    sc[SC_N] = 0.0
    sc[SC_REPAID] = 0.0
    sc[SC_BAD] = 0.0
    sc[SC_CAP_LEFT] = liqs.capital
    sc[SC_FULL] = 0.0
    sc[SC_EV_FIRST] = ev.n[EV_N]


# ---- 4. single-pair positions -----------------------------------------------------------------


class Source(NamedTuple):
    """One range the liquidation scan reads: cohort ``src`` of the store (``from_store``) or
    the untouched rest of segment ``seg``, with the segment's prices and thresholds."""

    src: int
    from_store: bool
    seg: int
    h: int
    e: int
    a: int
    pr: int
    pc: float
    pd: float
    thr: float  # liquidatable iff key > thr
    thr_hf: float  # HF = thr_hf / key
    thr_scan: float  # positions read iff key > thr_scan (≤ thr with reactive borrowers)
    lt0: float  # the key's LT
    lt: float  # LT in force (dynamic margin)
    bonus: float
    pfee: float
    ba_here: bool  # the batch auction takes this segment's seized collateral


@internal
def thresholds(ratio, lt0, bonus0, pr, a, mp, mk, mmult, bon, restricted, bo_react):
    """The read and liquidation thresholds of a segment of protocol ``pr`` on asset ``a`` at price
    ratio ``ratio = pc / pd``: ``(skip, thr, thr_hf, thr_scan, lt, bonus, batch applies)``.

    ``thr = thr_hf = ratio`` (a position is liquidatable iff its key > ``thr``; its HF is
    ``thr_hf / key``). With mechanisms on, both are multiplied by the dynamic-margin multiplier
    ``m = mmult[pr, a]`` (``lt = LT·m``, bonus ``bon[pr, a]``); while the breaker restricts the
    protocol ``thr`` becomes ``max(thr, thr_hf / exempt_hf)`` (``inf`` for ``exempt_hf <= 0``).
    Reactive borrowers (react_hf ``r > 0``) read from ``thr_scan = min(thr, thr_hf / r)``.
    ``skip``: nothing may be read this step (paused without exemption). ``batch applies``: the
    batch auction collects the collateral this protocol seizes. The lean variant passes None for
    ``mp``, ``mk``, ``mmult``, ``bon``, ``restricted`` (the mechanisms' part is not compiled)."""
    thr = ratio
    thr_hf = ratio
    lt = lt0
    bonus = bonus0
    ba_here = False
    skip = False
    if mp is not None:
        mon, cb_on, th_on, tw_on, bp_on, if_on, da_on, pa_on, dm_on, re_on, ba_on, vf_on = mechanisms_on(mp)
        if mon:
            mm = mmult[pr, a]
            thr = ratio * mm
            thr_hf = thr
            lt = lt0 * mm
            bonus = bon[pr, a]
            ba_here = ba_on and mk[MK_BA, pr] != 0
            if cb_on and mk[MK_CB, pr] != 0 and restricted[pr]:
                ex = mp[M_CB_EXEMPT]
                if ex <= 0.0:
                    thr = np.inf  # paused: nothing is liquidatable
                elif thr_hf / ex > thr:
                    thr = thr_hf / ex  # only HF = thr_hf/key < exempt_hf
    thr_scan = thr
    if bo_react > 0.0 and thr_hf / bo_react < thr_scan:
        thr_scan = thr_hf / bo_react
    if thr_scan == np.inf:
        skip = True
    return skip, thr, thr_hf, thr_scan, lt, bonus, ba_here


@inlined
def liquidate_books(t, mkt, rules, book, liqs, mechs, mst, st, store, ev, out, rates, rs):
    """Stage 4: the Aave-rule single-pair positions at step ``t``. Returns the store (a grown
    copy when it needed room).

    Order: first the cohorts of the store that are still open (finished ones dropped, order
    kept), then the untouched rest of every segment in segment order; inside each, positions in
    stored order (highest key first) while ``key > thr_scan`` (:func:`thresholds`, at the
    prices ``st.pprice`` of the segment's protocol; with interest rates, a segment whose debt
    asset has a rate row holds scaled debt, priced at ``pd · fac[r]``, its scan may use no more
    than the pool's liquidity left to the liquidators (:func:`rates_cap`), and what it repaid
    and wrote off is booked on the pool afterwards (:func:`rates_after_scan`,
    :mod:`liqcascade.kernels.accrual`). Under the leverage fee a segment's debts are scaled by
    the protocol's fee index (priced at ``pd · lev_ix[pr]``); the events of its scan get their
    ``debt_repaid`` in units owed (× ``lev_ix[pr]``). The scan stops for the whole step once
    ``liqs.max_per_step`` liquidations happened (``st.sc[SC_FULL]``). Each position is read at
    most once per step (:func:`scan_source` says what happens to it); positions appended to the
    store during the step are not read again in it. In the lean variant (``mechs`` None) none of
    the mechanisms', agents' or interest rates' code is compiled in."""
    full = mechs is not None
    store_drop_finished(store)
    n_c0 = store.n[SN_COHORTS]
    key = book.key
    seg_ptr = book.seg_ptr
    seg_asset = book.seg_asset
    seg_proto = book.seg_proto
    seg_debt = book.seg_debt_asset
    lt = rules.lt
    bonus = rules.bonus
    pfee = rules.pfee
    rl = rules.rules
    pprice = st.pprice
    sc = st.sc
    ptr = st.ptr
    if full:
        me = borrow(mechs)  # mechs itself is the loop's argument (the lean switch), not an ownerless view
        mp = me.p
        mk = me.mask
        mmult = mst.mmult
        bon = mst.bon
        restricted = mst.restricted
        lev_ix = mst.lev_ix
        ag_on, bo_react = agents_on(st.ag)
        rates_on = rates.on
    for src in range(n_c0 + seg_asset.shape[0]):
        if sc[SC_FULL] > 0.0:
            break
        from_store = src < n_c0
        if from_store:
            seg = store.c_seg[src]
            h = store.c_head[src]
            e = store.c_end[src]
        else:
            seg = src - n_c0
            h = ptr[seg]
            e = seg_ptr[seg + 1]
        if h >= e:
            continue
        a = seg_asset[seg]
        pr = seg_proto[seg]
        pc = pprice[pr, a]
        pd = pprice[pr, seg_debt[seg]]
        pd_raw = pd
        r_row = -1
        if full:
            if rates_on:
                pd, r_row = rates_segment_price(rates, rs, pr, seg_debt[seg], pd)
            pd = pd * lev_ix[pr]  # debt owed = scaled debt × leverage-fee index (1.0 when the fee is off)
            skip, thr, thr_hf, thr_scan, lt_now, bonus_now, ba_here = thresholds(
                pc / pd, lt[pr, a], bonus[pr, a], pr, a, mp, mk, mmult, bon, restricted, bo_react)
        else:
            skip, thr, thr_hf, thr_scan, lt_now, bonus_now, ba_here = thresholds(
                pc / pd, lt[pr, a], bonus[pr, a], pr, a, None, None, None, None, None, 0.0)
        if skip:
            continue
        if from_store:
            if not (store.k[h] > thr_scan):
                continue
            room = e - h
        else:
            room = crossing_count(key, h, e, thr_scan)
            if room == 0:
                continue
        store = store_reserve(store, room, room + 1)
        s = Source(src, from_store, seg, h, e, a, pr, pc, pd, thr, thr_hf, thr_scan, lt[pr, a], lt_now, bonus_now,
                   pfee[pr, a], ba_here)
        cap_global = rep0 = bad0 = 0.0
        ev0 = ev.n[EV_N]
        bo0 = sc[SC_BO_REPAID]
        if full and r_row >= 0:
            cap_global = sc[SC_CAP_LEFT]
            sc[SC_CAP_LEFT] = rates_cap(rs, r_row, pd_raw, cap_global)
            rep0 = sc[SC_REPAID]
            bad0 = sc[SC_BAD]
        # the store and the events are owned by this frame for the read: ownerless views
        scan_source(t, s, mkt, borrow(rl[pr]), book, liqs, mechs, mst, st, borrow(store), borrow(ev), out)
        if full:
            if r_row >= 0:
                rates_after_scan(rates, rs, r_row, pd_raw, cap_global, rep0, bad0, sc, SC_CAP_LEFT, SC_REPAID,
                                 SC_BAD, ev, ev0, lev_ix[pr])
                if sc[SC_BO_REPAID] > bo0:  # what reactive borrowers repaid goes back to the pool
                    rates_borrowers_repaid(rates, rs, r_row, (sc[SC_BO_REPAID] - bo0) / pd_raw, lev_ix[pr])
            if lev_ix[pr] != 1.0:  # the events' debt_repaid (scaled by the leverage fee) in units owed
                evb = ev.buf
                for j in range(ev0, ev.n[EV_N]):
                    evb[j]["debt_repaid"] = evb[j]["debt_repaid"] * lev_ix[pr]
    keep(ev)
    return store


@internal
def first_seen_waits(t, i, pr, mp, mk, pos_first, path_id, lat, ag_on, re_on):
    """Position ``i`` of protocol ``pr`` is liquidatable at step ``t``: record ``t`` as the step it
    was first seen so (once), and return ``(age, waits)`` — ``age`` the steps since then,
    ``waits`` while the liquidators' latency (agents present, ``age < lat``) or the random
    execution delay (:func:`random_delay` of ``(seed, path_id, i)``) holds it back."""
    if pos_first[i] < 0:
        pos_first[i] = t
    age = t - pos_first[i]
    waits = False
    if ag_on and age < lat:
        waits = True
    if re_on and mk[MK_RE, pr] != 0 and age < random_delay(int(mp[M_SEED]), path_id, i, int(mp[M_RE_WIN])):
        waits = True
    return age, waits


@internal
def pair_gates(t, i, pr, mp, mk, pos_first, pos_last, vol, path_id, lat, ag_on, bonus):
    """Waits and bonus of single-pair position ``i`` (protocol ``pr``) that the agents and
    mechanisms set at step ``t``: ``(ok, bonus in force)``. Not ok while the liquidators'
    latency or the random delay (:func:`first_seen_waits`) or the partial-liquidation cooldown
    holds it back; the bonus is the Dutch auction's (raised by the volatility bonus at the
    segment's realized volatility ``vol``) when that applies."""
    mon, cb_on, th_on, tw_on, bp_on, if_on, da_on, pa_on, dm_on, re_on, ba_on, vf_on = mechanisms_on(mp)
    ok = True
    bon_i = bonus
    if da_on or re_on or ag_on:
        age, waits = first_seen_waits(t, i, pr, mp, mk, pos_first, path_id, lat, ag_on, re_on)
        if waits:
            ok = False
        if da_on and mk[MK_DA, pr] != 0:
            bon_i = dutch_bonus(mp[M_DA_START], mp[M_DA_MAX], int(mp[M_DA_STEPS]), age)
            if vf_on and mk[MK_VF, pr] != 0:
                bon_i = vol_fee_bonus(bon_i, vol, mp[M_VF_K], mp[M_VF_VREF], mp[M_VF_MAX])
    if pa_on and cooldown_holds(mp, mk, pr, pos_last[i], t):
        ok = False
    return ok, bon_i


@inlined
def agents_after_liquidation(ag, t, profit, rational, summary):
    """Agents present: the winning liquidator's priority fee (rational liquidators, out of
    ``profit``) into ``SUM_PRIORITY``, and the liquidation noted for the congestion window."""
    if ag.shape[0] > 0:
        if rational:
            summary[SUM_PRIORITY] += agents_priority(ag, profit)
        agents_note_liquidation(ag, t)


@inlined
def mechanisms_after_liquidation(t, pr, a, seize, repay_v, bad_v, fee, pc, mechs, mst, fund, summary):
    """Mechanisms on: one liquidation of protocol ``pr`` on asset ``a`` (``repay_v``, ``bad_v`` in
    quote) into the batch auction's bundle when it applies, and into the throttle, buffer pool,
    TWAP exit and insurance fund (:func:`account_liquidation`). Returns ``(throttle debt added,
    fund left)``; ``SUM_FUND_DRAW`` and ``SUM_SOCIALIZED`` take what the fund paid and what it
    left to lenders."""
    mp = mechs.p
    mk = mechs.mask
    mon, cb_on, th_on, tw_on, bp_on, if_on, da_on, pa_on, dm_on, re_on, ba_on, vf_on = mechanisms_on(mp)
    if ba_on and mk[MK_BA, pr] != 0:
        mst.ba[a, BA_STEP] += seize
    th_add, fund, drawn, soc = account_liquidation(
        mk, pr, a, t, seize, repay_v, bad_v, fee * pc, seize * pc, th_on, bp_on, tw_on, if_on, mp[M_IF_SHARE],
        mst.th_ring, mst.th_sold, mst.bp_q, mst.bp_v, mst.tw_q, mst.tb_q, fund)
    summary[SUM_FUND_DRAW] += drawn
    summary[SUM_SOCIALIZED] += soc
    return th_add, fund


@internal
def throttle_room(mp, a, pd, seize, repay, bad, fee, closed, th_used, depth_cap, th_sold):
    """The throttle's room for one liquidation: ``(ok, seize, repay, bad, fee, closed)`` scaled
    to the window's debt room and the step's depth room (:func:`room_share`,
    :func:`scale_liquidation`); not ok when there is no room."""
    sh = 1.0
    if mp[M_TH_DEBT] > 0.0:
        sh = room_share(mp[M_TH_DEBT] - th_used, repay * pd)
    if mp[M_TH_SLIP] > 0.0:
        s2 = room_share(depth_cap[a] - th_sold[a], seize)
        if s2 < sh:
            sh = s2
    if sh <= 0.0:
        return False, seize, repay, bad, fee, closed
    if sh < 1.0:
        seize, repay, bad, fee, closed = scale_liquidation(seize, repay, bad, fee, closed, sh)
    return True, seize, repay, bad, fee, closed


@internal
def rational_profit(vs, vdk, vdq, av_ptr, av_idx, sold, a, got, repay_value, pc, gas):
    """What a rational liquidator makes on ``got`` collateral units: selling them at the venue of
    asset ``a`` with the highest spot, after the ``sold[a]`` units already queued this step
    (:func:`marginal_proceeds`; at ``pc`` when the asset has no venue), minus the repaid value
    and gas."""
    best = best_venue(vs, av_ptr, av_idx, a)
    if best >= 0 and got > 0.0:
        proceeds = marginal_proceeds(vs, vdk, vdq, best, sold[a], got)
    else:
        proceeds = got * pc
    return proceeds - repay_value - gas


@inlined
def entry_terms(t, s, i, c, d, kk, ltm, mon, tier_r, ag, bo_react):
    """An entry ``(i, c, d, kk)`` of source ``s`` read at step ``t``, before any gate:
    ``(ok, c, d, kk, lt, tsc)``. ``lt`` is the LT in force (× its size tier ``ltm[i]`` with
    mechanisms on; × the tier in force while it ramps in, :func:`tier_in_force`, when ``tier_r >
    0``), ``tsc`` the key's scale while the tier ramps in (1 otherwise). Reactive borrowers
    (``bo_react > 0``) may top up or deleverage first (:func:`agents_borrower`, value noted
    with :func:`agents_note_topup`; ``c``, ``d`` and the key ``kk`` change). Not ok when the
    entry is no longer liquidatable at ``s.thr`` after that, or while its ramping tier keeps it
    above: back to the store, not a skip."""
    has_ltm = ltm.shape[0] > 0
    ok = True
    ltp = s.lt * ltm[i] if (mon and has_ltm) else s.lt
    tsc = 1.0  # key scale of a size tier still ramping in (dynamic margin)
    if tier_r > 0.0 and t < tier_r:
        tt = tier_in_force(ltm[i], t, tier_r)
        ltp = s.lt * tt
        tsc = ltm[i] / tt
    if bo_react > 0.0:
        cs_, ds_ = agents_borrower(ag, i, t, s.thr_hf / (kk * tsc))
        if cs_ != 1.0 or ds_ != 1.0:
            agents_note_topup(ag, c * (cs_ - 1.0) * s.pc + d * (1.0 - ds_) * s.pd)
            c = c * cs_
            d = d * ds_
            kk = d / (c * (s.lt0 * ltm[i])) if has_ltm else d / (c * s.lt0)
        if not (kk * tsc > s.thr):
            ok = False  # not liquidatable now: back to the store (not a skip)
    elif tsc != 1.0 and not (kk * tsc > s.thr):
        ok = False  # its size tier is not in force yet: back to the store (not a skip)
    return ok, c, d, kk, ltp, tsc


@inlined
def pair_liquidation(c, d, s, ltp, bonus, rrow, th_here, mp, th_used, depth_cap, th_sold):
    """What :func:`liquidate_pair` takes from ``(c, d)`` at source ``s``'s prices with LT ``ltp``
    and ``bonus``, cut to the throttle's room when the throttle applies (:func:`throttle_room`):
    ``(ok, seize, repay, bad, fee, closed)``; not ok when the rule or the throttle gives
    nothing."""
    seize, repay, bad, fee, closed = liquidate_pair(c, d, s.pc, s.pd, ltp, bonus, s.pfee, rrow)
    ok = repay > 0.0 or bad > 0.0
    if ok and th_here:
        ok, seize, repay, bad, fee, closed = throttle_room(mp, s.a, s.pd, seize, repay, bad, fee, closed, th_used,
                                                           depth_cap, th_sold)
    return ok, seize, repay, bad, fee, closed


@inlined
def close_source(s, h, wr, head0, n_t, n_c, new_start, store, ptr):
    """End of the read of source ``s`` at entry ``h``: a store cohort moves its skipped entries
    (``[head0, wr)``) next to its unread rest ``[h, e)`` and starts there; a segment's untouched
    rest starts at ``h`` (``ptr``). The cohort being appended to is closed and the store's
    counts written back."""
    t_pos = store.pos
    t_c = store.c
    t_d = store.d
    t_k = store.k
    if s.from_store:
        nskip = wr - head0
        for j in range(nskip - 1, -1, -1):
            dst = h - nskip + j
            t_pos[dst] = t_pos[head0 + j]
            t_c[dst] = t_c[head0 + j]
            t_d[dst] = t_d[head0 + j]
            t_k[dst] = t_k[head0 + j]
        store.c_head[s.src] = h - nskip
    else:
        ptr[s.seg] = h
    sn = store.n
    sn[SN_COHORTS] = cohort_close(store.c_head, store.c_end, store.c_seg, n_c, new_start, n_t, s.seg)
    sn[SN_ENTRIES] = n_t


@inlined
def put_entry(t_pos, t_c, t_d, t_k, j, i, c, d, k):
    """Write entry ``j`` of the store: position ``i`` with collateral ``c``, debt ``d``, key ``k``."""
    t_pos[j] = i
    t_c[j] = c
    t_d[j] = d
    t_k[j] = k


@inlined
def book_pair(t, i, s, seize, repay, bad, fee, gas, summary, sold, sold_by, pos_last):
    """Book the liquidation of single-pair position ``i`` of source ``s`` at step ``t``: its
    collateral queued for sale (``sold``, owner ``sold_by``), the ledger
    (:func:`book_liquidation`), gas, the borrower's loss, its first liquidation (``pos_last``)."""
    a = s.a
    pr = s.pr
    pc = s.pc
    pd = s.pd
    sold[a] += seize
    sold_by[pr, a] += seize
    book_liquidation(summary, seize, repay, bad * pd, fee, pc, pd)
    summary[SUM_GAS] += gas
    summary[SUM_BORROWER_LOSS] += seize * pc - repay * pd
    if pos_last[i] < 0:
        summary[SUM_NPOS_LIQ] += 1.0
    pos_last[i] = t


@njit(inline="always", no_cpython_wrapper=True, no_cfunc_wrapper=True)
def scan_source(t, s, mkt, rrow, book, liqs, mechs, mst, st, store, ev, out):
    """Read source ``s`` (:class:`Source`) of step ``t``; the hot loop of the time loop
    (inlined into :func:`liquidate_books`). ``rrow`` is the protocol's rule vector.

    For each entry, in order, while ``key > s.thr_scan`` (and the step is not full): its terms
    (:func:`entry_terms`: LT and size tier in force, reactive borrowers first), its gates
    (:func:`pair_gates`), the rule and the throttle (:func:`pair_liquidation`), the capital
    left, and (rational) :func:`rational_profit` ``> 0`` decide whether it is liquidated. A
    position that is not is *skipped* (``SUM_SKIPPED += 1`` when its key is above ``s.thr``):
    an unchanged store entry keeps its place in its cohort, anything else is appended to the
    store. A liquidated one is booked (:func:`book_pair`, :func:`agents_after_liquidation`,
    :func:`mechanisms_after_liquidation`, else its bad debt is socialized; one event); it leaves
    the books when closed (or its debt is gone), else it is appended to the store with its new
    key, in key order inside a cohort (a new cohort starts when the key rises). The read ends
    with :func:`close_source`. The lean variant (``mechs`` None) compiles none of the terms,
    gates, throttle and bookings of the agents and the mechanisms: an entry is liquidated by the
    rule alone (:func:`liquidate_pair`) and its bad debt is socialized."""
    full = mechs is not None
    key = book.key
    coll = book.coll
    debt = book.debt
    ltm = book.ltm
    has_ltm = ltm.shape[0] > 0
    t_pos = store.pos
    t_c = store.c
    t_d = store.d
    t_k = store.k
    c_head = store.c_head
    c_end = store.c_end
    c_seg = store.c_seg
    summary = out.summary
    out_coll = out.out_coll
    out_debt = out.out_debt
    sc = st.sc
    sold = st.sold
    sold_by = st.sold_by  # the sales ledger's owners (kernels.sales)
    pos_last = st.pos_last
    pos_first = st.pos_first
    ag = st.ag
    vs = st.vs
    evbuf = ev.buf
    evn = ev.n
    if full:
        me = borrow(mechs)  # the hot loop passes mp on to inlined helpers: no reference counting
        mp = me.p
        mk = me.mask
        ms = mst.ms
        depth_cap = mst.depth_cap
        th_sold = mst.th_sold
        mon, cb_on, th_on, tw_on, bp_on, if_on, da_on, pa_on, dm_on, re_on, ba_on, vf_on = mechanisms_on(mp)
        ag_on, bo_react = agents_on(ag)
        gated = da_on or re_on or ag_on or pa_on
        th_here = th_on and mk[MK_TH, s.pr] != 0
        tier_r = mp[M_DM_RAMP] if (dm_on and has_ltm) else 0.0
        vol = mst.volvf[s.pr, s.a]  # the volatility bonus's realized volatility (set before the scan)
        lat = int(sc[SC_LAT])
        path_id = int(sc[SC_PATH])
        th_used = ms[MS_TH_USED]
        fund = ms[MS_FUND]
    rational = liqs.mode == MODE_RATIONAL
    max_n = liqs.max_per_step
    a = s.a
    pr = s.pr
    pc = s.pc
    pd = s.pd
    step_n = int(sc[SC_N])
    cap_left = sc[SC_CAP_LEFT]
    step_repaid = sc[SC_REPAID]
    step_bad = sc[SC_BAD]
    gas_t = sc[SC_GAS]
    n_t = store.n[SN_ENTRIES]
    n_c = store.n[SN_COHORTS]
    h = s.h
    e = s.e
    wr = head0 = h  # wr: compaction write index for skipped store entries
    new_start = n_t
    last_key = np.inf
    while h < e:
        if s.from_store:
            kk = t_k[h]
            c = t_c[h]
            d = t_d[h]
            i = t_pos[h]
        else:
            kk = key[h]
            c = coll[h]
            d = debt[h]
            i = h
        if not (kk > s.thr_scan):
            break
        if max_n > 0 and step_n >= max_n:
            sc[SC_FULL] = 1.0  # the step is full: the rest waits
            break
        h += 1
        ok = True
        ltp = s.lt
        tsc = 1.0
        bon_i = s.bonus
        if full:
            d_in = d
            ok, c, d, kk, ltp, tsc = entry_terms(t, s, i, c, d, kk, ltm, mon, tier_r, ag, bo_react)
            if d != d_in:  # a reactive borrower repaid debt (a rate row takes it back)
                sc[SC_BO_REPAID] += (d_in - d) * s.pd
            if ok and gated:
                ok, bon_i = pair_gates(t, i, pr, mp, mk, pos_first, pos_last, vol, path_id, lat, ag_on, bon_i)
        seize = repay = bad = fee = 0.0
        closed = False
        if ok:
            if full:
                ok, seize, repay, bad, fee, closed = pair_liquidation(c, d, s, ltp, bon_i, rrow, th_here, mp,
                                                                      th_used, depth_cap, th_sold)
            else:
                seize, repay, bad, fee, closed = liquidate_pair(c, d, pc, pd, ltp, bon_i, s.pfee, rrow)
                ok = repay > 0.0 or bad > 0.0
        if ok and repay * pd > cap_left:
            ok = False
        profit = 0.0
        if ok and rational:
            profit = rational_profit(vs, mkt.vdk, mkt.vdq, mkt.av_ptr, mkt.av_idx, sold, a, seize - fee, repay * pd,
                                     pc, gas_t)
            ok = profit > 0.0
        if not ok:
            if kk * tsc > s.thr:
                summary[SUM_SKIPPED] += 1.0
            if s.from_store and c == t_c[h - 1] and d == t_d[h - 1]:
                put_entry(t_pos, t_c, t_d, t_k, wr, i, c, d, kk)
                wr += 1
                continue
            nk_ = kk  # first skip of an untouched position (or a changed one): to the store
        else:
            cap_left -= repay * pd
            step_n += 1
            c, d = settle(c, d, seize, repay, bad, closed)
            book_pair(t, i, s, seize, repay, bad, fee, gas_t, summary, sold, sold_by, pos_last)
            step_repaid += repay * pd
            step_bad += bad * pd
            if full:
                agents_after_liquidation(ag, t, profit, rational, summary)
                if mon:
                    if clearing_on(mp):
                        ch_note_hf(mst.ch_hf, pr, a, s.thr_hf / (kk * tsc))
                    th_add, fund = mechanisms_after_liquidation(t, pr, a, seize, repay * pd, bad * pd, fee, pc, me,
                                                                mst, fund, summary)
                    th_used += th_add
                else:
                    summary[SUM_SOCIALIZED] += bad * pd
            else:
                summary[SUM_SOCIALIZED] += bad * pd
            ev_push(evbuf, evn, t, i, pr, a, seize, repay, pc, (seize - fee) * pc - repay * pd, bad * pd, fee)
            if closed or d <= 0.0:
                if out_coll.shape[0] > 0:
                    out_coll[i] = c
                    out_debt[i] = d if d > 0.0 else 0.0
                continue
            nk_ = (d / (c * (s.lt0 * ltm[i])) if has_ltm else d / (c * s.lt0)) if c > 0.0 else np.inf
        # still open: append to the store
        if nk_ > last_key and n_t > new_start:
            n_c = cohort_close(c_head, c_end, c_seg, n_c, new_start, n_t, s.seg)
            new_start = n_t
        put_entry(t_pos, t_c, t_d, t_k, n_t, i, c, d, nk_)
        last_key = nk_
        n_t += 1
    close_source(s, h, wr, head0, n_t, n_c, new_start, store, st.ptr)
    sc[SC_N] = step_n
    sc[SC_CAP_LEFT] = cap_left
    sc[SC_REPAID] = step_repaid
    sc[SC_BAD] = step_bad
    if full:
        ms[MS_TH_USED] = th_used
        ms[MS_FUND] = fund


# ---- 5. multi-asset positions -----------------------------------------------------------------


@internal
def multi_terms(t, m, im, mkt, rules, book, mechs, mst, st):
    """HF and waits of multi-asset position ``m`` (index ``im`` in the run) when agents or
    mechanisms are present: fills ``st.lt_row`` (LT × dynamic margin × size tier) and
    ``st.bn_row`` (bonus in force; the Dutch bonus, raised by the volatility fee, when that
    applies), lets a reactive borrower act (entries scaled, value noted), and returns
    ``(liquidatable, waits)``: liquidatable when its HF < 1; waits for the latency (agents),
    the random delay, the breaker (HF not below its exempt_hf) or the cooldown."""
    mp = mechs.p
    mk = mechs.mask
    mon, cb_on, th_on, tw_on, bp_on, if_on, da_on, pa_on, dm_on, re_on, ba_on, vf_on = mechanisms_on(mp)
    ag = st.ag
    ag_on, bo_react = agents_on(ag)
    lt_row = st.lt_row
    bn_row = st.bn_row
    ones_a = st.ones_a
    pprice = st.pprice
    mc = st.mc
    md = st.md
    m_asset = book.m_asset
    ltm = book.ltm
    lt = rules.lt
    mmult = mst.mmult
    bon = mst.bon
    volvf = mst.volvf
    s0 = book.m_ptr[m]
    s1 = book.m_ptr[m + 1]
    pr = book.m_proto[m]
    A = lt_row.shape[0]
    sc_ = ltm[im] if ltm.shape[0] > 0 else 1.0
    if dm_on and ltm.shape[0] > 0:
        sc_ = tier_in_force(sc_, t, mp[M_DM_RAMP])
    for a in range(A):
        lt_row[a] = lt[pr, a] * mmult[pr, a] * sc_
        bn_row[a] = bon[pr, a]
    hf = multi_hf(mc[s0:s1], md[s0:s1], m_asset[s0:s1], pprice[pr], lt_row, ones_a)
    if bo_react > 0.0 and hf < bo_react:
        cs_, ds_ = agents_borrower(ag, im, t, hf)
        if cs_ != 1.0 or ds_ != 1.0:
            val = 0.0
            for e_ in range(s0, s1):
                val += mc[e_] * (cs_ - 1.0) * pprice[pr, m_asset[e_]]
                val += md[e_] * (1.0 - ds_) * pprice[pr, m_asset[e_]]
                mc[e_] *= cs_
                md[e_] *= ds_
            agents_note_topup(ag, val)
            hf = multi_hf(mc[s0:s1], md[s0:s1], m_asset[s0:s1], pprice[pr], lt_row, ones_a)
    if not (hf < 1.0):
        return False, False
    waits = False
    pos_first = st.pos_first
    pos_last = st.pos_last
    if da_on or re_on or ag_on:
        age, waits = first_seen_waits(t, im, pr, mp, mk, pos_first, int(st.sc[SC_PATH]), int(st.sc[SC_LAT]), ag_on,
                                      re_on)
        if da_on and mk[MK_DA, pr] != 0:
            b_ = dutch_bonus(mp[M_DA_START], mp[M_DA_MAX], int(mp[M_DA_STEPS]), age)
            for a in range(A):
                bn_row[a] = vol_fee_bonus(b_, volvf[pr, a], mp[M_VF_K], mp[M_VF_VREF], mp[M_VF_MAX]) \
                    if (vf_on and mk[MK_VF, pr] != 0) else b_
    if cb_on and mk[MK_CB, pr] != 0 and mst.restricted[pr] and not (hf < mp[M_CB_EXEMPT]):
        waits = True
    if pa_on and cooldown_holds(mp, mk, pr, pos_last[im], t):
        waits = True
    return True, waits


@internal
def liquidate_multi_asset(t, mkt, rules, book, liqs, mechs, mst, st, ev, out):
    """Stage 5: the Aave-rule multi-asset positions at step ``t``, in book order, after the
    single-pair ones and while the step is not full.

    Position ``m`` (index ``N + m`` in events and in ``st.pos_last``/``st.pos_first``), when
    open: with agents or mechanisms present its terms come from :func:`multi_terms` (batch
    full: it waits, uncounted; not liquidatable: next; waits: ``SUM_SKIPPED += 1``); then
    :func:`liquidate_position` (the pair a bot picks, in place); it is undone and skipped
    (``SUM_SKIPPED += 1``) when the repaid value exceeds the capital left, the throttle has no
    room (multi-asset positions wait rather than scale), or (rational) it does not pay. A
    liquidation books what a single-pair one does (bad debt is the rule's quote value)."""
    m_proto = book.m_proto
    n_multi = m_proto.shape[0]
    if n_multi == 0:
        return
    n_simple = book.coll.shape[0]
    m_ptr = book.m_ptr
    m_asset = book.m_asset
    mp = mechs.p
    mk = mechs.mask
    mon, cb_on, th_on, tw_on, bp_on, if_on, da_on, pa_on, dm_on, re_on, ba_on, vf_on = mechanisms_on(mp)
    ag = st.ag
    ag_on = ag.shape[0] > 0
    summary = out.summary
    sc = st.sc
    mc = st.mc
    md = st.md
    m_open = st.m_open
    pos_last = st.pos_last
    pprice = st.pprice
    sold = st.sold
    sold_by = st.sold_by  # the sales ledger's owners (kernels.sales)
    ms = mst.ms
    lt = rules.lt
    bonus = rules.bonus
    pfee = rules.pfee
    rl = rules.rules
    for m in range(n_multi):
        if sc[SC_FULL] > 0.0:
            break
        if not m_open[m]:
            continue
        if liqs.max_per_step > 0 and sc[SC_N] >= liqs.max_per_step:
            break
        s0 = m_ptr[m]
        s1 = m_ptr[m + 1]
        pr = m_proto[m]
        im = n_simple + m
        lt_use = lt[pr]
        bn_use = bonus[pr]
        if mon or ag_on:
            liquidatable, waits = multi_terms(t, m, im, mkt, rules, book, mechs, mst, st)
            if not liquidatable:
                continue
            if waits:
                summary[SUM_SKIPPED] += 1.0
                continue
            lt_use = st.lt_row
            bn_use = st.bn_row
        save_c = mc[s0:s1].copy()
        save_d = md[s0:s1].copy()
        ec, ed, seize, repay, badv, fee, closed = liquidate_position(
            mc[s0:s1], md[s0:s1], m_asset[s0:s1], pprice[pr], lt_use, bn_use, pfee[pr], rl[pr])
        if ec < 0:
            continue
        a = m_asset[s0 + ec]
        pc = pprice[pr, a]
        pdj = pprice[pr, m_asset[s0 + ed]]
        ok = repay * pdj <= sc[SC_CAP_LEFT]
        if ok and th_on and mk[MK_TH, pr] != 0:
            if mp[M_TH_DEBT] > 0.0 and repay * pdj > mp[M_TH_DEBT] - ms[MS_TH_USED]:
                ok = False
            if mp[M_TH_SLIP] > 0.0 and seize > mst.depth_cap[a] - mst.th_sold[a]:
                ok = False
        profit = 0.0
        if ok and liqs.mode == MODE_RATIONAL:
            profit = rational_profit(st.vs, mkt.vdk, mkt.vdq, mkt.av_ptr, mkt.av_idx, sold, a, seize - fee,
                                     repay * pdj, pc, sc[SC_GAS])
            ok = profit > 0.0
        if not ok:
            mc[s0:s1] = save_c
            md[s0:s1] = save_d
            summary[SUM_SKIPPED] += 1.0
            continue
        sc[SC_CAP_LEFT] -= repay * pdj
        sc[SC_N] += 1.0
        if closed:
            m_open[m] = False
        sold[a] += seize
        sold_by[pr, a] += seize
        book_liquidation(summary, seize, repay, badv, fee, pc, pdj)
        summary[SUM_GAS] += sc[SC_GAS]
        summary[SUM_BORROWER_LOSS] += seize * pc - repay * pdj
        if pos_last[im] < 0:
            summary[SUM_NPOS_LIQ] += 1.0
        pos_last[im] = t
        sc[SC_REPAID] += repay * pdj
        sc[SC_BAD] += badv
        agents_after_liquidation(ag, t, profit, liqs.mode == MODE_RATIONAL, summary)
        if mon:
            if clearing_on(mp):
                ch_note_hf(mst.ch_hf, pr, a, multi_hf(save_c, save_d, m_asset[s0:s1], pprice[pr], lt_use, st.ones_a))
            th_add, fund = mechanisms_after_liquidation(t, pr, a, seize, repay * pdj, badv, fee, pc, mechs, mst,
                                                        ms[MS_FUND], summary)
            ms[MS_TH_USED] += th_add
            ms[MS_FUND] = fund
        else:
            summary[SUM_SOCIALIZED] += badv
        ev_push(ev.buf, ev.n, t, im, pr, a, seize, repay, pc, (seize - fee) * pc - repay * pdj, badv, fee)


# ---- 6. protocol units ------------------------------------------------------------------------


@internal
def note_unit_sales(sold, before, sold_by, p):
    """The sales ledger's owners: what unit protocol ``p`` just added to ``sold`` is its sale
    (``sold_by[p]``); ``before`` becomes the current ``sold``."""
    for a in range(sold.shape[0]):
        sold_by[p, a] += sold[a] - before[a]
        before[a] = sold[a]


@internal
def _take_acc(summary, acc, sc, ev):
    """Add a unit's step accumulators to the path summary and the step's counters; events a
    unit could not write count as lost when the path records events."""
    summary[0] += acc[ACC_NLIQ]
    summary[1] += acc[ACC_LIQ_VALUE]
    summary[2] += acc[ACC_REPAID]
    summary[3] += acc[ACC_BAD]
    summary[4] += acc[ACC_FEES]
    summary[5] += acc[ACC_BONUS]
    summary[SUM_GAS] += acc[ACC_GAS]
    summary[SUM_FUND_DRAW] += acc[ACC_FUND_DRAW]
    if ev.n[EV_LIMIT] >= 0:
        summary[SUM_EV_LOST] += acc[ACC_EV_LOST]
    sc[SC_N] += int(acc[ACC_NLIQ])
    sc[SC_REPAID] += acc[ACC_REPAID]
    sc[SC_BAD] += acc[ACC_BAD]


@internal
def _after_unit(t, p, mkt, st, ev, sl, out, before, watch, pre_vs):
    """What follows the step of the unit of protocol ``p``: its accumulators into the summary
    and the step's counters (:func:`_take_acc`), its queued sales and totals into the sales
    ledger (:func:`note_unit_sales`, :func:`note_unit_totals`) and, when ``watch``, what it
    traded on the venues itself since ``pre_vs`` (:func:`note_direct_trades`; ``pre_vs`` then
    follows the venues)."""
    acc = st.acc
    _take_acc(out.summary, acc, st.sc, ev)
    note_unit_sales(st.sold, before, st.sold_by, p)
    note_unit_totals(sl, acc, ACC_NLIQ, ACC_LIQ_VALUE, ACC_BAD, p)
    if watch:
        vs = st.vs
        note_direct_trades(t, p, pre_vs, vs, mkt.vdk, mkt.vdq, mkt.venue_asset, mkt.sink, sl)
        pre_vs[:] = vs


@internal
def step_units(t, mkt, orc, units, liqs, mechs, mst, st, ev, sl, out):
    """Stage 6: the protocol units at step ``t``, in the order Compound v3, Liquity, perps,
    Maker, crvUSD (the present ones: ``units.meta[u, UM_PROTO] >= 0``).

    Each gets the prices its protocol acts on (``st.pprice[proto]``), the venues (it may quote
    them; crvUSD's arbitrage trades them), ``st.sold`` (it adds the collateral its agents sell),
    its accumulators ``st.acc`` (zeroed before the call, added to the summary after it,
    :func:`_take_acc`), the liquidators' vector ``liqs.liq`` and the event columns (views of
    ``ev.buf``); its events carry ``position = meta[u, UM_OFFSET] + local index``. Maker first
    reads the next price of its OSM (``oracle_peep`` of oracle ``meta[U_MAKER, UM_PEEP]``, NaN
    when none). After each unit the sales ledger ``sl`` notes what it queued for sale
    (:func:`note_unit_sales`) and, when the ledger records or a counterfactual sink is set, what
    it traded on the venues itself (:func:`note_direct_trades`). With the clearinghouse on, a
    participating perp venue's forced buys are first filled from its inventory
    (:func:`ch_perp_before`, :func:`ch_perp_after`: netting)."""
    acc = st.acc
    meta = units.meta
    dt = mkt.dt_seconds
    vs = st.vs
    b = ev.buf
    e_step = b["step"]
    e_pos = b["position"]
    e_proto = b["protocol"]
    e_asset = b["asset"]
    e_seized = b["collateral_seized"]
    e_repaid = b["debt_repaid"]
    e_price = b["oracle_price"]
    e_exec = b["execution_price"]
    e_bonus = b["bonus_paid"]
    e_bad = b["bad_debt"]
    e_fee = b["protocol_fee"]
    liq = liqs.liq
    before = st.sold.copy()  # each unit's sales are what it adds to st.sold (note_unit_sales)
    watch = direct_watch(sl, mkt.sink)  # and what it trades on the venues itself (note_direct_trades)
    pre_vs = vs.copy() if watch else np.empty((0, vs.shape[1]))
    if meta[U_COMET, UM_PROTO] >= 0:
        acc[:] = 0.0
        p = meta[U_COMET, UM_PROTO]
        ev.n[EV_N] = comet_step(units.comet, t, dt, st.pprice[p], vs, mkt.vdk, mkt.vdq, mkt.av_ptr, mkt.av_idx,
                                st.sold, acc, liq, e_step, e_pos, e_proto, e_asset, e_seized, e_repaid, e_price,
                                e_exec, e_bonus, e_bad, e_fee, ev.n[EV_N], p, meta[U_COMET, UM_OFFSET])
        _after_unit(t, p, mkt, st, ev, sl, out, before, watch, pre_vs)
    if meta[U_LIQUITY, UM_PROTO] >= 0:
        acc[:] = 0.0
        p = meta[U_LIQUITY, UM_PROTO]
        ev.n[EV_N] = liquity_step(units.liquity, t, dt, st.pprice[p], vs, mkt.vdk, mkt.vdq, mkt.av_ptr,
                                  mkt.av_idx, st.sold, acc, liq, e_step, e_pos, e_proto, e_asset, e_seized,
                                  e_repaid, e_price, e_exec, e_bonus, e_bad, e_fee, ev.n[EV_N], p,
                                  meta[U_LIQUITY, UM_OFFSET])
        _after_unit(t, p, mkt, st, ev, sl, out, before, watch, pre_vs)
    if meta[U_PERP, UM_PROTO] >= 0:
        acc[:] = 0.0
        p = meta[U_PERP, UM_PROTO]
        ch_on = clearing_on(mechs.p)
        if ch_on:  # netting: its forced buys are filled from the clearinghouse first
            ch_perp_before(mechs, mst, units.perp[11], p, st.sold_by, vs, mkt.sink)
        ev.n[EV_N] = perp_step(units.perp, t, dt, st.pprice[p], vs, mkt.vdk, mkt.vdq, mkt.av_ptr, mkt.av_idx,
                               st.sold, acc, liq, e_step, e_pos, e_proto, e_asset, e_seized, e_repaid, e_price,
                               e_exec, e_bonus, e_bad, e_fee, ev.n[EV_N], p, meta[U_PERP, UM_OFFSET])
        _after_unit(t, p, mkt, st, ev, sl, out, before, watch, pre_vs)
        if ch_on:  # the netted units leave st.sold / st.sold_by (after the perp's own sales are noted)
            ch_perp_after(t, mkt, mechs, mst, units.perp[11], p, st, sl)
            before[:] = st.sold
    if meta[U_MAKER, UM_PROTO] >= 0:
        acc[:] = 0.0
        p = meta[U_MAKER, UM_PROTO]
        po = meta[U_MAKER, UM_PEEP]
        nxt = oracle_peep(st.ostate[po]) if po >= 0 else np.nan
        ilk = units.maker[1]
        for i in range(ilk.shape[0]):
            ilk[i, IK_PEEP] = nxt
        ev.n[EV_N] = maker_step(units.maker, t, dt, st.pprice[p], vs, mkt.vdk, mkt.vdq, mkt.av_ptr, mkt.av_idx,
                                st.sold, acc, liq, e_step, e_pos, e_proto, e_asset, e_seized, e_repaid, e_price,
                                e_exec, e_bonus, e_bad, e_fee, ev.n[EV_N], p, meta[U_MAKER, UM_OFFSET])
        _after_unit(t, p, mkt, st, ev, sl, out, before, watch, pre_vs)
    if meta[U_LLAMMA, UM_PROTO] >= 0:
        acc[:] = 0.0
        p = meta[U_LLAMMA, UM_PROTO]
        ev.n[EV_N] = llamma_step(units.llamma, t, dt, st.pprice[p], vs, mkt.vdk, mkt.vdq, mkt.av_ptr,
                                 mkt.av_idx, st.sold, acc, liq, e_step, e_pos, e_proto, e_asset, e_seized,
                                 e_repaid, e_price, e_exec, e_bonus, e_bad, e_fee, ev.n[EV_N], p,
                                 meta[U_LLAMMA, UM_OFFSET])
        _after_unit(t, p, mkt, st, ev, sl, out, before, watch, pre_vs)


# ---- 7. sales -----------------------------------------------------------------------------------


@inlined
def route_sales(t, mkt, mechs, mst, st, ev, sl, out):
    """Stage 7: the sales of step ``t``.

    ``st.seized`` ← ``st.sold`` (what the step seized, recorded); with the batch auction on,
    :func:`batch_sales` takes its protocols' collateral out of ``st.sold``, clears the batch at
    the window's end and sells the keepers' slice; with the buffer pool or the
    TWAP exit on, :func:`queue_sales` turns ``st.sold`` into what the venues receive; agents
    present: :func:`agents_pre_sales` (the front-runner sells first). Then for each asset ``a``:
    the pool's purchase ``(pq, pquote)`` (:func:`pool_take`) and, when ``sold[a] > 0``, a sale
    routed over its venues for best execution (:func:`route_sell`; at ``p_fixed[a]`` when it
    has no venue); when anything was sold, ``SUM_PROCEEDS += proceeds + pquote`` and every
    event of this step on asset ``a`` that has no execution price yet gets
    ``(proceeds + pquote) / (sold[a] + pq)``; ``steps_asset[t, a, ST_PROCEEDS]`` records
    ``proceeds + pquote``. Finally :func:`agents_post_sales` (front-runner buys back, hunter
    buys the dip).

    The sales ledger ``sl`` (:mod:`liqcascade.kernels.sales`) is kept by two calls that leave the
    run's numbers alone: :func:`sales_open` right after ``st.seized`` is set (the counterfactual
    sink takes its protocols' units out of ``sold``; the rest of ``st.sold_by`` enters the
    ledger's pipeline), and :func:`sell_recorded`, which makes the routed sale (or the fixed-price
    one) and writes the asset's rows with their Shapley share of each venue's move.

    The lean variant (``mechs`` None) compiles none of the mechanisms' and agents' parts: the
    step's sales go straight to the routed sale."""
    full = mechs is not None
    sold = st.sold
    seized = st.seized
    vs = st.vs
    vdk = mkt.vdk
    vdq = mkt.vdq
    av_ptr = mkt.av_ptr
    av_idx = mkt.av_idx
    p_fixed = mkt.p_fixed
    summary = out.summary
    steps_asset = out.steps_asset
    rec = out.record
    A = sold.shape[0]
    for a in range(A):
        seized[a] = sold[a]
    if full:
        me = borrow(mechs)
        mp = me.p
        ch_on = clearing_on(mp)
        by = st.sold_by.copy() if ch_on else st.sold_by  # the clearinghouse's intake (sales_open clears sold_by)
    sales_open(t, mkt.sink, st.sold_by, sold, vs, av_ptr, av_idx, p_fixed, mkt.stable, sl, summary, SUM_PROCEEDS)
    queued = False  # some of the step's sales wait in a mechanism's queue
    if full:
        mon, cb_on, th_on, tw_on, bp_on, if_on, da_on, pa_on, dm_on, re_on, ba_on, vf_on = mechanisms_on(mp)
        queued = bp_on or tw_on or ch_on
        bp_q = mst.bp_q
        bp_v = mst.bp_v
        rel = np.zeros(mst.ch_q.shape if ch_on else (0, 0))
        if ch_on:
            clearinghouse_sales(t, mkt, me, mst, st, by, sl, summary, rel)
        if ba_on:
            batch_sales(mp, t, mst.ba, sold, vs, vdk, vdq, av_ptr, av_idx, mkt.p_fixed, summary, ev.buf, ev.n[EV_N],
                        rec)
        if bp_on or tw_on:
            queue_sales(mp, t, sold, bp_q, bp_v, mst.bp_q_step, mst.bp_units, mst.tw_q, mst.tb_q, mst.tw_ring, mst.ms)
        ag = st.ag
        if ag.shape[0] > 0:
            agents_pre_sales(ag, sold, vs, vdk, vdq, av_ptr, av_idx, summary)
    buf = ev.buf
    ev_first = int(st.sc[SC_EV_FIRST])
    n_ev = ev.n[EV_N]
    for a in range(A):
        proceeds = 0.0
        pq = 0.0
        pquote = 0.0
        if full:
            if bp_on:
                pq, pquote = pool_take(bp_q, bp_v, a)
            if ch_on:  # the clearinghouse's in-house fills (netted, backstop) count like the pool's
                cq, cquote = ch_step_fills(mst.ch_bs, a)
                pq += cq
                pquote += cquote
        n0 = sl.n[EV_N]
        if sold[a] > 0.0:
            proceeds = sell_recorded(t, a, av_idx[av_ptr[a]:av_ptr[a + 1]], sold[a], vs, vdk, vdq, p_fixed, sl,
                                     queued, buf, ev_first, n_ev)
        if full and ch_on:
            ch_after_sale(a, sold[a], proceeds, rel, mst.ch_acc, sl, n0, me.mask, sl.unit, not (bp_on or tw_on))
        if sold[a] > 0.0 or pq > 0.0:
            summary[SUM_PROCEEDS] += proceeds + pquote
            if rec:
                px = (proceeds + pquote) / (sold[a] + pq)
                for j in range(ev_first, n_ev):
                    e = buf[j]
                    if e["asset"] == a and np.isnan(e["execution_price"]):
                        e["execution_price"] = px
        if rec:
            steps_asset[t, a, ST_PROCEEDS] = proceeds + pquote
    if full:
        if ag.shape[0] > 0:
            agents_post_sales(ag, sold, vs, vdk, vdq, av_ptr, av_idx, summary)
        if ch_on:
            ch_check(mst)


# ---- 8. record ----------------------------------------------------------------------------------


@inlined
def record(t, path, mkt, st, out):
    """Stage 8: the step's records. ``SUM_DISLOCATION += 1`` when some risky asset's mean venue
    spot is below ``(1 − DISLOCATION) · path[t, a]`` (``SUM_DISL_FIRST``/``SUM_DISL_LAST``: the
    first and last such step); when ``out.record``, ``SUM_MAX_MOVE`` ← the largest one-step fall
    ``(spot[t−1] − spot[t]) / spot[t−1]`` of a risky asset's mean venue spot so far; when ``out.record``:
    ``steps_asset[t, a]`` ← (reference, mean venue spot (fixed for stable assets), protocol 0's
    price, units seized) and ``steps_scalar[t]`` ← (liquidations, repaid, bad debt) of the
    step."""
    dislocated = False
    sa = out.steps_asset
    rec = out.record
    stable = mkt.stable
    p_fixed = mkt.p_fixed
    av_ptr = mkt.av_ptr
    av_idx = mkt.av_idx
    vs = st.vs
    pprice = st.pprice
    seized = st.seized
    summary = out.summary
    for a in range(stable.shape[0]):
        sp_a = p_fixed[a] if stable[a] else mean_venue_spot(vs, av_ptr, av_idx, a)
        if not stable[a] and sp_a < (1.0 - DISLOCATION) * path[t, a]:
            dislocated = True
        if rec and not stable[a] and sa[t - 1, a, ST_SPOT] > 0.0:
            mv = (sa[t - 1, a, ST_SPOT] - sp_a) / sa[t - 1, a, ST_SPOT]
            if mv > summary[SUM_MAX_MOVE]:
                summary[SUM_MAX_MOVE] = mv
        if rec:
            sa[t, a, ST_REF] = path[t, a]
            sa[t, a, ST_SPOT] = sp_a
            sa[t, a, ST_ORACLE] = pprice[0, a] if pprice.shape[0] > 0 else np.nan
            sa[t, a, ST_SEIZED] = seized[a]
    if dislocated:
        summary[SUM_DISLOCATION] += 1.0
        if summary[SUM_DISL_FIRST] == 0.0:
            summary[SUM_DISL_FIRST] = t
        summary[SUM_DISL_LAST] = t
    if rec:
        sc = st.sc
        ss = out.steps_scalar
        ss[t, SS_NLIQ] = sc[SC_N]
        ss[t, SS_REPAID] = sc[SC_REPAID]
        ss[t, SS_BAD] = sc[SC_BAD]


@internal
def record_start(path, mkt, orc, st, out):
    """The records of step 0: reference, mean venue spot, protocol 0's price (its oracle's
    initial price; the fixed price where it reads no oracle), nothing seized or sold."""
    if not out.record:
        return
    pr0 = np.int64(0)  # protocol 0 (not the constant 0: protocol_price would be compiled again for it)
    for a in range(mkt.stable.shape[0]):
        sa = out.steps_asset
        sa[0, a, ST_REF] = path[0, a]
        sa[0, a, ST_SPOT] = mkt.p_fixed[a] if mkt.stable[a] else mean_venue_spot(st.vs, mkt.av_ptr, mkt.av_idx, a)
        sa[0, a, ST_ORACLE] = protocol_price(pr0, a, mkt.stable, mkt.p_fixed, orc.of, st.oprice, mkt.p_fixed) \
            if orc.of.shape[0] > 0 else np.nan
        for k in range(ST_SEIZED, NST):
            sa[0, a, k] = 0.0
    for k in range(NSS):
        out.steps_scalar[0, k] = 0.0


@internal
def finish_path(mkt, book, mechs, mst, st, store, out, sl):
    """After the last step: value what the mechanisms hold unsold at the final mean venue spot
    (``SUM_HELD_VALUE``), close the clearinghouse's books (:func:`ch_finish`, into ``summary``
    and the ledger's ``sl.acc``), let the agents write their totals (:func:`agents_finish`), and write
    the final book (store entries and multi-asset entries) when ``out`` asks for it; under the
    leverage fee a single-pair debt is written as owed (scaled debt × the protocol's fee
    index). The lean variant (``mechs`` None) only writes the final book."""
    full = mechs is not None
    if full:
        mon, cb_on, th_on, tw_on, bp_on, if_on, da_on, pa_on, dm_on, re_on, ba_on, vf_on = mechanisms_on(mechs.p)
        if bp_on or tw_on or ba_on:
            for a in range(mkt.stable.shape[0]):
                held = held_units(mst.bp_units, mst.tw_ring, a) + batch_held(mst.ba, a)
                if held > 0.0:
                    px = mkt.p_fixed[a] if mkt.stable[a] else mean_venue_spot(st.vs, mkt.av_ptr, mkt.av_idx, a)
                    out.summary[SUM_HELD_VALUE] += held * px
        if clearing_on(mechs.p):
            ch_finish(mkt, mst, st.vs, out.summary, sl)
        if st.ag.shape[0] > 0:
            agents_finish(st.ag, st.vs, mkt.vdk, mkt.vdq, mkt.av_ptr, mkt.av_idx, out.summary)
    if out.out_coll.shape[0] > 0:
        store_write_back(store, out.out_coll, out.out_debt)
        if full:
            lev_ix = mst.lev_ix
            for seg in range(book.seg_asset.shape[0]):
                f = lev_ix[book.seg_proto[seg]]
                if f != 1.0:
                    for i in range(book.seg_ptr[seg], book.seg_ptr[seg + 1]):
                        out.out_debt[i] *= f
    if out.out_mcoll.shape[0] > 0:
        out.out_mcoll[:] = st.mc
        out.out_mdebt[:] = st.md
