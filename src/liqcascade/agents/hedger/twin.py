"""Plain-Python twin of :mod:`liqcascade.agents.hedger.kernel` (naive; ``tests/parity``)."""

from __future__ import annotations

import numpy as np

from ...venues import dispatch as V
from ..kernel import HE_ASSET, HE_CASH, HE_GAMMA, HE_INV, HE_ON, TOT_HEDGE
from ..twin import _ids, _mean_spot, route_buy


def hedger_flow(ag, t, path, vs, vdk, vdq, av_ptr, av_idx):
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
