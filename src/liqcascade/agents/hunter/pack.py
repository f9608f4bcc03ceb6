"""``[agents.hunter]`` → its slots of the agents' pack (:mod:`liqcascade.agents.kernel`), and the
liquidation-price ladder the hunter reads.

What is simplified (also in ``docs/agents.md`` and the run's notes):

* the ladder covers the Aave-rule book's single-collateral positions only (multi-asset
  positions and protocol units — Comet, Liquity, perps, Maker, crvUSD — are not on it), with
  liquidation prices at the start prices of the debt assets;
* the hunter picks the price bucket with the most liquidatable debt within ``reach`` below the
  start spot, and targets a price just through that bucket's lowest liquidation price;
* it pays no gas and trades only on the scenario's venues.
"""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np

from .. import kernel as KA
from ..pack import asset_index


#: how far below the cluster's lowest liquidation price the hunter aims (relative)
THROUGH = 0.002


#: ladder buckets within the hunter's reach
HUNTER_BUCKETS = 20


@dataclass
class Ladder:
    """Liquidatable debt by liquidation price of one collateral asset."""

    asset: str
    spot: float
    edges: np.ndarray  # float64[B+1] price edges, ascending
    debt_value: np.ndarray  # float64[B] quote value of the debt that becomes liquidatable in the bucket
    collateral: np.ndarray  # float64[B] collateral units of those positions
    count: np.ndarray  # int64[B]
    low: np.ndarray  # float64[B] lowest liquidation price in the bucket (nan if empty)

    def as_dict(self) -> dict:
        return {
            "asset": self.asset, "spot": self.spot, "edges": self.edges.tolist(),
            "debt_value": self.debt_value.tolist(), "collateral": self.collateral.tolist(),
            "count": self.count.tolist(),
        }


def liquidation_prices(c, asset: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(price, debt_value, collateral)`` of every single-collateral book position on ``asset``:
    the collateral price at which it becomes liquidatable, ``key · p_debt`` (start prices)."""
    b = c.book
    prices, debt_v, coll = [], [], []
    for s in range(b.seg_asset.shape[0]):
        if int(b.seg_asset[s]) != asset:
            continue
        lo, hi = int(b.seg_ptr[s]), int(b.seg_ptr[s + 1])
        pd = float(c.p0[int(b.seg_debt_asset[s])])
        prices.append(b.key[lo:hi] * pd)
        debt_v.append(b.debt[lo:hi] * pd)
        coll.append(b.coll[lo:hi])
    if not prices:
        z = np.zeros(0)
        return z, z, z
    return np.concatenate(prices), np.concatenate(debt_v), np.concatenate(coll)


def liquidation_ladder(c, asset: int | str | None = None, buckets: int | np.ndarray = 20,
                       reach: float = 0.5) -> Ladder:
    """The liquidation-price ladder of ``asset``: ``buckets`` equal-width price buckets from
    ``spot · (1 − reach)`` up to the start spot (or explicit ascending ``edges``), each with the
    debt value, collateral and count of the positions whose liquidation price falls in it.
    Positions already liquidatable at the start (price ≥ spot) are left out."""
    a = asset if isinstance(asset, (int, np.integer)) else asset_index(c, asset)
    spot = float(c.p0[a])
    if np.ndim(buckets) == 0:
        nb = int(buckets)
        if nb < 1:
            raise ValueError("buckets must be ≥ 1")
        edges = np.linspace(spot * (1.0 - reach), spot, nb + 1)
    else:
        edges = np.asarray(buckets, dtype=np.float64)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError("bucket edges must be 1-D and strictly increasing")
    price, debt_v, coll = liquidation_prices(c, a)
    B = edges.size - 1
    keep = (price >= edges[0]) & (price < edges[-1]) & (price < spot)
    idx = np.clip(np.searchsorted(edges, price[keep], side="right") - 1, 0, B - 1)
    low = np.full(B, np.nan)
    for j, p in zip(idx, price[keep]):
        if not (low[j] <= p):
            low[j] = p
    return Ladder(
        asset=c.assets[a], spot=spot, edges=edges,
        debt_value=np.bincount(idx, weights=debt_v[keep], minlength=B).astype(np.float64),
        collateral=np.bincount(idx, weights=coll[keep], minlength=B).astype(np.float64),
        count=np.bincount(idx, minlength=B).astype(np.int64),
        low=low,
    )


def hunter_target(c, asset: int, reach: float) -> tuple[float, dict]:
    """The price the hunter pushes to, and a description of the cluster it aims at.

    The cluster is the bucket (``HUNTER_BUCKETS`` within ``reach``) with the most liquidatable
    debt; the target is ``THROUGH`` below its lowest liquidation price. ``0.0`` when no position
    becomes liquidatable within reach."""
    lad = liquidation_ladder(c, asset, HUNTER_BUCKETS, reach)
    if lad.debt_value.size == 0 or not np.any(lad.debt_value > 0):
        return 0.0, {"asset": lad.asset, "cluster": None}
    j = int(np.argmax(lad.debt_value))
    target = float(lad.low[j]) * (1.0 - THROUGH)
    return target, {
        "asset": lad.asset, "bucket": [float(lad.edges[j]), float(lad.edges[j + 1])],
        "debt_value": float(lad.debt_value[j]), "positions": int(lad.count[j]),
        "target_price": target, "drop": 1.0 - target / lad.spot,
    }


def pack(ag, x, c, seed=None) -> None:
    """Write the configuration ``x`` into the pack ``ag`` (its target from the ladder)."""
    tb = c.time
    a = asset_index(c, x.asset)
    target, _ = hunter_target(c, a, x.reach)
    ag[KA.HU_ON] = 1.0
    ag[KA.HU_ASSET] = a
    ag[KA.HU_CAPITAL] = x.capital
    ag[KA.HU_START] = tb.of(x, "start_seconds", "agents.hunter")
    ag[KA.HU_SELL] = tb.of(x, "sell_seconds", "agents.hunter")
    ag[KA.HU_HOLD] = tb.of(x, "hold_seconds", "agents.hunter")
    ag[KA.HU_TARGET] = target
    ag[KA.HU_BUYDISC] = 1.0 if x.buy_discounted else 0.0


def note(x, c) -> str:
    _, info = hunter_target(c, asset_index(c, x.asset), x.reach)
    if info.get("cluster", 1) is None:
        return (f"hunter: no liquidation cluster within {x.reach:.0%} below spot on {info['asset']} among the "
                "Aave-rule single-collateral positions (the ladder does not cover protocol units or "
                "multi-asset positions); it does not trade")
    return (f"hunter: targets {info['positions']} positions ({info['debt_value']:,.0f} debt) liquidatable in "
            f"[{info['bucket'][0]:,.2f}, {info['bucket'][1]:,.2f}) on {info['asset']}, pushing to "
            f"{info['target_price']:,.2f}; PnL = cash − owed units × final spot (borrowed asset, no gas, no funding cost)")
