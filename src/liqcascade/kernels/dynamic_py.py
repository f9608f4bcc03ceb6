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
                     capital, max_per_step):
    """One path. ``pos_*``: single-pair positions in book order; ``multi``: list of
    ``(protocol, [[asset, coll, debt], ...])`` (position index ``N + m`` in events).

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
            if not hf < 1.0:
                continue
            if max_per_step > 0 and step_n >= max_per_step:
                full = True
                break
            seize, repay, bad, fee, closed = liquidate_pair_py(c[i], d[i], pc, pd, lt, float(bonus_pa[pr, a]),
                                                               float(pfee_pa[pr, a]), rules[pr])
            ok = repay > 0.0 or bad > 0.0
            if ok and repay * pd > cap_left:
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
    return {"summary": S, "events": [tuple(e) for e in events], "coll": np.array(c), "debt": np.array(d),
            "multi": ents, "spot": spots, "seized": seized_steps}
