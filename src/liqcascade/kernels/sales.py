"""The sales ledger: every forced sale as a record, with its share of the price move.

The time loop sells the collateral of one step *as one routed sale per asset* (the numbers of
the run do not change with the ledger). This module records who that sale belonged to, venue by
venue, in a second record buffer that grows exactly like the liquidation events
(:mod:`liqcascade.kernels.events`: ``n[EV_N]``, ``n[EV_LOST]``, ``n[EV_LIMIT]``; a limit ``< 0``
records nothing). One row of :data:`SALE`::

    step, venue, asset          int64   (venue -1: an asset without venues, sold at its fixed
                                         price; venue -2: the counterfactual sink)
    protocol, position, source  int64   (protocol -1: not a protocol's sale; position -1: not
                                         tied to one position, see ``source``)
    amount, proceeds            float64 (asset units sold into the venue, quote received)
    price_pre, price_post       float64 (the venue's spot before / after the step's routed sale)
    impact                      float64 (this row's share of ``price_post - price_pre``)

``source``: :data:`SRC_LIQUIDATION` (an Aave-rule liquidation of ``position`` this step),
:data:`SRC_UNIT` (a protocol unit's sales this step: auction fills, book-liquidation slices,
backstop and ADL sales — the unit interface hands the loop one amount per asset, so the
position is not known), :data:`SRC_QUEUE` (released by the TWAP exit or the buffer pool from
earlier seizures), :data:`SRC_OTHER` (a residual no protocol accounts for),
:data:`SRC_DIRECT` (a protocol unit that trades the venues itself during its step — a perp
venue's book liquidations and backstop, crvUSD's band arbitrage — recorded by
:func:`note_direct_trades` as the net amount each venue took during the unit's call: negative
when the unit bought on balance; its ``impact`` is the whole move of that call, since nobody
else traded the venue at that moment).

**Who owns the routed amount.** ``by[P, A]`` (in the loop's ``State.sold_by``) is what each
protocol queued for sale in the step. Its units go into a per-protocol pipeline ``q[P, A]``;
the amount routed to the venues of asset ``a`` belongs to the protocols in proportion to
``q[:, a]``, which is then reduced by what was attributed. Without a TWAP exit or buffer pool
the pipeline empties every step and the attribution is exact (each protocol's sale is what it
seized); with them a released slice is shared pro rata among the protocols with units still
queued (a stated rule: the queues themselves are not per protocol). An Aave-rule protocol's
share is split over this step's liquidation events of that protocol and asset in proportion to
the collateral seized (exact: that is what each added to the sale).

**Venues.** ``route_sell`` spreads an asset's sale over its venues. The amount each venue took
is rebuilt on a copy of the pre-trade state (the amount that brings the venue from its spot
before to its spot after, and what selling it there pays); the rounding residual goes to the
venue that took the most, so the rows of a step sum to the routed amount and its proceeds.

**Impact attribution (Shapley).** The price move of venue ``v`` in a step,
``Δ_v = post_v − pre_v``, is split over the players who sold into the asset that step (the
protocols with a share, and "other" for a residual) by the Shapley value of the game
``w_v(S)`` = the move of venue ``v`` when only coalition ``S``'s amounts are routed from the
same pre-trade state (``w_v(∅) = 0``, ``w_v(all) = Δ_v``, the move that happened)::

    φ_i = Σ_{S ⊆ N∖{i}} |S|! (n − |S| − 1)! / n! · (w_v(S ∪ {i}) − w_v(S))

It sums to ``Δ_v`` (efficiency) and does not depend on the order in which the protocols are
listed or sold. Sequential attribution (the first seller gets the move its own sale made, the
second the extra move on top of it, …) depends on the order: on a convex price curve whoever is
counted last is charged most. Shapley averages that marginal charge over every order. It needs
``2^n − 2`` extra routings from a copy of the state; up to :data:`SHAPLEY_MAX` players it is
computed exactly, beyond that the move is split in proportion to the amounts (stated in the run
notes). Within a protocol, its share is split over its rows in proportion to their amounts.

The twin is :func:`liqcascade.kernels.dynamic_py.simulate_path_py` (its ledger is computed the
naive way: Shapley by averaging over every order of the players).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._jit import internal
from .events import EV_LIMIT, EV_LOST, EV_N, NEV
from ..venues.dispatch import (
    route_sell, venue_buy, venue_buy_to_price, venue_sell, venue_sell_to_price, venue_spot,
)

SALE = np.dtype([
    ("step", np.int64), ("venue", np.int64), ("asset", np.int64), ("protocol", np.int64),
    ("position", np.int64), ("source", np.int64), ("amount", np.float64), ("proceeds", np.float64),
    ("price_pre", np.float64), ("price_post", np.float64), ("impact", np.float64),
])

SRC_LIQUIDATION = 0
SRC_UNIT = 1
SRC_QUEUE = 2
SRC_OTHER = 3
SRC_DIRECT = 4
SRC_NETTED = 5  # the clearinghouse crossed the units against a perp venue's forced buys (no venue touched)
SRC_CLEARING = 6  # the clearinghouse released the units into the venues
SRC_BACKSTOP = 7  # the clearinghouse's backstop fund bought the units
SOURCES = ("liquidation", "unit", "queue", "other", "direct", "netted", "clearing", "backstop")

PA_NLIQ = 0
PA_VALUE = 1
PA_BAD = 2
NPA = 3
#: the clearinghouse's per-protocol totals, after the base columns of ``Sales.acc``
#: (:mod:`liqcascade.mechanisms.clearinghouse.kernel`, ``PC_*``)
NPA_CH = 10

VENUE_NONE = -1  # an asset without venues (sold at its fixed price)
VENUE_SINK = -2  # the counterfactual sink
VENUE_CLEARING = -3  # the clearinghouse's internal cross (netting)
VENUE_BACKSTOP = -4  # the clearinghouse's backstop fund

#: the most sellers of one asset in one step whose split is computed as an exact Shapley value
#: (2^n − 2 routings); more are split in proportion to their amounts
SHAPLEY_MAX = 8


class Sales(NamedTuple):
    """The ledger of one path: ``buf`` (rows of :data:`SALE`), ``n[NEV]`` (count, lost, limit as
    in :mod:`~liqcascade.kernels.events`), the pipeline ``q[P, A]``, ``unit[P]`` (protocol
    ``p`` is a protocol unit: its sales are not split over its events) and ``acc[P, NPA]``: each
    unit protocol's liquidations, liquidated value and bad debt on the path (its accumulators;
    an Aave-rule protocol's are its events, one per liquidation)."""

    buf: np.ndarray
    n: np.ndarray
    q: np.ndarray
    unit: np.ndarray
    acc: np.ndarray


