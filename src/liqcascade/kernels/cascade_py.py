"""Plain-Python twin of :mod:`liqcascade.kernels.cascade`.

Written the obvious way — every round scans every position — so that the parity tests check
the sorted-pointer/cohort bookkeeping of the compiled solver against the pinned semantics
directly. Same inputs, same outputs, Python floats, no numba.
"""

from __future__ import annotations

import math

import numpy as np

from . import venues_py as V
from .aave_py import liquidate_pair_py

MODE_MECHANICAL = 0
MODE_RATIONAL = 1


def _spot(venue, p_fixed):
    if venue is None:
        return p_fixed
    if venue["kind"] == 0:
        return venue["y"] / venue["x"]
    return venue["mid"]


def _sell(venue, q, mutate=True):
    if venue["kind"] == 0:
        x, y, out = V.cpmm_sell(venue["x"], venue["y"], venue["fee"], q)
        if mutate:
            venue["x"], venue["y"] = x, y
        return out
    mid, out = V.book_sell(venue["mid"], venue["dk"], venue["dq"], venue["nk"], q)
    if mutate:
        venue["mid"] = mid
    return out


def _venues_from_arrays(vs, vdk, vdq):
    out = []
    for a in range(vs.shape[0]):
        kind = int(vs[a, 0])
        if kind < 0:
            out.append(None)
        elif kind == 0:
            out.append({"kind": 0, "x": float(vs[a, 1]), "y": float(vs[a, 2]), "fee": float(vs[a, 3])})
        else:
            nk = int(vs[a, 7])
            out.append({"kind": 1, "mid": float(vs[a, 4]), "dk": [float(v) for v in vdk[a, :nk]],
                        "dq": [float(v) for v in vdq[a, :nk]], "nk": nk})
    return out


def solve_shock_py(shock, coll, debt, pos_asset, pos_proto, pos_pdebt, lt_pa, bonus_pa, pfee_pa,
                   rules, vs0, vdk, vdq, p_fixed, shock_mask, mode, gas, max_rounds):
    """One shock by brute force. Positions need not be sorted. Returns a dict."""
    venues = _venues_from_arrays(vs0, vdk, vdq)
    A = len(venues)
    for a in range(A):
        if shock_mask[a] and venues[a] is not None:
            target = _spot(venues[a], p_fixed[a]) * (1.0 - shock)
            if venues[a]["kind"] == 0:
                dq = V.cpmm_sell_to_price(venues[a]["x"], venues[a]["y"], venues[a]["fee"], target)
            else:
                dq = V.book_sell_to_price(venues[a]["mid"], venues[a]["dk"], venues[a]["dq"], venues[a]["nk"], target)
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
    }
