"""A book's row of the venue state arrays (called by :func:`liqcascade.venues.pack.make_venue_state`)."""

from __future__ import annotations

import math

from liqcascade.errors import InputError
from liqcascade.venues.kernel import HALF, MID, NK, REF
from liqcascade.venues.pack import half_life, positive


def depth_points(spec: dict, where: str) -> list[tuple[float, float]]:
    """``depth``: a list of ``(fraction, cumulative_quote)`` pairs (checked in :func:`fill`)."""
    raw = spec.get("depth")
    if raw is None or len(raw) == 0:
        raise InputError(None, f"{where}.depth", "a book needs at least one depth point")
    points = []
    for j, pt in enumerate(raw):
        try:
            k, q = pt
            points.append((float(k), float(q)))
        except (TypeError, ValueError):
            raise InputError(None, f"{where}.depth[{j}]", f"expected (fraction, quote), got {pt!r}") from None
    return points


def fill(vs, vdk, vdq, i: int, spec: dict, points, where: str) -> None:
    """``mid`` (> 0), the depth points (fractions strictly increasing in ``(0, 1)``, cumulative
    quote non-decreasing and > 0) and ``half_life_steps`` (default or ``None``: 0 = impact never
    recovers). A ``fee`` is ignored. The book starts without impact (``REF = MID = mid``)."""
    mid = positive(spec.get("mid"), f"{where}.mid")
    vs[i, MID] = mid
    vs[i, REF] = mid
    vs[i, HALF] = half_life(spec, where)
    prev_k, prev_q = 0.0, 0.0
    for j, (k, q) in enumerate(points):
        w = f"{where}.depth[{j}]"
        if not (math.isfinite(k) and prev_k < k < 1.0):
            raise InputError(None, w, f"fraction must be in (0, 1) and strictly increasing, got {k!r}")
        if not (math.isfinite(q) and q >= prev_q and q > 0.0):
            raise InputError(None, w, f"cumulative quote must be > 0 and non-decreasing, got {q!r}")
        vdk[i, j] = k
        vdq[i, j] = q
        prev_k, prev_q = k, q
    vs[i, NK] = len(points)