def sales_new(capacity: int, limit: int, unit: np.ndarray, A: int) -> Sales:
    """An empty ledger of ``capacity`` rows that may grow to ``limit`` (``< 0``: records nothing)."""
    cap = 0 if limit < 0 else max(0, min(int(capacity), int(limit)))
    n = np.zeros(NEV, np.int64)
    n[EV_LIMIT] = int(limit)
    unit = np.ascontiguousarray(unit, dtype=np.bool_)
    return Sales(np.zeros(cap, dtype=SALE), n, np.zeros((unit.shape[0], A)), unit, np.zeros((unit.shape[0], NPA + NPA_CH)))


@internal
def sales_off_k(P, A):
    """A ledger that records nothing, inside a kernel (the many-paths runs)."""
    n = np.zeros(NEV, np.int64)
    n[EV_LIMIT] = -1
    return Sales(np.zeros(0, dtype=SALE), n, np.zeros((P, A)), np.zeros(P, np.bool_), np.zeros((P, NPA + NPA_CH)))


@internal
def sales_reserve(sl, room):
    """``sl`` with room for ``room`` more rows (grown by doubling, never past its limit)."""
    lim = sl.n[EV_LIMIT]
    if lim < 0:
        return sl
    need = sl.n[EV_N] + room
    cap = sl.buf.shape[0]
    if need <= cap or cap >= lim:
        return sl
    new_cap = 2 * cap
    if new_cap < need:
        new_cap = need
    if new_cap < 64:
        new_cap = 64
    if new_cap > lim:
        new_cap = lim
    buf = np.zeros(new_cap, dtype=SALE)
    k = sl.n[EV_N]
    buf[:k] = sl.buf[:k]
    return Sales(buf, sl.n, sl.q, sl.unit, sl.acc)


