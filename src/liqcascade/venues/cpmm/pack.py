"""A pool's row of the venue state arrays (called by :func:`liqcascade.venues.pack.make_venue_state`)."""

from __future__ import annotations

import math

from liqcascade.errors import InputError
from liqcascade.venues.kernel import FEE, HALF, REF, X, Y
from liqcascade.venues.pack import half_life, positive


def depth_points(spec: dict, where: str) -> list[tuple[float, float]]:
    """A pool has no depth curve."""
    return []


def fill(vs, vdk, vdq, i: int, spec: dict, points, where: str) -> None:
    """``reserve_asset``, ``reserve_quote`` (> 0), ``fee`` in ``[0, 1)`` (default 0; ``None``
    counts as 0) and ``half_life_steps`` (default 0: an ordinary pool; > 0: a pool re-centred on
    the reference price ``REF``, which starts at the pool's spot)."""
    vs[i, X] = positive(spec.get("reserve_asset"), f"{where}.reserve_asset")
    vs[i, Y] = positive(spec.get("reserve_quote"), f"{where}.reserve_quote")
    try:
        fee = float(spec.get("fee") or 0.0)
    except (TypeError, ValueError):
        fee = math.nan
    if not 0.0 <= fee < 1.0:
        raise InputError(None, f"{where}.fee", f"must be in [0, 1), got {fee!r}")
    vs[i, FEE] = fee
    vs[i, REF] = vs[i, Y] / vs[i, X]
    vs[i, HALF] = half_life(spec, where)
