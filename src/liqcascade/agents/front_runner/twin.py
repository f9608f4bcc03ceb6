"""Plain-Python twin of :mod:`liqcascade.agents.front_runner.kernel` (naive; ``tests/parity``)."""

from __future__ import annotations

import numpy as np

from ...venues import dispatch as V
from ..kernel import FR_ASSET, FR_CAPITAL, FR_ON, FR_OWED, FR_PNL, FR_SHARE
from ..twin import _ids, _mean_spot, route_buy_amount


def front_run_pre_sales(ag, sold, vs, vdk, vdq, av_ptr, av_idx):
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


def front_run_post_sales(ag, sold, vs, vdk, vdq, av_ptr, av_idx):
    if ag[FR_ON] > 0:
        o = int(ag[FR_OWED])
        for a in range(len(sold)):
            if ag[o + a] > 0:
                cost, _ = route_buy_amount(vs, vdk, vdq, _ids(av_ptr, av_idx, a), ag[o + a])
                ag[FR_PNL] -= cost
                ag[o + a] = 0.0
