"""Plain-Python twin of the time loop :func:`liqcascade.kernels.dynamic.simulate_path`.

Written the obvious way for the parity test ``tests/parity/test_dynamic_parity.py``: every step
scans every open position one by one (no segments pointers, no cohorts, no store), with the
``*_py`` twins of the venues, oracles and Aave rules. Covered: Aave-rule single-pair and
multi-asset positions, mechanical and rational liquidators (gas), liquidator capital and
``max_per_step``, interest rates. :func:`simulate_loop_py` (below) is the whole-loop twin: it
takes the kernel's own layouts and adds the mechanisms, agents, rates and protocol units it
lists; what it does not cover raises ``NotImplementedError`` naming it (:data:`NOT_COVERED`).

One step ``t = 1 … T`` (the kernel's docstring):

1. exogenous flow: every venue moves by ``path[t] / path[t-1]`` of its asset; book impact decays;
2. arbitrage between the venues of an asset (above the threshold), then pools toward the
   reference price when ``to_reference`` is on;
3. oracles read the venue spots of this step; each protocol's price of an asset is its oracle,
   else the mean venue spot (stable assets: their fixed price);
4. liquidations at those prices: a position with ``HF = c·pc·LT / (d·pd) < 1`` is liquidated
   once (Aave rule of its protocol) unless the step's ``max_per_step`` is reached (the step's
   scan stops), the repaid debt exceeds the capital left this step, or (rational) selling the
   liquidator's share at the best venue after the step's queued sales does not beat repaid
   debt + gas; such a position is *skipped* (counted) and tried again next step;
5. the step's seized collateral of each asset is routed to its venues as one sale; each event
   of the step gets the asset's average execution price;
6. the sales ledger (:mod:`liqcascade.kernels.sales`): each protocol owns the collateral its
   liquidations of the step seized, each venue's share of the sale is what brings it from its
   spot before to its spot after, each event's rows are its protocol's share split by the
   collateral it seized, and each venue's move is split over the protocols by the Shapley value
   written the naive way: the average, over every order of the protocols, of the move each
   protocol's amount adds to those before it (routed from the same pre-trade state).

**Scan order** (it matters only when ``max_per_step`` or the capital binds): positions the
liquidators have already looked at (liquidated and still open, or skipped) come first, in the
order they were last put on that watch list (a skipped position keeps its place, a liquidated
one goes to the back); then the untouched positions in book order (segments in order, each
sorted by liquidation price, most exposed first); multi-asset positions last, in book order.
This is the order in which the kernel's store and segment pointers visit positions.
"""

from __future__ import annotations

import copy
import itertools
import math

import numpy as np

from ..venues import twin as V
from ..protocols.aave.twin import liquidate_pair_py
from .cascade_py import liquidate_multi_py
from ..oracles.twin import make_oracle_py
from ..mechanisms.clearinghouse.twin import allocate_py, budget_py
from ..mechanisms.clearinghouse.kernel import DUST as CH_DUST

MODE_MECHANICAL = 0
MODE_RATIONAL = 1
DISLOCATION = 0.01  # a step counts as dislocated when a mean venue spot is > 1 % below the path

SUMMARY_KEYS = ("liquidations", "liquidated_value", "repaid", "bad_debt", "fees", "bonus", "proceeds", "gas",
                "skipped", "positions_liquidated", "socialized", "borrower_loss", "dislocation_steps")


def _mean_spot(vs, ids):
    if not ids:
        return math.nan
    total = 0.0
    for v in ids:
        total += V.venue_spot(vs, v)
    return total / len(ids)


def _best_venue(vs, ids):
    """Venue with the highest spot (first one on ties), -1 if none."""
    best, bp = -1, -1.0
    for v in ids:
        p = V.venue_spot(vs, v)
        if p > bp:
            best, bp = v, p
    return best


def _quote(vs, vdk, vdq, v, q):
    """Quote received for selling ``q`` into venue ``v``, on a copy (the venue is unchanged)."""
    if q <= 0.0:
        return 0.0
    return V._load(vs, vdk, vdq, v).sell(q)


def _proceeds(vs, vdk, vdq, ids, queued, got, pc):
    """What a liquidator gets for ``got`` units sold at the best venue after ``queued`` units of
    the same step's earlier liquidations."""
    best = _best_venue(vs, ids)
    if best < 0 or got <= 0.0:
        return got * pc
    if queued <= 0.0:
        return _quote(vs, vdk, vdq, best, got)
    return _quote(vs, vdk, vdq, best, queued + got) - _quote(vs, vdk, vdq, best, queued)


