"""Plain-Python twin of :mod:`liqcascade.agents.flash_attacker.kernel`, written naively for
parity tests.

Same bundle, different arithmetic: the oracle is the kind's twin object replayed over the whole
source history (twice: as it is, and with the pushed venue's spot at the last column) instead of
one step from a saved state; the venues are the venue twins; the exact buy-back is a plain
bisection on copies of the venue; the flash-loan split is the sources' twin; the liquidation is
:func:`liqcascade.protocols.aave.twin.liquidate_pair_py`. Returns a dictionary keyed by the
kernel's ledger names.
"""

from __future__ import annotations

import math

import numpy as np

from liqcascade.flashloans.twin import borrow_py
from liqcascade.oracles import KINDS as ORACLE_KINDS
from liqcascade.oracles.twin import run_oracle_py
from liqcascade.protocols.aave.twin import liquidate_pair_py
from liqcascade.venues.twin import venue_buy, venue_sell, venue_spot


def _quote_for_py(vs, vdk, vdq, v, x):
    """Least quote buying at least ``x`` asset, by plain bisection on copies of the venue."""
    if x <= 0.0:
        return 0.0

    def got(dy):
        w = np.array(vs, dtype=np.float64, copy=True)
        return venue_buy(w, vdk, vdq, v, dy)

    hi = x * venue_spot(vs, v)
    for _ in range(1100):
        if got(hi) >= x:
            break
        hi = hi * 2.0
        if not math.isfinite(hi):
            return math.inf
    if not got(hi) >= x:
        return math.inf
    lo = 0.0
    for _ in range(300):
        mid = (lo + hi) / 2.0
        if mid <= lo or mid >= hi or hi - lo <= 1e-15 * hi:
            break
        if got(mid) >= x:
            hi = mid
        else:
            lo = mid
    return hi


def _unwind_py(vs, vdk, vdq, v, have, need):
    if have < need:
        return -_quote_for_py(vs, vdk, vdq, v, need - have)
    if have > need:
        w = np.array(vs, dtype=np.float64, copy=True)
        return venue_sell(w, vdk, vdq, v, have - need)
    return 0.0


def bundle_py(loan, vs, vdk, vdq, v, o_kind, o_params, o_src, hist, t, o_p0,
              coll, debt, lt, bonus, pfee, p_debt, rules, s_kind, s_params, ap):
    """The bundle of :func:`~liqcascade.agents.flash_attacker.kernel.bundle` (never applied):
    ``(ledger, events)`` with ``events`` a list of ``(position, seized, repaid, bad, fee)``.
    ``o_p0`` is the oracle's price at step 0 (the twin replays it from there)."""
    gas_bundle, gas_liq, max_liq, _min_profit = (float(a) for a in ap)
    w = np.array(vs, dtype=np.float64, copy=True)
    out = {"loan": loan, "spot_pre": venue_spot(w, v)}
    fee_a, _ = borrow_py(s_kind, s_params, loan, 0)
    if fee_a < 0.0:
        out.update(feasible=0.0, pnl=math.nan)
        return out, []
    out["fee_asset"] = fee_a
    q1 = venue_sell(w, vdk, vdq, v, loan)
    out["push_quote"] = q1
    out["spot_pushed"] = venue_spot(w, v)

    rows = [int(r) for r in o_src]
    src = np.array([hist[r, : t + 1] for r in rows], dtype=np.float64)
    p_pre = float(run_oracle_py(o_kind, o_params, src, o_p0)[t])
    if ORACLE_KINDS[int(o_kind)] == "heartbeat":
        p_post = p_pre
    else:
        src2 = src.copy()
        for j, r in enumerate(rows):
            if r == v:
                src2[j, t] = venue_spot(w, v)
        p_post = float(run_oracle_py(o_kind, o_params, src2, o_p0)[t])
    out["p_pre"], out["p_post"] = p_pre, p_post

    n = len(coll)
    hf = [coll[i] * p_post * lt / (debt[i] * p_debt) if debt[i] > 0 else math.inf for i in range(n)]
    out["pre_liquidatable"] = float(sum(1 for i in range(n) if debt[i] > 0 and coll[i] * p_pre * lt < debt[i] * p_debt))
    need = loan + fee_a
    budget = q1 + sum(float(p[2]) for p in s_params)
    events = []
    spent = 0.0
    for i in sorted(range(n), key=lambda j: hf[j]):
        if len(events) >= int(max_liq) or not hf[i] < 1.0:
            break
        s, r, b, f, _closed = liquidate_pair_py(float(coll[i]), float(debt[i]), p_post, p_debt, lt, bonus, pfee, rules)
        if r <= 0.0 or s <= 0.0:
            continue
        if r * p_debt > budget - spent:
            continue
        have = sum(e[1] - e[4] for e in events)
        gain = _unwind_py(w, vdk, vdq, v, have + s - f, need) - _unwind_py(w, vdk, vdq, v, have, need)
        if not gain - r * p_debt - gas_liq > 0.0:
            continue
        spent += r * p_debt
        events.append((i, s, r, b, f))
    seized = sum(e[1] for e in events)
    treasury = sum(e[4] for e in events)
    out.update(nliq=float(len(events)), repaid=sum(e[2] for e in events), seized=seized, treasury=treasury,
               bad=sum(e[3] for e in events))
    have = sum(e[1] - e[4] for e in events)
    feasible = 1.0
    buy_q = buy_a = sell_a = sell_q = 0.0
    if have < need:
        buy_q = _quote_for_py(w, vdk, vdq, v, need - have)
        if math.isfinite(buy_q):
            buy_a = venue_buy(w, vdk, vdq, v, buy_q)
        else:
            feasible, buy_q = 2.0, 0.0
    elif have > need:
        sell_a = have - need
        sell_q = venue_sell(w, vdk, vdq, v, sell_a)
    left = have + buy_a - sell_a - need if feasible == 1.0 else 0.0
    deficit = (spent - q1) if sell_a > 0.0 else (spent + buy_q - q1)
    fee_q = 0.0
    quote_loan = 0.0
    if deficit > 0.0:
        fee_q, _ = borrow_py(s_kind, s_params, deficit, 1)
        if fee_q < 0.0:
            feasible, fee_q = 2.0, 0.0
        else:
            quote_loan = deficit
    gas = gas_bundle + gas_liq * len(events)
    spot_end = venue_spot(w, v)
    out.update(buy_quote=buy_q, buy_asset=buy_a, sell_asset=sell_a, sell_quote=sell_q, left_asset=left,
               quote_loan=quote_loan, fee_quote=fee_q, gas=gas, spot_end=spot_end, feasible=feasible,
               pnl=q1 + sell_q - spent - buy_q - fee_q - gas + left * spot_end)
    return out, events
