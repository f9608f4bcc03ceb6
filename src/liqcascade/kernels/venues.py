"""Trading-venue kernels: constant-product pools, depth-curve books, routing and arbitrage.

What is modelled
----------------
``VENUE_CPMM = 0`` — constant-product pool (Uniswap v2 style)
    Reserves ``x`` (asset) and ``y`` (quote), spot ``y / x``. A fee ``f`` is taken on the *input*
    amount and stays in the pool: selling ``dq`` asset credits the whole ``dq`` to ``x`` but
    prices only ``(1 - f) dq`` against the invariant, so ``x · y`` grows by the fee and never
    shrinks. Marginal prices at a state are ``spot · (1 - f)`` to sell and ``spot / (1 - f)``
    to buy.

``VENUE_BOOK = 1`` — depth-curve order book
    A cumulative *quote* depth curve ``D(k)``, piecewise linear from ``(0, 0)`` through
    ``(depth_k[j], depth_q[j])`` for ``j < nk`` (``depth_k`` strictly increasing in (0, 1),
    ``depth_q`` non-decreasing with ``depth_q[0] > 0``). Beyond the last point the depth keeps
    the last segment's density; if that segment is flat (density 0) the tail uses the average
    density ``depth_q[-1] / depth_k[-1]`` instead, so the book can always absorb more. The same
    curve is mirrored above the mid for asks. Selling from mid ``m`` down to ``m (1 - k)`` pays
    ``D(k)`` and absorbs ``∫_0^k D'(u) / (m (1 - u)) du`` asset (closed form per segment:
    ``ρ · ln((1 - k1) / (1 - k2)) / m``); since ``k → 1`` makes the log diverge, any amount can
    be sold and the price stays positive. Buying up to ``m (1 + k)`` spends ``D(k)`` quote and
    receives ``∫_0^k D'(u) / (m (1 + u)) du`` asset. The inverse maps (amount → ``k``) are exact
    closed forms per segment (an exponential on the bid side, linear on the ask side), so no
    iteration is needed there. A flat stretch of the curve (no resting quote) is crossed only
    by a trade larger than the depth before it: the inverse maps return the *smallest* ``k``
    (a trade that exactly fills the depth up to the stretch stops at its near end, up to
    rounding). After every trade the curve is re-centred on the new mid (the book's shape is
    stationary), so a sell followed by a buy is not exactly reversible: depending on the shape
    it loses or, for a flat-density curve, gains a third-order amount. Every fill is at least
    as bad as the mid: ``quote_out <= dq · m`` when selling and ``asset_out <= dy / m`` when
    buying (enforced against rounding). Books charge no fee (the spread is in the curve).
    Transient impact: the book keeps a reference
    mid ``REF`` (the mid without endogenous impact) and ``MID = REF · (1 - I)``; each step
    ``I ← I · 0.5 ** (1 / HALF)`` (``HALF <= 0``: no recovery). Impact from buys (``I < 0``)
    decays the same way.

Floor price (a venue out of bids)
    ``FLOOR`` is the lowest price at which a venue holds bids: below it there are none, at it a
    stub bid (the exchange's last tick, the penny quotes hit in the 2010 flash crash) takes any
    amount. A sale that would push the spot under the floor fills down to the floor through the
    venue and the rest at the floor price; the spot then sits at the floor and never reaches
    zero, so no kernel ever divides by a zero price. The exogenous flow, impact decay and the
    "to price" maps stop at the floor too. ``FLOOR = 0`` (hand-built test states) means no floor;
    the engine always sets one (``Venue.min_price``, default ``1e-9 ×`` the initial price).

State layout
------------
All venues live in ``vs[V, NCOL]`` (float64) with the column constants below, plus padded depth
rows ``vdk[V, K]``, ``vdq[V, K]`` (only the first ``int(vs[v, NK])`` entries of a book's row are
read; CPMM rows are unused). ``ASSET`` is the asset index a venue trades against the quote; ``FLOOR`` the floor price.

Routing and arbitrage
---------------------
:func:`route_sell` splits one sell order over several venues of the same asset by equalising
their *spot* prices (a pool's fee is not part of the routing price). Venue ids must be
distinct.
:func:`arbitrage` and :func:`arbitrage_to_reference` are fee-aware: an arbitrageur compares the
marginal *bid* ``spot · (1 - f)`` of one venue with the marginal *ask* ``spot / (1 - f)`` of
another (books: both equal the mid) and trades until ``bid = ask · (1 + threshold)``. Every
marginal unit it trades is then profitable, so its profit is ``>= 0`` (up to rounding). With
zero-fee venues this is exactly "trade until the spots are within ``threshold``".
"""

