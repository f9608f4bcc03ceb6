"""Plain-Python twin of :mod:`liqcascade.kernels.cascade`.

Written the obvious way — every round scans every position — so that the parity tests check
the sorted-pointer/cohort bookkeeping of the compiled solver against the pinned semantics
directly. Same inputs, same outputs, Python floats, no numba.
"""

from __future__ import annotations

import math

import numpy as np

from liqcascade.venues.book import twin as book_twin
from liqcascade.venues.cpmm import twin as cpmm_twin
from liqcascade.protocols.aave.twin import incentive_lb_py, liquidate_pair_py
from liqcascade.venues.kernel import FLOOR

MODE_MECHANICAL = 0
MODE_RATIONAL = 1


def _spot(venue, p_fixed):
    if venue is None:
        return p_fixed
    if venue["kind"] == 0:
        return venue["y"] / venue["x"]
    return venue["mid"]


def _sell(venue, q, mutate=True):
    """Sell ``q`` into the venue (down to its floor, the rest at the floor price)."""
    if venue["kind"] == 0:
        pool = cpmm_twin.Pool(venue["x"], venue["y"], venue["fee"], venue["floor"])
        out = pool.sell(q)
        if mutate:
            venue["x"], venue["y"] = pool.x, pool.y
        return out
    book = book_twin.Book(venue["mid"], venue["dk"], venue["dq"], venue["nk"], venue["floor"])
    out = book.sell(q)
    if mutate:
        venue["mid"] = book.mid
    return out


def _venues_from_arrays(vs, vdk, vdq):
    out = []
    for a in range(vs.shape[0]):
        kind = int(vs[a, 0])
        if kind < 0:
            out.append(None)
        elif kind == 0:
            out.append({"kind": 0, "x": float(vs[a, 1]), "y": float(vs[a, 2]), "fee": float(vs[a, 3]),
                        "floor": float(vs[a, FLOOR])})
        else:
            nk = int(vs[a, 7])
            out.append({"kind": 1, "mid": float(vs[a, 4]), "dk": [float(v) for v in vdk[a, :nk]],
                        "dq": [float(v) for v in vdq[a, :nk]], "nk": nk, "floor": float(vs[a, FLOOR])})
    return out


def solve_shock_py(shock, coll, debt, pos_asset, pos_proto, pos_pdebt, lt_pa, bonus_pa, pfee_pa,
                   rules, vs0, vdk, vdq, p_fixed, shock_mask, mode, gas, max_rounds, multi=None):
    """One shock by brute force. Positions need not be sorted. Returns a dict.

    ``multi`` optionally gives multi-asset positions as a list of
    ``(proto, [(asset, coll, debt), ...])``; they are liquidated one pair per round with
    :func:`liquidate_multi_py` and their final entries returned under ``"multi"``.
    """
    multi = [] if multi is None else [(int(pr), [[int(a), float(c_), float(d_)] for a, c_, d_ in ents]) for pr, ents in multi]
    multi_open = [True] * len(multi)
    venues = _venues_from_arrays(vs0, vdk, vdq)
    A = len(venues)
    for a in range(A):
        if shock_mask[a] and venues[a] is not None:
            target = max(_spot(venues[a], p_fixed[a]) * (1.0 - shock), venues[a]["floor"])
            if venues[a]["kind"] == 0:
                dq = cpmm_twin.cpmm_sell_to_price(venues[a]["x"], venues[a]["y"], venues[a]["fee"], target)
            else:
                dq = book_twin.book_sell_to_price(venues[a]["mid"], venues[a]["dk"], venues[a]["dq"], venues[a]["nk"], target)
            if dq > 0:
                _sell(venues[a], dq)
    c = [float(v) for v in coll]
    d = [float(v) for v in debt]
    is_open = [d[i] > 0 for i in range(len(c))]
    rounds = n_liq = 0
    liq_value = repaid_value = bad_value = fee_value = bonus_value = 0.0
    units = [0.0] * A
    converged = True
    while True:
        prices = [_spot(venues[a], p_fixed[a]) for a in range(A)]
        sold = [0.0] * A
        acted = 0
        for i in range(len(c)):
            if not is_open[i]:
                continue
            a = int(pos_asset[i])
            pr = int(pos_proto[i])
            p = prices[a]
            pd = float(pos_pdebt[i])
            lt = float(lt_pa[pr, a])
            hf = c[i] * p * lt / (d[i] * pd) if d[i] > 0 else math.inf
            if not hf < 1.0:
                continue
            seize, repay, bad, fee, closed = liquidate_pair_py(
                c[i], d[i], p, pd, lt, float(bonus_pa[pr, a]), float(pfee_pa[pr, a]), rules[pr])
            if not (repay > 0 or bad > 0):
                continue
            if mode == MODE_RATIONAL:
                got = seize - fee
                proceeds = _sell(venues[a], got, mutate=False) if got > 0 else 0.0
                if proceeds - repay * pd - gas <= 0:
                    continue
            acted += 1
            n_liq += 1
            c[i] -= seize
            d[i] -= repay + bad
            if closed:
                c[i] = max(c[i], 0.0)
                d[i] = max(d[i], 0.0)
            if closed or d[i] <= 0:
                is_open[i] = False
                d[i] = max(d[i], 0.0)
            sold[a] += seize
            units[a] += seize
            liq_value += seize * p
            repaid_value += repay * pd
            bad_value += bad * pd
            fee_value += fee * p
            bonus_value += (seize - fee) * p - repay * pd
        for m, (pr, ents) in enumerate(multi):
            if not multi_open[m]:
                continue
            saved = [list(e) for e in ents]
            r = liquidate_multi_py(ents, prices, lt_pa[pr], bonus_pa[pr], pfee_pa[pr], rules[pr])
            if r is None:
                continue
            a, aj, seize, repay, badv, fee, closed = r
            if mode == MODE_RATIONAL:
                got = seize - fee
                proceeds = _sell(venues[a], got, mutate=False) if (got > 0 and venues[a] is not None) else got * prices[a]
                if proceeds - repay * prices[aj] - gas <= 0:
                    multi[m] = (pr, saved)
                    continue
            acted += 1
            n_liq += 1
            if closed:
                multi_open[m] = False
            sold[a] += seize
            units[a] += seize
            liq_value += seize * prices[a]
            repaid_value += repay * prices[aj]
            bad_value += badv
            fee_value += fee * prices[a]
            bonus_value += (seize - fee) * prices[a] - repay * prices[aj]
        if acted == 0:
            break
        rounds += 1
        for a in range(A):
            if sold[a] > 0 and venues[a] is not None:
                _sell(venues[a], sold[a])
        if rounds >= max_rounds:
            converged = False
            break
    return {
        "final_price": np.array([_spot(venues[a], p_fixed[a]) for a in range(A)]),
        "units": np.array(units),
        "rounds": rounds,
        "liquidations": n_liq,
        "liquidated_value": liq_value,
        "repaid": repaid_value,
        "bad_debt": bad_value,
        "fees": fee_value,
        "bonus": bonus_value,
        "converged": converged,
        "coll": np.array(c),
        "debt": np.array(d),
        "multi": multi,
    }