@internal
def sale_room(sl, n_venues, n_events, P):
    """Rows one step can write: for every venue, one per event of the step, one per protocol and
    one residual, plus the sink's rows."""
    return n_venues * (n_events + P + 1) + P * sl.q.shape[1]


@internal
def sale_push(sl, step, venue, asset, proto, pos, source, amount, proceeds, pre, post, impact):
    """Append one row, or count it as lost when the ledger is full."""
    buf = sl.buf
    n = sl.n
    k = n[EV_N]
    if k < buf.shape[0]:
        r = buf[k]
        r["step"] = step
        r["venue"] = venue
        r["asset"] = asset
        r["protocol"] = proto
        r["position"] = pos
        r["source"] = source
        r["amount"] = amount
        r["proceeds"] = proceeds
        r["price_pre"] = pre
        r["price_post"] = post
        r["impact"] = impact
        n[EV_N] = k + 1
    elif n[EV_LIMIT] >= 0:
        n[EV_LOST] += 1


@internal
def sales_open(t, sink, sold_by, sold, vs, av_ptr, av_idx, p_fixed, stable, sl, summary, sum_proceeds):
    """Before the step's sales are queued or routed: the counterfactual sink takes the units of
    the protocols with ``sink[p]`` (they leave ``sold`` and never reach a venue; the sink pays the
    asset's mean venue spot, recorded as proceeds and as a ledger row at venue
    :data:`VENUE_SINK`), and the rest of ``sold_by`` enters the pipeline ``sl.q``."""
    P = sold_by.shape[0]
    A = sold_by.shape[1]
    rec = sl.n[EV_LIMIT] >= 0
    for p in range(P):
        sunk = sink.shape[0] > 0 and sink[p]
        for a in range(A):
            x = sold_by[p, a]
            if x <= 0.0:
                continue
            if sunk:
                sold[a] -= x
                if sold[a] < 0.0:
                    sold[a] = 0.0
                px = p_fixed[a]
                if not stable[a] and av_ptr[a + 1] > av_ptr[a]:
                    s = 0.0
                    for j in range(av_ptr[a], av_ptr[a + 1]):
                        s += venue_spot(vs, av_idx[j])
                    px = s / (av_ptr[a + 1] - av_ptr[a])
                summary[sum_proceeds] += x * px
                if rec:
                    sale_push(sl, t, VENUE_SINK, a, p, -1, SRC_UNIT if sl.unit[p] else SRC_LIQUIDATION, x, x * px,
                              px, px, 0.0)
            elif rec:
                sl.q[p, a] += x
    sold_by[:] = 0.0


@internal
def _shapley(vals, n, w, phi):
    """Shapley values ``phi[i, j]`` of the games ``vals[mask, j]`` over ``n`` players."""
    full = (1 << n) - 1
    for i in range(n):
        bit = 1 << i
        for mask in range(full + 1):
            if mask & bit:
                continue
            k = 0
            m = mask
            while m:
                k += m & 1
                m >>= 1
            for j in range(vals.shape[1]):
                phi[i, j] += w[k] * (vals[mask | bit, j] - vals[mask, j])