from __future__ import annotations

import math

from ._jit import njit

# --- venue state columns -----------------------------------------------------------------
KIND = 0
X = 1
Y = 2
FEE = 3
MID = 4
REF = 5
HALF = 6
NK = 7
ASSET = 8
FLOOR = 9  # the venue's floor price: no bids below it, a stub bid at it (0: none)
NCOL = 10

# --- venue kinds ---------------------------------------------------------------------------
VENUE_CPMM = 0
VENUE_BOOK = 1

_BISECT_MAX = 200
_BISECT_RTOL = 1e-15
_ARB_SLACK = 1e-12  # relative slack on the arbitrage stop test (rounding of the last trade)


# ===========================================================================================
# Constant-product pool
# ===========================================================================================


@njit
def cpmm_sell(x, y, fee, dq):
    """Sell ``dq`` asset into the pool. Returns ``(x_new, y_new, quote_out)``.

    ``quote_out = y · a / (x + a)`` with ``a = (1 - fee) · dq``; ``x_new = x + dq`` (the fee
    stays in the pool). ``dq <= 0`` is a no-op.
    """
    if dq <= 0.0:
        return x * 1.0, y * 1.0, 0.0
    a = (1.0 - fee) * dq
    den = x + a
    quote_out = y * (a / den)
    y_new = y * (x / den)
    return x + dq, y_new, quote_out


@njit
def cpmm_buy(x, y, fee, dy):
    """Spend ``dy`` quote on the pool. Returns ``(x_new, y_new, asset_out)`` (fee on ``dy``)."""
    if dy <= 0.0:
        return x * 1.0, y * 1.0, 0.0
    b = (1.0 - fee) * dy
    den = y + b
    asset_out = x * (b / den)
    x_new = x * (y / den)
    return x_new, y + dy, asset_out


@njit
def cpmm_sell_to_price(x, y, fee, p_target):
    """Asset to sell so that the spot after the sale is ``p_target`` (0 if spot <= target).

    With ``g = 1 - fee`` the post-trade spot is ``x y / ((x + g dq)(x + dq))``; setting it to
    ``p`` gives ``g dq² + x (1 + g) dq - x² (r - 1) = 0`` with ``r = spot / p``, whose positive
    root is taken in the cancellation-free form
    ``dq = 2 x (r - 1) / ((1 + g) + sqrt((1 - g)² + 4 g r))``. ``p_target <= 0`` → ``inf``.
    """
    spot = y / x
    if p_target >= spot:
        return 0.0
    if p_target <= 0.0:
        return math.inf
    g = 1.0 - fee
    r = spot / p_target
    rm1 = (spot - p_target) / p_target
    return 2.0 * x * rm1 / ((1.0 + g) + math.sqrt((1.0 - g) * (1.0 - g) + 4.0 * g * r))


@njit
def cpmm_buy_to_price(x, y, fee, p_target):
    """Quote to spend so that the spot after the purchase is ``p_target`` (0 if spot >= target).

    Mirror image of :func:`cpmm_sell_to_price` with ``s = p / spot``:
    ``dy = 2 y (s - 1) / ((1 + g) + sqrt((1 - g)² + 4 g s))``.
    """
    spot = y / x
    if p_target <= spot:
        return 0.0
    if p_target == math.inf:
        return math.inf
    g = 1.0 - fee
    s = p_target / spot
    sm1 = (p_target - spot) / spot
    return 2.0 * y * sm1 / ((1.0 + g) + math.sqrt((1.0 - g) * (1.0 - g) + 4.0 * g * s))


