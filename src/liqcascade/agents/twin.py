"""Plain-Python twins of what the loop's agents share (:mod:`liqcascade.agents.kernel`): the
routing helpers, buy side by plain bisection. The single-venue primitives and ``route_sell`` are
the compiled ones from :mod:`liqcascade.venues.dispatch`, which have their own parity test
against ``venues_py`` (the naive venue objects are too slow to nest in the bisections here).
Each agent's own twin is ``agents/<name>/twin.py``; the hooks' twins are
:mod:`liqcascade.agents.hooks_twin`.
"""

from __future__ import annotations

import math

import numpy as np

from ..venues import dispatch as V


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
