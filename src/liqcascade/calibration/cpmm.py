"""Constant-product pool depth from reserve snapshots (Uniswap v2 DAI/WETH on crash days).

``depth_from_cpmm`` (:mod:`liqcascade.venues.pack`) turns reserves into cumulative quote
depth at fractions of spot. :func:`pool_summary` summarises a day of snapshots;
:func:`align_to_bars` finds which bar each snapshot belongs to (the stablesims reserve files
carry no times: matching the pool's spot to the ETH bars shows they start at US Pacific
midnight — 08:00 UTC in winter, 07:00 UTC in summer — not at 00:00 UTC).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from liqcascade.venues.pack import depth_from_cpmm

__all__ = ["PoolSummary", "pool_summary", "align_to_bars"]


@dataclass(frozen=True)
class PoolSummary:
    n: int
    reserve_asset_median: float
    reserve_quote_median: float
    spot_median: float
    liquidity_min_over_max: float  # min / max of sqrt(x·y) over the day (liquidity withdrawn)
    fractions: np.ndarray
    bid_depth_median: np.ndarray  # median cumulative quote depth on the bid side
    bid_depth_min: np.ndarray


def pool_summary(res, ks=(0.01, 0.02, 0.03, 0.04, 0.05)) -> PoolSummary:
    """Medians of the reserves and of the bid-side depth at ``ks`` over the snapshots."""
    ks = np.asarray(ks, dtype=np.float64)
    d = np.stack([depth_from_cpmm(x, y, ks, side="bid") for x, y in zip(res.reserve_asset, res.reserve_quote)])
    L = res.invariant
    return PoolSummary(len(res), float(np.median(res.reserve_asset)), float(np.median(res.reserve_quote)),
                       float(np.median(res.spot)), float(L.min() / L.max()), ks, np.median(d, axis=0), d.min(axis=0))


def align_to_bars(res, bars, *, max_shift: int | None = None) -> tuple[int, float]:
    """``(shift, error)``: snapshot ``i`` matches bar ``i + shift``'s close best, with ``error``
    the mean absolute log difference between the pool's spot and the bar closes over the
    overlap (at least 30 pairs). Snapshots and bars must share a spacing."""
    a = np.log(res.spot)
    c = np.log(bars.close)
    n, m = a.size, c.size
    lim = max_shift if max_shift is not None else max(n, m) - 30
    best = (0, np.inf)
    for sh in range(-lim, lim + 1):
        i0, i1 = max(0, -sh), min(n, m - sh)
        if i1 - i0 < 30:
            continue
        e = float(np.mean(np.abs(a[i0:i1] - c[i0 + sh:i1 + sh])))
        if e < best[1]:
            best = (sh, e)
    return best