# ===========================================================================================
# Depth-curve book
# ===========================================================================================


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


# ===========================================================================================
# Venue state array
# ===========================================================================================


@njit
def venue_spot(vs, v):
    """Spot price of venue ``v``: ``Y / X`` for a pool, ``MID`` otherwise."""
    if int(vs[v, KIND]) == VENUE_CPMM:
        return vs[v, Y] / vs[v, X]
    return vs[v, MID]


@njit
def _venue_gross(vs, v):
    """``1 - fee`` for a pool, 1 for a book."""
    if int(vs[v, KIND]) == VENUE_CPMM:
        return 1.0 - vs[v, FEE]
    return 1.0


@njit
def venue_after_sell(vs, vdk, vdq, v, dq):
    """Selling ``dq > 0`` asset into venue ``v`` without changing it: ``(x, y, mid, quote_out)``,
    the state after the sale (pool: ``x``, ``y``; book: ``mid``; the other entries unchanged) and
    the quote received. Honours the floor: what the venue cannot take above ``FLOOR`` fills at
    the floor price (the stub bid) and a book's mid stops exactly at the floor."""
    kind = int(vs[v, KIND])
    floor = vs[v, FLOOR]
    x = vs[v, X]
    y = vs[v, Y]
    mid = vs[v, MID]
    if not dq > 0.0:
        return x, y, mid, 0.0
    if kind == VENUE_CPMM:
        fee = vs[v, FEE]
        x1, y1, out = cpmm_sell(x, y, fee, dq)
        if floor > 0.0 and not (y1 / x1 >= floor):
            cap = cpmm_sell_to_price(x, y, fee, floor)
            if cap > dq:
                cap = dq
            x1, y1, out = cpmm_sell(x, y, fee, cap)
            out += (dq - cap) * floor
        return x1, y1, mid, out
    if kind == VENUE_BOOK:
        nk = int(vs[v, NK])
        m1, out = book_sell(mid, vdk[v], vdq[v], nk, dq)
        if floor > 0.0 and not (m1 >= floor):
            cap = book_sell_to_price(mid, vdk[v], vdq[v], nk, floor)
            if cap > dq:
                cap = dq
            out = book_sell(mid, vdk[v], vdq[v], nk, cap)[1] + (dq - cap) * floor
            m1 = floor
        return x, y, m1, out
    return x, y, mid, 0.0


@njit
def venue_sell(vs, vdk, vdq, v, dq):
    """Sell ``dq`` asset into venue ``v`` (state updated in place). Returns the quote received
    (what the venue cannot take above its floor fills at the floor price)."""
    if dq <= 0.0:
        return 0.0
    kind = int(vs[v, KIND])
    if kind == VENUE_CPMM:
        x, y, _, out = venue_after_sell(vs, vdk, vdq, v, dq)
        vs[v, X] = x
        vs[v, Y] = y
        return out
    if kind == VENUE_BOOK:
        m, out = venue_after_sell(vs, vdk, vdq, v, dq)[2:]
        vs[v, MID] = m
        return out
    return 0.0


@njit
def venue_buy(vs, vdk, vdq, v, dy):
    """Spend ``dy`` quote on venue ``v`` (state updated in place). Returns the asset received."""
    if dy <= 0.0:
        return 0.0
    kind = int(vs[v, KIND])
    if kind == VENUE_CPMM:
        x, y, out = cpmm_buy(vs[v, X], vs[v, Y], vs[v, FEE], dy)
        vs[v, X] = x
        vs[v, Y] = y
        return out
    if kind == VENUE_BOOK:
        m, out = book_buy(vs[v, MID], vdk[v], vdq[v], int(vs[v, NK]), dy)
        vs[v, MID] = m
        return out
    return 0.0


