"""MakerDAO unit (family ``maker``): configuration, presets, pack builder, totals and a
stand-alone runner.

Rules: ``shared/reference/protocol-mechanics.md`` §3 — vault safety (§3.1), ``Dog.bark`` with
the Hole/hole throttle and the dust cases (§3.2), the ``Clipper`` Dutch auction (§3.3) with the
abacus curves (§3.4), ClipperMom (§3.5), the OSM (§3.7) and the 2020 ``Cat``/``Flipper`` English
auction (§3.8). The compiled step is :func:`liqcascade.protocols.maker.kernel.maker_step`; its docstring
lists what is exact and what is simplified (also ``protocols/maker/README.md``).

Units: DAI amounts (dust, hole, Hole, tip, line) in the quote unit; times (tail, step, tau, ttl,
osm_hop) in **seconds**; ``chop``, ``chip``, ``cusp``, ``tolerance`` and ``flip.beg`` are
fractions (``chop = 0.13`` is a 13 % penalty, stored in the kernel as the multiplier 1.13);
``mat`` and ``buf`` are ratios (1.5 = 150 %).

Presets (:data:`PRESETS`): ``ETH-A``, ``ETH-B`` (the revised parameters of §3.6),
``YFI-A`` (§3.6) and ``ETH-A-flip-2020`` (the English auction of §3.8). Values not in the
reference are marked as such in :data:`PRESET_NOTES` and ``protocols/maker/README.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from liqcascade.oracles.dispatch import oracle_init, oracle_peep, oracle_step
from liqcascade.oracles.kernel import NPARAM, NSTATE, ORACLE_OSM, P_HOP
from liqcascade.protocols.kernel import LQ_GAS, NACC
from liqcascade.protocols.maker import kernel as K
from liqcascade.protocols.maker.model import MakerConfig
from liqcascade.venues.dispatch import route_sell, venue_apply_return, venue_decay, venue_spot
from liqcascade.venues.kernel import ASSET

__all__ = ["MakerRun", "build_pack", "totals", "run_unit", "copy_pack", "with_schedule"]
_CALC = {"linear": K.CALC_LINEAR, "stairstep": K.CALC_STAIRSTEP, "exponential": K.CALC_EXPONENTIAL}


# ---------------------------------------------------------------------------------------------
# pack


def _per_ilk(x, n, dtype=float):
    arr = np.asarray(x, dtype=dtype)
    if arr.ndim == 0:
        return np.full(n, arr.item(), dtype=dtype)
    if arr.shape != (n,):
        raise ValueError(f"expected one value per ilk ({n}), got shape {arr.shape}")
    return arr


def build_pack(config: MakerConfig | Sequence[MakerConfig], ink, art, *, ilk_of=None, asset=0,
               rate=1.0, capacity: int | None = None, surplus: float = 0.0, lowball: float = 0.0,
               margin: float = 0.0):
    """Build the unit's state ``(prm, ilk, vilk, ink, art, auc, vow)`` (layout: kernel docstring).

    ``config``: one :class:`MakerConfig`, or one per ilk (their ``auction``, ``Hole`` and
    ``osm_hop`` must agree: they are global). ``ink``/``art``: vault collateral and normalized
    debt (debt = ``art · rate``); ``ilk_of``: each vault's ilk index (default 0); ``asset``: the
    asset index of each ilk (int or one per ilk); ``rate``: accumulated stability fee per ilk;
    ``capacity``: auction slots (default ``2·N + 16``); ``surplus``: the vow's DAI surplus at the
    start; ``lowball``: the flip zero-bidder's bid (0 = none, 1e-27 ≈ "1 rad"); ``margin``:
    profit keepers require, as a fraction of the DAI they pay.
    """
    cfgs = [config] if isinstance(config, MakerConfig) else list(config)
    if not cfgs:
        raise ValueError("need at least one MakerConfig")
    g = cfgs[0]
    for c in cfgs[1:]:
        if c.auction != g.auction or c.Hole != g.Hole or c.osm_hop != g.osm_hop:
            raise ValueError("all ilks of one pack must share auction, Hole and osm_hop")
    n_ilk = len(cfgs)
    ink = np.array(ink, dtype=np.float64, copy=True).reshape(-1)
    art = np.array(art, dtype=np.float64, copy=True).reshape(-1)
    if ink.shape != art.shape:
        raise ValueError("ink and art must have the same length")
    if np.any(ink < 0) or np.any(art < 0) or not (np.all(np.isfinite(ink)) and np.all(np.isfinite(art))):
        raise ValueError("ink and art must be finite and >= 0")
    n = ink.shape[0]
    vilk = np.zeros(n, np.int64) if ilk_of is None else np.asarray(ilk_of, dtype=np.int64).copy()
    if vilk.shape != (n,) or (n and (vilk.min() < 0 or vilk.max() >= n_ilk)):
        raise ValueError("ilk_of must give an ilk index in [0, len(config)) for every vault")
    assets = _per_ilk(asset, n_ilk, np.int64)
    rates = _per_ilk(rate, n_ilk)
    if np.any(rates <= 0):
        raise ValueError("rate must be > 0")

    ilk = np.zeros((n_ilk, K.NILK))
    for i, c in enumerate(cfgs):
        ilk[i, K.IK_ASSET] = assets[i]
        ilk[i, K.IK_RATE] = rates[i]
        ilk[i, K.IK_MAT] = c.mat
        ilk[i, K.IK_CHOP] = 1.0 + c.chop
        ilk[i, K.IK_DUST] = c.dust
        ilk[i, K.IK_HOLE] = c.hole
        ilk[i, K.IK_LINE] = c.line
        ilk[i, K.IK_BUF] = c.buf
        ilk[i, K.IK_TAIL] = c.tail
        ilk[i, K.IK_CUSP] = c.cusp
        ilk[i, K.IK_CHIP] = c.chip
        ilk[i, K.IK_TIP] = c.tip
        ilk[i, K.IK_CHOST] = c.chost
        ilk[i, K.IK_CALC] = _CALC[c.calc]
        ilk[i, K.IK_CUT] = c.cut
        ilk[i, K.IK_STEP] = c.step
        ilk[i, K.IK_TAU] = c.tau
        ilk[i, K.IK_TOL] = c.tolerance
        ilk[i, K.IK_STOPPED] = c.stopped
        ilk[i, K.IK_PEEP] = np.nan
        ilk[i, K.IK_BEG] = 1.0 + c.flip.beg
        ilk[i, K.IK_TTL] = c.flip.ttl
        ilk[i, K.IK_FTAU] = c.flip.tau
        ilk[i, K.IK_LUMP] = c.flip.lump

    prm = np.zeros(K.NPRM)
    prm[K.P_MODE] = K.AUCTION_CLIP if g.auction == "clip" else K.AUCTION_FLIP
    prm[K.P_HOLE] = g.Hole
    prm[K.P_LOWBALL] = lowball
    prm[K.P_MARGIN] = margin
    prm[K.P_HOP] = g.osm_hop
    cap = 2 * n + 16 if capacity is None else int(capacity)
    auc = np.zeros((max(cap, 1), K.NAU))
    vow = np.zeros(K.NVOW)
    vow[K.VW_SURPLUS0] = surplus
    vow[K.VW_JOY] = surplus
    vow[K.VW_DEBT0] = float(np.sum(art * rates[vilk])) if n else 0.0
    return prm, ilk, vilk, ink, art, auc, vow


def with_schedule(pack, gas, participation=None, *, lowball: float | None = None,
                  margin: float | None = None):
    """A copy of ``pack`` whose keepers follow a per-step schedule (kernel docstring, ``P_NSCHED``).

    ``gas[j]``: gas cost per keeper action at step ``j`` (quote units; replaces the scenario's
    ``liquidators.gas_cost``); ``participation[j]`` in [0, 1] (default 1): the share of the
    keepers' capital (``liquidators.capital``) that can act at step ``j`` — 0 stops keeper takes
    and bids for that step. Steps past the end use the last entry. Replaces any earlier schedule.
    ``lowball`` and ``margin`` (if given) replace :func:`build_pack`'s values of the same name
    (a scenario file cannot set them; the replays do it here).
    """
    gas = np.asarray(gas, dtype=np.float64).reshape(-1)
    part = np.ones_like(gas) if participation is None else np.asarray(participation, dtype=np.float64).reshape(-1)
    if gas.size == 0 or part.shape != gas.shape:
        raise ValueError("gas and participation must be non-empty and of the same length")
    if not (np.all(np.isfinite(gas)) and np.all(gas >= 0)):
        raise ValueError("gas must be finite and >= 0")
    if not (np.all(np.isfinite(part)) and np.all((part >= 0) & (part <= 1))):
        raise ValueError("participation must be in [0, 1]")
    prm = np.zeros(K.NPRM + K.SCHED_W * gas.size)
    prm[:K.NPRM] = pack[0][:K.NPRM]
    prm[K.P_NSCHED] = gas.size
    if lowball is not None:
        if not (math.isfinite(lowball) and lowball >= 0):
            raise ValueError("lowball must be finite and >= 0")
        prm[K.P_LOWBALL] = lowball
    if margin is not None:
        if not (math.isfinite(margin) and margin >= 0):
            raise ValueError("margin must be finite and >= 0")
        prm[K.P_MARGIN] = margin
    sched = prm[K.NPRM:].reshape(gas.size, K.SCHED_W)
    sched[:, K.SCHED_GAS] = gas
    sched[:, K.SCHED_PART] = part
    return (prm, *copy_pack(pack[1:]))


def copy_pack(pack):
    """A deep copy of a pack (every array copied)."""
    return tuple(np.array(x, copy=True) for x in pack)


def totals(pack) -> dict:
    """Conservation view of a pack.

    Per ilk (arrays, collateral units): ``ink`` (in vaults), ``lot`` (in running auctions),
    ``bought`` (won by keepers / bidders, gone to the market), ``returned`` (given back to vault
    owners), ``collateral`` (their sum: constant). DAI (scalars): ``debt`` (Σ art·rate in
    vaults), ``due`` (debt in running auctions not yet covered), ``repaid`` (DAI paid in that
    covered debt), ``penalty`` (DAI paid in above the debt), ``bad_debt`` (debt uncovered when
    its auction ended), ``rewards`` (keeper rewards minted as new debt: ``tip + chip·tab``),
    ``sin`` (booked on the vow: debt taken off vaults + rewards), ``joy`` (DAI received, with
    the initial ``surplus0``), ``debt0``, ``tab`` (DAI still wanted by running auctions),
    ``bid_escrow`` (flip: bids standing), ``Dirt``/``dirt``; flip deals won by the low-baller
    (``n_deal_lowball``) and the collateral they gave it (``lot_lowball``, included in ``bought``).

    Identities (up to rounding): ``debt + due + repaid + bad_debt == debt0``;
    ``sin == (debt0 − debt) + rewards``; ``joy == surplus0 + repaid + penalty``;
    ``ink + lot + bought + returned == ink0`` per ilk. ``vow_net = joy − sin`` is the system's
    result so far (negative: a deficit to cover by surplus or MKR debt auctions).
    """
    prm, ilk, vilk, ink, art, auc, vow = pack
    s_ink, s_debt, s_lot, s_due, s_tab, s_bid = K._totals_arrays(pack)
    bought = ilk[:, K.IK_BOUGHT].copy()
    returned = ilk[:, K.IK_RETURNED].copy()
    return {
        "ink": s_ink, "lot": s_lot, "bought": bought, "returned": returned,
        "collateral": s_ink + s_lot + bought + returned,
        "debt": float(s_debt.sum()), "due": float(s_due.sum()), "tab": float(s_tab.sum()),
        "bid_escrow": float(s_bid.sum()),
        "repaid": float(vow[K.VW_REPAID]), "penalty": float(vow[K.VW_PENALTY]),
        "bad_debt": float(vow[K.VW_BAD]), "rewards": float(vow[K.VW_REWARDS]),
        "sin": float(vow[K.VW_SIN]), "joy": float(vow[K.VW_JOY]), "surplus0": float(vow[K.VW_SURPLUS0]),
        "debt0": float(vow[K.VW_DEBT0]),
        "vow_net": float(vow[K.VW_JOY] - vow[K.VW_SIN]),
        "Dirt": float(prm[K.P_DIRT]), "dirt": ilk[:, K.IK_DIRT].copy(),
        "stopped": ilk[:, K.IK_STOPPED].copy(),
        "n_active": int(prm[K.P_NACTIVE]), "n_kick": int(prm[K.P_NKICK]),
        "n_take": int(prm[K.P_NTAKE]), "n_redo": int(prm[K.P_NREDO]), "n_bid": int(prm[K.P_NBID]),
        "n_deal": int(prm[K.P_NDEAL]), "n_trip": int(prm[K.P_NTRIP]),
        "n_deal_lowball": int(prm[K.P_NLOWWIN]), "lot_lowball": float(prm[K.P_LOWLOT]),
        "n_refused": int(prm[K.P_NREFUSED]),
    }


# ---------------------------------------------------------------------------------------------
# stand-alone runner


@dataclass
class MakerRun:
    """Output of :func:`run_unit` (arrays indexed by step ``0 … T``; step 0 is the start)."""

    acc: np.ndarray
    events: dict
    spot: np.ndarray  # [T+1, A] mean venue spot (path price for assets without a venue)
    osm: np.ndarray  # [T+1, A] price the unit acted on (OSM current)
    peep: np.ndarray  # [T+1, A] OSM next
    sold: np.ndarray  # [T+1, A] collateral sold by agents
    proceeds: np.ndarray  # [T+1, A] quote received for it
    n_active: np.ndarray  # [T+1]
    dirt: np.ndarray  # [T+1] global Dirt
    bad_debt: np.ndarray  # [T+1] cumulative vow bad debt
    stopped: np.ndarray  # [T+1, I]
    vs: np.ndarray  # final venue state
    extra: dict = field(default_factory=dict)


def _source(vs, av_ptr, av_idx, a, fallback):
    lo, hi = av_ptr[a], av_ptr[a + 1]
    if hi <= lo:
        return fallback
    return float(np.mean([venue_spot(vs, int(v)) for v in av_idx[lo:hi]]))


def run_unit(pack, prices_path, vs, vdk, vdq, av_ptr, av_idx, liq, dt_seconds, osm_prices=None, *,
             osm_next=None, gas_path=None, ev_cap: int | None = None, proto_id: int = 0,
             pos_offset: int = 0, step_fn: Callable | None = None) -> MakerRun:
    """Run the unit alone over a price path (the pack is mutated in place; ``vs`` is copied).

    Each step ``t = 1 … T``: every venue moves by the exogenous return
    ``prices_path[t, a] / prices_path[t − 1, a]`` (``venue_apply_return``) and book impact decays;
    the OSM (hop ``prm[P_HOP]`` seconds, rounded to whole steps, at least 1) reads the mean venue
    spot of each asset (the path price for assets without a venue) — or, when ``osm_prices``
    ``[T+1, A]`` is given, the unit acts on ``osm_prices[t]`` and the breaker reads
    ``osm_next[t]`` (default ``osm_prices[min(t + hop, T)]``); the step runs; the collateral it
    put in ``sold`` is routed to the asset's venues (``route_sell``) and the step's take/deal
    events get the average execution price. ``gas_path[T+1]`` overrides ``liq[LQ_GAS]`` per step.
    ``step_fn`` replaces the compiled step (the parity tests pass the twin).
    """
    step = K.maker_step if step_fn is None else step_fn
    path = np.asarray(prices_path, dtype=np.float64)
    if path.ndim != 2:
        raise ValueError("prices_path must be [T+1, A]")
    T = path.shape[0] - 1
    A = path.shape[1]
    vs = np.array(vs, dtype=np.float64, copy=True)
    av_ptr = np.asarray(av_ptr, dtype=np.int64)
    av_idx = np.asarray(av_idx, dtype=np.int64)
    liq = np.array(liq, dtype=np.float64, copy=True)
    prm, ilk = pack[0], pack[1]
    n_ilk = ilk.shape[0]
    hop = max(1, int(round(prm[K.P_HOP] / dt_seconds)))
    cap = ev_cap if ev_cap is not None else 4 * pack[3].shape[0] + 64 * (T + 1)
    ev = (np.zeros(cap, np.int64), np.zeros(cap, np.int64), np.zeros(cap, np.int64), np.zeros(cap, np.int64),
          np.zeros(cap), np.zeros(cap), np.zeros(cap), np.zeros(cap), np.zeros(cap), np.zeros(cap), np.zeros(cap))
    acc = np.zeros(NACC)
    spot = np.zeros((T + 1, A))
    osm = np.zeros((T + 1, A))
    peep = np.full((T + 1, A), np.nan)
    sold_rec = np.zeros((T + 1, A))
    proceeds = np.zeros((T + 1, A))
    n_active = np.zeros(T + 1)
    dirt = np.zeros(T + 1)
    bad = np.zeros(T + 1)
    stopped = np.zeros((T + 1, n_ilk))

    hist = np.zeros((A, T + 1))
    ostate = np.zeros((A, NSTATE))
    oparams = np.zeros(NPARAM)
    oparams[P_HOP] = hop
    for a in range(A):
        hist[a, 0] = _source(vs, av_ptr, av_idx, a, path[0, a])
        spot[0, a] = hist[a, 0]
        oracle_init(ORACLE_OSM, oparams, ostate[a], hist[a, 0])
        osm[0, a] = hist[a, 0] if osm_prices is None else osm_prices[0][a]
    n_active[0] = prm[K.P_NACTIVE]
    dirt[0] = prm[K.P_DIRT]
    bad[0] = pack[6][K.VW_BAD]
    stopped[0] = ilk[:, K.IK_STOPPED]

    n_ev = 0
    sold = np.zeros(A)
    prices = np.zeros(A)
    for t in range(1, T + 1):
        for v in range(vs.shape[0]):
            a = int(vs[v, ASSET])
            prev = path[t - 1, a]
            if prev > 0:
                venue_apply_return(vs, vdk, vdq, v, path[t, a] / prev)
            venue_decay(vs, v)
        nxt = np.full(A, np.nan)
        for a in range(A):
            hist[a, t] = _source(vs, av_ptr, av_idx, a, path[t, a])
            spot[t, a] = hist[a, t]
            if osm_prices is None:
                prices[a] = oracle_step(ORACLE_OSM, oparams, np.array([a], np.int64), hist, t, ostate[a])
                nxt[a] = oracle_peep(ostate[a])
            else:
                prices[a] = osm_prices[t][a]
                nxt[a] = (osm_next[t][a] if osm_next is not None else osm_prices[min(t + hop, T)][a])
        for i in range(n_ilk):
            ilk[i, K.IK_PEEP] = nxt[int(ilk[i, K.IK_ASSET])]
        osm[t] = prices
        peep[t] = nxt
        if gas_path is not None:
            liq[LQ_GAS] = gas_path[t]
        sold[:] = 0.0
        n0 = n_ev
        n_ev = step(pack, t, float(dt_seconds), prices, vs, vdk, vdq, av_ptr, av_idx, sold, acc, liq,
                    *ev, n_ev, proto_id, pos_offset)
        for a in range(A):
            if sold[a] > 0.0 and av_ptr[a + 1] > av_ptr[a]:
                q, _ = route_sell(vs, vdk, vdq, av_idx[av_ptr[a]:av_ptr[a + 1]], sold[a])
                proceeds[t, a] = q
            sold_rec[t, a] = sold[a]
        for j in range(n0, n_ev):
            a = ev[3][j]
            if ev[4][j] > 0.0 and sold[a] > 0.0 and proceeds[t, a] > 0.0:
                ev[7][j] = proceeds[t, a] / sold[a]
        n_active[t] = prm[K.P_NACTIVE]
        dirt[t] = prm[K.P_DIRT]
        bad[t] = pack[6][K.VW_BAD]
        stopped[t] = ilk[:, K.IK_STOPPED]
    names = ("step", "position", "protocol", "asset", "collateral_seized", "debt_repaid", "oracle_price",
             "execution_price", "bonus_paid", "bad_debt", "protocol_fee")
    events = {nm: arr[:n_ev].copy() for nm, arr in zip(names, ev)}
    return MakerRun(acc=acc, events=events, spot=spot, osm=osm, peep=peep, sold=sold_rec, proceeds=proceeds,
                    n_active=n_active, dirt=dirt, bad_debt=bad, stopped=stopped, vs=vs,
                    extra={"hop_steps": hop, "events_lost": n_ev >= cap})
