"""Front-runner — compiled functions of the agents' hooks (:mod:`liqcascade.agents.hooks`).

Sells ahead of the liquidation sales queued in a step and buys back after them.

Pack slots: :mod:`liqcascade.agents.kernel`; twin: ``twin.py`` next to this file.
"""

from __future__ import annotations

from ...kernels._jit import njit
from ...venues.dispatch import route_sell
from ..kernel import (
    FR_ASSET, FR_CAPITAL, FR_ON, FR_OWED, FR_PNL, FR_SHARE, _ids, _mean_spot, route_buy_amount,
)


@njit
def front_run_pre_sales(ag, sold, vs, vdk, vdq, av_ptr, av_idx):
    """Just before the step's liquidation sales (``sold[a]`` units) are routed, the
    front-runner sells ``share · sold[a]``, capped at ``capital / spot`` units."""
    if ag[FR_ON] <= 0.0:
        return
    A = sold.shape[0]
    only = int(ag[FR_ASSET])
    o = int(ag[FR_OWED])
    for a in range(A):
        ag[o + a] = 0.0
        if only >= 0 and a != only:
            continue
        if not sold[a] > 0.0:
            continue
        ids = _ids(ag, av_ptr, av_idx, a)
        if ids.shape[0] == 0:
            continue
        spot = _mean_spot(vs, ids)
        if not spot > 0.0:
            continue
        q = ag[FR_SHARE] * sold[a]
        cap = ag[FR_CAPITAL] / spot
        if q > cap:
            q = cap
        if q <= 0.0:
            continue
        res = route_sell(vs, vdk, vdq, ids, q)
        ag[FR_PNL] += res[0]
        ag[o + a] = q


@njit
def front_run_post_sales(ag, sold, vs, vdk, vdq, av_ptr, av_idx):
    """Just after the step's liquidation sales: the front-runner buys back what it sold in
    :func:`front_run_pre_sales`."""
    if ag[FR_ON] > 0.0:
        o = int(ag[FR_OWED])
        for a in range(sold.shape[0]):
            q = ag[o + a]
            if q > 0.0:
                ids = _ids(ag, av_ptr, av_idx, a)
                cost, got = route_buy_amount(vs, vdk, vdq, ids, q)
                ag[FR_PNL] -= cost
                ag[o + a] = 0.0