@njit
def venue_sell_to_price(vs, vdk, vdq, v, p_target):
    """Asset to sell into venue ``v`` to bring its spot down to ``p_target`` (no state change);
    a target under the venue's floor counts as the floor."""
    if p_target < vs[v, FLOOR]:
        p_target = vs[v, FLOOR]
    kind = int(vs[v, KIND])
    if kind == VENUE_CPMM:
        return cpmm_sell_to_price(vs[v, X], vs[v, Y], vs[v, FEE], p_target)
    if kind == VENUE_BOOK:
        return book_sell_to_price(vs[v, MID], vdk[v], vdq[v], int(vs[v, NK]), p_target)
    return 0.0


@njit
def venue_buy_to_price(vs, vdk, vdq, v, p_target):
    """Quote to spend on venue ``v`` to lift its spot to ``p_target`` (no state change)."""
    kind = int(vs[v, KIND])
    if kind == VENUE_CPMM:
        return cpmm_buy_to_price(vs[v, X], vs[v, Y], vs[v, FEE], p_target)
    if kind == VENUE_BOOK:
        return book_buy_to_price(vs[v, MID], vdk[v], vdq[v], int(vs[v, NK]), p_target)
    return 0.0


@njit
def venue_apply_return(vs, v, ret):
    """Move venue ``v`` by the exogenous multiplicative return ``ret`` (> 0).

    Book: ``REF`` and ``MID`` are both multiplied (the endogenous impact ``I`` is unchanged).
    Pool: an outside trader trades it to ``spot · ret`` (sell-/buy-to-price; the fee is paid
    by that trader and stays in the pool); the trader's proceeds leave the model.
    """
    if ret <= 0.0 or ret == 1.0:
        return
    kind = int(vs[v, KIND])
    if kind == VENUE_BOOK:
        vs[v, REF] *= ret
        vs[v, MID] *= ret
        if vs[v, MID] < vs[v, FLOOR]:
            vs[v, MID] = vs[v, FLOOR]
    elif kind == VENUE_CPMM:
        x = vs[v, X]
        y = vs[v, Y]
        fee = vs[v, FEE]
        target = (y / x) * ret
        if target < vs[v, FLOOR]:
            target = vs[v, FLOOR]
        if ret < 1.0:
            dq = cpmm_sell_to_price(x, y, fee, target)
            x, y, _ = cpmm_sell(x, y, fee, dq)
        else:
            dy = cpmm_buy_to_price(x, y, fee, target)
            x, y, _ = cpmm_buy(x, y, fee, dy)
        vs[v, X] = x
        vs[v, Y] = y


@njit
def venue_decay(vs, v):
    """One step of transient-impact recovery for a book: ``I ← I · 0.5 ** (1 / HALF)``,
    ``MID = REF · (1 - I)``. No-op for pools and for ``HALF <= 0``."""
    if int(vs[v, KIND]) != VENUE_BOOK:
        return
    half = vs[v, HALF]
    if half <= 0.0:
        return
    ref = vs[v, REF]
    impact = 1.0 - vs[v, MID] / ref
    impact *= 0.5 ** (1.0 / half)
    m = ref * (1.0 - impact)
    vs[v, MID] = m if m >= vs[v, FLOOR] else vs[v, FLOOR]


# ===========================================================================================
# Routing
# ===========================================================================================


@njit
def _route_need(vs, vdk, vdq, venue_ids, p):
    """Total asset needed to bring every listed venue whose spot is above ``p`` down to ``p``."""
    total = 0.0
    for i in range(venue_ids.shape[0]):
        total += venue_sell_to_price(vs, vdk, vdq, venue_ids[i], p)
    return total