@internal
def sell_recorded(t, a, ids, x, vs, vdk, vdq, p_fixed, sl, queued, evbuf, ev_first, ev_n):
    """Sell ``x`` units of asset ``a`` into its venues ``ids`` exactly as the loop does
    (:func:`route_sell`, or at ``p_fixed[a]`` without venues) and return the quote received; when
    the path records its ledger, write the step's rows for this asset (module docstring).
    ``queued``: a TWAP exit or buffer pool is on (released units come from earlier steps)."""
    nv = ids.shape[0]
    if sl.n[EV_LIMIT] < 0:
        if nv > 0:
            return route_sell(vs, vdk, vdq, ids, x)[0]
        return x * p_fixed[a]
    # ---- owners of the routed amount
    q = sl.q
    P = q.shape[0]
    tot = 0.0
    for p in range(P):
        tot += q[p, a]
    share = np.zeros(P + 1)  # last: other
    if tot > 0.0:
        f = 1.0 if tot <= x else x / tot
        for p in range(P):
            share[p] = q[p, a] * f
            q[p, a] -= share[p]
            if not queued:
                q[p, a] = 0.0
    other = x
    for p in range(P):
        other -= share[p]
    if other > 1e-12 * x:
        share[P] = other
    elif tot > 0.0:
        big = 0
        for p in range(1, P):
            if share[p] > share[big]:
                big = p
        share[big] += other
    players = np.empty(P + 1, np.int64)
    n = 0
    for p in range(P + 1):
        if share[p] > 0.0:
            players[n] = p
            n += 1
    # ---- the sale itself (the numbers of the run)
    if nv == 0:
        proceeds = x * p_fixed[a]
        px = p_fixed[a]
        for k in range(n):
            p = players[k]
            f = share[p] / x
            _rows(t, VENUE_NONE, a, p, P, sl, queued, f * x, f * proceeds, px, px, 0.0, evbuf, ev_first, ev_n)
        return proceeds
    pre_vs = vs.copy()
    pre = np.empty(nv)
    for j in range(nv):
        pre[j] = venue_spot(vs, ids[j])
    proceeds = route_sell(vs, vdk, vdq, ids, x)[0]
    post = np.empty(nv)
    for j in range(nv):
        post[j] = venue_spot(vs, ids[j])
    # ---- what each venue took
    xv = np.zeros(nv)
    qv = np.zeros(nv)
    if nv == 1:
        xv[0] = x
        qv[0] = proceeds
    else:
        work = pre_vs.copy()
        big = 0
        sx = 0.0
        sq = 0.0
        for j in range(nv):
            if post[j] < pre[j]:
                xv[j] = venue_sell_to_price(work, vdk, vdq, ids[j], post[j])
                if xv[j] > 0.0:
                    qv[j] = venue_sell(work, vdk, vdq, ids[j], xv[j])
            if xv[j] > xv[big]:
                big = j
            sx += xv[j]
            sq += qv[j]
        xv[big] += x - sx
        qv[big] += proceeds - sq
    # ---- Shapley split of each venue's move
    phi = np.zeros((n, nv))
    if n == 1:
        for j in range(nv):
            phi[0, j] = post[j] - pre[j]
    elif n <= SHAPLEY_MAX:
        full = (1 << n) - 1
        vals = np.zeros((full + 1, nv))
        for mask in range(1, full):
            xs = 0.0
            for k in range(n):
                if mask & (1 << k):
                    xs += share[players[k]]
            work = pre_vs.copy()
            route_sell(work, vdk, vdq, ids, xs)
            for j in range(nv):
                vals[mask, j] = venue_spot(work, ids[j]) - pre[j]
        for j in range(nv):
            vals[full, j] = post[j] - pre[j]
        w = np.empty(n)  # |S|! (n-|S|-1)! / n!
        for k in range(n):
            num = 1.0
            for m in range(2, k + 1):
                num *= m
            for m in range(2, n - k):
                num *= m
            den = 1.0
            for m in range(2, n + 1):
                den *= m
            w[k] = num / den
        _shapley(vals, n, w, phi)
    else:
        for k in range(n):
            for j in range(nv):
                phi[k, j] = (post[j] - pre[j]) * share[players[k]] / x
    # ---- rows
    for j in range(nv):
        if xv[j] <= 0.0 and post[j] == pre[j]:
            continue
        for k in range(n):
            p = players[k]
            f = share[p] / x
            _rows(t, ids[j], a, p, P, sl, queued, f * xv[j], f * qv[j], pre[j], post[j], phi[k, j], evbuf, ev_first,
                  ev_n)
    return proceeds


