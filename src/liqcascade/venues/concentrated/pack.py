"""A concentrated-liquidity pool's row of the venue state arrays (called by
:func:`liqcascade.venues.pack.make_venue_state`)."""

from __future__ import annotations

import math

from liqcascade.errors import InputError
from liqcascade.venues.concentrated import kernel as K
from liqcascade.venues.concentrated import snapshot as S
from liqcascade.venues.kernel import AUX, FEE, NK, REF
from liqcascade.venues.pack import positive

#: v3-core fee tiers and their tick spacings (see ``model.py``)
from liqcascade.venues.concentrated.model import FEE_TICK_SPACING


def _state(spec: dict, where: str):
    price = positive(spec.get("price"), f"{where}.price")
    try:
        fee = float(spec.get("fee") or 0.0)
    except (TypeError, ValueError):
        fee = math.nan
    if not 0.0 <= fee < 1.0:
        raise InputError(None, f"{where}.fee", f"must be in [0, 1), got {spec.get('fee')!r}")
    spacing = spec.get("tick_spacing")
    if spacing is None:
        if fee not in FEE_TICK_SPACING:
            raise InputError(None, f"{where}.tick_spacing",
                             f"fee {fee} is not a v3 tier {sorted(FEE_TICK_SPACING)}: give tick_spacing")
        spacing = FEE_TICK_SPACING[fee]
    asset0 = bool(spec.get("asset_is_token0", True))
    d0 = int(spec.get("decimals0") or 0)
    d1 = int(spec.get("decimals1") or 0)
    pool_price = price if asset0 else 1.0 / price
    ticks_file = spec.get("ticks_file")
    syn = spec.get("synthetic")
    if (ticks_file is None) == (syn is None):
        raise InputError(None, where, "a concentrated venue needs exactly one of ticks_file or synthetic")
    if ticks_file is not None:
        snap = S.load_tick_csv(ticks_file, tick_spacing=int(spacing))
    else:
        tvl = syn.get("tvl")
        tvl1 = positive(tvl, f"{where}.synthetic.tvl") * (1.0 if asset0 else pool_price)
        snap = S.synthetic_ranges(pool_price, tvl1, tick_spacing=int(spacing), sigma=float(syn.get("sigma", 0.1)),
                                  cut=float(syn.get("cut", 3.0)),
                                  full_range_share=float(syn.get("full_range_share", 0.0)),
                                  decimals0=d0, decimals1=d1)
    if len(snap) == 0:
        raise InputError(ticks_file, where, "the tick snapshot has no range with liquidity")
    cs, tk_sqrt, tk_net, _ = S.build_state(snap, pool_price, fee, asset_is_token0=asset0,
                                           decimals0=d0, decimals1=d1)
    return cs, tk_sqrt, tk_net


def depth_points(spec: dict, where: str) -> list[tuple[float, float]]:
    """The initialized ticks as ``(√P, liquidityNet)`` pairs, ascending (the padded rows)."""
    _, tk_sqrt, tk_net = _state(spec, where)
    return list(zip(tk_sqrt.tolist(), tk_net.tolist()))


def fill(vs, vdk, vdq, i: int, spec: dict, points, where: str) -> None:
    """``price`` (the asset's start price in quote units), ``fee`` (a v3 tier, or any fraction
    with ``tick_spacing``), ``asset_is_token0`` (default true), ``decimals0``/``decimals1``
    (of the raw CSV values), and ``ticks_file`` (a ``tick_lower,tick_upper,liquidity`` CSV) or
    ``synthetic`` (``tvl`` in quote units, ``sigma``, ``cut``, ``full_range_share``)."""
    cs, _, _ = _state(spec, where)
    vs[i, AUX:AUX + K.NCS] = cs
    m = len(points)
    vs[i, NK] = m
    for k, (sq, net) in enumerate(points):
        vdk[i, k] = sq
        vdq[i, k] = net
    vs[i, FEE] = cs[K.CS_FEE]
    vs[i, REF] = K.cl_spot(cs)
