"""Plain-Python twin of :mod:`liqcascade.kernels.agents` (naive, for the parity tests).

Same pack layout (the slot constants are imported from the kernel module). What is twinned is
the agents' logic and the buy-side routing (plain bisection); the single-venue primitives and
``route_sell`` are the compiled ones from :mod:`liqcascade.venues.dispatch`, which have their own
parity test against ``venues_py`` (the naive venue objects are too slow to nest in the
bisections here).
"""

from __future__ import annotations

import math

import numpy as np

from ..venues import dispatch as V
from .agents import (
    ACTION_DELEVERAGE,
    AG_COL_FRONTRUN,
    AG_COL_PNL,
    AG_COL_PRIORITY,
    AG_COL_TOPUP,
    AG_T,
    BO_ACTION,
    BO_DELAY,
    BO_FIRST,
    BO_N,
    BO_ON,
    BO_REACT,
    BO_SEED,
    BO_SEEN,
    BO_SHARE,
    BO_TARGET,
    FR_ASSET,
    FR_CAPITAL,
    FR_ON,
    FR_OWED,
    FR_PNL,
    FR_SHARE,
    GA_COMP,
    GA_K,
    GA_LAT,
    GA_MAX,
    GA_ON,
    GA_RING,
    GA_SHARE,
    GA_WIN,
    HE_ASSET,
    HE_CASH,
    HE_GAMMA,
    HE_INV,
    HE_ON,
    HU_ASSET,
    HU_BOUGHT,
    HU_BUYDISC,
    HU_CAPITAL,
    HU_CASH,
    HU_HOLD,
    HU_LAST,
    HU_ON,
    HU_OWED,
    HU_PROCEEDS,
    HU_SELL,
    HU_SOLD,
    HU_START,
    HU_TARGET,
    HU_UNITS,
    TOT_HEDGE,
    TOT_NOTED,
    TOT_PRIORITY,
    TOT_REACTED,
    TOT_TOPUP,
)

_M64 = (1 << 64) - 1


def _ids(av_ptr, av_idx, a):
    if a < 0 or a + 1 >= len(av_ptr):
        return []
    return [int(v) for v in av_idx[av_ptr[a]:av_ptr[a + 1]]]


def _mean_spot(vs, ids):
    return sum(V.venue_spot(vs, v) for v in ids) / len(ids)


def route_buy(vs, vdk, vdq, ids, dy):
    """Spend ``dy`` so that every venue that trades ends at one common spot."""
    ids = [int(v) for v in ids]
    if not ids or dy <= 0:
        return 0.0
    if len(ids) == 1:
        return V.venue_buy(vs, vdk, vdq, ids[0], dy)

    def need(p):
        return sum(V.venue_buy_to_price(vs, vdk, vdq, v, p) for v in ids)

    lo = min(V.venue_spot(vs, v) for v in ids)
    hi = 2 * lo
    while need(hi) < dy:
        lo, hi = hi, 2 * hi
    for _ in range(400):
        if hi - lo <= 1e-14 * hi:
            break
        mid = math.sqrt(lo * hi)
        if not lo < mid < hi:
            break
        if need(mid) > dy:
            hi = mid
        else:
            lo = mid
    slices = [V.venue_buy_to_price(vs, vdk, vdq, v, lo) for v in ids]
    spots = [V.venue_spot(vs, v) for v in ids]
    got, spent = 0.0, 0.0
    for v, s in zip(ids, slices):
        if s > 0:
            s = min(s, dy - spent)
            got += V.venue_buy(vs, vdk, vdq, v, s)
            spent += s
    if dy - spent > 0:
        # the (first) venue with the largest slice, else the cheapest one (as the kernel)
        j = int(np.argmax(slices)) if max(slices) > 0 else int(np.argmin(spots))
        got += V.venue_buy(vs, vdk, vdq, ids[j], dy - spent)
    return got


def route_buy_amount(vs, vdk, vdq, ids, q):
    if not len(ids) or q <= 0:
        return 0.0, 0.0
    hi = q * _mean_spot(vs, [int(v) for v in ids])
    while route_buy(vs.copy(), vdk, vdq, ids, hi) < q:
        hi *= 2
    lo = 0.0
    for _ in range(400):
        if hi - lo <= 1e-13 * hi:
            break
        mid = 0.5 * (lo + hi)
        if route_buy(vs.copy(), vdk, vdq, ids, mid) >= q:
            hi = mid
        else:
            lo = mid
    return hi, route_buy(vs, vdk, vdq, ids, hi)


