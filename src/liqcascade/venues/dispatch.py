"""Venue dispatch, routing and arbitrage: what every venue kind shares.

A venue is one row of the state array ``vs`` (layout: :mod:`liqcascade.venues.kernel`); its
``KIND`` column selects the kind whose kernel moves it (:mod:`liqcascade.venues.cpmm.kernel`,
:mod:`liqcascade.venues.book.kernel`). The functions here read and write the state array,
dispatch on the kind, route one sale over several venues and arbitrage venues against each
other or against the reference price.

Dispatch: every kind registered in :data:`liqcascade.venues.KINDS` provides, in its
``kernel.py``, ``spot``, ``gross``, ``sell``, ``buy``, ``preview_sell``, ``preview_buy``, ``sell_to_price``,
``buy_to_price``, ``apply_return``, ``decay`` and ``follows_reference`` on a row of ``vs``; each ``venue_*`` function below compiles one
branch per registered kind (:func:`liqcascade.kernels._jit.by_kind` over the tuple of those
functions), selected by the row's ``KIND`` code (the kind's position in the registry). Adding a
kind is a folder with that interface plus one registry entry.

Core kinds only: ``venue_spot``, ``venue_sell``, ``venue_sell_to_price`` and
``venue_preview_sell`` take an optional last argument ``extras``. Omitted (or any value but
``None``) the call dispatches over every registered kind; ``None`` selects a second dispatch over
:data:`liqcascade.venues.CORE_KINDS` alone (cpmm, book). numba prunes an ``if extras is None``
branch before typing when the argument is None-typed, so a kernel compiled with ``extras=None``
contains no code of the other kinds (the static solver's lean variant,
:mod:`liqcascade.kernels.cascade`). A row of another kind then reads like an unregistered one
(the fallback): the caller passes ``None`` only when every venue it touches is a core kind.
The lean time loop gets there another way: its kernels are ``_core`` copies in which every
``_<fn>_k`` dispatch resolves to the core one ``_<fn>_c`` (:data:`CORE_BIND`,
:class:`liqcascade.kernels._jit.Rebound`), with no argument to thread through.

Floor price (a venue out of bids)
---------------------------------
``FLOOR`` (:mod:`liqcascade.venues.kernel`) is the lowest price at which a venue holds bids:
below it there are none, at it a stub bid (the exchange's last tick, the penny quotes hit in the
2010 flash crash) takes any amount. A sale that would push the spot under the floor fills down
to the floor through the venue and the rest at the floor price; the spot then sits at the floor
and never reaches zero, so no kernel ever divides by a zero price. The exogenous flow and impact
decay stop at the floor too. Every kind honours the floor in its ``sell``, ``preview_sell``,
``apply_return`` and ``decay`` (a new kind must too: ``tests/parity/test_venues_parity.py``
checks each registered kind); the dispatch below clamps the "to price" maps at the floor, and
routing stops at the highest floor of the venues it splits over. ``FLOOR = 0`` (hand-built test
states) means no floor; the engine always sets one (``Venue.min_price``, default ``1e-9 ×`` the
initial price).

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

import importlib
import math

import numpy as np

from liqcascade.kernels._jit import by_kind, internal, njit
from liqcascade.venues import CORE_KINDS, KINDS
from liqcascade.venues.kernel import FLOOR, KIND, MID

# every registered kind's interface, in registry order (a kind's code is its position)
_MODULES = tuple(importlib.import_module(f"liqcascade.venues.{k}.kernel") for k in KINDS)
_SPOT = tuple(m.spot for m in _MODULES)
_GROSS = tuple(m.gross for m in _MODULES)
_SELL = tuple(m.sell for m in _MODULES)
_BUY = tuple(m.buy for m in _MODULES)
_SELL_TO = tuple(m.sell_to_price for m in _MODULES)
_BUY_TO = tuple(m.buy_to_price for m in _MODULES)
_PREVIEW_SELL = tuple(m.preview_sell for m in _MODULES)
_PREVIEW_BUY = tuple(m.preview_buy for m in _MODULES)
_RETURN = tuple(m.apply_return for m in _MODULES)
_DECAY = tuple(m.decay for m in _MODULES)
_FOLLOWS = tuple(m.follows_reference for m in _MODULES)

_BISECT_MAX = 200
_BISECT_RTOL = 1e-15
_ARB_SLACK = 1e-12  # relative slack on the arbitrage stop test (rounding of the last trade)


# ===========================================================================================
# Venue state array
# ===========================================================================================


@internal
def _mid(vs, v):
    return vs[v, MID]


@internal
def _one(vs, v):
    return 1.0


@internal
def _no(vs, v):
    return False


@internal
def _nothing2(vs, v):
    return None


@internal
def _zero(vs, vdk, vdq, v, x):
    return 0.0


@internal
def _nothing(vs, vdk, vdq, v, x):
    return None


@internal
def _no_trade(vs, vdk, vdq, v, x):
    return 0.0, vs[v, MID]


# one compiled branch per registered kind; a row of an unregistered kind gets the fallback
_spot_k = by_kind(_SPOT, _mid)
_gross_k = by_kind(_GROSS, _one)
_sell_k = by_kind(_SELL, _zero)
_buy_k = by_kind(_BUY, _zero)
_sell_to_k = by_kind(_SELL_TO, _zero)
_buy_to_k = by_kind(_BUY_TO, _zero)
_return_k = by_kind(_RETURN, _nothing)
_follows_k = by_kind(_FOLLOWS, _no)
_decay_k = by_kind(_DECAY, _nothing2)
_preview_sell_k = by_kind(_PREVIEW_SELL, _no_trade)
_preview_buy_k = by_kind(_PREVIEW_BUY, _no_trade)

# the core kinds alone (codes 0 … len(CORE_KINDS) - 1), for the ``extras=None`` variants and the
# ``_core`` copies of the lean time loop (CORE_BIND below)
_NCORE = len(CORE_KINDS)
assert KINDS[:_NCORE] == CORE_KINDS
_spot_c = by_kind(_SPOT[:_NCORE], _mid)
_gross_c = by_kind(_GROSS[:_NCORE], _one)
_sell_c = by_kind(_SELL[:_NCORE], _zero)
_buy_c = by_kind(_BUY[:_NCORE], _zero)
_sell_to_c = by_kind(_SELL_TO[:_NCORE], _zero)
_buy_to_c = by_kind(_BUY_TO[:_NCORE], _zero)
_return_c = by_kind(_RETURN[:_NCORE], _nothing)
_follows_c = by_kind(_FOLLOWS[:_NCORE], _no)
_decay_c = by_kind(_DECAY[:_NCORE], _nothing2)
_preview_sell_c = by_kind(_PREVIEW_SELL[:_NCORE], _no_trade)
_preview_buy_c = by_kind(_PREVIEW_BUY[:_NCORE], _no_trade)

#: (every-kind dispatch, core-kinds dispatch) pairs: the bindings that make a kernel family's
#: ``_core`` copies (:class:`liqcascade.kernels._jit.Rebound`; the lean time loop) compile the
#: core kinds alone
CORE_BIND = ((_spot_k, _spot_c), (_gross_k, _gross_c), (_sell_k, _sell_c), (_buy_k, _buy_c),
             (_sell_to_k, _sell_to_c), (_buy_to_k, _buy_to_c), (_return_k, _return_c), (_follows_k, _follows_c),
             (_decay_k, _decay_c), (_preview_sell_k, _preview_sell_c), (_preview_buy_k, _preview_buy_c))


@njit
def venue_spot(vs, v, extras=True):
    """Spot price of venue ``v`` (a row of an unregistered kind reads ``MID``; ``extras=None``:
    core kinds only, see the module docstring)."""
    if extras is None:
        return _spot_c(int(vs[v, KIND]), vs, v)
    return _spot_k(int(vs[v, KIND]), vs, v)


@njit
def _venue_gross(vs, v):
    """``1 - fee`` for a pool, 1 for a book (and for a row of an unregistered kind)."""
    return _gross_k(int(vs[v, KIND]), vs, v)


@njit
def venue_sell(vs, vdk, vdq, v, dq, extras=True):
    """Sell ``dq`` asset into venue ``v`` (state updated in place). Returns the quote received
    (what the venue cannot take above its floor fills at the floor price)."""
    if dq <= 0.0:
        return 0.0
    if extras is None:
        return _sell_c(int(vs[v, KIND]), vs, vdk, vdq, v, dq)
    return _sell_k(int(vs[v, KIND]), vs, vdk, vdq, v, dq)


@njit
def venue_buy(vs, vdk, vdq, v, dy):
    """Spend ``dy`` quote on venue ``v`` (state updated in place). Returns the asset received."""
    if dy <= 0.0:
        return 0.0
    return _buy_k(int(vs[v, KIND]), vs, vdk, vdq, v, dy)


@njit
def venue_sell_to_price(vs, vdk, vdq, v, p_target, extras=True):
    """Asset to sell into venue ``v`` to bring its spot down to ``p_target`` (no state change);
    a target under the venue's floor counts as the floor."""
    if p_target < vs[v, FLOOR]:
        p_target = vs[v, FLOOR]
    if extras is None:
        return _sell_to_c(int(vs[v, KIND]), vs, vdk, vdq, v, p_target)
    return _sell_to_k(int(vs[v, KIND]), vs, vdk, vdq, v, p_target)