@internal
def _rows(t, v, a, p, P, sl, queued, amount, proceeds, pre, post, impact, evbuf, ev_first, ev_n):
    """The rows of player ``p`` (``P``: other) on venue ``v``: per liquidation event of an
    Aave-rule protocol without queues, else one row."""
    if p == P:
        sale_push(sl, t, v, a, -1, -1, SRC_OTHER, amount, proceeds, pre, post, impact)
        return
    if queued or sl.unit[p]:
        sale_push(sl, t, v, a, p, -1, SRC_QUEUE if queued else SRC_UNIT, amount, proceeds, pre, post, impact)
        return
    tot = 0.0
    for i in range(ev_first, ev_n):
        e = evbuf[i]
        if e["protocol"] == p and e["asset"] == a:
            tot += e["collateral_seized"]
    if not tot > 0.0:
        sale_push(sl, t, v, a, p, -1, SRC_LIQUIDATION, amount, proceeds, pre, post, impact)
        return
    for i in range(ev_first, ev_n):
        e = evbuf[i]
        if e["protocol"] == p and e["asset"] == a and e["collateral_seized"] > 0.0:
            f = e["collateral_seized"] / tot
            sale_push(sl, t, v, a, p, e["position"], SRC_LIQUIDATION, f * amount, f * proceeds, pre, post, f * impact)


@internal
def direct_watch(sl, sink):
    """Whether the units' own venue trades need watching this path (a ledger or a sink)."""
    return sl.n[EV_LIMIT] >= 0 or sink.shape[0] > 0


@internal
def note_direct_trades(t, p, pre_vs, vs, vdk, vdq, venue_asset, sink, sl):
    """After unit protocol ``p``'s step: the venues whose state it changed (``pre_vs`` is the
    state before the call). The counterfactual sink puts them back as they were (the unit's
    trades left its books at the prices it got but never touched the venue); otherwise, when
    the ledger records, one :data:`SRC_DIRECT` row per venue with the net amount it took."""
    V = vs.shape[0]
    sunk = sink.shape[0] > 0 and sink[p]
    rec = sl.n[EV_LIMIT] >= 0
    for v in range(V):
        changed = False
        for k in range(vs.shape[1]):
            if vs[v, k] != pre_vs[v, k]:
                changed = True
                break
        if not changed:
            continue
        pre = venue_spot(pre_vs, v)
        post = venue_spot(vs, v)
        if rec:
            work = pre_vs.copy()
            amount = 0.0
            quote = 0.0
            if post < pre:
                amount = venue_sell_to_price(work, vdk, vdq, v, post)
                if amount > 0.0:
                    quote = venue_sell(work, vdk, vdq, v, amount)
            elif post > pre:
                spend = venue_buy_to_price(work, vdk, vdq, v, post)
                if spend > 0.0:
                    amount = -venue_buy(work, vdk, vdq, v, spend)
                    quote = -spend
            if sunk:
                sale_push(sl, t, VENUE_SINK, venue_asset[v], p, -1, SRC_DIRECT, amount, quote, pre, pre, 0.0)
            else:
                sale_push(sl, t, v, venue_asset[v], p, -1, SRC_DIRECT, amount, quote, pre, post, post - pre)
        if sunk:
            for k in range(vs.shape[1]):
                vs[v, k] = pre_vs[v, k]


@internal
def note_unit_totals(sl, acc, nliq, value, bad, p):
    """Unit protocol ``p``'s step accumulators (liquidations, liquidated value, bad debt) into
    ``sl.acc[p]``."""
    sl.acc[p, PA_NLIQ] += acc[nliq]
    sl.acc[p, PA_VALUE] += acc[value]
    sl.acc[p, PA_BAD] += acc[bad]
