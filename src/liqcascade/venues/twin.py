"""Plain-Python twin of :mod:`liqcascade.venues.dispatch`, written naively for parity tests.

Same model, different arithmetic: nothing here uses the kernels' closed forms. The kinds' twins
live in their folders (:mod:`liqcascade.venues.cpmm.twin`, :mod:`liqcascade.venues.book.twin`);
this module holds the state-array functions, routing and arbitrage.

* A pool is a small class; a sale updates the reserves through the invariant
  ``x' · y' = x · (y after fee-less pricing)``; the "to price" amounts are found by bisection
  on the trade size.
* A book is a small class holding its segments ``(k0, k1, density)``. Depth ``D(k)`` is a sum
  of rectangles; the asset absorbed ``∫ D'(u) / (m (1 ∓ u)) du`` is integrated numerically
  (Gauss–Legendre on pieces that shrink geometrically towards the ``u = 1`` singularity); the
  inverse maps are found by bisection on ``k``.
* A venue's floor (``FLOOR``: no bids below it, a stub bid at it) is checked after the fact: a
  sale that would end under the floor is redone as "down to the floor, the rest at the floor
  price".
* Routing and arbitrage follow the same rules as the kernels (spot-equalising routing,
  fee-aware arbitrage to the threshold edge) with linear-space bisection (routing on the
  common price, arbitrage on the quote spent, trying each candidate on copies of the venues).

Accuracy is about 1e-12 relative for the scalar maps and 1e-10 for routing and arbitrage,
which is what the parity tests need. It is slow; never use it in the engine.
"""

from __future__ import annotations

import copy
import importlib

import numpy as np

from liqcascade.venues import KINDS

KIND, X, Y, FEE, MID, REF, HALF, NK, ASSET, FLOOR, UNSOLD, AUX = range(12)
NAUX = 7
NCOL = AUX + NAUX
VENUE_CPMM = KINDS.index("cpmm")
VENUE_BOOK = KINDS.index("book")


def bisect(f, lo, hi, iters=2000, rtol=4e-16):
    """Bracket of the root of an increasing function ``f`` (``f(lo) < 0 <= f(hi)``).

    Keeps ``f(lo) < 0 <= f(hi)``, so ``hi`` converges to the *smallest* root where ``f`` has a
    flat zero stretch. Stops when the bracket is ``rtol`` relative wide (or at adjacent floats).
    """
    for _ in range(iters):
        if hi - lo <= rtol * max(abs(lo), abs(hi)):
            break
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        if f(mid) < 0.0:
            lo = mid
        else:
            hi = mid
    return lo, hi


# --- state-array functions -----------------------------------------------------------------
# Each registered kind's twin (``venues/<kind>/twin.py``) provides ``load(vs, vdk, vdq, v)`` (an
# object with ``spot``, ``gross``, ``sell``, ``buy``, ``sell_to_price``, ``buy_to_price``),
# ``spot(vs, v)``, ``store(vs, v, venue)``, ``apply_return(vs, vdk, vdq, v, ret)``, ``decay(vs, v)`` and
# ``follows_reference(vs, v)``. The kinds' twins
# import ``bisect`` from here, so they are looked up when called.


def _kind(vs, v):
    return importlib.import_module(f"liqcascade.venues.{KINDS[int(vs[v, KIND])]}.twin")


def _load(vs, vdk, vdq, v):
    return _kind(vs, v).load(vs, vdk, vdq, v)


def _store(vs, v, venue):
    _kind(vs, v).store(vs, v, venue)


def venue_spot(vs, v):
    return _kind(vs, v).spot(vs, v)


def venue_sell(vs, vdk, vdq, v, dq):
    venue = _load(vs, vdk, vdq, v)
    out = venue.sell(dq)
    _store(vs, v, venue)
    return out


def venue_buy(vs, vdk, vdq, v, dy):
    venue = _load(vs, vdk, vdq, v)
    out = venue.buy(dy)
    _store(vs, v, venue)
    return out


def venue_sell_to_price(vs, vdk, vdq, v, p_target):
    return _load(vs, vdk, vdq, v).sell_to_price(p_target)


def venue_buy_to_price(vs, vdk, vdq, v, p_target):
    return _load(vs, vdk, vdq, v).buy_to_price(p_target)


def venue_follows_reference(vs, v):
    return bool(_kind(vs, v).follows_reference(vs, v))


def venue_apply_return(vs, vdk, vdq, v, ret):
    if ret <= 0 or ret == 1.0:
        return
    _kind(vs, v).apply_return(vs, vdk, vdq, v, ret)