@njit
def venue_buy_to_price(vs, vdk, vdq, v, p_target):
    """Quote to spend on venue ``v`` to lift its spot to ``p_target`` (no state change)."""
    return _buy_to_k(int(vs[v, KIND]), vs, vdk, vdq, v, p_target)


@njit
def venue_apply_return(vs, vdk, vdq, v, ret):
    """Move venue ``v`` by the exogenous multiplicative return ``ret`` (> 0).

    Book: ``REF`` and ``MID`` are both multiplied (the endogenous impact ``I`` is unchanged).
    Pool: an outside trader trades it to ``spot · ret`` (sell-/buy-to-price; the fee is paid
    by that trader and stays in the pool); the trader's proceeds leave the model. A re-centred
    pool (``HALF > 0``, :func:`venue_follows_reference`) is moved without a trade: ``REF`` is
    multiplied and the reserves are re-centred on ``spot · ret`` at the same ``x · y``. The
    spot stops at the floor.
    """
    if ret <= 0.0 or ret == 1.0:
        return
    _return_k(int(vs[v, KIND]), vs, vdk, vdq, v, ret)


@njit
def venue_follows_reference(vs, v):
    """True for a venue that returns to its reference by itself (the kind's
    ``follows_reference``: a book, or a re-centred pool with ``HALF > 0``). Arbitrage toward the
    reference price leaves these alone."""
    return _follows_k(int(vs[v, KIND]), vs, v)