def simulate_path_py(path, vs0, vdk, vdq, venue_asset, av_ptr, av_idx, arb_on, arb_thr, ref_on,
                     o_kind, o_params, o_src_ptr, o_src, lt_pa, bonus_pa, pfee_pa, rules, oracle_of, stable,
                     p_fixed, pos_coll, pos_debt, pos_proto, pos_asset, pos_debt_asset, multi, mode, gas,
                     capital, max_per_step, rates=None, pool_cap=False, dt_seconds=3600.0):
    """One path. ``pos_*``: single-pair positions in book order; ``multi``: list of
    ``(protocol, [[asset, coll, debt], ...])`` (position index ``N + m`` in events).

    ``rates``: a list of :class:`Pool` (interest and lending pools; None: no accrual);
    ``pool_cap``: liquidators source the debt asset from the pool; ``dt_seconds`` the step.
    Each step, after the oracles and before the liquidations, every pool accrues and the debt
    of every position borrowing from it is multiplied by the growth (one by one, no index);
    reacting borrowers repay a fraction of each position; queued withdrawals are served up to
    the available liquidity. After the liquidations each pool takes the repaid debt back and
    writes off the bad debt. Returned as ``rates``: per pool the totals and per-step records.

    Returns a dict: ``sales`` (tuples ``(step, venue, asset, protocol, position, amount,
    proceeds, price before, price after, impact)``, the ledger), ``summary`` (keys
    :data:`SUMMARY_KEYS`), ``events`` (tuples ``(step,
    position, protocol, asset, seized, repaid, oracle price, execution price, bonus, bad debt
    (quote), fee units)``), ``coll``/``debt`` (final single-pair state), ``multi`` (final
    entries), ``spot`` (mean venue spot per step and asset), ``seized`` (units per step/asset)."""
    path = np.asarray(path, dtype=float)
    T = path.shape[0] - 1
    A = path.shape[1]
    vs = np.array(vs0, dtype=float, copy=True)
    nV = vs.shape[0]
    ids_of = [[int(v) for v in av_idx[av_ptr[a]:av_ptr[a + 1]]] for a in range(A)]
    hist = [[V.venue_spot(vs, v)] for v in range(nV)]
    oracles, oprice, osrc = [], [], []
    for o in range(len(o_kind)):
        src = [int(v) for v in o_src[o_src_ptr[o]:o_src_ptr[o + 1]]]
        p0 = sum(hist[v][0] for v in src) / len(src) if src else 1.0
        oracles.append(make_oracle_py(int(o_kind[o]), [float(x) for x in o_params[o]], p0))
        oprice.append(p0)
        osrc.append(src)
    P = lt_pa.shape[0]
    n = len(pos_coll)
    c = [float(x) for x in pos_coll]
    d = [float(x) for x in pos_debt]
    is_open = [True] * n
    seq = [None] * n  # place on the liquidators' watch list (None: untouched)
    counter = 0
    ents = [[pr, [list(e) for e in es]] for pr, es in multi]
    m_open = [True] * len(ents)
    ever = set()
    pools = [copy.deepcopy(pl) for pl in (rates or [])]
    S = dict.fromkeys(SUMMARY_KEYS, 0.0)
    events = []
    sales = []
    spots = np.zeros((T + 1, A))
    seized_steps = np.zeros((T + 1, A))
    for a in range(A):
        spots[0, a] = p_fixed[a] if stable[a] else _mean_spot(vs, ids_of[a])

    def price_of(pr, a, mean_spot):
        if stable[a]:
            return float(p_fixed[a])
        o = int(oracle_of[pr, a])
        return oprice[o] if o >= 0 else mean_spot[a]

    def record(t, pos, pr, a, seize, repay, pc, pd, bad_q, fee):
        S["liquidations"] += 1
        S["liquidated_value"] += seize * pc
        S["repaid"] += repay * pd
        S["bad_debt"] += bad_q
        S["fees"] += fee * pc
        S["bonus"] += (seize - fee) * pc - repay * pd
        S["gas"] += gas
        S["borrower_loss"] += seize * pc - repay * pd
        S["socialized"] += bad_q
        if pos not in ever:
            ever.add(pos)
            S["positions_liquidated"] += 1
        events.append([t, pos, pr, a, seize, repay, pc, math.nan, (seize - fee) * pc - repay * pd, bad_q, fee])

    for t in range(1, T + 1):
        # 1. exogenous flow, impact decay
        for v in range(nV):
            a = int(venue_asset[v])
            V.venue_apply_return(vs, vdk, vdq, v, path[t, a] / path[t - 1, a])
            V.venue_decay(vs, v)
        # 2. arbitrage between venues, then pools toward the reference
        for a in range(A):
            ids = ids_of[a]
            if arb_on and len(ids) > 1:
                V.arbitrage(vs, vdk, vdq, ids, arb_thr)
            if ref_on:
                for v in ids:
                    if not V.venue_follows_reference(vs, v):
                        V.arbitrage_to_reference(vs, vdk, vdq, v, path[t, a], arb_thr)
        # 3. oracles
        for v in range(nV):
            hist[v].append(V.venue_spot(vs, v))
        mean_spot = [float(p_fixed[a]) if stable[a] else _mean_spot(vs, ids_of[a]) for a in range(A)]
        for o in range(len(oracles)):
            oprice[o] = oracles[o].step(t, [hist[v] for v in osrc[o]])
        pp = [[price_of(pr, a, mean_spot) for a in range(A)] for pr in range(P)]
        # 3b. interest, borrowers' repayments, withdrawals
        pool_left = _rates_step(pools, t, dt_seconds, d, [(int(pos_proto[i]), int(pos_debt_asset[i])) for i in range(n)],
                                pool_cap)
        # 4. liquidations
        sold = [0.0] * A
        first_event = len(events)
        step_n = 0
        cap_left = capital
        full = False
        watched = sorted((seq[i], i) for i in range(n) if is_open[i] and seq[i] is not None)
        order = [i for _, i in watched] + [i for i in range(n) if is_open[i] and seq[i] is None]
        for i in order:
            pr, a, da = int(pos_proto[i]), int(pos_asset[i]), int(pos_debt_asset[i])
            pc, pd = pp[pr][a], pp[pr][da]
            lt = float(lt_pa[pr, a])
            hf = c[i] * pc * lt / (d[i] * pd)
            room = min(cap_left, pool_left.get((pr, da), math.inf) * pd)
            if not hf < 1.0:
                continue
            if max_per_step > 0 and step_n >= max_per_step:
                full = True
                break
            seize, repay, bad, fee, closed = liquidate_pair_py(c[i], d[i], pc, pd, lt, float(bonus_pa[pr, a]),
                                                               float(pfee_pa[pr, a]), rules[pr])
            ok = repay > 0.0 or bad > 0.0
            if ok and repay * pd > room:
                ok = False
            if ok and mode == MODE_RATIONAL:
                profit = _proceeds(vs, vdk, vdq, ids_of[a], sold[a], seize - fee, pc) - repay * pd - gas
                ok = profit > 0.0
            if not ok:
                S["skipped"] += 1
                if seq[i] is None:
                    seq[i] = counter
                    counter += 1
                continue
            cap_left -= repay * pd
            if (pr, da) in pool_left:
                pool_left[(pr, da)] -= repay
                for pl in pools:
                    if (pl.proto, pl.asset) == (pr, da):
                        pl.repay(repay)
                        pl.burn(bad)
                        pl.repaid += repay
                        pl.bad += bad
            step_n += 1
            c[i] -= seize
            d[i] -= repay + bad
            if closed:
                c[i] = max(c[i], 0.0)
                d[i] = max(d[i], 0.0)
            sold[a] += seize
            record(t, i, pr, a, seize, repay, pc, pd, bad * pd, fee)
            if closed or d[i] <= 0.0:
                is_open[i] = False
                d[i] = max(d[i], 0.0)
            else:
                seq[i] = counter
                counter += 1
        for m, (pr, es) in enumerate(ents):
            if full:
                break
            if not m_open[m]:
                continue
            if max_per_step > 0 and step_n >= max_per_step:
                break
            saved = copy.deepcopy(es)
            r = liquidate_multi_py(es, pp[pr], lt_pa[pr], bonus_pa[pr], pfee_pa[pr], rules[pr])
            if r is None:
                continue
            a, aj, seize, repay, bad_q, fee, closed = r
            pc, pdj = pp[pr][a], pp[pr][aj]
            ok = repay * pdj <= cap_left
            if ok and mode == MODE_RATIONAL:
                ok = _proceeds(vs, vdk, vdq, ids_of[a], sold[a], seize - fee, pc) - repay * pdj - gas > 0.0
            if not ok:
                ents[m][1] = es = saved
                S["skipped"] += 1
                continue
            cap_left -= repay * pdj
            step_n += 1
            if closed:
                m_open[m] = False
            sold[a] += seize
            record(t, n + m, pr, a, seize, repay, pc, pdj, bad_q, fee)
        # 5. routed sales, execution price of the step's events
        for a in range(A):
            seized_steps[t, a] = sold[a]
            if sold[a] <= 0.0:
                continue
            pre_vs = vs.copy()
            if ids_of[a]:
                proceeds = V.route_sell(vs, vdk, vdq, ids_of[a], sold[a])[0]
            else:
                proceeds = sold[a] * float(p_fixed[a])
            sales += _ledger_py(t, a, sold[a], proceeds, pre_vs, vs, vdk, vdq, ids_of[a], float(p_fixed[a]),
                                [e for e in events[first_event:] if e[3] == a])
            S["proceeds"] += proceeds
            for ev in events[first_event:]:
                if ev[3] == a:
                    ev[7] = proceeds / sold[a]
        dislocated = False
        for a in range(A):
            spots[t, a] = float(p_fixed[a]) if stable[a] else _mean_spot(vs, ids_of[a])
            if not stable[a] and spots[t, a] < (1.0 - DISLOCATION) * path[t, a]:
                dislocated = True
        if dislocated:
            S["dislocation_steps"] += 1
        for pl in pools:
            pl.record(t)
    out_rates = [pl.result(sum(d[i] for i in range(n) if (int(pos_proto[i]), int(pos_debt_asset[i]))
                               == (pl.proto, pl.asset))) for pl in pools]
    return {"sales": sales, "summary": S, "events": [tuple(e) for e in events], "coll": np.array(c),
            "debt": np.array(d), "multi": ents, "spot": spots, "seized": seized_steps, "rates": out_rates}


def _rates_step(pools, t, dt_seconds, d, owner, pool_cap):
    """Step ``t`` of the lending pools: each accrues, the debt ``d[i]`` of every position ``i``
    whose ``owner[i]`` (protocol, debt asset) is the pool's is multiplied by the growth (one by
    one), reacting borrowers repay a fraction of each position, queued withdrawals are served.
    Returns the pool liquidity left to the liquidators per (protocol, asset) (``inf``: not
    capped)."""
    pool_left = {}
    for pl in pools:
        g = pl.accrue(dt_seconds)
        mine = [i for i in range(len(d)) if owner[i] == (pl.proto, pl.asset)]
        for i in mine:
            pl.interest += d[i] * (g - 1.0)
            d[i] *= g
        if pl.react_rate > 0.0 and pl.borrow_rate() > pl.react_rate and pl.react_repay > 0.0:
            paid = 0.0
            for i in mine:
                x = d[i] * pl.react_repay
                d[i] -= x
                paid += x
            pl.repay(paid)
            pl.borrower_repaid += paid
        pl.step_queue(t)
        pool_left[(pl.proto, pl.asset)] = pl.available() if (pool_cap and pl.has_pool) else math.inf
    return pool_left


def _pools_of(rates):
    """The twin's pools (:class:`Pool`) of the kernel's rates layout at ``t = 0`` (kind codes of
    :mod:`liqcascade.kernels.accrual`; a fresh pool's claims and borrows are its principals)."""
    from . import accrual as KA

    names = {KA.RK_AAVE: "aave_v3", KA.RK_COMET: "comet", KA.RK_FIXED: "fixed", KA.RK_LIQUITY: "liquity"}
    out = []
    for r in range(rates.kind.shape[0]):
        kind = names[int(rates.kind[r])]
        st0 = [float(x) for x in rates.st0[r]]
        supplied = borrowed = 0.0
        if kind == "aave_v3":
            supplied, borrowed = st0[4], st0[5]  # supply and debt scaled, indices 1
        elif kind == "comet":
            supplied, borrowed = st0[2], st0[3]  # principals, indices 1
        cfg = [float(x) for x in rates.cfg[r]]
        out.append(Pool(int(rates.proto[r]), int(rates.asset[r]), kind, [float(x) for x in rates.par[r]],
                        supplied=supplied, borrowed=borrowed, withdraw=(cfg[0], cfg[1], cfg[2]), react=(cfg[3], cfg[4])))
    return out


def _ledger_py(t, a, x, proceeds, pre_vs, vs, vdk, vdq, ids, p_fixed, step_events):
    """The ledger rows of selling ``x`` units of asset ``a`` at step ``t`` (see the module
    docstring, item 6); ``step_events`` are this step's events on ``a``."""
    owners = {}
    for e in step_events:
        owners[e[2]] = owners.get(e[2], 0.0) + e[4]
    protos = sorted(owners)
    if not ids:
        venue_rows = [(-1, x, proceeds, p_fixed, p_fixed, {p: 0.0 for p in protos})]
    else:
        pre = {v: V.venue_spot(pre_vs, v) for v in ids}
        post = {v: V.venue_spot(vs, v) for v in ids}
        took = {}
        got = {}
        for v in ids:
            work = pre_vs.copy()
            took[v] = V.venue_sell_to_price(work, vdk, vdq, v, post[v]) if post[v] < pre[v] else 0.0
            got[v] = V.venue_sell(work, vdk, vdq, v, took[v]) if took[v] > 0.0 else 0.0
        big = max(ids, key=lambda v: took[v])  # first of the largest
        took[big] += x - sum(took.values())
        got[big] += proceeds - sum(got.values())

        def move(amounts, v):
            """The move of venue ``v`` when only ``amounts`` are sold, from the pre-trade state."""
            work = pre_vs.copy()
            total = sum(amounts)
            if total > 0.0:
                V.route_sell(work, vdk, vdq, ids, total)
            return V.venue_spot(work, v) - pre[v]

        venue_rows = []
        for v in ids:
            if took[v] <= 0.0 and post[v] == pre[v]:
                continue
            phi = dict.fromkeys(protos, 0.0)
            if len(protos) == 1:
                phi[protos[0]] = post[v] - pre[v]
            else:
                orders = list(itertools.permutations(protos))
                for order in orders:
                    before = []
                    for p in order:
                        phi[p] += (move(before + [owners[p]], v) - move(before, v)) / len(orders)
                        before.append(owners[p])
            venue_rows.append((v, took[v], got[v], pre[v], post[v], phi))
    rows = []
    for v, amount, quote, p0, p1, phi in venue_rows:
        for p in protos:
            mine = [e for e in step_events if e[2] == p and e[4] > 0.0]
            for e in mine:
                f = e[4] / x
                g = e[4] / owners[p]
                rows.append((t, v, a, p, e[1], f * amount, f * quote, p0, p1, g * phi[p]))
    return rows



