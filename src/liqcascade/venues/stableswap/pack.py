"""A StableSwap pool's row of the venue state arrays (called by
:func:`liqcascade.venues.pack.make_venue_state`)."""

from __future__ import annotations

import math

from liqcascade.errors import InputError
from liqcascade.venues.kernel import AUX, FEE, REF, X, Y
from liqcascade.venues.pack import positive
from liqcascade.venues.stableswap import kernel as K


def depth_points(spec: dict, where: str) -> list[tuple[float, float]]:
    """A two-coin pool keeps its balances in ``vs``: no depth row."""
    return []


def _number(spec: dict, key: str, default: float, lo: float, hi: float, where: str, *, hi_open=False) -> float:
    raw = spec.get(key)
    try:
        val = float(default if raw is None else raw)
    except (TypeError, ValueError):
        val = math.nan
    ok = math.isfinite(val) and lo <= val and (val < hi if hi_open else val <= hi)
    if not ok:
        raise InputError(None, f"{where}.{key}", f"must be in [{lo:g}, {hi:g}{')' if hi_open else ']'}, got {raw!r}")
    return val


def quote_balance_for(price: float, reserve_asset: float, rate: float, par) -> float:
    """The quote-coin balance at which the asset's spot is ``price`` (the spot rises with the
    quote balance; bisection on its logarithm to a relative width of 1e-15)."""
    import numpy as np

    rates = np.array([rate, 1.0])

    def spot(y):
        return K.ss_spot(np.array([reserve_asset, y]), rates, par, 0, 1)

    lo = hi = reserve_asset * rate
    for _ in range(200):
        if spot(lo) <= price:
            break
        lo *= 0.5
    for _ in range(200):
        if spot(hi) >= price:
            break
        hi *= 2.0
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        if hi - lo <= 1e-15 * hi or not lo < mid < hi:
            break
        if spot(mid) < price:
            lo = mid
        else:
            hi = mid
    return hi


def fill(vs, vdk, vdq, i: int, spec: dict, points, where: str) -> None:
    """``reserve_asset`` (asset-coin units, > 0), ``price`` (the asset's start price in the
    quote coin, > 0), ``rate`` (the asset coin's rate multiplier, default 1: e.g. stETH per
    wstETH), ``amp`` (``A()``), ``fee`` in ``[0, 0.5]``, ``offpeg_fee_multiplier`` (>= 0; <= 1:
    constant fee) and ``admin_fee`` in ``[0, 1]``. The quote-coin balance is the one at which
    the spot equals ``price``."""
    xa = positive(spec.get("reserve_asset"), f"{where}.reserve_asset")
    price = positive(spec.get("price"), f"{where}.price")
    rate = positive(spec.get("rate", 1.0) if spec.get("rate") is not None else 1.0, f"{where}.rate")
    amp = _number(spec, "amp", math.nan, 1e-9, 1e6, where, hi_open=True)
    fee = _number(spec, "fee", 0.0004, 0.0, 0.5, where)
    offpeg = _number(spec, "offpeg_fee_multiplier", 1.0, 0.0, 1e6, where)
    admin = _number(spec, "admin_fee", 0.5, 0.0, 1.0, where)
    if offpeg > 1.0 and offpeg * fee > 0.5:
        raise InputError(None, f"{where}.offpeg_fee_multiplier", "offpeg_fee_multiplier · fee must be <= 0.5")
    par = vs[i, K.V_PAR:K.V_PAR + K.NSS]
    par[K.SS_AMP] = amp
    par[K.SS_FEE] = fee
    par[K.SS_OFFPEG] = offpeg
    par[K.SS_ADMIN] = admin
    vs[i, AUX] = rate
    vs[i, AUX + 1] = 1.0
    vs[i, X] = xa
    vs[i, Y] = quote_balance_for(price, xa, rate, par.copy())
    vs[i, FEE] = fee
    vs[i, REF] = K.spot(vs, i)