@njit
def _route_to_floor(vs, vdk, vdq, venue_ids, dq, fmax):
    """:func:`route_sell` when the venues cannot absorb ``dq`` above the highest floor ``fmax``:
    every venue is sold down to ``fmax`` (or its own higher floor) and the rest goes to the
    stub bid of the venue whose floor is ``fmax``."""
    n = venue_ids.shape[0]
    quote = 0.0
    sold = 0.0
    vstub = venue_ids[0]
    for i in range(n):
        v = venue_ids[i]
        if vs[v, FLOOR] == fmax:
            vstub = v
            break
    for i in range(n):
        v = venue_ids[i]
        s = venue_sell_to_price(vs, vdk, vdq, v, fmax)
        if s > 0.0:
            if sold + s > dq:
                s = dq - sold
            quote += venue_sell(vs, vdk, vdq, v, s)
            sold += s
    if dq > sold:
        quote += venue_sell(vs, vdk, vdq, vstub, dq - sold)
    best = venue_spot(vs, venue_ids[0])
    for i in range(1, n):
        best = max(best, venue_spot(vs, venue_ids[i]))
    return quote, best


@njit
def route_sell(vs, vdk, vdq, venue_ids, dq):
    """Sell ``dq`` asset across the venues ``venue_ids`` (same asset) with best execution.

    Finds the common marginal spot ``P`` at which the asset needed to bring every venue above
    ``P`` down to ``P`` sums to ``dq`` (bracketed root search on ``log P`` — Illinois regula
    falsi with a bisection safeguard — to ~1e-15 relative, taking the side where the sum is
    ``<= dq``; the search stops at the highest venue floor, whose stub bid then takes what the
    venues cannot), sells each venue its slice, and sells the rounding residual on
    the venue with the best price afterwards (all venues that traded sit at ``P``; the one that
    took the largest slice), so the slices sum to ``dq`` up to floating-point addition. Venues
    already at or below ``P`` get nothing. Routing equalises spots (pool fees are not part of
    the routing price). Venue ids must be distinct. State is updated in place.

    Returns ``(quote_out, final_marginal_price)``, the latter the highest spot among the venues
    after the sale (≈ ``P``).
    """
    n = venue_ids.shape[0]
    if n == 0:
        return 0.0, math.nan
    if dq <= 0.0 or n == 1:
        quote = 0.0
        if dq > 0.0:
            quote = venue_sell(vs, vdk, vdq, venue_ids[0], dq)
        best = venue_spot(vs, venue_ids[0])
        for i in range(1, n):
            best = max(best, venue_spot(vs, venue_ids[i]))
        return quote, best

    # Bracket: g(p) = need(p) - dq is decreasing; g(lo) >= 0 > g(hi). The search stops at the
    # highest floor: below it that venue's stub bid is the best price for whatever is left.
    hi = venue_spot(vs, venue_ids[0])
    fmax = vs[venue_ids[0], FLOOR]
    for i in range(1, n):
        hi = max(hi, venue_spot(vs, venue_ids[i]))
        fmax = max(fmax, vs[venue_ids[i], FLOOR])
    ghi = -dq
    lo = 0.5 * hi
    if lo < fmax:
        lo = fmax
    glo = _route_need(vs, vdk, vdq, venue_ids, lo) - dq
    for _ in range(2000):
        if glo >= 0.0 or lo == 0.0 or lo <= fmax:
            break
        hi = lo
        ghi = glo
        lo *= 0.5
        if lo < fmax:
            lo = fmax
        glo = _route_need(vs, vdk, vdq, venue_ids, lo) - dq
    if glo < 0.0 and fmax > 0.0:
        return _route_to_floor(vs, vdk, vdq, venue_ids, dq, fmax)
    # Illinois regula falsi on log p with a bisection safeguard, keeping the bracket.
    side = 0
    stuck = 0
    for _ in range(_BISECT_MAX):
        if lo <= 0.0 or hi - lo <= _BISECT_RTOL * hi:
            break
        p = -1.0
        if stuck < 3 and glo < math.inf:
            t = glo / (glo - ghi)
            p = lo * math.exp(t * math.log(hi / lo))
        if not (lo < p < hi):
            stuck = 0
            p = math.sqrt(lo * hi)
            if not (lo < p < hi):
                break
        g = _route_need(vs, vdk, vdq, venue_ids, p) - dq
        if g == 0.0:
            hi = p
            break
        if g > 0.0:
            lo = p
            glo = g
            if side == 1:
                ghi *= 0.5
                stuck += 1
            else:
                side = 1
                stuck = 0
        else:
            hi = p
            ghi = g
            if side == -1:
                glo *= 0.5
                stuck += 1
            else:
                side = -1
                stuck = 0
    price = hi  # need(price) <= dq

    quote = 0.0
    sold = 0.0
    vbig = -1
    sbig = 0.0
    for i in range(n):
        v = venue_ids[i]
        s = venue_sell_to_price(vs, vdk, vdq, v, price)
        if s > 0.0:
            if sold + s > dq:
                s = dq - sold
            quote += venue_sell(vs, vdk, vdq, v, s)
            sold += s
            if s > sbig:
                sbig = s
                vbig = v
    residual = dq - sold
    if residual > 0.0:
        # Every venue that traded now sits at the best price P; the residual goes to the one
        # that took the largest slice (the deepest there), so it moves prices the least.
        if vbig < 0:
            vbig = venue_ids[0]
            for i in range(1, n):
                if venue_spot(vs, venue_ids[i]) > venue_spot(vs, vbig):
                    vbig = venue_ids[i]
        quote += venue_sell(vs, vdk, vdq, vbig, residual)
    best = venue_spot(vs, venue_ids[0])
    for i in range(1, n):
        best = max(best, venue_spot(vs, venue_ids[i]))
    return quote, best