# ---- lending pools (interest rates) ------------------------------------------------------------------


class Pool:
    """A rate row for the twin: protocol ``proto``, debt asset ``asset``, rate ``kind``
    (``aave_v3``, ``comet``, ``fixed``, ``liquity``) with its parameter vector ``par`` (the kind's
    ``pack()``), ``supplied``/``borrowed`` at the start (pool kinds), withdrawal intent
    ``(fraction per step, first step, last step)`` and borrowers' reaction ``(rate per year,
    fraction repaid per step)``. Built on the rate kinds' own twins."""

    def __init__(self, proto, asset, kind, par, supplied=0.0, borrowed=0.0, withdraw=(0.0, 0, -1),
                 react=(0.0, 0.0)):
        from ..rates.aave_v3.twin import Reserve
        from ..rates.comet.twin import Market
        from ..rates.fixed.twin import Ilk

        self.proto, self.asset, self.kind = int(proto), int(asset), kind
        self.has_pool = kind in ("aave_v3", "comet")
        if kind == "aave_v3":
            self.p = Reserve(list(par)[:5], supplied, borrowed)
        elif kind == "comet":
            self.p = Market(list(par)[:8], supplied, borrowed)
        elif kind == "fixed":
            self.p = Ilk(par[0], par[1])
        else:
            self.p = None
        self.w_frac, self.w_start, self.w_end = float(withdraw[0]), withdraw[1], withdraw[2]
        self.react_rate, self.react_repay = float(react[0]), float(react[1])
        self.queue = 0.0
        self.interest = self.repaid = self.bad = self.borrower_repaid = self.withdrawn = 0.0
        self.records = []

    def accrue(self, dt):
        if self.kind in ("aave_v3", "comet"):
            return self.p.accrue(dt)
        if self.kind == "fixed":
            return self.p.drip(dt)
        return 1.0

    def borrow_rate(self):
        if self.kind == "aave_v3":
            return self.p.vr
        if self.kind == "comet":
            return self.p.rates()[1] * 31_536_000
        if self.kind == "fixed":
            return (1.0 + self.p.r + self.p.base) ** 31_536_000 - 1.0
        return 0.0

    def available(self):
        if self.kind == "aave_v3":
            return self.p.available
        if self.kind == "comet":
            return self.p.cash
        return math.inf

    def supplied(self):
        if self.kind == "aave_v3":
            return self.p.supply_scaled * self.p.li
        if self.kind == "comet":
            return self.p.supplied()
        return 0.0

    def utilization(self):
        if self.kind == "aave_v3":
            dd = self.p.debt()
            return 0.0 if dd == 0 else dd / (self.p.available + dd)
        if self.kind == "comet":
            return self.p.utilization()
        return math.nan

    def repay(self, x):
        if self.has_pool and x > 0.0:
            self.p.repay(x)

    def burn(self, x):
        if not self.has_pool or x <= 0.0:
            return
        if self.kind == "aave_v3":
            self.p.debt_scaled = max(self.p.debt_scaled - x / self.p.vi, 0.0)
            self.p.unbacked += x
            self.p._rates(0.0, 0.0)
        else:
            self.p.bp = max(self.p.bp - x / self.p.bi, 0.0)

    def step_queue(self, t):
        if self.has_pool and self.w_frac > 0.0 and self.w_start <= t <= self.w_end:
            free = self.supplied() - self.queue
            if free > 0.0:
                self.queue += self.w_frac * free
        if self.queue > 0.0:
            got = self.p.withdraw(self.queue)
            self.queue = max(self.queue - got, 0.0)
            self.withdrawn += got

    def record(self, t):
        self.records.append((t, self.utilization(), self.borrow_rate(), self.queue))

    def result(self, left):
        return {"interest": self.interest, "repaid": self.repaid, "bad": self.bad,
                "borrower_repaid": self.borrower_repaid, "left": left, "withdrawn": self.withdrawn,
                "locked_end": self.queue, "records": self.records}




# ---- the whole loop ------------------------------------------------------------------------------

#: what :func:`simulate_loop_py` does not cover (a mechanism's flag name); a scenario using one
#: of them raises ``NotImplementedError`` naming it (no silent partial parity). Every other
#: mechanism, agent, rate model and protocol unit of the loop is covered
NOT_COVERED = ()

LOOP_SUMMARY_KEYS = SUMMARY_KEYS + ("fund_draw", "paused", "held_value", "attacker_pnl", "priority", "topup",
                                    "max_move", "disl_first", "disl_last", "ch_in", "ch_net", "ch_sold", "ch_bs",
                                    "ch_held", "ch_held_value", "ch_risk", "ch_shortfall", "ch_bs_pnl", "ch_cons")


def _unit_twins():
    from ..protocols.comet.twin import comet_step
    from ..protocols.maker.twin import maker_step_py
    from ..protocols.perp.twin import perp_step_py

    return comet_step, maker_step_py, perp_step_py


# ---- Liquity and crvUSD: their twins' own state objects, built from the kernel's packs ----------


def _liquity_from_pack(pack):
    """The Liquity twin (:class:`~liqcascade.protocols.liquity.twin.LiquityPy`) of a fresh pack:
    its troves, depositors and parameters read slot by slot (``protocols/liquity/README.md``,
    "Pack and step"); a pack that is not fresh (rewards, liquidated troves) is refused."""
    from ..protocols.liquity import kernel as LK
    from ..protocols.liquity.twin import LiquityPy

    par, sysv = pack[LK.PK_PAR], pack[LK.PK_SYS]
    if sysv[LK.S_L_ETH] != 0.0 or sysv[LK.S_NLIQ] != 0.0 or not np.array_equal(pack[LK.PK_STAKE], pack[LK.PK_COLL]):
        raise NotImplementedError("simulate_loop_py builds the Liquity twin from a fresh pack only")
    batch = (float(par[LK.P_GAS_BASE]), float(par[LK.P_GAS_TROVE])) if par[LK.P_BATCH] > 0.0 else None
    tw = LiquityPy(list(pack[LK.PK_COLL]), list(pack[LK.PK_DEBT]), list(pack[LK.PK_DEP]), mcr=float(par[LK.P_MCR]),
                   ccr=float(par[LK.P_CCR]), gas_compensation=float(par[LK.P_GAS_COMP]),
                   percent_divisor=float(par[LK.P_PCT_DIV]),
                   variant="2025" if int(par[LK.P_VARIANT]) == LK.VARIANT_2025 else "2021",
                   min_lusd_in_sp=float(par[LK.P_MIN_SP]), sp_sells=float(par[LK.P_SP_SELLS]),
                   sequences_per_step=int(par[LK.P_SEQS]), batch_gas=batch)
    tw.asset = int(par[LK.P_ASSET])
    return tw


def _liquity_step_loop(tw, t, prices, vs, vdk, vdq, ids_of, sold, liq, proto, offset, events, S):
    """One step of the Liquity unit in the loop: the twin's ``step`` at the protocol's price,
    each compensation quoted on the venue of the asset with the highest spot after what the
    step already queued (at the price without a venue); its new events become the loop's
    (position ``offset + trove``), its collateral for sale is added to ``sold``. Gas: the
    liquidators' gas per trove, or the batch rule's part per trove plus its fixed part once per
    call that liquidated."""
    a = tw.asset
    price = float(prices[a])
    best = _best_venue(vs, ids_of[a]) if a < len(ids_of) else -1

    def quote(queued, q):
        if best < 0:
            return q * price
        if queued <= 0.0:
            return _quote(vs, vdk, vdq, best, q)
        return _quote(vs, vdk, vdq, best, queued + q) - _quote(vs, vdk, vdq, best, queued)

    mode, gas, nmax = int(liq[0]), float(liq[1]), int(liq[3])
    calls = []
    call = tw.liquidate_troves

    def counted(*args, **kw):
        r = call(*args, **kw)
        calls.append(r[0])
        return r

    n0 = len(tw.events)
    tw.liquidate_troves = counted
    try:
        sold[a] += tw.step(price, nmax, rational=mode == 1, gas_cost=gas, quote=quote, queued=float(sold[a]), t=t)
    finally:
        del tw.liquidate_troves
    for e in tw.events[n0:]:
        events.append([t, offset + e.trove, proto, a, e.seized, e.repaid, e.price, math.nan, e.bonus, 0.0, 0.0])
        S["liquidations"] += 1
        S["liquidated_value"] += e.seized * e.price
        S["repaid"] += e.repaid
        S["bonus"] += e.bonus
        S["fund_draw"] += e.repaid  # the Stability Pool pays
    for k in calls:
        if k > 0:
            S["gas"] += tw.batch_gas[0] + tw.batch_gas[1] * k if tw.batch_gas is not None else gas * k


def _llamma_from_pack(pack):
    """The crvUSD twin market (:class:`~liqcascade.protocols.llamma.twin.Market`) of a pack."""
    from ..protocols.llamma.twin import Market

    return Market.from_pack(pack)


