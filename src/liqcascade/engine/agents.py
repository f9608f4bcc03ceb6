"""Scenario ``[agents.*]`` → the float64 pack the dynamic kernel's agent hooks read
(:mod:`liqcascade.kernels.agents`), and the liquidation-price ladder the cascade hunter reads.

What is simplified (also in ``docs/agents.md`` and the run's notes):

* the ladder covers the Aave-rule book's single-collateral positions only (multi-asset
  positions and protocol units — Comet, Liquity, perps, Maker, crvUSD — are not on it), with
  liquidation prices at the start prices of the debt assets;
* the hunter picks the price bucket with the most liquidatable debt within ``reach`` below the
  start spot, and targets a price just through that bucket's lowest liquidation price;
* agents pay no gas and trade only on the scenario's venues.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..kernels import agents as KA
from ..kernels import dynamic as KD
from .compile import Compiled

#: how far below the cluster's lowest liquidation price the hunter aims (relative)
THROUGH = 0.002
#: ladder buckets within the hunter's reach
HUNTER_BUCKETS = 20
#: agents that act through the engine's bundle solver (``engine/flash.py``), not the loop's pack
BUNDLE_AGENTS = ("flash_attacker",)


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


def asset_index(c: Compiled, name: str | None) -> int:
    """Index of the named asset, or of the first risky asset when ``name`` is None."""
    if name is not None:
        return c.assets.index(name)
    for a in range(c.n_assets):
        if not c.stable[a]:
            return a
    return 0


def liquidation_prices(c: Compiled, asset: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def liquidation_ladder(c: Compiled, asset: int | str | None = None, buckets: int | np.ndarray = 20,
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


def hunter_target(c: Compiled, asset: int, reach: float) -> tuple[float, dict]:
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


def _col(name: str) -> float:
    return float(getattr(KD, name, -1))


def agent_pack(c: Compiled, hunter=None, seed: int | None = None) -> np.ndarray | None:
    """The pack of the scenario's agents (``None`` when it has none).

    ``hunter`` (a :class:`~liqcascade.scenario.mechanisms.Hunter`) replaces the scenario's
    ``[agents.hunter]`` — :mod:`liqcascade.engine.attack` uses it to vary the capital.
    """
    ags = c.scenario.agents
    hu = hunter if hunter is not None else ags.hunter
    if not [a for a in ags.active() if a not in BUNDLE_AGENTS] and hu is None:
        return None
    A = c.n_assets
    n_pos = c.book.n + c.book.n_multi
    ga, fr, he, bo = ags.gas_auction, ags.front_runner, ags.hedger, ags.borrowers
    tb = c.time  # durations in steps (the one conversion, liqcascade.timebase)
    win = tb.of(ga, "congestion_window_seconds", "agents.gas_auction") if ga is not None else 0
    nb = n_pos if bo is not None else 0
    ring = KA.NHEAD
    fro = ring + 2 * win
    bfirst = fro + A
    bseen = bfirst + nb
    ag = np.zeros(bseen + nb)
    ag[KA.AG_A] = A
    ag[KA.AG_COL_PNL] = _col("SUM_ATTACKER_PNL")
    ag[KA.AG_COL_PRIORITY] = _col("SUM_PRIORITY")
    ag[KA.AG_COL_TOPUP] = _col("SUM_TOPUP")
    ag[KA.AG_COL_FRONTRUN] = _col("SUM_FRONTRUN_PNL")
    ag[KA.GA_RING] = ring
    ag[KA.FR_OWED] = fro
    ag[KA.BO_FIRST] = bfirst
    ag[KA.BO_SEEN] = bseen
    ag[KA.HU_LAST] = -1.0
    if ga is not None:
        ag[KA.GA_ON] = 1.0
        ag[KA.GA_COMP] = ga.competitors
        ag[KA.GA_SHARE] = ga.priority_share
        ag[KA.GA_LAT] = tb.of(ga, "latency_seconds", "agents.gas_auction")
        ag[KA.GA_K] = ga.congestion_k
        ag[KA.GA_WIN] = win
        ag[KA.GA_MAX] = ga.max_gas_multiple
        ag[ring + win:ring + 2 * win] = -1.0  # step tags: none yet
    if hu is not None:
        a = asset_index(c, hu.asset)
        target, _ = hunter_target(c, a, hu.reach)
        ag[KA.HU_ON] = 1.0
        ag[KA.HU_ASSET] = a
        ag[KA.HU_CAPITAL] = hu.capital
        ag[KA.HU_START] = tb.of(hu, "start_seconds", "agents.hunter")
        ag[KA.HU_SELL] = tb.of(hu, "sell_seconds", "agents.hunter")
        ag[KA.HU_HOLD] = tb.of(hu, "hold_seconds", "agents.hunter")
        ag[KA.HU_TARGET] = target
        ag[KA.HU_BUYDISC] = 1.0 if hu.buy_discounted else 0.0
    if fr is not None:
        ag[KA.FR_ON] = 1.0
        ag[KA.FR_ASSET] = asset_index(c, fr.asset) if fr.asset is not None else -1
        ag[KA.FR_CAPITAL] = fr.capital
        ag[KA.FR_SHARE] = fr.share
    if he is not None:
        ag[KA.HE_ON] = 1.0
        ag[KA.HE_ASSET] = asset_index(c, he.asset)
        ag[KA.HE_GAMMA] = he.gamma_notional
    if bo is not None:
        ag[KA.BO_ON] = 1.0
        ag[KA.BO_SHARE] = bo.share
        ag[KA.BO_REACT] = bo.react_hf
        ag[KA.BO_TARGET] = bo.target_hf
        ag[KA.BO_DELAY] = tb.of(bo, "delay_seconds", "agents.borrowers")
        ag[KA.BO_ACTION] = KA.ACTION_DELEVERAGE if bo.action == "deleverage" else KA.ACTION_TOPUP
        s = c.scenario.simulation.seed if seed is None else seed
        ag[KA.BO_SEED] = float(int(s) % (1 << 32))
        ag[KA.BO_N] = n_pos
        ag[bseen:bseen + nb] = -2.0
    return ag


#: the start of the note a run carries when reactive borrowers never acted (compare lifts it)
BORROWERS_IDLE = "agents.borrowers: 0 top-ups"


def borrowers_note(c: Compiled, summary) -> list[str]:
    """A line when reactive borrowers made no top-up although positions were liquidated: on a
    fast crash the liquidators take a position before the borrowers' reaction delay runs out."""
    from ..kernels import dynamic as K

    bo = c.scenario.agents.borrowers
    if summary[:, K.SUM_TOPUP].sum() > 0.0 or summary[:, K.SUM_NLIQ].sum() == 0.0:
        return []
    dt = float(c.scenario.simulation.dt_seconds)
    steps = max(0, round(bo.delay_seconds / dt))
    return [f"{BORROWERS_IDLE} while {int(summary[:, K.SUM_NLIQ].sum()):,} liquidations happened: a borrower acts "
            f"after its position has stayed below HF {bo.react_hf:g} for delay_seconds = {bo.delay_seconds:g} "
            f"({steps} steps), and the crash outran that delay — every such position was liquidated (or recovered) "
            "first. delay_seconds = 0 models automated top-ups; [agents.gas_auction] latency_seconds or a "
            "slower liquidator gives borrowers time"]


