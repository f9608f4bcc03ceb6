"""Depth-curve order book: scalar kernels.

A cumulative *quote* depth curve ``D(k)``, piecewise linear from ``(0, 0)`` through
``(depth_k[j], depth_q[j])`` for ``j < nk`` (``depth_k`` strictly increasing in (0, 1),
``depth_q`` non-decreasing with ``depth_q[0] > 0``). Beyond the last point the depth keeps the
last segment's density; if that segment is flat (density 0) the tail uses the average density
``depth_q[-1] / depth_k[-1]`` instead, so the book can always absorb more. The same curve is
mirrored above the mid for asks. Rules, closed forms and simplifications: ``README.md`` in this
folder.
"""

from __future__ import annotations

import math

from liqcascade.kernels._jit import njit
from liqcascade.venues.kernel import FLOOR, HALF, MID, NK, REF


@njit
def _book_tail_density(depth_k, depth_q, nk):
    """Quote density beyond the last depth point (see the module docstring)."""
    last = nk - 1
    if last == 0:
        return depth_q[0] / depth_k[0]
    rho = (depth_q[last] - depth_q[last - 1]) / (depth_k[last] - depth_k[last - 1])
    if rho > 0.0:
        return rho
    return depth_q[last] / depth_k[last]


@njit
def book_depth(depth_k, depth_q, nk, k):
    """Cumulative quote depth ``D(k)`` within fraction ``k`` of the mid (one side)."""
    if k <= 0.0:
        return 0.0
    k0 = 0.0
    q0 = 0.0
    for j in range(nk):
        k1 = depth_k[j]
        q1 = depth_q[j]
        if k <= k1:
            if k == k1:
                return q1
            return q0 + (q1 - q0) * ((k - k0) / (k1 - k0))
        k0 = k1
        q0 = q1
    return q0 + _book_tail_density(depth_k, depth_q, nk) * (k - k0)


@njit
def book_marginal_sell_k(depth_k, depth_q, nk, quote):
    """Inverse of :func:`book_depth`: the smallest ``k`` with ``D(k) = quote``.

    (Named after the architecture doc; the same curve serves both sides, so this is also the
    ask-side fraction reached by spending ``quote``.) May exceed 1 for very large ``quote``.
    """
    if quote <= 0.0:
        return 0.0
    k0 = 0.0
    q0 = 0.0
    for j in range(nk):
        k1 = depth_k[j]
        q1 = depth_q[j]
        if q1 >= quote and q1 > q0:
            if q1 == quote:
                return k1
            return k0 + (k1 - k0) * ((quote - q0) / (q1 - q0))
        k0 = k1
        q0 = q1
    return k0 + (quote - q0) / _book_tail_density(depth_k, depth_q, nk)


@njit
def _book_sell_asset(mid, depth_k, depth_q, nk, k, omk):
    """Asset absorbed by the bids from ``mid`` down to ``mid · (1 - k)``; ``omk = 1 - k``
    (passed separately so that ``k`` near 1 keeps its precision)."""
    if k <= 0.0:
        return 0.0
    if omk <= 0.0:
        return math.inf
    total = 0.0
    k0 = 0.0
    q0 = 0.0
    for j in range(nk):
        k1 = depth_k[j]
        q1 = depth_q[j]
        rho = (q1 - q0) / (k1 - k0)
        if k <= k1:
            if rho > 0.0:
                total += rho * math.log1p((k - k0) / omk)
            return total / mid
        if rho > 0.0:
            total += rho * math.log1p((k1 - k0) / (1.0 - k1))
        k0 = k1
        q0 = q1
    total += _book_tail_density(depth_k, depth_q, nk) * math.log1p((k - k0) / omk)
    return total / mid


@njit
def _book_buy_asset(mid, depth_k, depth_q, nk, k):
    """Asset bought from the asks from ``mid`` up to ``mid · (1 + k)``."""
    if k <= 0.0:
        return 0.0
    total = 0.0
    k0 = 0.0
    q0 = 0.0
    for j in range(nk):
        k1 = depth_k[j]
        q1 = depth_q[j]
        rho = (q1 - q0) / (k1 - k0)
        if k <= k1:
            if rho > 0.0:
                total += rho * math.log1p((k - k0) / (1.0 + k0))
            return total / mid
        if rho > 0.0:
            total += rho * math.log1p((k1 - k0) / (1.0 + k0))
        k0 = k1
        q0 = q1
    total += _book_tail_density(depth_k, depth_q, nk) * math.log1p((k - k0) / (1.0 + k0))
    return total / mid


@njit
def book_sell(mid, depth_k, depth_q, nk, dq):
    """Sell ``dq`` asset through the bids. Returns ``(new_mid, quote_out)``.

    Walks the segments; inside the segment (density ``ρ``, start ``k0``) where the remaining
    asset ``r`` runs out, ``ρ ln((1 - k0) / (1 - k)) = r m`` gives
    ``1 - k = (1 - k0) exp(-r m / ρ)`` exactly. ``quote_out = D(k) <= dq · mid``.
    """
    if dq <= 0.0:
        return mid * 1.0, 0.0
    rem = dq * mid  # remaining asset, in units of ρ · log
    k0 = 0.0
    q0 = 0.0
    for j in range(nk):
        k1 = depth_k[j]
        q1 = depth_q[j]
        rho = (q1 - q0) / (k1 - k0)
        if rho > 0.0:
            seg = rho * math.log1p((k1 - k0) / (1.0 - k1))
            if seg >= rem:
                t = rem / rho
                omk = (1.0 - k0) * math.exp(-t)
                dk = (1.0 - k0) * (-math.expm1(-t))
                quote = q0 + rho * dk
                if quote > q1:
                    quote = q1
                return mid * omk, min(quote, dq * mid)
            rem -= seg
        k0 = k1
        q0 = q1
    rho = _book_tail_density(depth_k, depth_q, nk)
    t = rem / rho
    omk = (1.0 - k0) * math.exp(-t)
    quote = q0 + rho * (1.0 - k0) * (-math.expm1(-t))
    return mid * omk, min(quote, dq * mid)


