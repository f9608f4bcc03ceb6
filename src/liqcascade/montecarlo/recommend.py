"""Risk-parameter recommendation from Monte Carlo: the lowest VaR at no less borrowing power (issue #5).

A risk team publishing a parameter recommendation answers: *which liquidation threshold, LTV,
bonus, close factor (and mechanism settings) lower the tail loss without taking borrowing power
away from users?* This module searches such parameters by Monte Carlo and reports

* the **search space** — default axes for every Aave-rule protocol (``liquidation_threshold``,
  ``ltv``, ``liquidation_bonus``, ``close_factor``) around the scenario's current values
  (:data:`DEFAULT_STEPS`), plus every ``--param`` the user gives (any dotted scenario path,
  mechanism fields such as ``mechanisms.throttle.max_debt_per_window`` included; a user axis
  replaces a default axis that sets the same field). Grid, or ``random`` points drawn in the box.
  Points that the scenario models refuse — LTV above LT, ``LT·(1+bonus) > 1`` — are skipped and
  counted. The points run through :func:`~.runner.plan_run` / :func:`~.runner.execute`, so they
  are chunked, stored, resumable and run on the same executors as ``liqcascade sweep``. The
  current parameters are always a point of the run (the grid point equal to them, or one added).
* **capital efficiency** — borrow capacity ``Σ collateral · price · LTV`` (LT where an asset has
  no LTV) over every position of the Aave-rule protocols at the initial prices, from the compiled
  book (:mod:`liqcascade.engine.compile`; idle and multi-asset positions included), as a ratio to
  the capacity under the current parameters (1.0 = today). No simulation is involved.
* the **frontier** — points no other point beats on both VaR (lower) and capacity (higher);
* the **recommended point** — the lowest VaR among points with ``capacity ≥ min_capacity``;
  ties (common when VaR is 0) go to the lower ES95, then the lower mean bad debt, the fewer
  changes from today (the smaller governance change), the higher capacity, then grid order;
* its **uncertainty** — percentile bootstrap CIs of VaR over paths (seeded; resampling the
  per-path bad debt) and a *paired* bootstrap of the VaR difference to the current parameters:
  every point uses the same seeds (path ``p`` sees the same price path at every point), so one
  resample of path indices is applied to both and the difference is distinguishable from 0 when
  its 95 % interval excludes 0. P(insolvency), LaR95 and ES95 are reported at both points.

Modelling choice — a fixed book. Changing LT on a *file* book applies the new threshold to the
existing positions at t = 0: positions already past it are liquidated in the first step (the
``t0_liquidatable_*`` fields count them). That is what a governance change does on Aave
(``setReserveConfiguration`` applies at once to open positions); Euler v2 instead ramps a
lowered liquidation LTV linearly over ``rampDuration`` (``../shared/reference/protocol-mechanics.md``
§8.4), which this search does not model — the first-step liquidations are an upper bound on the
transition cost of such a ramp. LTV only bounds new borrowing, so on a fixed book it changes
capacity, not the simulated losses. A synthetic book (``positions = "synth:N:SEED"``) is instead
*redrawn* at every LT (its health factors are drawn under LT): borrowers re-lever to the same
health-factor distribution, so lowering LT causes no first-step liquidations there. Borrower
reactions to the new parameters, and demand (how much of the capacity is used), are not modelled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..errors import InputError
from . import metrics as M
from .params import ASSET_PARAM_FIELDS, ParamSpec, canonical_json, parse_param, point_id, targets

#: default axes: field → (step, lower bound, upper bound); values are current − step, current, current + step
DEFAULT_STEPS: dict[str, tuple[float, float, float]] = {
    "liquidation_threshold": (0.02, 0.01, 0.99),
    "ltv": (0.02, 0.0, 0.99),
    "liquidation_bonus": (0.01, 0.0, 0.5),
    "close_factor": (0.25, 0.05, 1.0),
}
DEFAULT_BOOTSTRAP = 1000
MAX_DEFAULT_GRID = 6561  # 3^8: two Aave protocols' four axes
CURRENT = "current"

# keys of a point's metrics carried into the recommendation
METRIC_KEYS = ("var95", "es95", "lar95", "p_insolvency", "p_insolvency_lo", "p_insolvency_hi",
               "bad_debt_mean", "bad_debt_ci_lo", "bad_debt_ci_hi", "liquidated_mean", "paths")


# ------------------------------------------------------------------------------------------
# search space


def _aave_targets(base: dict, fld: str) -> list[tuple[str, object]]:
    """(explicit path, current value) of every Aave-rule field ``fld`` in the scenario dict."""
    out = []
    for pr in base.get("protocols", []):
        if pr.get("kind", "aave_v3") != "aave_v3":
            continue
        if fld in ASSET_PARAM_FIELDS:
            for asset, prm in (pr.get("params") or {}).items():
                out.append((f"protocols.{pr['name']}.params.{asset}.{fld}", prm.get(fld)))
        elif fld in pr:
            out.append((f"protocols.{pr['name']}.{fld}", pr.get(fld)))
    return out


def _around(cur: float, fld: str) -> tuple[float, ...]:
    step, lo, hi = DEFAULT_STEPS[fld]
    vals = [round(min(hi, max(lo, cur + k * step)), 10) for k in (-1, 0, 1)]
    return tuple(dict.fromkeys(vals))


def default_axes(base: dict) -> list[ParamSpec]:
    """Default axes around the current values of every Aave-rule protocol (no axis for an LTV
    that is not set: capacity then uses LT). One ``protocol.<field>`` axis when every target has
    the same current value and the shorthand sets exactly those targets; otherwise one axis per
    (protocol, asset)."""
    out = []
    for fld in DEFAULT_STEPS:
        tg = [(p, v) for p, v in _aave_targets(base, fld) if v is not None]
        if not tg:
            continue
        curs = {float(v) for _, v in tg}
        try:
            short = {(id(c), k) for c, k in targets(base, f"protocol.{fld}")}
        except InputError:
            short = set()
        explicit = set()
        for p, _ in tg:
            explicit |= {(id(c), k) for c, k in targets(base, p)}
        all_aave = len(tg) == len(_aave_targets(base, fld))
        if len(curs) == 1 and short == explicit and all_aave:
            vals = _around(curs.pop(), fld)
            out.append(ParamSpec(f"protocol.{fld}", vals, min(vals), max(vals)))
        else:
            for p, v in tg:
                vals = _around(float(v), fld)
                out.append(ParamSpec(p, vals, min(vals), max(vals)))
    return out


def _target_keys(base: dict, path: str) -> set:
    return {(id(c), k) for c, k in targets(base, path)}


def search_space(base: dict, params: Sequence[str] = (), defaults: bool = True) -> tuple[list[ParamSpec], list[str]]:
    """The axes searched: defaults (minus those a user axis overlaps) then the user's.

    Returns ``(specs, dropped)`` where ``dropped`` names default axes replaced by a user axis."""
    user = [parse_param(p, base) for p in params]
    seen = set()
    for s in user:
        if s.path in seen:
            raise InputError(None, "--param", f"{s.path}: given twice")
        seen.add(s.path)
    ukeys = set()
    for s in user:
        ukeys |= _target_keys(base, s.path)
    specs, dropped = [], []
    if defaults:
        for s in default_axes(base):
            if _target_keys(base, s.path) & ukeys:
                dropped.append(s.path)
            else:
                specs.append(s)
    specs += user
    return specs, dropped


# ------------------------------------------------------------------------------------------
# capacity (from the compiled book, no simulation)


@dataclass
class BookTotals:
    """Collateral units per (protocol, asset) over every position, plus the simple positions'
    arrays for the first-step check."""

    coll_pa: np.ndarray  # float64[P, A] collateral units
    p0: np.ndarray
    seg: list  # (proto, coll asset, debt asset, coll[], debt[]) of sorted-book segments


def _book_key(d: dict) -> str:
    """What the compiled book depends on: position sources and, for synthetic books, LT."""
    parts = []
    for pr in d["protocols"]:
        if pr.get("kind", "aave_v3") != "aave_v3":
            continue
        k = [pr["name"], pr["positions"], pr.get("collateral"), pr.get("debt")]
        if str(pr["positions"]).startswith("synth:"):
            k.append({a: p["liquidation_threshold"] for a, p in pr["params"].items()})
        parts.append(k)
    return canonical_json({"p": parts, "assets": d["assets"]})


def book_totals(d: dict, base_dir: Path, file: str | None = None) -> BookTotals:
    """Compile the scenario dict ``d`` and sum its book's collateral per (protocol, asset)."""
    from ..engine.compile import compile_scenario
    from ..scenario.load import validate_dict

    sc = validate_dict(d, file)
    c = compile_scenario(sc, Path(base_dir))
    b = c.book
    P, A = len(c.protocols), len(c.assets)
    tot = np.zeros((P, A))
    seg = []
    for j in range(b.seg_ptr.shape[0] - 1):
        s0, s1 = int(b.seg_ptr[j]), int(b.seg_ptr[j + 1])
        k, a, da = int(b.seg_proto[j]), int(b.seg_asset[j]), int(b.seg_debt_asset[j])
        tot[k, a] += float(b.coll[s0:s1].sum())
        seg.append((k, a, da, b.coll[s0:s1], b.debt[s0:s1]))
    if b.idle_coll.shape[0]:
        np.add.at(tot, (b.idle_proto, b.idle_asset), b.idle_coll)
    if b.n_multi:
        owner = np.repeat(b.m_proto, np.diff(b.m_ptr))
        np.add.at(tot, (owner, b.m_asset), b.m_coll)
    return BookTotals(coll_pa=tot, p0=c.p0.copy(), seg=seg)


