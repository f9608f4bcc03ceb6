"""Hedger — compiled functions of the agents' hooks (:mod:`liqcascade.agents.hooks`).

Option market makers short gamma: sell as the price falls, buy as it rises.

Pack slots: :mod:`liqcascade.agents.kernel`; twin: ``twin.py`` next to this file.
"""

from __future__ import annotations

from ...kernels._jit import njit
from ...venues.dispatch import route_buy, route_sell
from ..kernel import HE_ASSET, HE_CASH, HE_GAMMA, HE_INV, HE_ON, TOT_HEDGE, _ids, _mean_spot


@njit
def hedger_flow(ag, t, path, vs, vdk, vdq, av_ptr, av_idx):
    """Step ``t``, after the exogenous flow: the hedger trades ``gamma · (path[t]/path[t−1] − 1)``
    quote of its asset (sells on a fall, buys on a rise), routed over the asset's venues."""
    if ag[HE_ON] > 0.0:
        a = int(ag[HE_ASSET])
        ids = _ids(ag, av_ptr, av_idx, a)
        if ids.shape[0] > 0 and path[t - 1, a] > 0.0:
            r = path[t, a] / path[t - 1, a] - 1.0
            trade = ag[HE_GAMMA] * r  # quote; < 0: sell
            spot = _mean_spot(vs, ids)
            if trade < 0.0 and spot > 0.0:  # a venue priced at zero takes no hedge
                units = -trade / spot
                res = route_sell(vs, vdk, vdq, ids, units)
                ag[HE_INV] -= units
                ag[HE_CASH] += res[0]
                ag[TOT_HEDGE] -= trade
            elif trade > 0.0:
                ag[HE_INV] += route_buy(vs, vdk, vdq, ids, trade)
                ag[HE_CASH] -= trade
                ag[TOT_HEDGE] += trade
