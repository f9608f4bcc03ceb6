"""Batch auction — compiled functions the time loop calls (``kernels.stages``).

* **batch** — a uniform-price batch auction (:func:`batch_sales`). The collateral seized by the
  protocols it applies to is not sold in the step: it is collected per asset over a window of
  ``W`` steps and cleared at every step ``t`` with ``t % W == 0`` (and at the last step). At the
  clearing, keepers bid for the whole bundle ``Q``: the uniform price is what the bundle would
  fetch sold at once on the venues now (best execution over a copy of the venue state) times
  ``1 − margin``; every liquidation of the window is executed at that price (the liquidators'
  proceeds). The keepers then resell ``Q`` over the next window: ``Q_left / W`` per step, capped
  per step by the depth budget (units the venues absorb before their spot falls by
  ``slippage``; no cap with ``slippage = 0``); what the cap holds back carries over. The keepers'
  resale proceeds are not the liquidators' and are not counted in ``SUM_PROCEEDS``.

No function twin of its own (see ``README.md``); layout of the pack and the mask:
:mod:`liqcascade.mechanisms.kernel`.
"""

from __future__ import annotations

import numpy as np

from ...kernels._jit import internal
from ...kernels.layouts import SUM_PROCEEDS
from ...venues.dispatch import route_sell
from ..kernel import BA_COLL, BA_LEFT, BA_SLICE, BA_STEP, M_BA_MARGIN, M_BA_SLIP, M_BA_WIN, depth_units


@internal
def batch_sales(mp, t, ba, sold, vs, vdk, vdq, av_ptr, av_idx, p_fixed, summary, evbuf, n_ev, rec):
    """The batch auction at step ``t`` (see the module docstring), per asset ``a``: its protocols'
    units of the step ``ba[a, BA_STEP]`` leave ``sold[a]`` and join the window's bundle; the
    keepers sell their slice (routed over the asset's venues, capped by the depth budget); at a
    clearing step the bundle is priced (uniform price ``px``), ``SUM_PROCEEDS += px · Q``, every
    event of the window on ``a`` without an execution price gets ``px`` (when ``rec``) and the
    keepers take the bundle. ``ba[A]`` holds ``(T, first event of the window, batches, 0)``."""
    A = sold.shape[0]
    W = int(mp[M_BA_WIN])
    T = int(ba[A, 0])
    clear = (W > 0 and t % W == 0) or t >= T
    for a in range(A):
        q = ba[a, BA_STEP]
        ba[a, BA_STEP] = 0.0
        if q > 0.0:
            sold[a] = sold[a] - q if sold[a] > q else 0.0
            ba[a, BA_COLL] += q
        ids = av_idx[av_ptr[a]:av_ptr[a + 1]]
        left = ba[a, BA_LEFT]
        if left > 0.0:
            qs = ba[a, BA_SLICE] if ba[a, BA_SLICE] < left else left
            if mp[M_BA_SLIP] > 0.0 and ids.shape[0] > 0:
                room = depth_units(vs, vdk, vdq, av_ptr, av_idx, a, mp[M_BA_SLIP])
                if qs > room:
                    qs = room if room > 0.0 else 0.0
            if qs > 0.0:
                if ids.shape[0] > 0:
                    route_sell(vs, vdk, vdq, ids, qs)
                ba[a, BA_LEFT] = left - qs if left > qs else 0.0
        Q = ba[a, BA_COLL]
        if clear and Q > 0.0:
            if ids.shape[0] > 0:
                r = route_sell(vs.copy(), vdk, vdq, ids, Q)
                px = r[0] / Q * (1.0 - mp[M_BA_MARGIN])
            else:
                px = p_fixed[a] * (1.0 - mp[M_BA_MARGIN])
            summary[SUM_PROCEEDS] += px * Q
            if rec:
                for j in range(int(ba[A, 1]), n_ev):
                    e = evbuf[j]
                    if e["asset"] == a and np.isnan(e["execution_price"]):
                        e["execution_price"] = px
            ba[a, BA_LEFT] += Q
            ba[a, BA_SLICE] = ba[a, BA_LEFT] / (W if W > 0 else 1)
            ba[a, BA_COLL] = 0.0
    if clear:
        ba[A, 1] = n_ev
        ba[A, 2] += 1.0


@internal
def batch_held(ba, a):
    """Units of asset ``a`` collected by the batch auction and not cleared (the liquidators')."""
    if ba.shape[0] <= a + 1:
        return 0.0
    return ba[a, BA_COLL]
