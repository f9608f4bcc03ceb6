"""The cross-protocol clearinghouse — compiled step functions (rules in ``README.md``).

State: the clearinghouse's arrays of :class:`~liqcascade.kernels.layouts.MechState`
(``ch_q``, ``ch_key``, ``ch_acc``, ``ch_ring``, ``ch_bs``, ``ch_hf``); parameters: the
``M_CH_*`` slots of the mechanisms' pack and row ``MK_CH`` of their mask
(:mod:`liqcascade.mechanisms.kernel`). The time loop calls

* :func:`ch_note_hf` for every Aave-rule liquidation of a participating protocol (urgency);
* :func:`ch_offer` / :func:`ch_crossed` around a participating perp venue's step (netting: its
  forced buys are filled from the clearinghouse's inventory at the venue's spot before the
  step, without touching the venue);
* :func:`clearinghouse_sales` in ``route_sales``, before the routed sales: intake, budget,
  allocation, backstop; :func:`ch_after_sale` after the asset's routed sale; :func:`ch_mark`
  at the end of the step (marks, price risk, the conservation check);
* :func:`ch_finish` after the last step (held value, the queue's shortfall, totals).

Twin: :mod:`liqcascade.mechanisms.clearinghouse.twin` (the same rules written naively).
"""

from __future__ import annotations

import numpy as np

from ...kernels._jit import internal, njit
from ...kernels.layouts import (
    CA_BS, CA_HELD_VIN, CA_IN, CA_NET, CA_QUOTE, CA_RISK, CA_SOLD, CA_VIN, SUM_CH_BS, SUM_CH_BS_PNL, SUM_CH_CONS,
    SUM_CH_HELD, SUM_CH_HELD_VALUE, SUM_CH_IN, SUM_CH_NET, SUM_CH_RISK, SUM_CH_SHORTFALL, SUM_CH_SOLD,
)
from ..kernel import (
    M_CH_ALLOC, M_CH_BS_DISC, M_CH_NET, M_CH_ON, M_CH_STEP, M_CH_WMOVE, M_ON, MK_CH, depth_units_to,
)
from ...kernels.sales import (
    EV_LIMIT, EV_N, NPA_CH, SRC_BACKSTOP, SRC_CLEARING, SRC_LIQUIDATION, SRC_NETTED, SRC_QUEUE, SRC_UNIT, VENUE_BACKSTOP,
    VENUE_CLEARING, sale_push,
)
from ...protocols.perp.kernel import M_ASSET, M_VENUE, M_X_AVAIL, M_X_FILL, M_X_PX
from ...venues.dispatch import venue_spot

#: per-protocol totals the ledger's ``acc`` rows carry after the base columns (``Sales.acc[p, NPA + k]``)
PC_IN = 0
PC_NET = 1
PC_SOLD = 2
PC_BS = 3
PC_HELD = 4
PC_VIN = 5
PC_QUOTE = 6
PC_HELD_VALUE = 7
PC_RISK = 8
PC_SHORTFALL = 9
NPC = NPA_CH

#: urgency key of units whose seller has no health factor in the unit interface (protocol units)
UNIT_HF = 1.0
#: what is left of the step's routed sale after the clearinghouse took units out of it, relative to
#: what it took, below which the rest is rounding (``Σ by`` and ``sold`` summed in other orders),
#: not a sale: it is set to 0 (else a dust sale of ~1e-13 units would price the step's events)
DUST = 1e-12


@internal
def clearing_on(mp):
    """The clearinghouse is on."""
    return mp[M_ON] > 0.0 and mp[M_CH_ON] > 0.0


@internal
def _spot(vs, av_ptr, av_idx, a, p_fixed, stable):
    """Mean venue spot of asset ``a`` (its fixed price when stable or without venues)."""
    n = av_ptr[a + 1] - av_ptr[a]
    if stable[a] or n == 0:
        return p_fixed[a]
    s = 0.0
    for j in range(av_ptr[a], av_ptr[a + 1]):
        s += venue_spot(vs, av_idx[j])
    return s / n


@internal
def ch_note_hf(ch_hf, pr, a, hf):
    """An Aave-rule liquidation of protocol ``pr`` on asset ``a`` at health factor ``hf``."""
    if hf < ch_hf[pr, a]:
        ch_hf[pr, a] = hf