def _put(summary, col, value):
    c = int(col)
    if 0 <= c < len(summary):
        summary[c] = value


def _write_totals(ag, vs, av_ptr, av_idx, summary):
    if ag[HU_ON] > 0 or ag[FR_ON] > 0:
        pnl = 0.0
        if ag[HU_ON] > 0:
            ids = _ids(av_ptr, av_idx, int(ag[HU_ASSET]))
            owed = ag[HU_OWED]
            pnl = ag[HU_CASH] - (owed * _mean_spot(vs, ids) if (owed != 0 and ids) else 0.0)
        _put(summary, ag[AG_COL_PNL], pnl + ag[FR_PNL])
    _put(summary, ag[AG_COL_PRIORITY], ag[TOT_PRIORITY])
    _put(summary, ag[AG_COL_TOPUP], ag[TOT_TOPUP])
    _put(summary, ag[AG_COL_FRONTRUN], ag[FR_PNL])


def _buy_back(ag, vs, vdk, vdq, ids, q):
    if q <= 0 or not ids:
        return
    cost, got = route_buy_amount(vs, vdk, vdq, ids, q)
    ag[HU_CASH] -= cost
    ag[HU_BOUGHT] += got
    owed = ag[HU_OWED] - got
    ag[HU_OWED] = 0.0 if abs(owed) <= 1e-9 * ag[HU_UNITS] else owed


def agents_flow(ag, t, path, vs, vdk, vdq, av_ptr, av_idx, summary):
    ag[AG_T] = t
    T = len(path) - 1
    if ag[HE_ON] > 0:
        a = int(ag[HE_ASSET])
        ids = _ids(av_ptr, av_idx, a)
        if ids and path[t - 1][a] > 0:
            trade = ag[HE_GAMMA] * (path[t][a] / path[t - 1][a] - 1.0)
            spot = _mean_spot(vs, ids)
            if trade < 0 and spot > 0:
                units = -trade / spot
                quote, _ = V.route_sell(vs, vdk, vdq, np.array(ids, dtype=np.int64), units)
                ag[HE_INV] -= units
                ag[HE_CASH] += quote
                ag[TOT_HEDGE] += -trade
            elif trade > 0:
                ag[HE_INV] += route_buy(vs, vdk, vdq, ids, trade)
                ag[HE_CASH] -= trade
                ag[TOT_HEDGE] += trade
    if ag[HU_ON] > 0:
        ids = _ids(av_ptr, av_idx, int(ag[HU_ASSET]))
        start, n_sell = int(ag[HU_START]), int(ag[HU_SELL])
        if ids:
            if t == start:
                spot = _mean_spot(vs, ids)
                if spot > 0:
                    ag[HU_UNITS] = ag[HU_CAPITAL] / spot
            target = ag[HU_TARGET]
            if start <= t < start + n_sell and target > 0:
                need = sum(V.venue_sell_to_price(vs, vdk, vdq, v, target) for v in ids)
                q = min(need / (start + n_sell - t), ag[HU_UNITS] - ag[HU_SOLD])
                if q > 0:
                    quote, _ = V.route_sell(vs, vdk, vdq, np.array(ids, dtype=np.int64), q)
                    ag[HU_CASH] += quote
                    ag[HU_PROCEEDS] += quote
                    ag[HU_SOLD] += q
                    ag[HU_OWED] += q
                    ag[HU_LAST] = t
            last = int(ag[HU_LAST])
            if ag[HU_OWED] > 0 and last >= 0 and ((t >= start + n_sell and t >= last + int(ag[HU_HOLD])) or t == T):
                _buy_back(ag, vs, vdk, vdq, ids, ag[HU_OWED])
    _write_totals(ag, vs, av_ptr, av_idx, summary)


def agents_gas_multiple(ag, t):
    if ag[GA_ON] <= 0:
        return 1.0
    w, r = int(ag[GA_WIN]), int(ag[GA_RING])
    n = sum(ag[r + j] for j in range(w) if t - w < ag[r + w + j] <= t)
    return min(1.0 + ag[GA_K] * n, ag[GA_MAX])


