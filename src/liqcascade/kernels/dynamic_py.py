"""Plain-Python twin of the time loop :func:`liqcascade.kernels.dynamic.simulate_path`.

Written the obvious way for the parity test ``tests/parity/test_dynamic_parity.py``: every step
scans every open position one by one (no segments pointers, no cohorts, no store), with the
``*_py`` twins of the venues, oracles and Aave rules. Covered: Aave-rule single-pair and
multi-asset positions, mechanical and rational liquidators (gas), liquidator capital and
``max_per_step``; not covered: prevention mechanisms, agents and protocol units (Compound,
Liquity, perps, Maker, crvUSD) — scenarios with those are out of scope here.

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
   of the step gets the asset's average execution price.

**Scan order** (it matters only when ``max_per_step`` or the capital binds): positions the
liquidators have already looked at (liquidated and still open, or skipped) come first, in the
order they were last put on that watch list (a skipped position keeps its place, a liquidated
one goes to the back); then the untouched positions in book order (segments in order, each
sorted by liquidation price, most exposed first); multi-asset positions last, in book order.
This is the order in which the kernel's store and segment pointers visit positions.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from ..venues import twin as V
from ..protocols.aave.twin import liquidate_pair_py
from .cascade_py import liquidate_multi_py
from ..oracles.twin import make_oracle_py

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

    Returns a dict: ``summary`` (keys :data:`SUMMARY_KEYS`), ``events`` (tuples ``(step,
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
            V.venue_apply_return(vs, v, path[t, a] / path[t - 1, a])
            V.venue_decay(vs, v)
        # 2. arbitrage between venues, then pools toward the reference
        for a in range(A):
            ids = ids_of[a]
            if arb_on and len(ids) > 1:
                V.arbitrage(vs, vdk, vdq, ids, arb_thr)
            if ref_on:
                for v in ids:
                    if int(vs[v, V.KIND]) == V.VENUE_CPMM and not V.venue_follows_reference(vs, v):
                        V.arbitrage_to_reference(vs, vdk, vdq, v, path[t, a], arb_thr)
        # 3. oracles
        for v in range(nV):
            hist[v].append(V.venue_spot(vs, v))
        mean_spot = [float(p_fixed[a]) if stable[a] else _mean_spot(vs, ids_of[a]) for a in range(A)]
        for o in range(len(oracles)):
            oprice[o] = oracles[o].step(t, [hist[v] for v in osrc[o]])
        pp = [[price_of(pr, a, mean_spot) for a in range(A)] for pr in range(P)]
        # 3b. interest, borrowers' repayments, withdrawals
        pool_left = {}
        for pl in pools:
            g = pl.accrue(dt_seconds)
            mine = [i for i in range(n) if (int(pos_proto[i]), int(pos_debt_asset[i])) == (pl.proto, pl.asset)]
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
            if ids_of[a]:
                proceeds = V.route_sell(vs, vdk, vdq, ids_of[a], sold[a])[0]
            else:
                proceeds = sold[a] * float(p_fixed[a])
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
    return {"summary": S, "events": [tuple(e) for e in events], "coll": np.array(c), "debt": np.array(d),
            "multi": ents, "spot": spots, "seized": seized_steps, "rates": out_rates}


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