@njit
def ch_budget(mp, t, a, vs, vdk, vdq, av_ptr, av_idx, p0, ring, spot):
    """Units the venues of asset ``a`` absorb this step within the impact budget.

    ``spot`` is the mean venue spot before the step's sales; it enters the window ring (slot
    ``t % W``; the ring starts filled with ``p0``). The floor is the higher of
    ``spot · (1 − max_step_move)`` and ``high · (1 − max_window_move)`` with ``high`` the highest
    pre-sale spot of the last ``W`` steps (this one included); the budget is what brings every
    venue of the asset down to the floor (:func:`depth_units_to`; 0 when the spot is already at
    or below it)."""
    W = ring.shape[0] - 1
    if ring[W, a] == 0.0:
        for k in range(W + 1):
            ring[k, a] = p0
    ring[t % W, a] = spot
    hi = ring[0, a]
    for k in range(1, W):
        if ring[k, a] > hi:
            hi = ring[k, a]
    floor = spot * (1.0 - mp[M_CH_STEP])
    fw = hi * (1.0 - mp[M_CH_WMOVE])
    if fw > floor:
        floor = fw
    if not floor < spot:
        return 0.0
    return depth_units_to(vs, vdk, vdq, av_ptr, av_idx, a, floor)


@njit
def ch_allocate(q, key, a, cap, urgency, take):
    """Split ``cap`` units of asset ``a`` over the queue ``q[:, a]``: all of it when it fits;
    else pro rata, or by urgency (lowest ``key`` first, ties in protocol order). Writes
    ``take[p]`` and returns the total."""
    P = q.shape[0]
    tot = 0.0
    for p in range(P):
        take[p] = 0.0
        tot += q[p, a]
    if not (tot > 0.0) or not (cap > 0.0):
        return 0.0
    if cap >= tot:
        for p in range(P):
            take[p] = q[p, a]
        return tot
    if not urgency:
        f = cap / tot
        got = 0.0
        for p in range(P):
            take[p] = q[p, a] * f
            got += take[p]
        return got
    left = cap
    done = np.zeros(P, np.bool_)
    while left > 0.0:
        best = -1
        for p in range(P):
            if not done[p] and q[p, a] > 0.0 and (best < 0 or key[p, a] < key[best, a]):
                best = p
        if best < 0:
            break
        done[best] = True
        x = q[best, a] if q[best, a] < left else left
        take[best] = x
        left -= x
    return cap - left


@njit
def ch_take(q, key, acc, a, take, col, quote):
    """Take ``take[p]`` units of asset ``a`` out of each queue into column ``col`` of the
    accounting; ``quote`` (what they fetched) is split in proportion to the units; the
    value-in of what is still held shrinks in proportion."""
    tot = 0.0
    for p in range(q.shape[0]):
        tot += take[p]
    if not tot > 0.0:
        return
    for p in range(q.shape[0]):
        x = take[p]
        if not x > 0.0:
            continue
        h = q[p, a]
        if x >= h:
            x = h
            acc[p, a, CA_HELD_VIN] = 0.0
            q[p, a] = 0.0
            key[p, a] = np.inf
        else:
            acc[p, a, CA_HELD_VIN] *= 1.0 - x / h
            q[p, a] = h - x
        take[p] = x
        acc[p, a, col] += x
        acc[p, a, CA_QUOTE] += quote * (x / tot)


@internal
def ch_offer(mp, mk, perp_p, a, q, by, sink):
    """Units of asset ``a`` a participating perp venue's forced buys may take this step: the
    queue plus what the participating protocols stepped before it queued this step
    (``by = st.sold_by``), its own excepted. 0 with netting off or the perp not participating."""
    if not mp[M_CH_NET] > 0.0 or mk[MK_CH, perp_p] == 0:
        return 0.0
    s = 0.0
    for p in range(q.shape[0]):
        if p == perp_p or mk[MK_CH, p] == 0 or (sink.shape[0] > 0 and sink[p]):
            continue
        s += q[p, a] + by[p, a]
    return s


@internal
def ch_perp_before(mechs, mst, pmkt, perp_p, by, vs, sink):
    """Before a perp venue's step: each market's offer (``M_X_AVAIL`` = :func:`ch_offer` for the
    first market of an asset, 0 for a further market of the same asset, so that the inventory is
    offered once; 0 when the perp venue is sunk by the counterfactual) at its book's spot
    (``M_X_PX``); ``M_X_FILL`` ← 0."""
    for m in range(pmkt.shape[0]):
        a = int(pmkt[m, M_ASSET])
        first = True
        for m2 in range(m):
            if int(pmkt[m2, M_ASSET]) == a:
                first = False
        sunk = sink.shape[0] > 0 and sink[perp_p]  # its trades never meet the market in the counterfactual
        pmkt[m, M_X_AVAIL] = ch_offer(mechs.p, mechs.mask, perp_p, a, mst.ch_q, by, sink) if first and not sunk else 0.0
        pmkt[m, M_X_PX] = venue_spot(vs, int(pmkt[m, M_VENUE]))
        pmkt[m, M_X_FILL] = 0.0


