"""Build the venue state arrays used by :mod:`liqcascade.venues.dispatch`.

``make_venue_state`` turns a list of plain dicts into ``(vs, vdk, vdq)``; ``depth_from_cpmm``
gives the cumulative quote depth of a constant-product pool, handy to compare a pool with a
depth-curve book or to seed a book that behaves like a pool.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Sequence

import numpy as np

from liqcascade.bounds import FLOOR_REL_DEFAULT
from liqcascade.errors import InputError
from liqcascade.venues import KINDS
from liqcascade.venues.kernel import ASSET, FLOOR, KIND, NCOL

__all__ = ["make_venue_state", "depth_from_cpmm"]


def positive(value, where: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise InputError(None, where, f"expected a number, got {value!r}") from None
    if not math.isfinite(out) or out <= 0.0:
        raise InputError(None, where, f"must be a finite number > 0, got {value!r}")
    return out


def _asset_index(spec: dict, where: str) -> int:
    asset = spec.get("asset", 0)
    if isinstance(asset, bool) or not isinstance(asset, (int, np.integer)) or asset < 0:
        raise InputError(None, where, f"must be an integer >= 0, got {asset!r}")
    return int(asset)


def _spot(vs, i: int) -> float:
    """The initial spot of row ``i`` (its kind's ``spot``, run as plain Python)."""
    f = importlib.import_module(f"liqcascade.venues.{KINDS[int(vs[i, KIND])]}.kernel").spot
    return float(getattr(f, "py_func", f)(vs, i))
def half_life(spec: dict, where: str) -> float:
    """``half_life_steps`` of a venue dict (default or ``None``: 0), finite."""
    try:
        half = float(spec.get("half_life_steps") or 0.0)
    except (TypeError, ValueError):
        half = math.nan
    if not math.isfinite(half):
        raise InputError(None, f"{where}.half_life_steps", "must be finite")
    return half


def make_venue_state(venues: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arrays ``vs[V, NCOL]``, ``vdk[V, K]``, ``vdq[V, K]`` for the given venues.

    Each dict has ``kind`` (a registered venue kind) and ``asset`` (asset index, default 0),
    plus the keys of its kind, read by the kind's ``pack.py`` (``depth_points`` and ``fill``):

    * ``kind='cpmm'``: ``reserve_asset``, ``reserve_quote`` (> 0), ``fee`` in ``[0, 1)``
      (default 0; ``None`` counts as 0) and ``half_life_steps`` (default 0: an ordinary pool;
      > 0: a pool re-centred on the reference with that impact half-life, see
      :mod:`liqcascade.venues.cpmm.kernel`); or
    * ``kind='book'``: ``mid`` (> 0), ``depth``: a list of ``(fraction, cumulative_quote)``
      with fractions strictly increasing in ``(0, 1)`` and cumulative quote non-decreasing and
      > 0, and ``half_life_steps`` (default or ``None``: 0 = impact never recovers). A ``fee``
      is ignored.
    * ``kind='stableswap'``: ``reserve_asset``, ``price`` (the asset's start price; the quote
      balance is solved for it), ``rate``, ``amp``, ``fee``, ``offpeg_fee_multiplier``,
      ``admin_fee`` (:mod:`liqcascade.venues.stableswap.pack`); or
    * ``kind='concentrated'``: ``price``, ``fee``, ``tick_spacing``, ``asset_is_token0``,
      ``decimals0``/``decimals1`` and ``ticks_file`` or ``synthetic``
      (:mod:`liqcascade.venues.concentrated.pack`; the ticks fill the depth rows).

    Any venue may give ``min_price``, its floor price (> 0, below the initial spot): no bids
    below it, a stub bid at it (see :mod:`liqcascade.venues.dispatch`). Default (missing or
    ``None``): ``1e-9 ×`` the initial spot (:data:`liqcascade.bounds.FLOOR_REL_DEFAULT`).

    ``K`` is the longest depth list (at least 1); shorter rows are zero-padded and rows of kinds
    without one are all zero. A book starts without impact (``REF = MID = mid``). Raises
    :class:`~liqcascade.errors.InputError` (``file=None``, ``where='venues[i].field'``).
    """
    n = len(venues)
    mods, depths = [], []
    for i, spec in enumerate(venues):
        if not isinstance(spec, dict):
            raise InputError(None, f"venues[{i}]", "each venue must be a table/dict")
        kind = spec.get("kind")
        mod = importlib.import_module(f"liqcascade.venues.{kind}.pack") if kind in KINDS else None
        mods.append(mod)
        depths.append(mod.depth_points(spec, f"venues[{i}]") if mod is not None else [])
    K = max([1] + [len(d) for d in depths])
    vs = np.zeros((n, NCOL))
    vdk = np.zeros((n, K))
    vdq = np.zeros((n, K))
    for i, spec in enumerate(venues):
        where = f"venues[{i}]"
        vs[i, ASSET] = _asset_index(spec, f"{where}.asset")
        if mods[i] is None:
            raise InputError(None, f"{where}.kind",
                             f"must be {' or '.join(repr(k) for k in KINDS)}, got {spec.get('kind')!r}")
        vs[i, KIND] = KINDS.index(spec["kind"])
        mods[i].fill(vs, vdk, vdq, i, spec, depths[i], where)
        spot = _spot(vs, i)
        floor = spec.get("min_price")
        if floor is None:
            floor = FLOOR_REL_DEFAULT * spot
        floor = positive(floor, f"{where}.min_price")
        if not floor < spot:
            raise InputError(None, f"{where}.min_price", f"must be below the initial price {spot:g}, got {floor:g}")
        vs[i, FLOOR] = floor
    return vs, vdk, vdq


def depth_from_cpmm(x: float, y: float, ks: Sequence[float], *, side: str = "bid") -> np.ndarray:
    """Cumulative quote depth of a fee-less pool ``(x, y)`` at fractions ``ks`` of its spot.

    Bid side: selling the spot down by ``k`` pays ``y (1 - sqrt(1 - k))``. Ask side: lifting it
    by ``k`` costs ``y (sqrt(1 + k) - 1)``. A depth-curve book built from the *continuous* bid
    curve absorbs exactly the pool's asset amounts (``x (1 / sqrt(1 - k) - 1)``); the
    piecewise-linear book through these points is an approximation that is finer with more
    points. (Books mirror one curve on both sides, so a book matches a pool on one side only.)
    """
    k = np.asarray(ks, dtype=float)
    if side == "bid":
        return y * -np.expm1(0.5 * np.log1p(-k))
    if side == "ask":
        return y * np.expm1(0.5 * np.log1p(k))
    raise ValueError(f"side must be 'bid' or 'ask', got {side!r}")
