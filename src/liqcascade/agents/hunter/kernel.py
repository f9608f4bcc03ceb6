"""Cascade hunter — compiled functions of the agents' hooks (:mod:`liqcascade.agents.hooks`).

Sells spot ahead of the largest liquidation cluster within reach to push the oracle through it,
buys back after ``hold_seconds`` (and, with ``buy_discounted``, what the liquidators dump).

Pack slots: :mod:`liqcascade.agents.kernel`; twin: ``twin.py`` next to this file.
"""

from __future__ import annotations

from ...kernels._jit import njit
from ...venues.dispatch import route_sell, venue_sell_to_price
from ..kernel import (
    AG_T, HU_ASSET, HU_BOUGHT, HU_BUYDISC, HU_CAPITAL, HU_CASH, HU_HOLD, HU_LAST, HU_ON, HU_OWED,
    HU_PROCEEDS, HU_SELL, HU_SOLD, HU_START, HU_TARGET, HU_UNITS, _ids, _mean_spot, route_buy_amount,
)


@njit
def hunter_pnl(ag, vs, av_ptr, av_idx):
    """The hunter's PnL now: ``cash − owed units × mean spot of its asset``."""
    if ag[HU_ON] <= 0.0:
        return 0.0
    ids = _ids(ag, av_ptr, av_idx, int(ag[HU_ASSET]))
    owed = ag[HU_OWED]
    mark = 0.0
    if owed != 0.0 and ids.shape[0] > 0:
        mark = owed * _mean_spot(vs, ids)
    return ag[HU_CASH] - mark


@njit
def _hunter_buy_back(ag, vs, vdk, vdq, ids, q):
    if q <= 0.0 or ids.shape[0] == 0:
        return
    cost, got = route_buy_amount(vs, vdk, vdq, ids, q)
    ag[HU_CASH] -= cost
    ag[HU_BOUGHT] += got
    owed = ag[HU_OWED] - got
    if abs(owed) <= 1e-9 * ag[HU_UNITS]:
        owed = 0.0
    ag[HU_OWED] = owed


@njit
def hunter_flow(ag, t, path, vs, vdk, vdq, av_ptr, av_idx):
    """Step ``t``, after the exogenous flow: the hunter sells from step ``HU_START`` over ``HU_SELL``
    steps what brings the venues of its asset down to its target price, capped by its capital, and
    buys back what it owes ``HU_HOLD`` steps after its last sale (or at the last step)."""
    T = path.shape[0] - 1
    if ag[HU_ON] > 0.0:
        a = int(ag[HU_ASSET])
        ids = _ids(ag, av_ptr, av_idx, a)
        start = int(ag[HU_START])
        n_sell = int(ag[HU_SELL])
        if ids.shape[0] > 0:
            if t == start:
                spot = _mean_spot(vs, ids)
                if spot > 0.0:
                    ag[HU_UNITS] = ag[HU_CAPITAL] / spot
            target = ag[HU_TARGET]
            if start <= t < start + n_sell and target > 0.0:
                left = ag[HU_UNITS] - ag[HU_SOLD]
                need = 0.0
                for j in range(ids.shape[0]):
                    need += venue_sell_to_price(vs, vdk, vdq, ids[j], target)
                q = need / (start + n_sell - t)
                if q > left:
                    q = left
                if q > 0.0:
                    res = route_sell(vs, vdk, vdq, ids, q)
                    ag[HU_CASH] += res[0]
                    ag[HU_PROCEEDS] += res[0]
                    ag[HU_SOLD] += q
                    ag[HU_OWED] += q
                    ag[HU_LAST] = t
            last = int(ag[HU_LAST])
            if ag[HU_OWED] > 0.0 and last >= 0 and (
                    (t >= start + n_sell and t >= last + int(ag[HU_HOLD])) or t == T):
                _hunter_buy_back(ag, vs, vdk, vdq, ids, ag[HU_OWED])


@njit
def hunter_post_sales(ag, sold, vs, vdk, vdq, av_ptr, av_idx):
    """Just after the step's liquidation sales: the hunter (``buy_discounted``, after its sale phase)
    buys up to ``sold[a]`` of what it owes when the spot is below its average sale price."""
    t = int(ag[AG_T])
    if ag[HU_ON] > 0.0 and ag[HU_BUYDISC] > 0.0 and ag[HU_OWED] > 0.0:
        a = int(ag[HU_ASSET])
        if a >= 0 and a < sold.shape[0] and sold[a] > 0.0 and t >= int(ag[HU_START]) + int(ag[HU_SELL]) - 1:
            ids = _ids(ag, av_ptr, av_idx, a)
            if ids.shape[0] > 0 and ag[HU_SOLD] > 0.0:
                avg = ag[HU_PROCEEDS] / ag[HU_SOLD]
                if _mean_spot(vs, ids) < avg:
                    q = sold[a]
                    if q > ag[HU_OWED]:
                        q = ag[HU_OWED]
                    _hunter_buy_back(ag, vs, vdk, vdq, ids, q)