def agent_notes(c: Compiled, hunter=None) -> list[str]:
    """Lines for the run's ``notes`` describing the active agents and their simplifications."""
    ags = c.scenario.agents
    hu = hunter if hunter is not None else ags.hunter
    out = []
    if ags.gas_auction is not None:
        out.append("gas auction: winner pays share·(1−1/competitors) of a positive profit as priority fee; "
                   "gas ×(1 + k·liquidations in the window), capped; latency delays the first attempt")
    if hu is not None:
        _, info = hunter_target(c, asset_index(c, hu.asset), hu.reach)
        if info.get("cluster", 1) is None:
            out.append(f"hunter: no liquidation cluster within {hu.reach:.0%} below spot on {info['asset']} among the "
                       "Aave-rule single-collateral positions (the ladder does not cover protocol units or "
                       "multi-asset positions); it does not trade")
        else:
            out.append(
                f"hunter: targets {info['positions']} positions ({info['debt_value']:,.0f} debt) liquidatable in "
                f"[{info['bucket'][0]:,.2f}, {info['bucket'][1]:,.2f}) on {info['asset']}, pushing to "
                f"{info['target_price']:,.2f}; PnL = cash − owed units × final spot (borrowed asset, no gas, no funding cost)")
    if ags.front_runner is not None:
        out.append("front-runner: sells share × the step's queued liquidation sales first and buys them back after (no gas)")
    if ags.hedger is not None:
        out.append("hedger: option market makers trade gamma·Δp/p of the reference return (short gamma)")
    if ags.borrowers is not None:
        out.append("reactive borrowers: top-ups/repayments come from outside the system (summary column borrower_topups)")
    return out