def _llamma_step_loop(m, t, dt, prices, vs, vdk, vdq, av_ptr, av_idx, sold, liq, proto, offset, events, S):
    """One step of the crvUSD unit in the loop: the twin's oracle write, soft liquidation
    (trading ``vs``) and hard liquidations; events and accumulators into the loop's."""
    from ..protocols.llamma.twin import llamma_step_py

    acc = [0.0] * 9
    evs = []
    llamma_step_py(m, t, dt, prices, vs, vdk, vdq, av_ptr, av_idx, sold, acc, liq, evs, proto, offset)
    for e in evs:
        events.append([e["step"], e["pos"], e["proto"], e["asset"], e["seized"], e["repaid"], e["price"], math.nan,
                       e["bonus"], e["bad"], e["fee"]])
    for key_, k in (("liquidations", 0), ("liquidated_value", 1), ("repaid", 2), ("bad_debt", 3), ("fees", 4),
                    ("bonus", 5), ("gas", 6), ("fund_draw", 7)):
        S[key_] += acc[k]


class _ClearingLoop:
    """The clearinghouse in the whole-loop twin, written from its rules
    (``mechanisms/clearinghouse/README.md``) with lists per protocol and asset: the queue, the
    urgency keys, the accounting, the window of pre-sale spots and the backstop. The budget and
    the allocation are the clearinghouse twin's own (:func:`budget_py`, :func:`allocate_py`)."""

    def __init__(self, mp, part, P, A, p0, stable, ids_of):
        from ..mechanisms import kernel as KM

        self.part = part  # participates, per protocol
        self.P, self.A = P, A
        self.step_move, self.window_move = mp[KM.M_CH_STEP], mp[KM.M_CH_WMOVE]
        self.W = max(int(mp[KM.M_CH_WIN]), 1)
        self.urgency = mp[KM.M_CH_ALLOC] == 0.0
        self.netting = mp[KM.M_CH_NET] > 0.0
        self.capital, self.discount = mp[KM.M_CH_BS_CAP], mp[KM.M_CH_BS_DISC]
        self.fixed = [stable[a] or not ids_of[a] for a in range(A)]
        self.ring = [[p0[a]] * self.W for a in range(A)]  # the window starts filled with the price at t = 0
        self.mark = list(p0)
        self.q = [[0.0] * A for _ in range(P)]
        self.key = [[math.inf] * A for _ in range(P)]
        self.acc = [[dict(inp=0.0, net=0.0, sold=0.0, bs=0.0, vin=0.0, held_vin=0.0, risk=0.0) for _ in range(A)]
                    for _ in range(P)]
        self.bs_units, self.bs_paid = [0.0] * A, [0.0] * A
        self.fills = [[0.0, 0.0] for _ in range(A)]  # the step's in-house fills (units, quote)
        self.worst = 0.0
        self.new_step()

    def new_step(self):
        self.by = [[0.0] * self.A for _ in range(self.P)]  # what each protocol queued for sale this step
        self.hf = [[math.inf] * self.A for _ in range(self.P)]  # its lowest HF liquidated this step

    def note(self, pr, a, units, hf=None):
        self.by[pr][a] += units
        if hf is not None:
            self.hf[pr][a] = min(self.hf[pr][a], hf)

    def _leave(self, take, a, col):
        """Units ``take`` (``{p: units}``) leave the queues of asset ``a`` into column ``col``;
        the value-in still held shrinks in proportion."""
        for p, x in take.items():
            if x <= 0.0:
                continue
            h, b = self.q[p][a], self.acc[p][a]
            if x >= h:
                x = h
                b["held_vin"] = 0.0
                self.q[p][a] = 0.0
                self.key[p][a] = math.inf
            else:
                b["held_vin"] *= 1.0 - x / h
                self.q[p][a] = h - x
            take[p] = x
            b[col] += x
        return take

    def offer(self, perp, a):
        """Units of asset ``a`` the perp venue ``perp``'s forced buys may take: the others'
        queues and what they queued this step."""
        if not self.netting or not self.part[perp]:
            return 0.0
        return sum(self.q[p][a] + self.by[p][a] for p in range(self.P) if p != perp and self.part[p])

    def crossed(self, perp, a, x, px, sold):
        """The perp venue bought ``x`` units of asset ``a`` at ``px``: first from the others'
        fresh sales of the step (in proportion), then from their queues (by the allocation rule)."""
        fresh = sum(self.by[p][a] for p in range(self.P) if p != perp and self.part[p])
        from_fresh = min(x, fresh)
        got = 0.0
        if from_fresh > 0.0:
            for p in range(self.P):
                if p != perp and self.part[p] and self.by[p][a] > 0.0:
                    y = self.by[p][a] * (from_fresh / fresh)
                    self.by[p][a] -= y
                    sold[a] = max(sold[a] - y, 0.0)
                    b = self.acc[p][a]
                    b["inp"] += y
                    b["vin"] += y * px
                    b["net"] += y
                    got += y
            if sold[a] <= CH_DUST * from_fresh:  # rounding, not a sale (the kernel's DUST)
                sold[a] = 0.0
        rest = x - from_fresh
        if rest > 0.0:
            queue = {p: self.q[p][a] for p in range(self.P) if p != perp}
            keys = {p: self.key[p][a] for p in queue}
            got += sum(self._leave(allocate_py(queue, keys, rest, self.urgency), a, "net").values())
        self.fills[a][0] += got
        self.fills[a][1] += got * px

    def sales(self, t, a, spot, sold, vs, vdk, vdq, ids):
        """Step ``t`` for asset ``a`` before the routed sales: mark, intake, budget, allocation,
        backstop; ``sold`` (the routed units) loses the intake and gains what is released."""
        for p in range(self.P):
            if self.q[p][a] > 0.0:
                self.acc[p][a]["risk"] += self.q[p][a] * (self.mark[a] - spot)
        xin = 0.0
        for p in range(self.P):
            x = self.by[p][a]
            if self.part[p] and x > 0.0:
                xin += x
                sold[a] = max(sold[a] - x, 0.0)
                self.q[p][a] += x
                b = self.acc[p][a]
                b["inp"] += x
                b["vin"] += x * spot
                b["held_vin"] += x * spot
                k = self.hf[p][a] if self.hf[p][a] < math.inf else 1.0  # a unit's sales count as HF 1
                self.key[p][a] = min(self.key[p][a], k)
        if sold[a] <= CH_DUST * xin:  # rounding, not a sale (the kernel's DUST)
            sold[a] = 0.0
        self.mark[a] = spot
        if self.fixed[a]:
            cap = math.inf
        else:
            self.ring[a][t % self.W] = spot
            cap = budget_py(vs, vdk, vdq, ids, spot, self.ring[a], self.step_move, self.window_move) - sold[a]
        queue = {p: self.q[p][a] for p in range(self.P)}
        keys = {p: self.key[p][a] for p in range(self.P)}
        released = self._leave(allocate_py(queue, keys, cap, self.urgency), a, "sold")
        sold[a] += sum(released.values())
        px = spot * (1.0 - self.discount)
        total = sum(self.q[p][a] for p in range(self.P))
        if self.capital > 0.0 and total > 0.0 and px > 0.0:
            n = total if total * px <= self.capital else self.capital / px
            queue = {p: self.q[p][a] for p in range(self.P)}
            keys = {p: self.key[p][a] for p in range(self.P)}
            got = sum(self._leave(allocate_py(queue, keys, n, self.urgency), a, "bs").values())
            if got > 0.0:
                self.capital = max(self.capital - got * px, 0.0)
                self.bs_units[a] += got
                self.bs_paid[a] += got * px
                self.fills[a][0] += got
                self.fills[a][1] += got * px

    def take_fills(self, a):
        u, v = self.fills[a]
        self.fills[a] = [0.0, 0.0]
        return u, v

    def check(self):
        for p in range(self.P):
            for a in range(self.A):
                b = self.acc[p][a]
                self.worst = max(self.worst, abs(b["inp"] - b["net"] - b["sold"] - b["bs"] - self.q[p][a]))

    def finish(self, final_spot):
        """The totals of the run (the summary's ``SUM_CH_*``), the queue marked at the final spots."""
        self.check()
        out = dict.fromkeys(("ch_in", "ch_net", "ch_sold", "ch_bs", "ch_held", "ch_held_value", "ch_risk",
                             "ch_shortfall", "ch_bs_pnl"), 0.0)
        for a in range(self.A):
            px = final_spot[a]
            for p in range(self.P):
                h, b = self.q[p][a], self.acc[p][a]
                if h > 0.0:
                    b["risk"] += h * (self.mark[a] - px)
                out["ch_in"] += b["inp"]
                out["ch_net"] += b["net"]
                out["ch_sold"] += b["sold"]
                out["ch_bs"] += b["bs"]
                out["ch_held"] += h
                out["ch_held_value"] += h * px
                out["ch_risk"] += b["risk"]
                out["ch_shortfall"] += b["held_vin"] - h * px if h > 0.0 else 0.0
            out["ch_bs_pnl"] += self.bs_units[a] * px - self.bs_paid[a]
        out["ch_cons"] = self.worst
        return out