@internal
def ch_perp_after(t, mkt, mechs, mst, pmkt, perp_p, st, sl):
    """After a perp venue's step: what each market bought from the offer is booked
    (:func:`ch_crossed`), and the offer is withdrawn."""
    for m in range(pmkt.shape[0]):
        x = pmkt[m, M_X_FILL]
        if x > 0.0:
            ch_crossed(mechs.p, t, int(pmkt[m, M_ASSET]), x, pmkt[m, M_X_PX], perp_p, mst.ch_q, mst.ch_key,
                       mst.ch_acc, st.sold_by, st.sold, sl, mechs.mask, mkt.sink, mst.ch_bs)
        pmkt[m, M_X_AVAIL] = 0.0
        pmkt[m, M_X_FILL] = 0.0


@internal
def ch_crossed(mp, t, a, x, px, perp_p, q, key, acc, by, sold, sl, mk, sink, ch_bs):
    """The perp venue ``perp_p`` bought ``x`` units of asset ``a`` from the clearinghouse at
    ``px`` (netting). They come first from what the other participants queued this step (in
    proportion; those units enter the clearinghouse and leave it at once), then from the queue
    (by the allocation rule). Each seller's share is booked as netted, with its quote; the
    ledger gets a row per seller (source ``netted``, venue ``(clearinghouse)``) and one for the
    buyer (negative amount)."""
    if not x > 0.0:
        return
    P = q.shape[0]
    rec = sl.n[EV_LIMIT] >= 0
    fresh = 0.0
    for p in range(P):
        if p != perp_p and mk[MK_CH, p] != 0 and not (sink.shape[0] > 0 and sink[p]):
            fresh += by[p, a]
    from_fresh = x if x < fresh else fresh
    take = np.zeros(P)
    if from_fresh > 0.0:
        f = from_fresh / fresh
        for p in range(P):
            if p != perp_p and mk[MK_CH, p] != 0 and not (sink.shape[0] > 0 and sink[p]) and by[p, a] > 0.0:
                y = by[p, a] * f if f < 1.0 else by[p, a]
                by[p, a] -= y
                sold[a] -= y
                if sold[a] < 0.0:
                    sold[a] = 0.0
                acc[p, a, CA_IN] += y
                acc[p, a, CA_VIN] += y * px
                acc[p, a, CA_NET] += y
                acc[p, a, CA_QUOTE] += y * px
                take[p] = y
        if sold[a] <= DUST * from_fresh:  # the rounding left of a sale crossed whole is no sale
            sold[a] = 0.0
    rest = x - from_fresh
    if rest > 0.0:
        urgency = mp[M_CH_ALLOC] == 0.0
        tk = np.zeros(P)
        own = q[perp_p, a]
        q[perp_p, a] = 0.0  # the perp's own queue does not sell to it
        got = ch_allocate(q, key, a, rest, urgency, tk)
        q[perp_p, a] = own
        ch_take(q, key, acc, a, tk, CA_NET, got * px)
        for p in range(P):
            take[p] += tk[p]
    tot = 0.0
    for p in range(P):
        tot += take[p]
    ch_bs[a, 2] += tot
    ch_bs[a, 3] += tot * px
    if rec:
        for p in range(P):
            if take[p] > 0.0:
                sale_push(sl, t, VENUE_CLEARING, a, p, -1, SRC_NETTED, take[p], take[p] * px, px, px, 0.0)
        sale_push(sl, t, VENUE_CLEARING, a, perp_p, -1, SRC_NETTED, -tot, -tot * px, px, px, 0.0)


