"""Training data from simulation: Monte Carlo paths of the engine over scenario families.

For every scenario of every family (:mod:`liqcascade.predict.family`) the engine runs through
its public functions — :func:`liqcascade.scenario.load.validate_dict`,
:func:`liqcascade.engine.compile.compile_scenario`, :func:`liqcascade.engine.dynamic.run_dynamic`
with every path recorded — and each path becomes a sequence of samples, one every
``stride_s`` seconds after a warm-up (the long feature window):

* **market features** from the path's venue price as 1-bar-per-step bars
  (:func:`liqcascade.predict.features.market_features`);
* **bar volume** (for VPIN, Amihud, Kyle's lambda) is *derived*, since the engine does not
  record traded volume: the exogenous flow that moves the venue by the reference path's return
  (the quote depth of the venue over that move, converted at the spot) plus the collateral the
  liquidations sold (recorded). Arbitrage volume is not included;
* **book features** from the positions *as they are at that step*: the compiled book at
  ``t = 0`` minus every recorded liquidation up to the step (collateral seized; debt repaid plus
  debt written off as bad debt — the engine's conservation identities) — so the liquidation wall
  moves as positions are liquidated;
* **depth**: a constant-product pool's depth follows its spot (``y = L·sqrt(S)`` with the
  starting ``L``; fee growth ignored); a depth-curve book's curve is fixed (the engine's book
  re-forms around the new mid);
* **label** and **onset** (:mod:`liqcascade.predict.labels`).

GARCH parameters for ``garch_vol`` are fitted once per dataset on *calibration* paths — one
scenario per family drawn from a separate seed stream, never used for training or testing. The
VPIN bucket size of a path is its warm-up volume over 50 (the buckets of the warm-up fill
before the first sample).
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import features as F
from .family import Draw, FamilyFile, draw_scenario
from .labels import LabelSpec, cascade_labels, onset_step

__all__ = ["Dataset", "SIM_FEATURES", "sim_feature_config", "simulate_family_file", "simulate_draw", "run_draw"]

#: features the simulation provides (perp and pool state are not simulated here)
SIM_FEATURES = [n for n in F.FEATURES if F.FEATURES[n].group not in ("perp", "liquidations") and n != "spread"]
CALIBRATION_INDEX = 1_000_000_000  # scenario indices of the calibration stream


def sim_feature_config() -> F.FeatureConfig:
    """Windows for simulated 1-minute steps: 30 min, 2 h, 6 h (the warm-up is the long one)."""
    return F.FeatureConfig(short_s=1800.0, mid_s=7200.0, long_s=21600.0)


@dataclass
class Dataset:
    """Samples: features ``X``, label ``y`` and, per sample, where it comes from."""

    X: np.ndarray  # float64[n, F]
    y: np.ndarray  # float64[n] (0/1)
    features: list[str]
    family: np.ndarray  # object[n]
    scenario: np.ndarray  # int64[n], unique over the dataset
    path: np.ndarray  # int64[n], unique over the dataset
    step: np.ndarray  # int64[n]
    venue: np.ndarray  # object[n]
    book_shape: np.ndarray  # object[n]
    price: np.ndarray  # object[n]
    onset: dict = field(default_factory=dict)  # path id -> onset step (-1: no cascade)
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def subset(self, m) -> "Dataset":
        m = np.asarray(m)
        paths = set(np.unique(self.path[m]).tolist())
        return Dataset(self.X[m], self.y[m], list(self.features), self.family[m], self.scenario[m], self.path[m],
                       self.step[m], self.venue[m], self.book_shape[m], self.price[m],
                       {k: v for k, v in self.onset.items() if k in paths}, dict(self.meta))

    def columns(self, names) -> np.ndarray:
        idx = [self.features.index(n) for n in names]
        return self.X[:, idx]

    @staticmethod
    def concat(parts: "list[Dataset]", meta: dict | None = None) -> "Dataset":
        feats = parts[0].features
        cat = lambda a: np.concatenate([getattr(p, a) for p in parts])  # noqa: E731
        onset = {}
        for p in parts:
            onset.update(p.onset)
        return Dataset(np.concatenate([p.X for p in parts]) if parts else np.zeros((0, len(feats))), cat("y"), feats,
                       cat("family"), cat("scenario"), cat("path"), cat("step"), cat("venue"), cat("book_shape"),
                       cat("price"), onset, meta or dict(parts[0].meta))


# --------------------------------------------------------------------------------------------
# one scenario


def _write_positions(folder: Path, coll, debt) -> Path:
    f = folder / "positions.csv"
    with open(f, "w", encoding="utf-8") as fh:
        fh.write("id,collateral,debt\n")
        for i, (c, d) in enumerate(zip(coll, debt)):
            fh.write(f"{i},{float(c)!r},{float(d)!r}\n")
    return f


def run_draw(draw: Draw, folder: Path):
    """Compile and run one drawn scenario (positions written to ``folder``); the RunResult."""
    from ..engine.compile import compile_scenario
    from ..engine.dynamic import run_dynamic
    from ..scenario.load import validate_dict

    pos = _write_positions(folder, draw.coll, draw.debt)
    d = {**draw.scenario, "protocols": [{**draw.scenario["protocols"][0], "positions": str(pos)}]}
    sc = validate_dict(d, f"{draw.family}[{draw.index}]")
    c = compile_scenario(sc, folder)
    return run_dynamic(c)


def _series(res) -> dict[str, np.ndarray]:
    """Per recorded path and step, asset 0: reference, venue and oracle price, collateral sold."""
    from ..results.store import steps_columns

    cols = steps_columns(res)
    R, T1 = res.steps_asset.shape[0], res.steps_asset.shape[1]
    A = len(res.assets)
    shape = (R, T1, A)
    return {k: np.asarray(cols[k], dtype=np.float64).reshape(shape)[:, :, 0]
            for k in ("reference_price", "venue_price", "oracle_price", "collateral_sold")}


def _depth_fns(draw: Draw, spot: float):
    v = draw.venue
    if v["kind"] == "cpmm":
        y = v["reserve_asset"] * math.sqrt(draw.scenario["assets"][0]["price"]) * math.sqrt(spot)
        return (lambda k: float(F.depth_cpmm(y, k, "bid"))), (lambda k: float(F.depth_cpmm(y, k, "ask")))
    dk, dq = v["depth_k"], v["depth_q"]
    f = lambda k: float(F.depth_curve(dk, dq, k))  # noqa: E731
    return f, f


def exogenous_volume(draw: Draw, ref, spot) -> np.ndarray:
    """Asset volume of the exogenous flow per step: the venue depth over the reference return of
    the step, at the previous spot (see the module docstring)."""
    ref = np.asarray(ref, dtype=np.float64)
    spot = np.asarray(spot, dtype=np.float64)
    out = np.zeros(ref.size)
    r = np.zeros(ref.size)
    r[1:] = ref[1:] / ref[:-1] - 1.0
    v = draw.venue
    prev = np.concatenate([[spot[0]], spot[:-1]])
    k = np.abs(r)
    if v["kind"] == "cpmm":
        y = v["reserve_asset"] * math.sqrt(draw.scenario["assets"][0]["price"]) * np.sqrt(prev)
        q = np.where(r < 0, F.depth_cpmm(y, k, "bid"), F.depth_cpmm(y, k, "ask"))
    else:
        q = F.depth_curve(v["depth_k"], v["depth_q"], k)
    out[1:] = (q / prev)[1:]
    return out


def simulate_draw(draw: Draw, res, cfg: F.FeatureConfig, label: LabelSpec, stride_s: float,
                  scenario_id: int, path_base: int, features=None) -> Dataset:
    """Samples of every recorded path of one scenario run."""
    feats = list(features or SIM_FEATURES)
    dt = float(res.dt_seconds)
    T = int(res.steps)
    w = cfg.bars(dt)
    warm = w["long"]
    H = label.steps(dt)
    stride = max(1, int(round(stride_s / dt)))
    ser = _series(res)
    lt = draw.lt
    ev = res.events
    pos_idx = np.array([int(x) for x in ev["position"]], dtype=np.int64) if ev.size else np.zeros(0, np.int64)
    rows, ys, steps, pids = [], [], [], []
    onset = {}
    for p in range(ser["venue_price"].shape[0]):
        spot = ser["venue_price"][p]
        ref = ser["reference_price"][p]
        orc = ser["oracle_price"][p]
        sold = ser["collateral_sold"][p]
        m = ev["path"] == p
        e_step = ev["step"][m]
        e_pos = pos_idx[m]
        e_seized = ev["collateral_seized"][m]
        e_debt = ev["debt_repaid"][m] + ev["bad_debt"][m]  # debt asset priced at 1
        liq_val = np.bincount(e_step, weights=e_seized * ev["oracle_price"][m], minlength=T + 1)
        seized_by_step = np.bincount(e_step, weights=e_seized, minlength=T + 1)
        coll_units = draw.coll.sum() - np.cumsum(seized_by_step)
        coll_value = coll_units * spot
        lab, _, _ = cascade_labels(liq_val, coll_value, spot, ref, label, dt)
        gp = path_base + p
        onset[gp] = onset_step(lab, liq_val, coll_value, label, dt)
        vol = exogenous_volume(draw, ref, spot) + sold
        pcfg = F.FeatureConfig(cfg.short_s, cfg.mid_s, cfg.long_s, cfg.vpin_buckets,
                               float(vol[1:warm + 1].sum() / cfg.vpin_buckets) if vol[1:warm + 1].sum() > 0 else None,
                               cfg.garch)
        mk = F.market_features(spot, dt, pcfg, volume=vol)
        odev = F.oracle_deviation(orc, spot)
        order = np.argsort(e_step, kind="stable")
        e_step, e_pos, e_seized, e_debt = e_step[order], e_pos[order], e_seized[order], e_debt[order]
        coll = draw.coll.copy()
        debt = draw.debt.copy()
        j = 0
        for t in range(warm, T - H + 1, stride):
            while j < e_step.size and e_step[j] <= t:
                coll[e_pos[j]] -= e_seized[j]
                debt[e_pos[j]] -= e_debt[j]
                j += 1
            live = (coll > 1e-12 * draw.coll.max()) & (debt > 1e-9)
            L = F.liquidation_prices(coll[live], debt[live], lt)
            bid, ask = _depth_fns(draw, float(spot[t]))
            bf = F.book_features(L, debt[live], float(spot[t]), bid, ask)
            vals = {**{k: v[t] for k, v in mk.items()}, **bf, "oracle_dev": odev[t]}
            rows.append([vals.get(n, math.nan) for n in feats])
            ys.append(lab[t])
            steps.append(t)
            pids.append(gp)
    n = len(rows)
    meta = draw.meta
    obj = lambda v: np.full(n, v, dtype=object)  # noqa: E731
    return Dataset(np.array(rows, dtype=np.float64).reshape(n, len(feats)), np.array(ys, dtype=np.float64), feats,
                   obj(meta["family"]), np.full(n, scenario_id, np.int64), np.array(pids, dtype=np.int64),
                   np.array(steps, dtype=np.int64), obj(meta["venue"]), obj(meta["book_shape"]), obj(meta["price"]),
                   onset, {})


# --------------------------------------------------------------------------------------------
# a whole family file


def calibrate_garch(ff: FamilyFile, cfg: F.FeatureConfig, folder: Path) -> F.GarchParams:
    """GARCH(1,1) parameters from one calibration scenario per family (separate seed stream)."""
    rets = []
    dt = ff.families[0].dt_seconds
    for fam in ff.families:
        d = draw_scenario(fam, CALIBRATION_INDEX, ff.seed, ff.label.spec(), cfg.long_s)
        res = run_draw(d, folder)
        sp = _series(res)["venue_price"]
        for p in range(sp.shape[0]):
            rets.append(F.log_returns(sp[p])[1:])
    return F.fit_garch11(np.concatenate(rets), dt)


def simulate_family_file(ff: FamilyFile, progress=None, features=None) -> Dataset:
    """Simulate every scenario of every family and return the samples (see the module docstring).
    ``progress(k)`` is called after each scenario. Deterministic for a given file."""
    from .. import __version__

    dts = {f.dt_seconds for f in ff.families}
    if len(dts) != 1:
        from ..errors import InputError

        raise InputError(None, "families.dt_seconds", "every family must use the same dt_seconds (one bar length)")
    cfg = sim_feature_config()
    label = ff.label.spec()
    parts = []
    sid = 0
    pid = 0
    with tempfile.TemporaryDirectory(prefix="liqcascade-predict-") as td:
        folder = Path(td)
        cfg.garch = calibrate_garch(ff, cfg, folder)
        for fam in ff.families:
            if fam.steps * fam.dt_seconds < cfg.long_s + label.horizon_s + ff.stride_s:
                from ..errors import InputError

                raise InputError(None, f"families.{fam.name}.steps",
                                 f"too short: need more than the {cfg.long_s:g} s warm-up + the {label.horizon_s:g} s horizon")
            for i in range(fam.scenarios):
                d = draw_scenario(fam, i, ff.seed, label, cfg.long_s)
                res = run_draw(d, folder)
                parts.append(simulate_draw(d, res, cfg, label, ff.stride_s, sid, pid, features))
                sid += 1
                pid += res.steps_asset.shape[0]
                if progress:
                    progress(1)
    meta = {"label": label.as_dict(), "stride_s": ff.stride_s, "seed": ff.seed, "dt_seconds": dts.pop(),
            "feature_config": cfg.as_dict(), "families": [f.model_dump() for f in ff.families],
            "version": __version__}
    return Dataset.concat(parts, meta)