def simulate_loop_py(path, path_id, ki):
    """One path of the whole time loop, from the kernel's own inputs ``ki``
    (:class:`liqcascade.engine.compile.KernelInputs`: the layouts the compiled loop takes),
    written the obvious way: every step scans every open position in the scan order of
    :func:`simulate_path_py` (its module docstring), then calls the protocol units' plain-Python
    twins, then routes the sales.

    Covered: everything :func:`simulate_path_py` covers, on the mechanisms' re-keyed book (size
    tiers ``book.ltm``, the partial-liquidation close factor in ``rules.rules``); the
    mechanisms circuit breaker (a protocol under it pauses when one of its risky collateral
    prices fell more than the threshold within the window; during the pause and the grace
    period only positions with HF below ``exempt_hf`` are liquidatable), throttle (a rolling
    window of repaid debt and a per-step cap of what the venues absorb within a slippage; a
    single-pair liquidation is scaled to the room left, a multi-asset one waits), TWAP exit and
    buffer pool (the pool buys what its protocols seized at the oracle less a discount while its
    capital lasts; the TWAP exit sells the rest in equal slices over the next steps), random
    execution delay (a position waits ``random_delay(seed, path, position,
    window)`` steps after it is first seen liquidatable), Dutch auction (the bonus grows with the
    age since first seen liquidatable), partial liquidation (a cooldown after each
    liquidation) and insurance fund (a share of the protocol fees feeds it; it absorbs bad debt
    first, the rest is socialized); dynamic margin (an LT multiplier per protocol and asset from
    the realized volatility of its price, the gas multiple and the venue depth lost since the
    start, reached through the Euler ramp; size tiers ramping in: a position under its full
    tier but not under the tier in force is watched, not skipped), volatility bonus (the bonus,
    and a Dutch bonus, raised with realized volatility), leverage fee (every single-pair debt
    of a protocol under it multiplied each step by ``1 + rate · dt / year``), batch auction (its
    protocols' units collected over the window and priced at the clearing step as sold at once,
    the keepers' slices sold over the next window), oracle guard (an oracle like the others);
    the loop's agents (gas auction: gas multiple, latency, priority fees; hunter and hedger
    before the arbitrage; front-runner around the sales; reactive borrowers, who act on a
    position the liquidators read below ``react_hf``, repaying its pool when they deleverage)
    through their hook twins; interest rates (:class:`Pool` per rate row, every position's debt
    grown one by one, liquidators capped by the pool's liquidity); the protocol units Compound
    v3, Liquity, perps, Maker and crvUSD (through ``protocols/<family>/twin.py``, in the loop's
    order, after the Aave-rule positions; Liquity's and crvUSD's twins keep their own state
    objects, built from the packs at ``t = 0``).

    the clearinghouse (:class:`_ClearingLoop`: its participants' sales noted per protocol with
    the HF of each Aave-rule liquidation, netting offered to a participating perp unit's forced
    buys through its market columns ``M_X_*``, intake, budget, allocation and backstop before the
    routed sales, its books closed at the end: the summary's ``ch_*`` keys).

    Not covered: what :data:`NOT_COVERED` lists (``NotImplementedError`` naming it; today
    nothing). The sales ledger is not kept.

    Returns the dict of :func:`simulate_path_py` with ``summary`` keyed by
    :data:`LOOP_SUMMARY_KEYS`; events carry positions in the kernel's book order (units:
    ``offset + local index``)."""
    from ..kernels import layouts as KL
    from ..mechanisms import kernel as KM
    from ..mechanisms.buffer_pool.twin import pool_buy
    from ..mechanisms.circuit_breaker.twin import Breaker, window_fall
    from ..mechanisms.dutch_auction.twin import dutch_bonus
    from ..mechanisms.dynamic_margin.twin import Ramp, lt_multiplier, tier_in_force
    from ..mechanisms.insurance_fund.twin import fund_absorb
    from ..mechanisms.random_execution.twin import random_delay
    from ..mechanisms.throttle.twin import room_share, scale_liquidation
    from ..mechanisms.twap_exit.twin import TwapRing
    from ..mechanisms.twin import YEAR, RollingSum, depth_units, depth_units_to, realized_vol
    from ..mechanisms.volatility_bonus.twin import vol_fee_bonus
    from ..protocols.kernel import (ACC_BAD, ACC_BONUS, ACC_FEES, ACC_FUND_DRAW, ACC_GAS, ACC_LIQ_VALUE,
                                    ACC_NLIQ, ACC_REPAID, NACC)
    from ..protocols.maker.kernel import IK_PEEP

    mkt, orc, rules, book, liqs, mechs, agents, rates = ki.args()
    units = ki.fresh_units()
    mp = [float(x) for x in mechs.p]
    mk = mechs.mask
    on = mp[KM.M_ON] > 0.0
    flag = {name: on and mp[idx] > 0.0 for name, idx in (
        ("circuit_breaker", KM.M_CB_ON), ("throttle", KM.M_TH_ON), ("twap_exit", KM.M_TW_ON),
        ("buffer_pool", KM.M_BP_ON), ("insurance_fund", KM.M_IF_ON), ("dutch_auction", KM.M_DA_ON),
        ("partial", KM.M_PA_ON), ("dynamic_margin", KM.M_DM_ON), ("random_execution", KM.M_RE_ON),
        ("batch", KM.M_BA_ON), ("volatility_bonus", KM.M_VF_ON), ("volatility_fee", KM.M_LF_ON),
        ("clearinghouse", KM.M_CH_ON))}
    for name in NOT_COVERED:
        if flag.get(name):  # (a mechanism that enters this list is refused here by its flag name)
            raise NotImplementedError(f"simulate_loop_py does not cover the mechanism {name!r}")
    from types import SimpleNamespace

    from ..agents import hooks_twin as _hooks
    from ..agents.borrowers import twin as _borrowers
    from ..agents.gas_auction import twin as _gas
    from ..agents.kernel import BO_ON, BO_REACT

    AG = SimpleNamespace(  # the agents' hook twins, as the loop calls them
        agents_flow=_hooks.agents_flow, agents_pre_sales=_hooks.agents_pre_sales,
        agents_post_sales=_hooks.agents_post_sales, agents_finish=_hooks.agents_finish,
        agents_gas_multiple=_gas.agents_gas_multiple, agents_latency=_gas.agents_latency,
        agents_priority=_gas.agents_priority, agents_note_liquidation=_gas.agents_note_liquidation,
        agents_borrower=_borrowers.agents_borrower, agents_note_topup=_borrowers.agents_note_topup)

    ag = np.array(agents.pack, dtype=float, copy=True)  # parameters and state: the path's own copy
    ag_on = ag.shape[0] > 0
    react = float(ag[BO_REACT]) if ag_on and ag[BO_ON] > 0.0 else 0.0  # reactive borrowers' HF
    agsum = np.zeros(KL.NSUM)  # the summary columns the agents write (by their column index)
    meta = units.meta
    comet_py, maker_py, perp_py = _unit_twins()
    trove_sys = _liquity_from_pack(units.liquity) if meta[KL.U_LIQUITY, KL.UM_PROTO] >= 0 else None
    amm = _llamma_from_pack(units.llamma) if meta[KL.U_LLAMMA, KL.UM_PROTO] >= 0 else None

    path = np.asarray(path, dtype=float)
    T, A = path.shape[0] - 1, path.shape[1]
    vs = np.array(mkt.vs0, dtype=float, copy=True)
    vdk, vdq = mkt.vdk, mkt.vdq
    nV = vs.shape[0]
    stable = [bool(x) for x in mkt.stable]
    p_fixed = [float(x) for x in mkt.p_fixed]
    ids_of = [[int(v) for v in mkt.av_idx[mkt.av_ptr[a]:mkt.av_ptr[a + 1]]] for a in range(A)]
    hist = [[V.venue_spot(vs, v)] for v in range(nV)]
    oracles, oprice, osrc = [], [], []
    for o in range(len(orc.kind)):
        src = [int(v) for v in orc.src[orc.src_ptr[o]:orc.src_ptr[o + 1]]]
        p0 = sum(hist[v][0] for v in src) / len(src) if src else 1.0
        oracles.append(make_oracle_py(int(orc.kind[o]), [float(x) for x in orc.params[o]], p0))
        oprice.append(p0)
        osrc.append(src)
    P = rules.lt.shape[0]

    def price_of(pr, a, mean_spot):
        if stable[a]:
            return p_fixed[a]
        o = int(orc.of[pr, a])
        return oprice[o] if o >= 0 else mean_spot[a]

    # positions: single-pair in the kernel's book order, then multi-asset
    seg = np.repeat(np.arange(book.seg_asset.shape[0]), np.diff(book.seg_ptr))
    n = book.coll.shape[0]
    c = [float(x) for x in book.coll]
    d = [float(x) for x in book.debt]
    p_pr = [int(book.seg_proto[s]) for s in seg]
    p_a = [int(book.seg_asset[s]) for s in seg]
    p_da = [int(book.seg_debt_asset[s]) for s in seg]
    ltm = [float(x) for x in book.ltm] if book.ltm.shape[0] > 0 else None
    is_open = [True] * n
    seq = [None] * n
    counter = 0
    ents = []
    for m in range(book.m_proto.shape[0]):
        ents.append((int(book.m_proto[m]), [[int(book.m_asset[e]), float(book.m_coll[e]), float(book.m_debt[e])]
                                           for e in range(book.m_ptr[m], book.m_ptr[m + 1])]))
    m_open = [True] * len(ents)
    pools = _pools_of(rates) if rates.on else []
    owner = list(zip(p_pr, p_da))
    first_seen = {}  # position -> step first seen liquidatable (random delay, Dutch auction)
    last_liq = {}  # position -> step of its last liquidation
    fund = mp[KM.M_IF_SIZE]
    breakers = [Breaker() for _ in range(P)]
    restricted = [False] * P
    phist = []  # protocol prices per step (breaker)
    window = RollingSum(max(1, int(mp[KM.M_TH_WIN]))) if flag["throttle"] else None
    pool_cap = mp[KM.M_BP_CAP]
    pool_units = [0.0] * A
    twap = TwapRing()
    slices = max(1, int(mp[KM.M_TW_SLICES]))
    th_sold, bp_q, bp_v, tw_q, tb_q = [0.0] * A, [0.0] * A, [0.0] * A, [0.0] * A, [0.0] * A
    # dynamic margin: LT multiplier in force per (protocol, asset), its ramps, the size tiers' ramp
    mmult = [[1.0] * A for _ in range(P)]
    ramps = [[Ramp() for _ in range(A)] for _ in range(P)]
    dm_ramp = mp[KM.M_DM_RAMP] if flag["dynamic_margin"] else 0.0
    tier_ramp = dm_ramp if ltm is not None else 0.0
    # volatility bonus: realized vol and the bonus in force per (protocol, asset)
    volvf = [[0.0] * A for _ in range(P)]
    bon = [[float(rules.bonus[pr, a]) for a in range(A)] for pr in range(P)]
    # batch auction: per asset this step's units, the window's bundle, the keepers' units and slice
    ba_step, ba_coll, ba_left, ba_slice = [0.0] * A, [0.0] * A, [0.0] * A, [0.0] * A
    ba_first = 0  # first event of the batch window

    def under(row, pr):
        return bool(mk[row, pr])
    mode, gas, capital, max_n = int(liqs.mode), float(liqs.gas), float(liqs.capital), int(liqs.max_per_step)
    now = {"gas": gas, "lat": 0}  # the step's gas per liquidation and latency (gas auction)
    S = dict.fromkeys(LOOP_SUMMARY_KEYS, 0.0)
    events = []
    spots = np.zeros((T + 1, A))
    seized_steps = np.zeros((T + 1, A))
    for a in range(A):
        spots[0, a] = p_fixed[a] if stable[a] else _mean_spot(vs, ids_of[a])
    phist.append([[price_of(pr, a, spots[0]) for a in range(A)] for pr in range(P)])
    ch = None
    if flag["clearinghouse"]:
        ch = _ClearingLoop(mp, [bool(x) for x in mk[KM.MK_CH]], mk.shape[1], A, p_fixed, stable, ids_of)
    depth0 = [0.0] * A  # dynamic margin's haircut: quote the venues absorb within the band at t = 0
    if flag["dynamic_margin"] and mp[KM.M_DM_HAIR] > 0.0:
        for a in range(A):
            if not stable[a] and ids_of[a]:
                depth0[a] = depth_units([(vs, vdk, vdq, v) for v in ids_of[a]], mp[KM.M_DM_BAND]) * spots[0, a]
    if meta[KL.U_PERP, KL.UM_PROTO] >= 0:
        from ..protocols.perp.twin import perp_mark_init_py

        pr_ = int(meta[KL.U_PERP, KL.UM_PROTO])
        perp_mark_init_py(units.perp, [price_of(pr_, a, spots[0]) for a in range(A)], vs)

    def gates(t, pos, pr):
        """(waits, the Dutch bonus or None) of a liquidatable position under the covered mechanisms."""
        waits = False
        dutch = None
        if flag["random_execution"] or flag["dutch_auction"] or ag_on:
            first_seen.setdefault(pos, t)
            age = t - first_seen[pos]
            if ag_on and age < now["lat"]:
                waits = True  # the liquidators' latency
            if flag["random_execution"] and mk[KM.MK_RE, pr] and \
                    age < random_delay(int(mp[KM.M_SEED]), path_id, pos, int(mp[KM.M_RE_WIN])):
                waits = True
            if flag["dutch_auction"] and mk[KM.MK_DA, pr]:
                dutch = dutch_bonus(mp[KM.M_DA_START], mp[KM.M_DA_MAX], int(mp[KM.M_DA_STEPS]), age)
        if flag["partial"] and mk[KM.MK_PA, pr] and pos in last_liq and t - last_liq[pos] <= int(mp[KM.M_PA_COOL]):
            waits = True
        return waits, dutch

    def raised(b, pr, a):
        """A Dutch bonus ``b`` as the volatility bonus raises it (when it applies to ``pr``)."""
        if flag["volatility_bonus"] and under(KM.MK_VF, pr):
            return vol_fee_bonus(b, volvf[pr][a], mp[KM.M_VF_K], mp[KM.M_VF_VREF], mp[KM.M_VF_MAX])
        return b

    def series(pr, a):
        return [h[pr][a] for h in phist]

    def book_event(t, pos, pr, a, seize, repay, pc, pd, bad_q, fee):
        nonlocal fund
        S["liquidations"] += 1
        S["liquidated_value"] += seize * pc
        S["repaid"] += repay * pd
        S["bad_debt"] += bad_q
        S["fees"] += fee * pc
        S["bonus"] += (seize - fee) * pc - repay * pd
        S["gas"] += now["gas"]
        S["borrower_loss"] += seize * pc - repay * pd
        if flag["throttle"] and under(KM.MK_TH, pr):
            window.add(t, repay * pd)
            th_sold[a] += seize
        if flag["batch"] and under(KM.MK_BA, pr):
            ba_step[a] += seize
        if flag["buffer_pool"] and under(KM.MK_BP, pr):
            bp_q[a] += seize
            bp_v[a] += seize * pc
        if flag["twap_exit"] and under(KM.MK_TW, pr):
            tw_q[a] += seize
            if flag["buffer_pool"] and under(KM.MK_BP, pr):
                tb_q[a] += seize
        if flag["insurance_fund"] and mk[KM.MK_IF, pr]:
            fund, drawn, soc = fund_absorb(fund + mp[KM.M_IF_SHARE] * fee * pc, bad_q)
            S["fund_draw"] += drawn
            S["socialized"] += soc
        else:
            S["socialized"] += bad_q
        if pos not in last_liq:
            S["positions_liquidated"] += 1
        last_liq[pos] = t
        events.append([t, pos, pr, a, seize, repay, pc, math.nan, (seize - fee) * pc - repay * pd, bad_q, fee])

    for t in range(1, T + 1):
        # move_market
        for v in range(nV):
            a = int(mkt.venue_asset[v])
            V.venue_apply_return(vs, vdk, vdq, v, path[t, a] / path[t - 1, a])
            V.venue_decay(vs, v)
        if ag_on:  # the hedger and the hunter trade before the arbitrage
            AG.agents_flow(ag, t, path, vs, vdk, vdq, mkt.av_ptr, mkt.av_idx, agsum)
        for a in range(A):
            ids = ids_of[a]
            if mkt.arb_on and len(ids) > 1:
                V.arbitrage(vs, vdk, vdq, ids, mkt.arb_thr)
            if mkt.ref_on:
                for v in ids:
                    if int(vs[v, V.KIND]) == V.VENUE_CPMM and not V.venue_follows_reference(vs, v):
                        V.arbitrage_to_reference(vs, vdk, vdq, v, path[t, a], mkt.arb_thr)
        # read_oracles
        for v in range(nV):
            hist[v].append(V.venue_spot(vs, v))
        mean_spot = [p_fixed[a] if stable[a] else _mean_spot(vs, ids_of[a]) for a in range(A)]
        for o in range(len(oracles)):
            oprice[o] = oracles[o].step(t, [hist[v] for v in osrc[o]])
        pp = [[price_of(pr, a, mean_spot) for a in range(A)] for pr in range(P)]
        # mechanisms_before
        if ag_on:
            now["gas"] = gas * AG.agents_gas_multiple(ag, t)
            now["lat"] = AG.agents_latency(ag)
        phist.append(pp)
        if flag["circuit_breaker"]:
            any_paused = False
            for pr in range(P):
                if not under(KM.MK_CB, pr):
                    continue
                falls = [window_fall([h[pr][a] for h in phist], t, int(mp[KM.M_CB_WIN])) for a in range(A)
                         if not stable[a] and rules.lt[pr, a] > 0.0]
                paused, restricted[pr] = breakers[pr].step(t, max(falls + [0.0]), mp[KM.M_CB_THR],
                                                           int(mp[KM.M_CB_PAUSE]), int(mp[KM.M_CB_GRACE]))
                any_paused = any_paused or paused
            if any_paused:
                S["paused"] += 1
        if flag["dynamic_margin"]:
            for a in range(A):
                if stable[a]:
                    continue
                for pr in range(P):
                    if not under(KM.MK_DM, pr):
                        continue
                    lost = 0.0
                    if depth0[a] > 0.0:
                        band_low = (1.0 - mp[KM.M_DM_BAND]) * pp[pr][a]
                        lost = 1.0 - depth_units_to([(vs, vdk, vdq, v) for v in ids_of[a]], band_low) * mean_spot[a] \
                            / depth0[a]
                    vol = realized_vol(series(pr, a), t, int(mp[KM.M_DM_WIN]), mp[KM.M_DT])
                    gm = AG.agents_gas_multiple(ag, t) if ag_on else 1.0
                    target = lt_multiplier(vol, mp[KM.M_DM_VREF], mp[KM.M_DM_K], gm, mp[KM.M_DM_CONG], lost,
                                           mp[KM.M_DM_HAIR], mp[KM.M_DM_BUF], mp[KM.M_DM_MIN])
                    mmult[pr][a] = ramps[pr][a].set(t, target, dm_ramp) if dm_ramp > 0.0 else target
        if flag["volatility_bonus"]:
            for pr in range(P):
                for a in range(A):
                    if under(KM.MK_VF, pr) and not stable[a]:
                        volvf[pr][a] = realized_vol(series(pr, a), t, int(mp[KM.M_VF_WIN]), mp[KM.M_DT])
                        bon[pr][a] = vol_fee_bonus(float(rules.bonus[pr, a]), volvf[pr][a], mp[KM.M_VF_K],
                                                   mp[KM.M_VF_VREF], mp[KM.M_VF_MAX])
        if flag["volatility_fee"]:  # the leverage fee: every single-pair debt of the protocol grows
            for pr in range(P):
                if not under(KM.MK_LF, pr):
                    continue
                vol = max([realized_vol(series(pr, a), t, int(mp[KM.M_LF_WIN]), mp[KM.M_DT]) for a in range(A)
                           if not stable[a] and rules.lt[pr, a] > 0.0] + [0.0])
                rate = min(mp[KM.M_LF_MAX], mp[KM.M_LF_K] * (vol - mp[KM.M_LF_VREF])) if vol > mp[KM.M_LF_VREF] else 0.0
                for i in range(n):
                    if p_pr[i] == pr:
                        d[i] *= 1.0 + rate * mp[KM.M_DT] / YEAR
        depth_cap = [math.inf] * A
        for a in range(A):
            th_sold[a] = 0.0
            if flag["throttle"] and mp[KM.M_TH_SLIP] > 0.0 and not stable[a] and ids_of[a]:
                depth_cap[a] = depth_units([(vs, vdk, vdq, v) for v in ids_of[a]], mp[KM.M_TH_SLIP])
        # rates: interest, borrowers' repayments, withdrawals, the pools' liquidity
        pool_left = _rates_step(pools, t, float(mkt.dt_seconds), d, owner, bool(rates.pool_cap))
        # liquidate_books
        sold = [0.0] * A
        first_event = len(events)
        if ch is not None:
            ch.new_step()
        step_n = 0
        cap_left = capital
        full = False
        watched = sorted((seq[i], i) for i in range(n) if is_open[i] and seq[i] is not None)
        order = [i for _, i in watched] + [i for i in range(n) if is_open[i] and seq[i] is None]
        for i in order:
            pr, a, da = p_pr[i], p_a[i], p_da[i]
            pc, pd = pp[pr][a], pp[pr][da]
            tier = ltm[i] if ltm is not None else 1.0
            tier_now = tier_in_force(tier, t, tier_ramp) if t < tier_ramp else tier
            lt = float(rules.lt[pr, a]) * mmult[pr][a] * tier_now
            hf = c[i] * pc * lt / (d[i] * pd)
            hf_full = hf * tier / tier_now  # the liquidators watch the full size tier
            bar = 1.0  # liquidatable below
            if flag["circuit_breaker"] and under(KM.MK_CB, pr) and restricted[pr]:
                bar = min(1.0, mp[KM.M_CB_EXEMPT])  # paused, or in grace: only HF below exempt_hf
            if not (hf_full < bar or hf_full < react):
                continue  # not read, not a skip
            if max_n > 0 and step_n >= max_n:
                full = True
                break
            reacted = False
            if react > 0.0:  # a reactive borrower may top up or deleverage first
                cs, ds = AG.agents_borrower(ag, i, t, hf)
                if cs != 1.0 or ds != 1.0:
                    AG.agents_note_topup(ag, c[i] * (cs - 1.0) * pc + d[i] * (1.0 - ds) * pd)
                    for pl in pools:  # a repayment goes to the pool the position borrows from
                        if (pl.proto, pl.asset) == (pr, da) and ds != 1.0:
                            pl.repay(d[i] * (1.0 - ds))
                            pl.borrower_repaid += d[i] * (1.0 - ds)
                    c[i] *= cs
                    d[i] *= ds
                    reacted = True
                    hf = c[i] * pc * lt / (d[i] * pd)
            if not hf < bar:  # not liquidatable now (borrower acted, size tier ramping in): watched, not a skip
                if reacted or seq[i] is None:
                    seq[i] = counter
                    counter += 1
                continue
            waits, dutch = gates(t, i, pr)
            bonus = bon[pr][a] if dutch is None else raised(dutch, pr, a)
            ok = not waits
            if ok:
                seize, repay, bad, fee, closed = liquidate_pair_py(c[i], d[i], pc, pd, lt, bonus,
                                                                   float(rules.pfee[pr, a]), rules.rules[pr])
                ok = repay > 0.0 or bad > 0.0
            if ok and flag["throttle"] and under(KM.MK_TH, pr):
                share = 1.0
                if mp[KM.M_TH_DEBT] > 0.0:
                    share = room_share(mp[KM.M_TH_DEBT] - window.used(t), repay * pd)
                if mp[KM.M_TH_SLIP] > 0.0:
                    share = min(share, room_share(depth_cap[a] - th_sold[a], seize))
                if share <= 0.0:
                    ok = False
                elif share < 1.0:
                    seize, repay, bad, fee, closed = scale_liquidation(seize, repay, bad, fee, closed, share)
            if ok and repay * pd > min(cap_left, pool_left.get((pr, da), math.inf) * pd):
                ok = False
            profit = 0.0
            if ok and mode == MODE_RATIONAL:
                profit = _proceeds(vs, vdk, vdq, ids_of[a], sold[a], seize - fee, pc) - repay * pd - now["gas"]
                ok = profit > 0.0
            if not ok:
                S["skipped"] += 1
                if reacted or seq[i] is None:
                    seq[i] = counter
                    counter += 1
                continue
            if ag_on:
                if mode == MODE_RATIONAL:
                    AG.agents_priority(ag, profit)
                AG.agents_note_liquidation(ag, t)
            cap_left -= repay * pd
            for pl in pools:
                if (pl.proto, pl.asset) == (pr, da):
                    pool_left[(pr, da)] -= repay
                    pl.repay(repay)
                    pl.burn(bad)
                    pl.repaid += repay
                    pl.bad += bad
            step_n += 1
            c[i] -= seize
            d[i] -= repay + bad
            if closed:
                c[i] = max(c[i], 0.0)
                d[i] = max(d[i], 0.0)
            sold[a] += seize
            if ch is not None:  # its urgency: the HF at liquidation
                ch.note(pr, a, seize, hf)
            book_event(t, i, pr, a, seize, repay, pc, pd, bad * pd, fee)
            if closed or d[i] <= 0.0:
                is_open[i] = False
                d[i] = max(d[i], 0.0)
            else:
                seq[i] = counter
                counter += 1
        # liquidate_multi_asset
        for m, (pr, es) in enumerate(ents):
            if full or (max_n > 0 and step_n >= max_n):
                break
            if not m_open[m]:
                continue
            im = n + m
            lt_row = [float(x) for x in rules.lt[pr]]
            bn_row = [float(x) for x in rules.bonus[pr]]
            if on or ag_on:
                sc_ = ltm[im] if ltm is not None else 1.0
                if t < tier_ramp:
                    sc_ = tier_in_force(sc_, t, tier_ramp)
                lt_row = [lt_row[ea] * mmult[pr][ea] * sc_ for ea in range(A)]
                bn_row = list(bon[pr])
                wv = sum(cc * pp[pr][ea] * lt_row[ea] for ea, cc, _ in es)
                dv = sum(dd * pp[pr][ea] for ea, _, dd in es)
                if react > 0.0 and dv > 0 and wv / dv < react:
                    cs, ds = AG.agents_borrower(ag, im, t, wv / dv)
                    if cs != 1.0 or ds != 1.0:
                        AG.agents_note_topup(ag, sum(cc * (cs - 1.0) * pp[pr][ea] + dd * (1.0 - ds) * pp[pr][ea]
                                                     for ea, cc, dd in es))
                        for e_ in es:
                            e_[1] *= cs
                            e_[2] *= ds
                        wv = sum(cc * pp[pr][ea] * lt_row[ea] for ea, cc, _ in es)
                        dv = sum(dd * pp[pr][ea] for ea, _, dd in es)
                if not (dv > 0 and wv / dv < 1.0):
                    continue
                waits, dutch = gates(t, im, pr)
                if flag["circuit_breaker"] and under(KM.MK_CB, pr) and restricted[pr] and \
                        not wv / dv < mp[KM.M_CB_EXEMPT]:
                    waits = True
                if dutch is not None:
                    bn_row = [raised(dutch, pr, ea) for ea in range(A)]
                if waits:
                    S["skipped"] += 1
                    continue
            saved = copy.deepcopy(es)
            r = liquidate_multi_py(es, pp[pr], lt_row, bn_row, rules.pfee[pr], rules.rules[pr])
            if r is None:
                continue
            a, aj, seize, repay, bad_q, fee, closed = r
            pc, pdj = pp[pr][a], pp[pr][aj]
            ok = repay * pdj <= cap_left
            if ok and flag["throttle"] and under(KM.MK_TH, pr):
                if mp[KM.M_TH_DEBT] > 0.0 and repay * pdj > mp[KM.M_TH_DEBT] - window.used(t):
                    ok = False
                if mp[KM.M_TH_SLIP] > 0.0 and seize > depth_cap[a] - th_sold[a]:
                    ok = False
            profit = 0.0
            if ok and mode == MODE_RATIONAL:
                profit = _proceeds(vs, vdk, vdq, ids_of[a], sold[a], seize - fee, pc) - repay * pdj - now["gas"]
                ok = profit > 0.0
            if not ok:
                es[:] = saved
                S["skipped"] += 1
                continue
            if ag_on:
                if mode == MODE_RATIONAL:
                    AG.agents_priority(ag, profit)
                AG.agents_note_liquidation(ag, t)
            cap_left -= repay * pdj
            step_n += 1
            if closed:
                m_open[m] = False
            sold[a] += seize
            if ch is not None:  # its urgency: the full HF before the liquidation
                ch.note(pr, a, seize, sum(cc * pp[pr][ea] * lt_row[ea] for ea, cc, _ in saved)
                        / sum(dd * pp[pr][ea] for ea, _, dd in saved))
            book_event(t, im, pr, a, seize, repay, pc, pdj, bad_q, fee)
        # step_units: Compound v3, Liquity, perps, Maker, crvUSD
        sold_arr = np.array(sold)
        for u, fn, pack in ((KL.U_COMET, comet_py, units.comet), (KL.U_LIQUITY, None, None),
                            (KL.U_PERP, perp_py, units.perp), (KL.U_MAKER, maker_py, units.maker),
                            (KL.U_LLAMMA, None, None)):
            pr = int(meta[u, KL.UM_PROTO])
            if pr < 0:
                continue
            before = sold_arr.copy()
            if ch is not None and u == KL.U_PERP:  # netting: the others' sales offered to its forced buys
                from ..protocols.perp.kernel import M_ASSET, M_VENUE, M_X_AVAIL, M_X_FILL, M_X_PX

                pmkt = pack[11]
                for m in range(pmkt.shape[0]):
                    a = int(pmkt[m, M_ASSET])
                    first = all(int(pmkt[m2, M_ASSET]) != a for m2 in range(m))  # the inventory is offered once
                    pmkt[m, M_X_AVAIL] = ch.offer(pr, a) if first else 0.0
                    pmkt[m, M_X_PX] = V.venue_spot(vs, int(pmkt[m, M_VENUE]))
                    pmkt[m, M_X_FILL] = 0.0
            if u == KL.U_LIQUITY:
                _liquity_step_loop(trove_sys, t, pp[pr], vs, vdk, vdq, ids_of, sold_arr, liqs.liq, pr,
                                   int(meta[u, KL.UM_OFFSET]), events, S)
                if ch is not None:
                    for a in range(A):
                        ch.note(pr, a, float(sold_arr[a] - before[a]))
                continue
            if u == KL.U_LLAMMA:
                _llamma_step_loop(amm, t, float(mkt.dt_seconds), pp[pr], vs, vdk, vdq, mkt.av_ptr, mkt.av_idx,
                                  sold_arr, liqs.liq, pr, int(meta[u, KL.UM_OFFSET]), events, S)
                if ch is not None:
                    for a in range(A):
                        ch.note(pr, a, float(sold_arr[a] - before[a]))
                continue
            if u == KL.U_MAKER:
                po = int(meta[u, KL.UM_PEEP])
                pack[1][:, IK_PEEP] = oracles[po].peep() if po >= 0 else math.nan
            acc = np.zeros(NACC)
            cap = 8 * int(meta[u, KL.UM_ROOM]) + 64
            cols = [np.zeros(cap, np.int64) for _ in range(4)] + [np.full(cap, math.nan) for _ in range(7)]
            k = fn(pack, t, float(mkt.dt_seconds), np.array(pp[pr]), vs, vdk, vdq, mkt.av_ptr, mkt.av_idx,
                   sold_arr, acc, liqs.liq, *cols, 0, pr, int(meta[u, KL.UM_OFFSET]))
            for j in range(int(k)):
                events.append([int(cols[0][j]), int(cols[1][j]), int(cols[2][j]), int(cols[3][j])]
                              + [float(col[j]) for col in cols[4:]])
            for key_, col in (("liquidations", ACC_NLIQ), ("liquidated_value", ACC_LIQ_VALUE),
                              ("repaid", ACC_REPAID), ("bad_debt", ACC_BAD), ("fees", ACC_FEES),
                              ("bonus", ACC_BONUS), ("gas", ACC_GAS), ("fund_draw", ACC_FUND_DRAW)):
                S[key_] += float(acc[col])
            if ch is not None:
                for a in range(A):
                    ch.note(pr, a, float(sold_arr[a] - before[a]))
                if u == KL.U_PERP:  # what its forced buys took from the offer
                    for m in range(pmkt.shape[0]):
                        if pmkt[m, M_X_FILL] > 0.0:
                            ch.crossed(pr, int(pmkt[m, M_ASSET]), float(pmkt[m, M_X_FILL]), float(pmkt[m, M_X_PX]),
                                       sold_arr)
                        pmkt[m, M_X_AVAIL] = 0.0
                        pmkt[m, M_X_FILL] = 0.0
        sold = [float(x) for x in sold_arr]
        for a in range(A):
            seized_steps[t, a] = sold[a]
        # route_sales: the clearinghouse takes in its participants' units, releases what its
        # budget allows, its backstop buys from the queue
        if ch is not None:
            for a in range(A):
                spot_a = p_fixed[a] if stable[a] or not ids_of[a] else _mean_spot(vs, ids_of[a])
                ch.sales(t, a, spot_a, sold, vs, vdk, vdq, ids_of[a])
        # the batch auction collects its protocols' units, its keepers sell their
        # slice, and at a clearing step the bundle is priced as sold at once
        if flag["batch"]:
            W = int(mp[KM.M_BA_WIN])
            clearing = (W > 0 and t % W == 0) or t >= T
            for a in range(A):
                if ba_step[a] > 0.0:
                    sold[a] = max(sold[a] - ba_step[a], 0.0)
                    ba_coll[a] += ba_step[a]
                    ba_step[a] = 0.0
                if ba_left[a] > 0.0:
                    qs = min(ba_slice[a], ba_left[a])
                    if mp[KM.M_BA_SLIP] > 0.0 and ids_of[a]:
                        qs = max(min(qs, depth_units([(vs, vdk, vdq, v) for v in ids_of[a]], mp[KM.M_BA_SLIP])), 0.0)
                    if qs > 0.0:
                        if ids_of[a]:
                            V.route_sell(vs, vdk, vdq, ids_of[a], qs)
                        ba_left[a] = max(ba_left[a] - qs, 0.0)
                Q = ba_coll[a]
                if clearing and Q > 0.0:
                    if ids_of[a]:
                        px = V.route_sell(vs.copy(), vdk, vdq, ids_of[a], Q)[0] / Q * (1.0 - mp[KM.M_BA_MARGIN])
                    else:
                        px = p_fixed[a] * (1.0 - mp[KM.M_BA_MARGIN])
                    S["proceeds"] += px * Q
                    for ev in events[ba_first:]:
                        if ev[3] == a and math.isnan(ev[7]):
                            ev[7] = px
                    ba_left[a] += Q
                    ba_slice[a] = ba_left[a] / (W if W > 0 else 1)
                    ba_coll[a] = 0.0
            if clearing:
                ba_first = len(events)
        # the buffer pool buys first, the TWAP exit holds back the rest of its share
        bought = [(0.0, 0.0)] * A
        for a in range(A):
            pq = pquote = 0.0
            if flag["buffer_pool"] and bp_q[a] > 0.0:
                pq, pquote = pool_buy(bp_q[a], bp_v[a], pool_cap, mp[KM.M_BP_DISC])
                pool_cap -= pquote
                pool_units[a] += pq
                sold[a] = max(sold[a] - pq, 0.0)
            if flag["twap_exit"]:
                from_twap = pq * tb_q[a] / bp_q[a] if pq > 0.0 and tb_q[a] > 0.0 else 0.0
                held = min(tw_q[a] - from_twap, sold[a])
                if held > 0.0:
                    sold[a] -= held
                    twap.push(t, a, held, slices)
                sold[a] += twap.pop(t, a)
            bp_q[a] = bp_v[a] = tw_q[a] = tb_q[a] = 0.0
            if ch is not None:  # its in-house fills (netted, backstop) count like the pool's
                cq, cquote = ch.take_fills(a)
                pq, pquote = pq + cq, pquote + cquote
            bought[a] = (pq, pquote)
        if ag_on:  # the front-runner sells ahead of the step's sales
            AG.agents_pre_sales(ag, sold, vs, vdk, vdq, mkt.av_ptr, mkt.av_idx, agsum)
        for a in range(A):
            pq, pquote = bought[a]
            if sold[a] <= 0.0 and pq <= 0.0:
                continue
            proceeds = 0.0
            if sold[a] > 0.0:
                if ids_of[a]:
                    proceeds = V.route_sell(vs, vdk, vdq, ids_of[a], sold[a])[0]
                else:
                    proceeds = sold[a] * p_fixed[a]
            S["proceeds"] += proceeds + pquote
            for ev in events[first_event:]:
                if ev[3] == a and math.isnan(ev[7]):
                    ev[7] = (proceeds + pquote) / (sold[a] + pq)
        if ag_on:  # the front-runner buys back, the hunter buys the dip
            AG.agents_post_sales(ag, sold, vs, vdk, vdq, mkt.av_ptr, mkt.av_idx, agsum)
        if ch is not None:
            ch.check()
        # record
        dislocated = False
        for a in range(A):
            spots[t, a] = p_fixed[a] if stable[a] else _mean_spot(vs, ids_of[a])
            if not stable[a] and spots[t, a] < (1.0 - DISLOCATION) * path[t, a]:
                dislocated = True
            if not stable[a] and spots[t - 1, a] > 0.0:  # the largest one-step fall so far
                S["max_move"] = max(S["max_move"], (spots[t - 1, a] - spots[t, a]) / spots[t - 1, a])
        if dislocated:
            S["dislocation_steps"] += 1
            if S["disl_first"] == 0.0:
                S["disl_first"] = t
            S["disl_last"] = t
        for pl in pools:
            pl.record(t)
    for a in range(A):  # what the mechanisms still hold, at the final mean venue spot
        held = pool_units[a] + twap.left(a) + ba_coll[a]
        if held > 0.0:
            S["held_value"] += held * (p_fixed[a] if stable[a] else _mean_spot(vs, ids_of[a]))
    if ch is not None:  # the clearinghouse's books, the queue marked at the final mean venue spot
        S.update(ch.finish([p_fixed[a] if stable[a] or not ids_of[a] else _mean_spot(vs, ids_of[a])
                            for a in range(A)]))
    if ag_on:
        AG.agents_finish(ag, vs, vdk, vdq, mkt.av_ptr, mkt.av_idx, agsum)
        S["attacker_pnl"] = float(agsum[KL.SUM_ATTACKER_PNL])
        S["priority"] = float(agsum[KL.SUM_PRIORITY])
        S["topup"] = float(agsum[KL.SUM_TOPUP])
    return {"summary": S, "events": [tuple(e) for e in events], "coll": np.array(c), "debt": np.array(d),
            "multi": ents, "spot": spots, "seized": seized_steps, "units": units,
            "rates": [pl.result(sum(d[i] for i in range(n) if owner[i] == (pl.proto, pl.asset))) for pl in pools]}