# ===========================================================================================
# Arbitrage
# ===========================================================================================


_BUY_RTOL = 1e-14  # route_buy's bisection tolerance on the common spot


@njit
def _buy_need(vs, vdk, vdq, ids, p):
    total = 0.0
    for j in range(ids.shape[0]):
        total += venue_buy_to_price(vs, vdk, vdq, ids[j], p)
    return total


@njit
def route_buy(vs, vdk, vdq, ids, dy):
    """Spend ``dy`` quote across the venues ``ids`` (one asset) with best execution: the mirror
    of :func:`route_sell`. Finds the common spot ``P`` at which the
    quote needed to lift every venue below ``P`` up to ``P`` sums to ``dy`` (bisection on
    ``log P``, keeping the side where the sum is ``<= dy``), buys each venue its slice and spends
    the rounding residual on the venue that took the largest slice. State updated in place.
    Returns the asset received."""
    n = ids.shape[0]
    if n == 0 or dy <= 0.0:
        return 0.0
    if n == 1:
        return venue_buy(vs, vdk, vdq, ids[0], dy)
    lo = venue_spot(vs, ids[0])
    for j in range(1, n):
        lo = min(lo, venue_spot(vs, ids[j]))
    hi = 2.0 * lo
    for _ in range(2000):
        if _buy_need(vs, vdk, vdq, ids, hi) >= dy:
            break
        lo = hi
        hi *= 2.0
    for _ in range(_BISECT_MAX):
        if hi - lo <= _BUY_RTOL * hi:
            break
        p = math.sqrt(lo * hi)
        if not (lo < p < hi):
            break
        if _buy_need(vs, vdk, vdq, ids, p) > dy:
            hi = p
        else:
            lo = p
    got = 0.0
    spent = 0.0
    vbig = ids[0]
    sbig = -1.0
    for j in range(n):
        v = ids[j]
        s = venue_buy_to_price(vs, vdk, vdq, v, lo)
        if s > 0.0:
            if spent + s > dy:
                s = dy - spent
            got += venue_buy(vs, vdk, vdq, v, s)
            spent += s
            if s > sbig:
                sbig = s
                vbig = v
    if sbig < 0.0:
        # nothing traded at lo: the cheapest venue takes it all
        for j in range(n):
            if venue_spot(vs, ids[j]) < venue_spot(vs, vbig):
                vbig = ids[j]
    residual = dy - spent
    if residual > 0.0:
        got += venue_buy(vs, vdk, vdq, vbig, residual)
    return got