def _weights(d: dict, assets: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(borrow weight = LTV or LT, LT) per (protocol, asset) of the scenario dict; 0 off Aave."""
    aidx = {n: i for i, n in enumerate(assets)}
    P, A = len(d["protocols"]), len(assets)
    w, lt = np.zeros((P, A)), np.zeros((P, A))
    for k, pr in enumerate(d["protocols"]):
        if pr.get("kind", "aave_v3") != "aave_v3":
            continue
        for a, prm in (pr.get("params") or {}).items():
            lt[k, aidx[a]] = prm["liquidation_threshold"]
            w[k, aidx[a]] = prm["ltv"] if prm.get("ltv") is not None else prm["liquidation_threshold"]
    return w, lt


def capacity(d: dict, totals: BookTotals) -> dict:
    """Borrow capacity (quote) of the scenario dict ``d`` on the book ``totals``, and what the
    point liquidates at t = 0: simple positions whose HF under the point's LT is below 1."""
    assets = [a["name"] for a in d["assets"]]
    w, lt = _weights(d, assets)
    cap = float((totals.coll_pa * totals.p0[None, :] * w).sum())
    n0, debt0 = 0, 0.0
    p0 = totals.p0
    for k, a, da, c, dbt in totals.seg:
        hf = c * p0[a] * lt[k, a] / (dbt * p0[da])
        sel = hf < 1.0
        n0 += int(sel.sum())
        debt0 += float((dbt[sel] * p0[da]).sum())
    return {"capacity": cap, "t0_liquidatable_positions": n0, "t0_liquidatable_debt": debt0}


class CapacityBook:
    """Capacity of many points, compiling each distinct book once."""

    def __init__(self, base_dir, file=None):
        self.base_dir, self.file = Path(base_dir), file
        self._cache: dict[str, BookTotals] = {}

    def __call__(self, d: dict) -> dict:
        key = _book_key(d)
        if key not in self._cache:
            self._cache[key] = book_totals(d, self.base_dir, self.file)
        return capacity(d, self._cache[key])


# ------------------------------------------------------------------------------------------
# frontier, choice, bootstrap


def pareto_front(var: Sequence[float], cap: Sequence[float]) -> list[int]:
    """Indices of the points that no other point dominates (VaR ≤ and capacity ≥, one strictly).

    Equal points are all kept. Sorted by capacity, highest first."""
    v, c = np.asarray(var, dtype=float), np.asarray(cap, dtype=float)
    n = v.shape[0]
    order = sorted(range(n), key=lambda i: (-c[i], v[i]))
    front = []
    best_v = math.inf  # lowest VaR among points of strictly higher capacity
    j = 0
    while j < n:
        # a block of equal capacity
        k = j
        while k < n and c[order[k]] == c[order[j]]:
            k += 1
        block = order[j:k]
        vmin = min(v[i] for i in block)
        for i in block:
            if v[i] == vmin and v[i] < best_v:
                front.append(i)
        best_v = min(best_v, vmin)
        j = k
    return front


def choose(rows: list[dict], min_capacity: float) -> dict | None:
    """The feasible row (``capacity_ratio ≥ min_capacity``) with the lowest VaR; ties: lower ES,
    lower mean bad debt, fewer changes from today, higher capacity, grid order."""
    ok = [r for r in rows if r["capacity_ratio"] >= min_capacity - 1e-12]
    if not ok:
        return None
    return min(ok, key=lambda r: (r["metrics"]["var95"], r["metrics"]["es95"], r["metrics"]["bad_debt_mean"],
                                  r["n_changes"], -r["capacity_ratio"], r["index"]))


def bootstrap(samples: dict[str, np.ndarray], ref: str, n_boot: int, seed: int, alpha: float = M.ALPHA) -> dict:
    """Percentile bootstrap of the α-quantile of every sample and of its difference to ``ref``.

    All samples are per-path arrays over the same paths; one resample of path indices is applied
    to all of them (paired). Indices come from ``SeedSequence([seed, 2])``, a stream separate from
    the paths' and the random search's. Returns ``{key: {var_lo, var_hi, diff, diff_lo, diff_hi}}``."""
    keys = list(samples)
    n = int(samples[ref].shape[0])
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 2]))
    qs = {k: np.empty(n_boot) for k in keys}
    batch = max(1, min(n_boot, 4_000_000 // max(n, 1)))
    done = 0
    while done < n_boot:
        b = min(batch, n_boot - done)
        idx = rng.integers(0, n, size=(b, n))
        for k in keys:
            qs[k][done:done + b] = np.quantile(samples[k][idx], alpha, axis=1)
        done += b
    out = {}
    for k in keys:
        lo, hi = np.quantile(qs[k], [0.025, 0.975])
        d = qs[k] - qs[ref]
        dlo, dhi = np.quantile(d, [0.025, 0.975])
        diff = float(np.quantile(samples[k], alpha) - np.quantile(samples[ref], alpha))
        out[k] = {"var_lo": float(lo), "var_hi": float(hi), "diff": diff, "diff_lo": float(dlo),
                  "diff_hi": float(dhi), "distinguishable": bool(dlo > 0 or dhi < 0)}
    return out


# ------------------------------------------------------------------------------------------
# plan and run


@dataclass
class RecPlan:
    plan: object  # runner.Plan (the grid plus the current point)
    specs: list[ParamSpec]
    dropped_defaults: list[str]
    current_id: str
    current_added: bool
    capacity: dict  # point_id → capacity dict (quote, ratio, t0 …)
    base_capacity: float
    min_capacity: float
    notes: list[str] = field(default_factory=list)


def _current_values(base: dict, path: str):
    vals = []
    for c, k in targets(base, path):
        v = c.get(k) if isinstance(c, dict) else c[k]
        if v not in vals:
            vals.append(v)
    return vals[0] if len(vals) == 1 else vals


def plan_recommend(scenario, params: Sequence[str] = (), *, paths: int | None = None, seed: int | None = None,
                   random: int | None = None, chunk_paths: int | None = None, min_capacity: float = 1.0,
                   defaults: bool = True, base_dir=None) -> RecPlan:
    """Validate the search up front, compute every point's capacity (no simulation) and refuse a
    constraint no point meets. ``scenario``: a TOML path or a ``Scenario`` (then ``base_dir``)."""
    from ..scenario.load import load_scenario
    from ..scenario.models import Scenario
    from .runner import DEFAULT_CHUNK_PATHS, Point, _sha, plan_run

    if not (isinstance(min_capacity, (int, float)) and math.isfinite(min_capacity) and min_capacity > 0):
        raise InputError(None, "--min-capacity", f"must be a number > 0 (got {min_capacity!r})")
    chunk_paths = DEFAULT_CHUNK_PATHS if chunk_paths is None else chunk_paths
    if isinstance(scenario, Scenario):
        sc, base = scenario, Path(base_dir or ".").resolve()
        file = None
    else:
        sc, base = load_scenario(scenario)
        file = str(scenario)
    base_dict = sc.model_dump(mode="python")
    specs, dropped = search_space(base_dict, params, defaults)
    if not specs:
        raise InputError(file, "--param", "nothing to search: the scenario has no Aave-rule protocol to take "
                         "default axes from; give --param PATH=start:stop:step")
    if random is None:
        n = math.prod(len(s.values) for s in specs)
        if n > MAX_DEFAULT_GRID:
            raise InputError(None, "--param", f"the grid has {n:,} points (at most {MAX_DEFAULT_GRID:,} here); "
                             "use --random K or fewer axes (--no-defaults)")
    kw = dict(paths=paths, seed=seed, chunk_paths=chunk_paths, base_dir=base_dir)
    grid = plan_run(scenario, specs, random=random, kind="recommend", **kw)
    cur = plan_run(scenario, [], kind="mc", check_compile=False, **kw).points[0]

    same = [p for p in grid.valid_points if p.scenario_hash == cur.scenario_hash]
    points = list(grid.points)
    if same:
        current_id, added = same[0].point_id, False
    else:
        current_id, added = point_id({CURRENT: True}), True
        points.append(Point(len(points), current_id, {}, "ok", None, cur.scenario, cur.scenario_hash))
    run_id = _sha(canonical_json({"recommend": grid.run_id, "current": current_id}))[:12]
    plan = replace(grid, run_id=run_id, points=points)

    capf = CapacityBook(base, file)
    cur_cap = capf(cur.scenario)
    if not cur_cap["capacity"] > 0:
        raise InputError(file, "protocols", "borrow capacity under the current parameters is 0 (no Aave-rule "
                         "collateral): capital efficiency is undefined")
    caps = {}
    for p in plan.valid_points:
        c = cur_cap if p.point_id == current_id else capf(p.scenario)
        caps[p.point_id] = {**c, "capacity_ratio": c["capacity"] / cur_cap["capacity"]}
    best = max(caps.values(), key=lambda c: c["capacity_ratio"])["capacity_ratio"]
    if best < min_capacity - 1e-12:
        raise InputError(None, "--min-capacity",
                         f"no parameter point keeps {min_capacity:g}× today's borrow capacity (the most any "
                         f"valid point keeps is {best:.4g}×); lower --min-capacity or widen the search")
    notes = _notes(base_dict, plan, dropped, added)
    return RecPlan(plan=plan, specs=specs, dropped_defaults=dropped, current_id=current_id, current_added=added,
                   capacity=caps, base_capacity=cur_cap["capacity"], min_capacity=float(min_capacity), notes=notes)


def _invalid_counts(plan) -> dict:
    out: dict[str, int] = {}
    for p in plan.points:
        if p.status == "ok":
            continue
        r = p.reason or ""
        if "exceeds liquidation_threshold" in r:
            key = "ltv > liquidation_threshold"
        elif "liquidation_threshold·(1+liquidation_bonus)" in r:
            key = "liquidation_threshold·(1+liquidation_bonus) > 1"
        else:
            key = "other"
        out[key] = out.get(key, 0) + 1
    return out


def _notes(base: dict, plan, dropped: list[str], added: bool) -> list[str]:
    notes = [
        "fixed book: a lower LT applies to the existing positions at t = 0, so positions already past it are "
        "liquidated in the first step (counted as t0_liquidatable_*); real governance changes on Aave apply at "
        "once, Euler v2 ramps a lowered LLTV over rampDuration (protocol-mechanics §8.4) — not modelled",
        "capacity = Σ collateral·price·LTV (LT where no LTV) at the initial prices over the Aave-rule protocols' "
        "positions, relative to today's parameters; it measures borrowing power offered, not demand: borrower "
        "reactions to new parameters are not modelled",
        "every point uses the same seeds (path p sees the same prices at every point): VaR differences are paired",
        "the recommended point is chosen and tested against today's on the same paths, so 'distinguishable' is "
        "optimistic (winner's curse over many points); confirm with `liqcascade mc` of both parameter sets under a "
        "different --seed before acting",
    ]
    if any(s.path.endswith("ltv") for s in plan.specs):
        notes.append("LTV bounds new borrowing only: on a fixed book it changes capacity, not the simulated losses "
                     "(borrowers using a higher LTV is not modelled), so read a higher recommended LTV as "
                     "capacity offered at unchanged modelled risk")
    if any(pr.get("kind", "aave_v3") != "aave_v3" for pr in base["protocols"]):
        notes.append("protocol units (Comet, Maker, Liquity, crvUSD, perps) are outside the capacity measure "
                     "and the default axes")
    if any(pr.get("kind", "aave_v3") == "aave_v3" and str(pr["positions"]).startswith("synth:")
           for pr in base["protocols"]):
        notes.append("synthetic books are redrawn at every LT (health factors drawn under LT): borrowers re-lever "
                     "to the same health-factor distribution, so a lower LT causes no first-step liquidations")
    inv = _invalid_counts(plan)
    if inv:
        notes.append(f"{sum(inv.values())} parameter point(s) skipped as invalid: "
                     + ", ".join(f"{v} with {k}" for k, v in inv.items()))
    if dropped:
        notes.append("default axes replaced by --param: " + ", ".join(dropped))
    if added:
        notes.append("the current parameters are not a point of the search; they were added as one")
    tail = math.ceil((1 - M.ALPHA) * plan.paths)
    if tail < 20:
        notes.append(f"VaR95 rests on the worst {tail} of {plan.paths} paths: CIs are wide; use more --paths")
    return notes


def _changes(specs: list[ParamSpec], base: dict, params: dict) -> list[dict]:
    out = []
    for s in specs:
        cur = _current_values(base, s.path)
        new = params.get(s.path, cur)
        out.append({"path": s.path, "current": cur, "recommended": new, "changed": new != cur})
    return out


def run_recommend(rp: RecPlan, store=None, *, workers=None, dask=None, scheduler=None, executor=None,
                  progress: Callable[[int, int], None] | None = None, n_boot: int = DEFAULT_BOOTSTRAP) -> tuple[dict, object]:
    """Execute (or resume) the plan and build the recommendation. Returns ``(result, run_report)``:
    ``result`` holds no timings or store paths (same seed → identical result)."""
    from .runner import execute, load_point

    if n_boot < 100:
        raise InputError(None, "--bootstrap", "needs at least 100 resamples")
    plan = rp.plan
    rep = execute(plan, store, workers=workers, dask=dask, scheduler=scheduler, executor=executor,
                  progress=progress)
    base = plan.points[[p.point_id for p in plan.points].index(rp.current_id)].scenario
    rows = []
    for pr in rep.points:
        if pr["status"] != "ok":
            continue
        pid = pr["point_id"]
        m = {k: pr["metrics"].get(k) for k in METRIC_KEYS}
        params = pr["params"] if pid != rp.current_id or not rp.current_added else {}
        ch = _changes(rp.specs, base, params)
        rows.append({"point_id": pid, "index": pr["index"], "params": {c["path"]: c["recommended"] for c in ch},
                     "current": pid == rp.current_id, "n_changes": sum(c["changed"] for c in ch),
                     **rp.capacity[pid], "metrics": m})
    front = pareto_front([r["metrics"]["var95"] for r in rows], [r["capacity_ratio"] for r in rows])
    fset = set(front)
    for i, r in enumerate(rows):
        r["frontier"] = i in fset
        r["meets_constraint"] = r["capacity_ratio"] >= rp.min_capacity - 1e-12
    best = choose(rows, rp.min_capacity)
    cur_row = next(r for r in rows if r["current"])
    boot_ids = list(dict.fromkeys([cur_row["point_id"], best["point_id"], *[rows[i]["point_id"] for i in front]]))
    samples = {pid: load_point(rep.store, plan.run_id, pid, columns=["bad_debt"])["bad_debt"].astype(np.float64)
               for pid in boot_ids}
    bs = bootstrap(samples, cur_row["point_id"], n_boot, plan.seed)
    for r in rows:
        if r["point_id"] in bs:
            b = bs[r["point_id"]]
            r["var95_ci"] = [b["var_lo"], b["var_hi"]]
    vs = bs[best["point_id"]]
    changes = _changes(rp.specs, base, best["params"])
    keep = best["point_id"] == cur_row["point_id"] or not any(c["changed"] for c in changes)
    result = {
        "scenario": plan.scenario_name,
        "run_id": plan.run_id,
        "seed": plan.seed,
        "paths": plan.paths,
        "alpha": M.ALPHA,
        "min_capacity": rp.min_capacity,
        "bootstrap": n_boot,
        "search": {"mode": "random" if plan.random_k else "grid", "random": plan.random_k,
                   "axes": [{**s.as_dict(), "current": _current_values(base, s.path)} for s in rp.specs],
                   "default_axes_replaced": rp.dropped_defaults, "points": len(plan.points),
                   "valid": len(plan.valid_points), "invalid": _invalid_counts(plan)},
        "base_capacity": rp.base_capacity,
        "current": _summary(cur_row),
        "recommended": {**_summary(best), "changes": changes, "keep_current": keep,
                        "vs_current": {"var95_diff": vs["diff"], "var95_diff_ci": [vs["diff_lo"], vs["diff_hi"]],
                                       "distinguishable": vs["distinguishable"] and not keep,
                                       "capacity_change": best["capacity_ratio"] - 1.0}},
        "frontier": [rows[i]["point_id"] for i in front],
        "points": rows,
        "notes": rp.notes,
    }
    return result, rep


def _summary(r: dict) -> dict:
    keys = ("point_id", "params", "capacity", "capacity_ratio", "t0_liquidatable_positions", "t0_liquidatable_debt",
            "metrics", "var95_ci", "frontier")
    return {k: r.get(k) for k in keys}


def recommend(scenario, params: Sequence[str] = (), *, store=None, paths=None, seed=None, random=None,
              chunk_paths=None, min_capacity: float = 1.0, defaults: bool = True, n_boot: int = DEFAULT_BOOTSTRAP,
              workers=None, dask=None, scheduler=None, progress=None, base_dir=None) -> dict:
    """Plan, run and analyse — the Python entry point (see the module docstring)."""
    rp = plan_recommend(scenario, params, paths=paths, seed=seed, random=random, chunk_paths=chunk_paths,
                        min_capacity=min_capacity, defaults=defaults, base_dir=base_dir)
    return run_recommend(rp, store, workers=workers, dask=dask, scheduler=scheduler, progress=progress,
                         n_boot=n_boot)[0]


# ------------------------------------------------------------------------------------------
# figure


def frontier_figure(result: dict):
    """VaR95 against borrow capacity for every point; frontier joined, current and recommended
    marked, bootstrap CIs as error bars where computed, the constraint as a dashed line."""
    import plotly.graph_objects as go

    rows = result["points"]
    lab = lambda r: "<br>".join(f"{k}={v}" for k, v in r["params"].items())  # noqa: E731
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[r["capacity_ratio"] for r in rows], y=[r["metrics"]["var95"] for r in rows],
                             mode="markers", name="points", marker={"color": "lightgray", "size": 7},
                             text=[lab(r) for r in rows], hoverinfo="text+x+y"))
    fr = sorted((r for r in rows if r["frontier"]), key=lambda r: r["capacity_ratio"])

    def err(rs):
        return {"type": "data", "symmetric": False,
                "array": [(r.get("var95_ci") or [0, r["metrics"]["var95"]])[1] - r["metrics"]["var95"] for r in rs],
                "arrayminus": [r["metrics"]["var95"] - (r.get("var95_ci") or [r["metrics"]["var95"], 0])[0] for r in rs]}

    fig.add_trace(go.Scatter(x=[r["capacity_ratio"] for r in fr], y=[r["metrics"]["var95"] for r in fr],
                             mode="lines+markers", name="frontier", error_y=err(fr), text=[lab(r) for r in fr],
                             hoverinfo="text+x+y"))
    for key, sym, name in (("current", "star", "current"), ("recommended", "diamond", "recommended")):
        s = result[key]
        fig.add_trace(go.Scatter(x=[s["capacity_ratio"]], y=[s["metrics"]["var95"]], mode="markers", name=name,
                                 marker={"symbol": sym, "size": 14}, error_y=err([s]),
                                 text=[lab(s)], hoverinfo="text+x+y"))
    fig.add_vline(x=result["min_capacity"], line_dash="dash", line_width=1,
                  annotation_text=f"min capacity {result['min_capacity']:g}")
    fig.update_layout(template="plotly_white", height=520,
                      title=f"{result['scenario']}: VaR95 of bad debt vs borrow capacity "
                            f"({result['paths']:,} paths, seed {result['seed']})")
    fig.update_xaxes(title_text="borrow capacity (1 = today)")
    fig.update_yaxes(title_text="VaR95 of bad debt (quote)")
    return fig


def write_outputs(out_dir, result: dict) -> dict:
    """``recommend.json`` and ``frontier.html`` in ``out_dir``."""
    from .. import jsonout

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    js = out / "recommend.json"
    js.write_text(jsonout.dumps(result, indent=2) + "\n")
    html = out / "frontier.html"
    tmp = out / ".frontier.html.tmp"
    frontier_figure(result).write_html(str(tmp), include_plotlyjs=True, full_html=True)
    tmp.replace(html)
    return {"json": str(js), "html": str(html)}
