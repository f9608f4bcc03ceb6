"""External-flow runs: a ``[flow]`` scenario → arrays → the compiled loop → :class:`FlowResult`.

:func:`compile_flow` reads the series (:mod:`liqcascade.flow.series`), builds the venue the flow
trades on (starting at the series' first mid) and the backstop's vectors; :func:`run_flow` runs
the loop twice — with the flow and without it (multiplier 0, the *no-flow reference*) — and
measures what the flow did.

``max_drop`` — the largest price drop the flow causes — is, over the steps ``i`` of the series,

    max_drop = max_i max(0, 1 - low_i / low0_i)

with ``low_i`` the venue's spot right after step ``i``'s forced sells (before its forced buys)
and ``low0_i`` the same venue's spot at the same point of the no-flow run. Without a flow a
venue follows the reference exactly, so ``low0_i`` is the series' mid up to rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..flow.backstop import kernel as BK
from ..flow.series import FlowSeries, load_flow_series
from ..results.flow import STEP_COLUMNS, FlowResult, iso
from ..venues.kernel import VENUE_CPMM, X, Y
from ..venues.pack import make_venue_state


@dataclass
class FlowCompiled:
    scenario: object
    base_dir: Path
    series: FlowSeries
    venue: str
    asset: str
    kind: str
    vs: np.ndarray
    vdk: np.ndarray
    vdq: np.ndarray
    half_s: float
    liq0: float
    multiplier: float
    max_slippage: float
    sells: np.ndarray  # the series' sells, zeroed when side = "buys"
    buys: np.ndarray
    dt: np.ndarray
    bparams: np.ndarray | None
    bstate0: np.ndarray | None
    notes: list[str] = field(default_factory=list)


def is_flow(sc) -> bool:
    return getattr(sc, "flow", None) is not None


def backstop_vectors(b) -> tuple[np.ndarray, np.ndarray]:
    """``(params, state)`` of a :class:`~liqcascade.flow.backstop.model.Backstop`."""
    p = np.zeros(BK.NPARAM)
    p[BK.P_DISCOUNT] = b.discount
    p[BK.P_HALF] = b.withdrawal_half_life_seconds
    p[BK.P_MODE] = BK.WITHDRAW_DRAWDOWN if b.withdrawal == "drawdown" else BK.WITHDRAW_CONSTANT
    p[BK.P_DD_REF] = b.drawdown_ref
    p[BK.P_REFILL_S] = b.refill_seconds
    retail = b.size * b.retail_share
    p[BK.P_INST0] = b.size - retail
    s = np.zeros(BK.NSTATE)
    s[BK.S_RETAIL] = retail
    s[BK.S_INST] = b.size - retail
    return p, s


def compile_flow(sc, base_dir, series: FlowSeries | None = None) -> FlowCompiled:
    """Read the series and build the arrays of a ``[flow]`` scenario (raises :class:`InputError`).
    ``series``: use these arrays instead of reading ``flow.file`` (tests, the Python API)."""
    f = sc.flow
    if f is None:
        raise InputError(None, "flow", "this scenario has no [flow] table")
    base = Path(base_dir)
    venues = {v.name: v for v in sc.venues}
    ven = venues.get(f.venue)
    if ven is None:
        raise InputError(None, "flow.venue", f"unknown venue {f.venue!r} (have: {', '.join(venues) or 'none'})")
    if series is None:
        path = Path(f.file)
        if not path.is_absolute():
            path = base / path
        series = load_flow_series(path, time=f.time, bid=f.bid, ask=f.ask, price=f.price, sells=f.sells,
                                  buys=f.buys, units=f.units, start=f.start, end=f.end, name=f.file)
    mid0 = float(series.mid[0])
    spec = {"kind": ven.kind, "asset": 0}
    if ven.kind == "cpmm":
        spec.update(reserve_asset=ven.reserve_asset, reserve_quote=ven.reserve_asset * mid0, fee=ven.fee)
    elif ven.kind == "book":
        spec.update(mid=mid0, depth=[list(d) for d in ven.depth], half_life_steps=0.0)
    else:  # a kind registered later: its pack reads its own keys
        spec.update(ven.model_dump())
        spec.update(kind=ven.kind, asset=0)
    try:
        vs, vdk, vdq = make_venue_state([spec])
    except InputError as exc:
        raise InputError(None, f"venues.{ven.name}", exc.reason) from None
    liq0 = math.sqrt(vs[0, X] * vs[0, Y]) if ven.kind == "cpmm" else 0.0
    sells = series.sells if f.side in ("both", "sells") else np.zeros(len(series))
    buys = series.buys if f.side in ("both", "buys") else np.zeros(len(series))
    notes = list(series.notes)
    notes.append(f"reference = the series' {'bid/ask mid' if f.price is None else repr(f.price)}; venue "
                 f"{ven.name!r} starts there ({mid0:,.2f} on {iso(series.time_s[0])}); one step per row of the series")
    if ven.half_life_seconds > 0:
        notes.append(f"venue recovery: half-life {ven.half_life_seconds:g} s toward the reference"
                     + (" (a pool re-centred on the reference: its impact decays as a book's does)"
                        if ven.kind == "cpmm" else " (the book's transient impact decays)"))
    else:
        notes.append("venue recovery: none (half_life_seconds = 0): the flow's impact accumulates over the series"
                     + (" (an ordinary pool: outside traders move it by the reference's return)"
                        if ven.kind == "cpmm" else ""))
    if ven.kind == "cpmm":
        notes.append("pool: fee income leaves to the LPs every step (liquidity sqrt(x·y) stays at its start), "
                     "so the flow does not deepen the pool")
    notes.append("within a step the forced sells trade before the forced buys (the series has no order "
                 "inside a row; max_drop is measured after the sells)")
    if f.max_slippage < 1:
        notes.append(f"forced orders fill within {f.max_slippage:.1%} of the reference; the rest is reported "
                     "as unfilled (a real venue sends it to its insurance fund or ADL)")
    if "price" in sc.model_fields_set or "arbitrage" in sc.model_fields_set:
        notes.append("[price] and [arbitrage] are not used by a flow run: the series gives the reference, "
                     "the venue's half-life the recovery")
    bparams = bstate0 = None
    if f.backstop is not None:
        bparams, bstate0 = backstop_vectors(f.backstop)
        b = f.backstop
        notes.append(f"backstop: {b.size:,.0f} quote ({b.retail_share:.0%} retail) buys forced sales at "
                     f"{b.discount:.1%} under the reference and keeps them; retail leaves with "
                     + (f"half-life {b.withdrawal_half_life_seconds:g} s at a {b.drawdown_ref:.0%} drawdown of the "
                        "reference from its peak (hazard proportional to the drawdown)" if b.withdrawal == "drawdown"
                        else f"a constant half-life of {b.withdrawal_half_life_seconds:g} s")
                     + (f"; institutions refill their tranche in {b.refill_seconds:g} s" if b.refill_seconds > 0
                        else "; no institutional refill"))
    return FlowCompiled(sc, base, series, ven.name, ven.asset, ven.kind, vs, vdk, vdq,
                        float(ven.half_life_seconds), liq0, float(f.multiplier), float(f.max_slippage),
                        np.ascontiguousarray(sells, dtype=np.float64), np.ascontiguousarray(buys, dtype=np.float64),
                        series.dt(), bparams, bstate0, notes)


def _loop(fc: FlowCompiled, multiplier: float, with_backstop: bool):
    from ..flow.kernel import NREC, flow_run

    vs, vdk, vdq = fc.vs.copy(), fc.vdk.copy(), fc.vdq.copy()
    n = len(fc.series)
    rec = np.zeros((n, NREC))
    has_b = with_backstop and fc.bparams is not None
    bp = fc.bparams if has_b else np.zeros(BK.NPARAM)
    bs = fc.bstate0.copy() if has_b else np.zeros(BK.NSTATE)
    flow_run(vs, vdk, vdq, 0, fc.series.mid, fc.dt, fc.sells, fc.buys, float(multiplier), fc.max_slippage,
             fc.half_s, fc.liq0, has_b, bp, bs, rec)
    return rec, bs


def run_flow(fc: FlowCompiled) -> FlowResult:
    """Run the flow and the no-flow reference; measure ``max_drop`` and the flow's accounting."""
    from ..flow import kernel as FK
    from ..provenance import record

    from .warmup import ensure

    ensure(["flow"])  # a cold cache compiles with a progress report, not inside the first call
    rec, bs = _loop(fc, fc.multiplier, True)
    rec0, _ = _loop(fc, 0.0, False)
    low, low0 = rec[:, FK.R_SPOT_LOW], rec0[:, FK.R_SPOT_LOW]
    drop = np.maximum(0.0, 1.0 - low / low0)
    k = int(np.argmax(drop))
    t = fc.series.time_s
    steps = {
        "time": t.copy(), "reference": fc.series.mid.copy(), "spot_pre": rec[:, FK.R_SPOT_PRE].copy(),
        "spot_low": low.copy(),
        "spot_end": rec[:, FK.R_SPOT_END].copy(), "no_flow_spot": low0.copy(), "drop": drop,
        "sell_in": rec[:, FK.R_SELL_IN].copy(), "absorbed": rec[:, FK.R_ABSORBED].copy(),
        "sold": rec[:, FK.R_SOLD].copy(), "sell_unfilled": rec[:, FK.R_SELL_UNFILLED].copy(),
        "buy_in": rec[:, FK.R_BUY_IN].copy(), "bought": rec[:, FK.R_BOUGHT].copy(),
        "buy_unfilled": rec[:, FK.R_BUY_UNFILLED].copy(), "proceeds": rec[:, FK.R_PROCEEDS].copy(),
        "spent": rec[:, FK.R_SPENT].copy(), "backstop_paid": rec[:, FK.R_PAID].copy(),
        "backstop_balance": rec[:, FK.R_BACKSTOP].copy(), "withdrawn": rec[:, FK.R_WITHDRAWN].copy(),
        "refilled": rec[:, FK.R_REFILLED].copy(),
    }
    assert tuple(steps) == STEP_COLUMNS
    sold = float(steps["sold"].sum())
    proceeds = float(steps["proceeds"].sum())
    summary = {
        "steps": len(fc.series),
        "start": iso(t[0]), "end": iso(t[-1]),
        "max_drop": float(drop[k]),
        "max_drop_time": iso(t[k]),
        "max_drop_step": k,
        "max_drop_sell_in": float(steps["sell_in"][k]),
        "mean_drop": float(drop.mean()),
        "multiplier": fc.multiplier,
        "sell_in": float(steps["sell_in"].sum()),
        "absorbed": float(steps["absorbed"].sum()),
        "sold": sold,
        "sell_unfilled": float(steps["sell_unfilled"].sum()),
        "buy_in": float(steps["buy_in"].sum()),
        "bought": float(steps["bought"].sum()),
        "buy_unfilled": float(steps["buy_unfilled"].sum()),
        "proceeds": proceeds,
        "spent": float(steps["spent"].sum()),
        "avg_sell_price": proceeds / sold if sold > 0 else None,
        "final_reference": float(fc.series.mid[-1]),
    }
    b = fc.scenario.flow.backstop
    if b is not None:
        end_bal = float(bs[BK.S_RETAIL] + bs[BK.S_INST])
        summary["backstop"] = {
            "size": float(b.size), "balance_end": end_bal, "retail_end": float(bs[BK.S_RETAIL]),
            "institutional_end": float(bs[BK.S_INST]), "paid": float(bs[BK.S_PAID]),
            "asset_held": float(bs[BK.S_ASSET]), "withdrawn": float(bs[BK.S_WITHDRAWN]),
            "refilled": float(bs[BK.S_REFILLED]),
            "min_balance": float(steps["backstop_balance"].min()),
            # depositors' result, marked at the last reference price (they keep what they bought)
            "pnl_at_final_reference": float(bs[BK.S_ASSET] * fc.series.mid[-1] - bs[BK.S_PAID]),
        }
    sc = fc.scenario
    meta = record("flow", sc, fc.base_dir, seed=sc.simulation.seed)
    return FlowResult(sc.name, fc.venue, fc.asset, summary, steps, list(fc.notes), meta)


def warm_kernels() -> None:
    """The ``flow`` warm-up group's tiny workload (:mod:`liqcascade.engine.warmup`): the flow loop
    on both venue kinds, with a backstop."""
    from ..flow.kernel import NREC, flow_run

    mid = np.array([100.0, 99.0, 101.0])
    dt = np.full(3, 60.0)
    vol = np.array([1.0, 0.0, 2.0])
    for spec in ({"kind": "cpmm", "reserve_asset": 1000.0, "reserve_quote": 1e5, "fee": 0.003},
                 {"kind": "book", "mid": 100.0, "depth": [(0.01, 1e4), (0.05, 1e5)]}):
        vs, vdk, vdq = make_venue_state([spec])
        p, s = np.zeros(BK.NPARAM), np.zeros(BK.NSTATE)
        p[BK.P_DD_REF] = 0.1
        s[BK.S_INST] = 10.0
        flow_run(vs, vdk, vdq, 0, mid, dt, vol, vol, 1.0, 0.5, 60.0, 0.0, True, p, s, np.zeros((3, NREC)))