def liquidate_multi_py(ents, prices, lt_row, bonus_row, pfee_row, rules):
    """Twin of :func:`liqcascade.protocols.aave.kernel.liquidate_position` on a list of
    ``[asset, coll, debt]`` entries (mutated in place). ``None`` when nothing happens."""
    rule, cf, hf_thr, min_base, min_left = (float(v) for v in rules[:5])
    rule = int(rule)
    coll_vals = [(e[1] * prices[e[0]], k) for k, e in enumerate(ents) if e[1] > 0 and lt_row[e[0]] > 0]
    debt_vals = [(e[2] * prices[e[0]], k) for k, e in enumerate(ents) if e[2] > 0]
    if not coll_vals or not debt_vals:
        return None
    weighted = sum(v * lt_row[ents[k][0]] for v, k in coll_vals)
    total_debt = sum(v for v, _ in debt_vals)
    if not weighted < total_debt:
        return None
    hf = weighted / total_debt
    # largest collateral and debt by value; ties go to the first entry
    best_cv, kc = max(coll_vals, key=lambda t: (t[0], -t[1]))
    best_dv, kd = max(debt_vals, key=lambda t: (t[0], -t[1]))
    a, aj = ents[kc][0], ents[kd][0]
    pi, pj = prices[a], prices[aj]
    dj = ents[kd][2]
    if rule == 0:
        max_repay = cf * dj
    elif rule == 1:
        max_repay = (cf if hf > hf_thr else 1.0) * dj
    elif hf > hf_thr and best_cv >= min_base and best_dv >= min_base:
        max_repay = dj if best_dv <= cf * total_debt else cf * total_debt / pj
    else:
        max_repay = dj
    lb = incentive_lb_py(rules, hf, bonus_row[a])
    repay = max_repay
    seize = repay * pj * lb / pi
    ci = ents[kc][1]
    if seize >= ci:
        seize = ci
        repay = min(ci * pi / (lb * pj), dj)
    elif rule == 2 and repay < dj and ((dj - repay) * pj < min_left or (ci - seize) * pi < min_left):
        repay = min(max_repay, (best_cv - min_left) / (lb * pj), dj - min_left / pj)
        if repay <= 0:
            return None
        seize = repay * pj * lb / pi
    ents[kc][1] = ci - seize if seize < ci else 0.0
    ents[kd][2] = dj - repay if repay < dj else 0.0
    fee = (seize - seize / lb) * pfee_row[a]
    bad = 0.0
    closed = False
    if sum(e[1] for e in ents if lt_row[e[0]] > 0) <= 0:
        bad = sum(e[2] * prices[e[0]] for e in ents)
        for e in ents:
            e[2] = 0.0
        closed = True
    elif sum(e[2] for e in ents) <= 0:
        closed = True
    return a, aj, seize, repay, bad, fee, closed