@internal
def clearinghouse_sales(t, mkt, mechs, mst, st, by, sl, summary, rel):
    """The clearinghouse before the routed sales of step ``t`` (rules in ``README.md``), per
    asset ``a``, with ``spot`` the mean venue spot before the step's sales:

    1. *mark*: price risk ``+= q · (mark − spot)`` for the units queued since the last mark, and
       the mark becomes ``spot``;
    2. *intake*: each participating protocol's units of the step (``by[p, a]``, a copy of
       ``st.sold_by`` taken before the ledger's ``sales_open``; protocols sunk by the
       counterfactual excepted) leave ``st.sold[a]`` and join its queue, valued at ``spot``;
       the queue's urgency key becomes the lower of its key and the step's lowest HF
       (``mst.ch_hf``; :data:`UNIT_HF` for a protocol unit);
    3. *budget*: :func:`ch_budget` less what the other protocols route this step
       (``st.sold[a]`` after the intake); unlimited for an asset sold at a fixed price;
    4. *allocation*: :func:`ch_allocate` releases that many units (``rel[p, a]``) back into
       ``st.sold[a]``; when the ledger records, its pipeline ``sl.q[p, a]`` gets their owners;
    5. *backstop*: while its capital lasts it buys what is still queued at
       ``spot · (1 − discount)``, by the same allocation rule (ledger rows of source
       ``backstop``).

    The step's in-house fills (netted, backstop) are ``mst.ch_bs[a, 2:4]`` (units, quote), which
    ``route_sales`` adds to the asset's proceeds and execution price."""
    mp = mechs.p
    mk = mechs.mask
    vs = st.vs
    sold = st.sold
    vdk = mkt.vdk
    vdq = mkt.vdq
    av_ptr = mkt.av_ptr
    av_idx = mkt.av_idx
    p_fixed = mkt.p_fixed
    stable = mkt.stable
    sink = mkt.sink
    q = mst.ch_q
    key = mst.ch_key
    acc = mst.ch_acc
    ring = mst.ch_ring
    bs = mst.ch_bs
    hf = mst.ch_hf
    P = q.shape[0]
    A = q.shape[1]
    W = ring.shape[0] - 1
    rec = sl.n[EV_LIMIT] >= 0
    urgency = mp[M_CH_ALLOC] == 0.0
    take = np.zeros(P)
    for a in range(A):
        spot = _spot(vs, av_ptr, av_idx, a, p_fixed, stable)
        # 1. mark
        mark = ring[W, a] if ring[W, a] > 0.0 else p_fixed[a]
        for p in range(P):
            if q[p, a] > 0.0:
                acc[p, a, CA_RISK] += q[p, a] * (mark - spot)
        # 2. intake
        xin = 0.0
        for p in range(P):
            x = by[p, a]
            if mk[MK_CH, p] == 0 or (sink.shape[0] > 0 and sink[p]):
                hf[p, a] = np.inf
                continue
            if x > 0.0:
                sold[a] -= x
                if sold[a] < 0.0:
                    sold[a] = 0.0
                xin += x
                q[p, a] += x
                acc[p, a, CA_IN] += x
                acc[p, a, CA_VIN] += x * spot
                acc[p, a, CA_HELD_VIN] += x * spot
                k = hf[p, a] if hf[p, a] < np.inf else UNIT_HF
                if k < key[p, a]:
                    key[p, a] = k
                if rec:
                    sl.q[p, a] = 0.0
            hf[p, a] = np.inf
        if sold[a] <= DUST * xin:  # the rounding left of a sale the intake took whole is no sale
            sold[a] = 0.0
        # 3. budget
        fixed = stable[a] or av_ptr[a + 1] == av_ptr[a]
        if fixed:
            cap = np.inf
            ring[W, a] = spot
        else:
            cap = ch_budget(mp, t, a, vs, vdk, vdq, av_ptr, av_idx, p_fixed[a], ring, spot) - sold[a]
            ring[W, a] = spot
        # 4. allocation
        got = ch_allocate(q, key, a, cap, urgency, take)
        if got > 0.0:
            ch_take(q, key, acc, a, take, CA_SOLD, 0.0)
            for p in range(P):
                rel[p, a] = take[p]
                sold[a] += take[p]
                if rec:
                    sl.q[p, a] += take[p]
        # 5. backstop
        left = bs[A, 0]
        if left > 0.0:
            px = spot * (1.0 - mp[M_CH_BS_DISC])
            tot = 0.0
            for p in range(P):
                tot += q[p, a]
            if tot > 0.0 and px > 0.0:
                n = tot if tot * px <= left else left / px
                got = ch_allocate(q, key, a, n, urgency, take)
                if got > 0.0:
                    ch_take(q, key, acc, a, take, CA_BS, got * px)
                    paid = 0.0
                    for p in range(P):
                        if take[p] > 0.0:
                            paid += take[p] * px
                            if rec:
                                sale_push(sl, t, VENUE_BACKSTOP, a, p, -1, SRC_BACKSTOP, take[p], take[p] * px, spot,
                                          spot, 0.0)
                    bs[A, 0] = left - paid if left > paid else 0.0
                    bs[a, 0] += got
                    bs[a, 1] += paid
                    bs[a, 2] += got
                    bs[a, 3] += paid  # route_sales adds it to the proceeds (ch_step_fills)