@njit
def book_buy(mid, depth_k, depth_q, nk, dy):
    """Spend ``dy`` quote on the asks. Returns ``(new_mid, asset_out)``.

    ``k = D⁻¹(dy)`` (linear per segment), ``new_mid = mid (1 + k)``,
    ``asset_out = Σ ρ ln((1 + k2) / (1 + k1)) / mid <= dy / mid``.
    """
    if dy <= 0.0:
        return mid * 1.0, 0.0
    k = book_marginal_sell_k(depth_k, depth_q, nk, dy)
    asset = _book_buy_asset(mid, depth_k, depth_q, nk, k)
    return mid * (1.0 + k), min(asset, dy / mid)


@njit
def book_sell_to_price(mid, depth_k, depth_q, nk, p_target):
    """Asset to sell so that the mid becomes ``p_target`` (0 if mid <= target; inf if <= 0)."""
    if p_target >= mid:
        return 0.0
    if p_target <= 0.0:
        return math.inf
    omk = p_target / mid
    k = (mid - p_target) / mid
    return _book_sell_asset(mid, depth_k, depth_q, nk, k, omk)


@njit
def book_buy_to_price(mid, depth_k, depth_q, nk, p_target):
    """Quote to spend so that the mid becomes ``p_target`` (0 if mid >= target)."""
    if p_target <= mid:
        return 0.0
    return book_depth(depth_k, depth_q, nk, (p_target - mid) / mid)


# --- the venue-kind interface (``vs`` row ``v``; called by ``venues/dispatch.py``) ----------


@njit
def spot(vs, v):
    """Spot price: the mid."""
    return vs[v, MID]


@njit
def gross(vs, v):
    """A book charges no fee: its marginal bid and ask are both the mid."""
    return 1.0


@njit
def _after_sell(vs, vdk, vdq, v, dq):
    """``(mid_after, quote_out)`` of selling ``dq`` without changing the book. Honours the floor
    (``vs[v, FLOOR]``, 0: none): what the bids cannot take above it fills at the floor price (the
    stub bid) and the mid stops exactly at the floor."""
    mid = vs[v, MID]
    if not dq > 0.0:
        return mid * 1.0, 0.0
    nk = int(vs[v, NK])
    floor = vs[v, FLOOR]
    m1, out = book_sell(mid, vdk[v], vdq[v], nk, dq)
    if floor > 0.0 and not (m1 >= floor):
        cap = book_sell_to_price(mid, vdk[v], vdq[v], nk, floor)
        if cap > dq:
            cap = dq
        out = book_sell(mid, vdk[v], vdq[v], nk, cap)[1] + (dq - cap) * floor
        m1 = floor
    return m1, out


@njit
def sell(vs, vdk, vdq, v, dq):
    """Sell ``dq`` asset through the bids (state updated in place); returns the quote received
    (what the bids cannot take above the floor fills at the floor price)."""
    m, out = _after_sell(vs, vdk, vdq, v, dq)
    vs[v, MID] = m
    return out


@njit
def buy(vs, vdk, vdq, v, dy):
    """Spend ``dy`` quote through the asks (state updated in place); returns the asset received."""
    m, out = book_buy(vs[v, MID], vdk[v], vdq[v], int(vs[v, NK]), dy)
    vs[v, MID] = m
    return out


@njit
def preview_sell(vs, vdk, vdq, v, dq):
    """``(quote_out, mid_after)`` of selling ``dq``, without changing the book (floor honoured)."""
    m, out = _after_sell(vs, vdk, vdq, v, dq)
    return out, m


@njit
def preview_buy(vs, vdk, vdq, v, dy):
    """``(asset_out, mid_after)`` of spending ``dy``, without changing the book."""
    m, out = book_buy(vs[v, MID], vdk[v], vdq[v], int(vs[v, NK]), dy)
    return out, m


@njit
def sell_to_price(vs, vdk, vdq, v, p_target):
    return book_sell_to_price(vs[v, MID], vdk[v], vdq[v], int(vs[v, NK]), p_target)


@njit
def buy_to_price(vs, vdk, vdq, v, p_target):
    return book_buy_to_price(vs[v, MID], vdk[v], vdq[v], int(vs[v, NK]), p_target)


@njit
def apply_return(vs, vdk, vdq, v, ret):
    """``REF`` and ``MID`` are both multiplied (the endogenous impact is unchanged); the mid
    stops at the floor."""
    vs[v, REF] *= ret
    vs[v, MID] *= ret
    if vs[v, MID] < vs[v, FLOOR]:
        vs[v, MID] = vs[v, FLOOR]


@njit
def decay(vs, v):
    """One step of transient-impact recovery: ``I ← I · 0.5 ** (1 / HALF)``,
    ``MID = REF · (1 - I)``, not under the floor; no-op for ``HALF <= 0``."""
    half = vs[v, HALF]
    if half <= 0.0:
        return
    ref = vs[v, REF]
    impact = 1.0 - vs[v, MID] / ref
    impact *= 0.5 ** (1.0 / half)
    m = ref * (1.0 - impact)
    vs[v, MID] = m if m >= vs[v, FLOOR] else vs[v, FLOOR]


@njit
def follows_reference(vs, v):
    """A book returns to its reference by itself (transient impact): arbitrage toward the
    reference leaves it alone."""
    return True