@njit
def _venue_preview_sell(vs, vdk, vdq, v, dq):
    """``(quote_out, spot_after)`` of selling ``dq`` into venue ``v``, without changing it."""
    kind = int(vs[v, KIND])
    if kind == VENUE_CPMM:
        if dq <= 0.0:
            return 0.0, vs[v, Y] / vs[v, X]
        x, y, _, out = venue_after_sell(vs, vdk, vdq, v, dq)
        return out, y / x
    if kind == VENUE_BOOK:
        if dq <= 0.0:
            return 0.0, vs[v, MID]
        m, out = venue_after_sell(vs, vdk, vdq, v, dq)[2:]
        return out, m
    return 0.0, vs[v, MID]


@njit
def _venue_preview_buy(vs, vdk, vdq, v, dy):
    """``(asset_out, spot_after)`` of spending ``dy`` on venue ``v``, without changing it."""
    kind = int(vs[v, KIND])
    if kind == VENUE_CPMM:
        x, y, out = cpmm_buy(vs[v, X], vs[v, Y], vs[v, FEE], dy)
        return out, y / x
    if kind == VENUE_BOOK:
        m, out = book_buy(vs[v, MID], vdk[v], vdq[v], int(vs[v, NK]), dy)
        return out, m
    return 0.0, vs[v, MID]


@njit
def _arb_gap(vs, vdk, vdq, vlo, vhi, g_lo, g_hi, up, dy):
    """``bid_hi - ask_lo · up`` after spending ``dy`` on ``vlo`` and selling the asset on ``vhi``
    (decreasing in ``dy``)."""
    asset, s_lo = _venue_preview_buy(vs, vdk, vdq, vlo, dy)
    _, s_hi = _venue_preview_sell(vs, vdk, vdq, vhi, asset)
    return s_hi * g_hi - s_lo / g_lo * up


@njit
def _arb_pair(vs, vdk, vdq, vlo, vhi, thr):
    """Buy on ``vlo``, sell the same asset on ``vhi`` until ``bid_hi = ask_lo · (1 + thr)``.

    The unknown is the quote ``dy`` spent on the low venue (the traded amounts are then
    accurate relative to themselves even when one venue is far deeper than the other). It lies
    in ``[0, dy_max]`` with ``dy_max`` the quote that lifts the low venue's ask to the high
    venue's *current* bid ``/ (1 + thr)``; a bracketed root search (Illinois regula falsi with
    a bisection safeguard) keeps the side where ``bid_hi >= ask_lo · (1 + thr)``, so every unit
    traded is profitable at the margin. Returns the quote profit.
    """
    g_lo = _venue_gross(vs, vlo)
    g_hi = _venue_gross(vs, vhi)
    up = 1.0 + thr
    bid_hi = venue_spot(vs, vhi) * g_hi
    flo = bid_hi - venue_spot(vs, vlo) / g_lo * up
    if not flo > 0.0:
        return 0.0
    lo = 0.0
    hi = venue_buy_to_price(vs, vdk, vdq, vlo, bid_hi / up * g_lo)
    fhi = _arb_gap(vs, vdk, vdq, vlo, vhi, g_lo, g_hi, up, hi)
    if fhi >= 0.0:
        lo = hi
    # Illinois regula falsi on dy with a bisection safeguard, keeping gap(lo) >= 0 > gap(hi).
    side = 0
    stuck = 0
    for _ in range(4 * _BISECT_MAX):
        if hi - lo <= _BISECT_RTOL * hi:
            break
        dy = -1.0
        if stuck < 3:
            dy = lo + (hi - lo) * (flo / (flo - fhi))
        if not (lo < dy < hi):
            stuck = 0
            dy = 0.5 * (lo + hi)
            if not (lo < dy < hi):
                break
        f = _arb_gap(vs, vdk, vdq, vlo, vhi, g_lo, g_hi, up, dy)
        if f >= 0.0:
            lo = dy
            flo = f
            if f == 0.0:
                break
            if side == 1:
                fhi *= 0.5
                stuck += 1
            else:
                side = 1
                stuck = 0
        else:
            hi = dy
            fhi = f
            if side == -1:
                flo *= 0.5
                stuck += 1
            else:
                side = -1
                stuck = 0
    if lo <= 0.0:
        return 0.0
    asset = venue_buy(vs, vdk, vdq, vlo, lo)
    quote = venue_sell(vs, vdk, vdq, vhi, asset)
    return quote - lo