@internal
def ch_after_sale(a, x, proceeds, rel, acc, sl, n0, mk, unit, relabel_others):
    """After asset ``a``'s routed sale of ``x`` units for ``proceeds``: each participant's
    released units get their share of the proceeds (in proportion to units, as the ledger splits
    them), and the ledger rows the sale wrote from row ``n0`` are relabelled — a participant's
    to source ``clearing``; the others' (``relabel_others``: no TWAP exit or buffer pool) back
    to ``liquidation`` / ``unit``."""
    if x > 0.0:
        for p in range(rel.shape[0]):
            if rel[p, a] > 0.0:
                acc[p, a, CA_QUOTE] += proceeds * (rel[p, a] / x)
            rel[p, a] = 0.0
    if sl.n[EV_LIMIT] < 0:
        return
    buf = sl.buf
    for i in range(n0, sl.n[EV_N]):
        r = buf[i]
        p = r["protocol"]
        if p < 0 or r["source"] != SRC_QUEUE:
            continue
        if mk[MK_CH, p] != 0:
            r["source"] = SRC_CLEARING
        elif relabel_others:
            r["source"] = SRC_UNIT if unit[p] else SRC_LIQUIDATION


@internal
def ch_step_fills(bs, a):
    """The step's in-house fills of asset ``a`` (netted and backstop): ``(units, quote)``, cleared."""
    u = bs[a, 2]
    v = bs[a, 3]
    bs[a, 2] = 0.0
    bs[a, 3] = 0.0
    return u, v


@internal
def ch_check(mst):
    """The conservation check of the step: the largest ``|in − netted − sold − backstop − held|``
    over (protocol, asset) so far, in ``ch_bs[A, 1]``."""
    acc = mst.ch_acc
    q = mst.ch_q
    bs = mst.ch_bs
    A = q.shape[1]
    worst = bs[A, 1]
    for p in range(q.shape[0]):
        for a in range(A):
            e = abs(acc[p, a, CA_IN] - acc[p, a, CA_NET] - acc[p, a, CA_SOLD] - acc[p, a, CA_BS] - q[p, a])
            if e > worst:
                worst = e
    bs[A, 1] = worst


@internal
def ch_finish(mkt, mst, vs, summary, sl):
    """After the last step: the queue is marked at the final mean venue spot (price risk of the
    last interval); held units and value, the queue's shortfall (value-in of what is still held
    less its end value: the queue's bad debt when it outlives the crash), the backstop's P&L and
    the totals go into ``summary`` (``SUM_CH_*``) and, per protocol, into the ledger's
    ``sl.acc[p, NPA + PC_*]`` (units summed over assets)."""
    q = mst.ch_q
    acc = mst.ch_acc
    ring = mst.ch_ring
    bs = mst.ch_bs
    P = q.shape[0]
    A = q.shape[1]
    W = ring.shape[0] - 1
    base = sl.acc.shape[1] - NPC
    ch_check(mst)
    for a in range(A):
        px = _spot(vs, mkt.av_ptr, mkt.av_idx, a, mkt.p_fixed, mkt.stable)
        mark = ring[W, a] if ring[W, a] > 0.0 else mkt.p_fixed[a]
        for p in range(P):
            h = q[p, a]
            if h > 0.0:
                acc[p, a, CA_RISK] += h * (mark - px)
            held_value = h * px
            short = acc[p, a, CA_HELD_VIN] - held_value if h > 0.0 else 0.0
            summary[SUM_CH_IN] += acc[p, a, CA_IN]
            summary[SUM_CH_NET] += acc[p, a, CA_NET]
            summary[SUM_CH_SOLD] += acc[p, a, CA_SOLD]
            summary[SUM_CH_BS] += acc[p, a, CA_BS]
            summary[SUM_CH_HELD] += h
            summary[SUM_CH_HELD_VALUE] += held_value
            summary[SUM_CH_RISK] += acc[p, a, CA_RISK]
            summary[SUM_CH_SHORTFALL] += short
            if base >= 0 and p < sl.acc.shape[0]:
                r = sl.acc[p]
                r[base + PC_IN] += acc[p, a, CA_IN]
                r[base + PC_NET] += acc[p, a, CA_NET]
                r[base + PC_SOLD] += acc[p, a, CA_SOLD]
                r[base + PC_BS] += acc[p, a, CA_BS]
                r[base + PC_HELD] += h
                r[base + PC_VIN] += acc[p, a, CA_VIN]
                r[base + PC_QUOTE] += acc[p, a, CA_QUOTE]
                r[base + PC_HELD_VALUE] += held_value
                r[base + PC_RISK] += acc[p, a, CA_RISK]
                r[base + PC_SHORTFALL] += short
        summary[SUM_CH_BS_PNL] += bs[a, 0] * px - bs[a, 1]
    summary[SUM_CH_CONS] = bs[A, 1]