@njit
def venue_decay(vs, v):
    """One step of transient-impact recovery, ``I ← I · 0.5 ** (1 / HALF)`` with
    ``I = 1 − spot / REF``: a book sets ``MID = REF · (1 − I)``, a re-centred pool moves its
    reserves to that spot at the same ``x · y``, not under the floor; ordinary pools and
    ``HALF <= 0``: no-op."""
    _decay_k(int(vs[v, KIND]), vs, v)


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
    vbig = np.int64(-1)  # not the constant -1: the venue kernels would be compiled again for it
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
def venue_preview_sell(vs, vdk, vdq, v, dq, extras=True):
    """``(quote_out, spot_after)`` of selling ``dq`` into venue ``v``, without changing it (what
    the venue cannot take above its floor fills at the floor price)."""
    if extras is None:
        return _preview_sell_c(int(vs[v, KIND]), vs, vdk, vdq, v, dq)
    return _preview_sell_k(int(vs[v, KIND]), vs, vdk, vdq, v, dq)


@njit
def _venue_preview_buy(vs, vdk, vdq, v, dy):
    """``(asset_out, spot_after)`` of spending ``dy`` on venue ``v``, without changing it."""
    return _preview_buy_k(int(vs[v, KIND]), vs, vdk, vdq, v, dy)


@njit
def _arb_gap(vs, vdk, vdq, vlo, vhi, g_lo, g_hi, up, dy):
    """``bid_hi - ask_lo · up`` after spending ``dy`` on ``vlo`` and selling the asset on ``vhi``
    (decreasing in ``dy``)."""
    asset, s_lo = _venue_preview_buy(vs, vdk, vdq, vlo, dy)
    _, s_hi = venue_preview_sell(vs, vdk, vdq, vhi, asset)
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
        ihi = np.int64(-1)  # (np.int64: see route_sell)
        ilo = np.int64(-1)
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