@njit
def arbitrage(vs, vdk, vdq, venue_ids, threshold):
    """Cross-venue arbitrage among ``venue_ids`` (same asset), state updated in place.

    Repeatedly pairs the venue with the highest marginal bid (``spot · (1 - fee)``) with the one
    with the lowest marginal ask (``spot / (1 - fee)``); while ``bid / ask - 1 > threshold`` it
    buys on the cheap venue and sells exactly that asset on the dear one until
    ``bid = ask · (1 + threshold)`` (at most ``4 · len(venue_ids)`` pair trades). Asset is
    conserved (bought = sold). Returns the arbitrageur's total quote profit (``>= 0``).
    """
    n = venue_ids.shape[0]
    thr = max(threshold, 0.0)
    profit = 0.0
    if n < 2:
        return 0.0
    for _ in range(4 * n):
        ihi = -1
        ilo = -1
        bid = -math.inf
        ask = math.inf
        for i in range(n):
            v = venue_ids[i]
            s = venue_spot(vs, v)
            g = _venue_gross(vs, v)
            if s * g > bid:
                bid = s * g
                ihi = v
            if s / g < ask:
                ask = s / g
                ilo = v
        if ihi == ilo or bid <= ask * (1.0 + thr) * (1.0 + _ARB_SLACK):
            break
        profit += _arb_pair(vs, vdk, vdq, ilo, ihi, thr)
    return profit


@njit
def arbitrage_to_reference(vs, vdk, vdq, v, ref_price, threshold):
    """Arbitrage venue ``v`` against an infinitely deep external market at ``ref_price``.

    If the venue's marginal bid ``spot · g`` exceeds ``ref · (1 + threshold)`` the arbitrageur
    buys outside at ``ref`` and sells on the venue until the bid equals that edge; if the
    marginal ask ``spot / g`` is below ``ref · (1 - threshold)`` it buys on the venue and sells
    outside until the ask equals that edge (``g = 1 - fee``; 1 for books). Returns the quote
    profit (``>= 0``).
    """
    if not ref_price > 0.0:
        return 0.0
    thr = max(threshold, 0.0)
    g = _venue_gross(vs, v)
    s = venue_spot(vs, v)
    upper = ref_price * (1.0 + thr)
    lower = ref_price * (1.0 - thr)
    if s * g > upper * (1.0 + _ARB_SLACK):
        dq = venue_sell_to_price(vs, vdk, vdq, v, upper / g)
        if dq <= 0.0:
            return 0.0
        quote = venue_sell(vs, vdk, vdq, v, dq)
        return quote - dq * ref_price
    if lower > 0.0 and s / g < lower / (1.0 + _ARB_SLACK):
        dy = venue_buy_to_price(vs, vdk, vdq, v, lower * g)
        if dy <= 0.0:
            return 0.0
        asset = venue_buy(vs, vdk, vdq, v, dy)
        return asset * ref_price - dy
    return 0.0


@njit
def best_venue(vs, av_ptr, av_idx, a):
    """The venue of asset ``a`` with the highest spot (the best place to sell); -1 if none."""
    best = -1
    bp = -1.0
    for j in range(av_ptr[a], av_ptr[a + 1]):
        v = av_idx[j]
        p = venue_spot(vs, v)
        if p > bp:
            bp = p
            best = v
    return best