def agents_latency(ag):
    return int(ag[GA_LAT]) if ag[GA_ON] > 0 else 0


def agents_priority(ag, profit):
    if ag[GA_ON] <= 0 or not profit > 0:
        return 0.0
    fee = ag[GA_SHARE] * (1.0 - 1.0 / ag[GA_COMP]) * profit
    ag[TOT_PRIORITY] += fee
    return fee


def agents_note_liquidation(ag, t):
    ag[TOT_NOTED] += 1
    if ag[GA_ON] <= 0:
        return
    w, r = int(ag[GA_WIN]), int(ag[GA_RING])
    slot = t % w
    if ag[r + w + slot] != t:
        ag[r + w + slot] = t
        ag[r + slot] = 0.0
    ag[r + slot] += 1.0


def agents_pre_sales(ag, sold, vs, vdk, vdq, av_ptr, av_idx, summary):
    if ag[FR_ON] <= 0:
        return
    only, o = int(ag[FR_ASSET]), int(ag[FR_OWED])
    for a in range(len(sold)):
        ag[o + a] = 0.0
        if (only >= 0 and a != only) or not sold[a] > 0:
            continue
        ids = _ids(av_ptr, av_idx, a)
        if not ids:
            continue
        spot = _mean_spot(vs, ids)
        if not spot > 0:
            continue
        q = min(ag[FR_SHARE] * sold[a], ag[FR_CAPITAL] / spot)
        if q <= 0:
            continue
        quote, _ = V.route_sell(vs, vdk, vdq, np.array(ids, dtype=np.int64), q)
        ag[FR_PNL] += quote
        ag[o + a] = q


def agents_post_sales(ag, sold, vs, vdk, vdq, av_ptr, av_idx, summary):
    t = int(ag[AG_T])
    if ag[FR_ON] > 0:
        o = int(ag[FR_OWED])
        for a in range(len(sold)):
            if ag[o + a] > 0:
                cost, _ = route_buy_amount(vs, vdk, vdq, _ids(av_ptr, av_idx, a), ag[o + a])
                ag[FR_PNL] -= cost
                ag[o + a] = 0.0
    if ag[HU_ON] > 0 and ag[HU_BUYDISC] > 0 and ag[HU_OWED] > 0:
        a = int(ag[HU_ASSET])
        if 0 <= a < len(sold) and sold[a] > 0 and t >= int(ag[HU_START]) + int(ag[HU_SELL]) - 1:
            ids = _ids(av_ptr, av_idx, a)
            if ids and ag[HU_SOLD] > 0 and _mean_spot(vs, ids) < ag[HU_PROCEEDS] / ag[HU_SOLD]:
                _buy_back(ag, vs, vdk, vdq, ids, min(sold[a], ag[HU_OWED]))
    _write_totals(ag, vs, av_ptr, av_idx, summary)


def position_draw(i, seed):
    def mix(z):
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
        return z ^ (z >> 31)

    z = (i * 0x9E3779B97F4A7C15 + seed) & _M64
    return (mix(mix(z)) >> 11) / float(1 << 53)


def agents_borrower(ag, i, t, hf):
    if ag[BO_ON] <= 0 or not 0 <= i < int(ag[BO_N]) or not hf > 0:
        return 1.0, 1.0
    if hf >= ag[BO_REACT] or position_draw(i, int(ag[BO_SEED])) >= ag[BO_SHARE]:
        return 1.0, 1.0
    fo, so = int(ag[BO_FIRST]) + i, int(ag[BO_SEEN]) + i
    if ag[so] not in (t - 1, t):
        ag[fo] = t
    ag[so] = t
    if t - ag[fo] < ag[BO_DELAY]:
        return 1.0, 1.0
    ag[TOT_REACTED] += 1
    ag[so] = -2.0
    if int(ag[BO_ACTION]) == ACTION_DELEVERAGE:
        return 1.0, hf / ag[BO_TARGET]
    return ag[BO_TARGET] / hf, 1.0


def agents_note_topup(ag, value):
    ag[TOT_TOPUP] += value


def agents_finish(ag, vs, vdk, vdq, av_ptr, av_idx, summary):
    _write_totals(ag, vs, av_ptr, av_idx, summary)