def venue_decay(vs, v):
    _kind(vs, v).decay(vs, v)


def route_sell(vs, vdk, vdq, venue_ids, dq):
    """Split ``dq`` so that all venues that trade end at one common spot (see the kernel)."""
    ids = [int(v) for v in venue_ids]
    venues = [_load(vs, vdk, vdq, v) for v in ids]
    quote = 0.0
    if dq > 0:
        if len(ids) == 1:
            quote = venues[0].sell(dq)
        else:

            def need(p):
                return sum(ven.sell_to_price(p) for ven in venues)

            hi = max(ven.spot for ven in venues)
            fmax = max(ven.floor for ven in venues)
            lo = hi / 2.0
            while need(lo) < dq and lo > fmax:
                hi = lo
                lo /= 2.0
            if need(max(lo, fmax)) < dq:
                # down to the highest floor the venues cannot take it: the rest at its stub bid
                slices = [ven.sell_to_price(fmax) for ven in venues]
                hi = fmax
            else:
                lo, hi = bisect(lambda p: dq - need(p), max(lo, fmax), hi)
                slices = [ven.sell_to_price(hi) for ven in venues]
            for ven, s in zip(venues, slices):
                quote += ven.sell(s)
            residual = dq - sum(slices)
            if residual > 0:
                # all venues that traded sit at the best price; the largest slice takes it (at
                # the floor: the venue with the highest floor, whose stub bid is the best)
                best = venues[int(np.argmax(slices))] if max(slices) > 0 else None
                if hi == fmax and fmax > 0:
                    best = max(venues, key=lambda ven: ven.floor)
                if best is None:
                    best = max(venues, key=lambda ven: ven.spot)
                quote += best.sell(residual)
    for v, ven in zip(ids, venues):
        _store(vs, v, ven)
    return quote, max(ven.spot for ven in venues)


def _arb_pair(lo_v, hi_v, thr):
    """Spend ``dy`` on ``lo_v`` and sell what it buys on ``hi_v``; ``dy`` is found by linear
    bisection so that afterwards ``bid_hi = ask_lo · (1 + thr)`` (profitable side kept)."""
    up = 1.0 + thr
    if hi_v.spot * hi_v.gross <= lo_v.spot / lo_v.gross * up:
        return 0.0

    def minus_gap(dy):
        lo_c, hi_c = copy.copy(lo_v), copy.copy(hi_v)
        hi_c.sell(lo_c.buy(dy))
        return lo_c.spot / lo_c.gross * up - hi_c.spot * hi_c.gross  # increasing in dy

    dy_max = lo_v.buy_to_price(hi_v.spot * hi_v.gross / up * lo_v.gross)
    dy, _ = bisect(minus_gap, 0.0, dy_max)
    if dy <= 0:
        return 0.0
    asset = lo_v.buy(dy)
    return hi_v.sell(asset) - dy


def arbitrage(vs, vdk, vdq, venue_ids, threshold):
    """Pairwise fee-aware arbitrage among ``venue_ids`` (see the kernel)."""
    ids = [int(v) for v in venue_ids]
    if len(ids) < 2:
        return 0.0
    venues = [_load(vs, vdk, vdq, v) for v in ids]
    thr = max(threshold, 0.0)
    profit = 0.0
    for _ in range(4 * len(ids)):
        bids = [ven.spot * ven.gross for ven in venues]
        asks = [ven.spot / ven.gross for ven in venues]
        ihi = int(np.argmax(bids))
        ilo = int(np.argmin(asks))
        if ihi == ilo or bids[ihi] <= asks[ilo] * (1 + thr) * (1 + 1e-12):
            break
        profit += _arb_pair(venues[ilo], venues[ihi], thr)
    for v, ven in zip(ids, venues):
        _store(vs, v, ven)
    return profit


def arbitrage_to_reference(vs, vdk, vdq, v, ref_price, threshold):
    if ref_price <= 0:
        return 0.0
    thr = max(threshold, 0.0)
    ven = _load(vs, vdk, vdq, v)
    upper = ref_price * (1 + thr)
    lower = ref_price * (1 - thr)
    profit = 0.0
    if ven.spot * ven.gross > upper * (1 + 1e-12):
        dq = ven.sell_to_price(upper / ven.gross)
        profit = ven.sell(dq) - dq * ref_price
    elif lower > 0 and ven.spot / ven.gross < lower / (1 + 1e-12):
        dy = ven.buy_to_price(lower * ven.gross)
        profit = ven.buy(dy) * ref_price - dy
    _store(vs, v, ven)
    return profit
