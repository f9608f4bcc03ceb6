"""Plain-Python twin of :mod:`liqcascade.agents.hunter.kernel` (naive; ``tests/parity``)."""

from __future__ import annotations

import numpy as np

from ...venues import dispatch as V
from ..kernel import (
    AG_T, HU_ASSET, HU_BOUGHT, HU_BUYDISC, HU_CAPITAL, HU_CASH, HU_HOLD, HU_LAST, HU_ON, HU_OWED,
    HU_PROCEEDS, HU_SELL, HU_SOLD, HU_START, HU_TARGET, HU_UNITS,
)
from ..twin import _ids, _mean_spot, route_buy_amount


def _buy_back(ag, vs, vdk, vdq, ids, q):
    if q <= 0 or not ids:
        return
    cost, got = route_buy_amount(vs, vdk, vdq, ids, q)
    ag[HU_CASH] -= cost
    ag[HU_BOUGHT] += got
    owed = ag[HU_OWED] - got
    ag[HU_OWED] = 0.0 if abs(owed) <= 1e-9 * ag[HU_UNITS] else owed


def hunter_flow(ag, t, path, vs, vdk, vdq, av_ptr, av_idx):
    T = len(path) - 1
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


def hunter_post_sales(ag, sold, vs, vdk, vdq, av_ptr, av_idx):
    t = int(ag[AG_T])
    if ag[HU_ON] > 0 and ag[HU_BUYDISC] > 0 and ag[HU_OWED] > 0:
        a = int(ag[HU_ASSET])
        if 0 <= a < len(sold) and sold[a] > 0 and t >= int(ag[HU_START]) + int(ag[HU_SELL]) - 1:
            ids = _ids(av_ptr, av_idx, a)
            if ids and ag[HU_SOLD] > 0 and _mean_spot(vs, ids) < ag[HU_PROCEEDS] / ag[HU_SOLD]:
                _buy_back(ag, vs, vdk, vdq, ids, min(sold[a], ag[HU_OWED]))
