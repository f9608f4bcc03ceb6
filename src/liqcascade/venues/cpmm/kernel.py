"""Constant-product pool (Uniswap v2 style): scalar kernels.

Reserves ``x`` (asset) and ``y`` (quote), spot ``y / x``. A fee ``f`` is taken on the *input*
amount and stays in the pool: selling ``dq`` asset credits the whole ``dq`` to ``x`` but prices
only ``(1 - f) dq`` against the invariant, so ``x · y`` grows by the fee and never shrinks.
Marginal prices at a state are ``spot · (1 - f)`` to sell and ``spot / (1 - f)`` to buy.
Rules and simplifications: ``README.md`` in this folder.
"""

from __future__ import annotations

import math

from liqcascade.kernels._jit import njit
from liqcascade.venues.kernel import FEE, FLOOR, HALF, REF, X, Y


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


@njit
def cpmm_recentre(x, y, spot):
    """The reserves at spot ``spot`` with the same product ``k = x · y`` (a re-centred pool):
    ``(sqrt(k / spot), sqrt(k · spot))``."""
    k = x * y
    return math.sqrt(k / spot), math.sqrt(k * spot)


# --- the venue-kind interface (``vs`` row ``v``; called by ``venues/dispatch.py``) ----------


@njit
def spot(vs, v):
    """Spot price ``Y / X``."""
    return vs[v, Y] / vs[v, X]


@njit
def gross(vs, v):
    """``1 - fee``: the marginal bid is ``spot · gross``, the marginal ask ``spot / gross``."""
    return 1.0 - vs[v, FEE]


@njit
def _after_sell(vs, v, dq):
    """``(x, y, quote_out)`` after selling ``dq``, without changing the pool. Honours the floor
    (``vs[v, FLOOR]``, 0: none): what the pool cannot take above it fills at the floor price
    (the stub bid)."""
    x = vs[v, X]
    y = vs[v, Y]
    if not dq > 0.0:
        return x, y, 0.0
    fee = vs[v, FEE]
    floor = vs[v, FLOOR]
    x1, y1, out = cpmm_sell(x, y, fee, dq)
    if floor > 0.0 and not (y1 / x1 >= floor):
        cap = cpmm_sell_to_price(x, y, fee, floor)
        if cap > dq:
            cap = dq
        x1, y1, out = cpmm_sell(x, y, fee, cap)
        out += (dq - cap) * floor
    return x1, y1, out


@njit
def sell(vs, vdk, vdq, v, dq):
    """Sell ``dq`` asset into the pool (state updated in place); returns the quote received
    (what the pool cannot take above the floor fills at the floor price)."""
    x, y, out = _after_sell(vs, v, dq)
    vs[v, X] = x
    vs[v, Y] = y
    return out


@njit
def buy(vs, vdk, vdq, v, dy):
    """Spend ``dy`` quote on the pool (state updated in place); returns the asset received."""
    x, y, out = cpmm_buy(vs[v, X], vs[v, Y], vs[v, FEE], dy)
    vs[v, X] = x
    vs[v, Y] = y
    return out


@njit
def preview_sell(vs, vdk, vdq, v, dq):
    """``(quote_out, spot_after)`` of selling ``dq``, without changing the pool (floor honoured)."""
    x, y, out = _after_sell(vs, v, dq)
    return out, y / x


@njit
def preview_buy(vs, vdk, vdq, v, dy):
    """``(asset_out, spot_after)`` of spending ``dy``, without changing the pool."""
    x, y, out = cpmm_buy(vs[v, X], vs[v, Y], vs[v, FEE], dy)
    return out, y / x


@njit
def sell_to_price(vs, vdk, vdq, v, p_target):
    return cpmm_sell_to_price(vs[v, X], vs[v, Y], vs[v, FEE], p_target)


@njit
def buy_to_price(vs, vdk, vdq, v, p_target):
    return cpmm_buy_to_price(vs[v, X], vs[v, Y], vs[v, FEE], p_target)


@njit
def apply_return(vs, vdk, vdq, v, ret):
    """An outside trader trades the pool to ``spot · ret`` (the fee stays in the pool; the
    trader's proceeds leave the model); not under the floor. A re-centred pool (``HALF > 0``)
    moves without a trade: ``REF`` is multiplied and the reserves are re-centred on
    ``spot · ret`` (not under the floor) at the same ``x · y``."""
    if vs[v, HALF] > 0.0:
        vs[v, REF] *= ret
        target = (vs[v, Y] / vs[v, X]) * ret
        if target < vs[v, FLOOR]:
            target = vs[v, FLOOR]
        vs[v, X], vs[v, Y] = cpmm_recentre(vs[v, X], vs[v, Y], target)
        return
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
def decay(vs, v):
    """A re-centred pool (``HALF > 0``) recovers its impact ``I = 1 − spot / REF`` as a book does,
    ``I ← I · 0.5 ** (1 / HALF)``, its reserves re-centred on ``REF · (1 − I)`` at the same
    ``x · y``, not under the floor. An ordinary pool (``HALF <= 0``) has no transient impact:
    no-op."""
    half = vs[v, HALF]
    if half <= 0.0:
        return
    ref = vs[v, REF]
    impact = 1.0 - (vs[v, Y] / vs[v, X]) / ref
    impact *= 0.5 ** (1.0 / half)
    target = ref * (1.0 - impact)
    if target < vs[v, FLOOR]:
        target = vs[v, FLOOR]
    vs[v, X], vs[v, Y] = cpmm_recentre(vs[v, X], vs[v, Y], target)


@njit
def follows_reference(vs, v):
    """A re-centred pool (``HALF > 0``) returns to its reference by itself; an ordinary pool
    does not (arbitrage toward the reference trades it)."""
    return vs[v, HALF] > 0.0
