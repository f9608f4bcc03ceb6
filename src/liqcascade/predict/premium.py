"""Cascade risk premium per position: ``liqcascade price-risk S.toml --paths N``.

Every run below uses the **same seeded price paths** (drawn once from the scenario's price
process and seed), so differences between runs are paired path by path.

**1. Expected-shortfall contribution (Euler allocation).** The protocol's loss on path ``p`` is
its bad debt ``L_p = Σ_i B_{p,i}`` (``B_{p,i}``: bad debt written off on position ``i``, from the
recorded liquidation events). With the tail ``T`` = the ``⌈(1 − α) N⌉`` paths of largest ``L``
(ties in path order), ``ES_α = mean_{p∈T} L_p`` and the Euler contribution of position ``i`` is
``ES_i = mean_{p∈T} B_{p,i}``; the contributions add up to ``ES_α`` exactly (Tasche 1999, "Risk
contributions and performance measurement"; for ES the Euler allocation is the conditional
expectation of the position's loss on the tail).

**2. Externality (counterfactual runs per cohort).** The sales ledger and impact attribution of
the contagion work are not in the engine yet, so the externality is measured per *cohort*
(leverage bucket × size bucket × collateral asset): the scenario runs again without the
cohort's positions, on the same paths; the cohort's externality is the bad debt of the *other*
positions with the cohort present minus without it, averaged over the base run's tail paths
(``X_c``; its mean over all paths is reported too). Positions interact only through the price
impact of liquidation sales (and the liquidators' capital and per-step limits), so this is the
loss its forced sales cause in others. ``X_c`` is shared among the cohort's positions in
proportion to the collateral they had seized on the tail paths (a position never liquidated
sold nothing), by debt value when the cohort sold nothing there. It can be negative (removing a
cohort can leave liquidator capital to others, or change which path is in the tail).

**3. Units.** Capital per position ``K_i = ES_i + X_i`` (quote). *Borrow-rate add-on*
``= c · K_i / D_i`` (annualized, in basis points; ``c`` the cost of capital, default 10 % a
year, ``D_i`` the debt value at the start): what a lender must charge to be paid for holding
that capital. *LT haircut* ``= K_i / C_i`` (``C_i`` the collateral value at the start): the
reduction of the liquidation threshold that makes the position carry ``K_i`` of extra collateral
at the same debt. Per cohort: the same ratios of the cohort's sums.

**4. Policy test.** New positions are charged the cohort's haircut as a margin: a position
opened under the margin ``m`` borrows ``D (LT − m) / LT`` (it keeps the same health factor under
the lower limit, so it is liquidated at the same price, with less debt). Against it, a *flat*
margin ``m̄`` for everyone, chosen so that the borrow capacity ``Σ C_i (LTV_i − m_i)`` (LTV or LT,
as ``recommend``) is the same. Both run on the same paths; reported: VaR95 of bad debt, borrow
capacity and their ratio, a paired bootstrap of the VaR difference, beside ``recommend``'s
frontier (its default axes over LT, LTV, bonus and close factor, same paths and seed).

Scope: Aave-rule protocols (``kind = "aave_v3"``); protocol units are refused. Multi-asset
positions count under their largest collateral asset.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..jsonout import scalars

__all__ = ["price_risk", "PremiumResult", "LEV_EDGES", "SIZE_EDGES", "write_outputs"]

LEV_EDGES = (2.0, 3.0, 5.0)  # leverage = collateral value / (collateral value − debt value)
SIZE_EDGES = (1e4, 1e5, 1e6)  # debt value, quote
ALPHA = 0.95
COST_OF_CAPITAL = 0.10


def _labels(edges, fmt) -> list[str]:
    e = list(edges)
    out = [f"< {fmt(e[0])}"]
    out += [f"{fmt(a)}–{fmt(b)}" for a, b in zip(e, e[1:])]
    out.append(f"≥ {fmt(e[-1])}")
    return out


def _money(x: float) -> str:
    for k, s in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= k:
            v = x / k
            return f"{v:g}{s}"
    return f"{x:g}"


@dataclass
class Positions:
    """Every Aave-rule position of the scenario, as written to the counterfactual files."""

    ids: np.ndarray  # object[n]
    proto: np.ndarray  # int64[n] protocol index
    rows: list  # per position: list of (asset index, collateral, debt)
    coll_value: np.ndarray
    debt_value: np.ndarray
    lt_eff: np.ndarray  # collateral-value-weighted LT
    ltv_eff: np.ndarray  # collateral-value-weighted LTV (LT where none)
    main_asset: np.ndarray  # int64[n]


def _positions(c) -> Positions:
    b = c.book
    ids, proto, rows = [], [], []
    for j in range(b.seg_ptr.shape[0] - 1):
        s0, s1 = int(b.seg_ptr[j]), int(b.seg_ptr[j + 1])
        k, a, da = int(b.seg_proto[j]), int(b.seg_asset[j]), int(b.seg_debt_asset[j])
        for i in range(s0, s1):
            ids.append(str(b.ids[i]))
            proto.append(k)
            rows.append([(a, float(b.coll[i]), 0.0), (da, 0.0, float(b.debt[i]))])
    for q in range(b.n_multi):
        s0, s1 = int(b.m_ptr[q]), int(b.m_ptr[q + 1])
        ids.append(str(b.m_ids[q]))
        proto.append(int(b.m_proto[q]))
        rows.append([(int(b.m_asset[e]), float(b.m_coll[e]), float(b.m_debt[e])) for e in range(s0, s1)])
    n = len(ids)
    cv, dv, lt, ltv, main = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n, np.int64)
    sc = c.scenario
    for i, (k, rr) in enumerate(zip(proto, rows)):
        pr = sc.protocols[k]
        best = -1.0
        for a, co, de in rr:
            v = co * c.p0[a]
            cv[i] += v
            dv[i] += de * c.p0[a]
            prm = pr.params.get(c.assets[a])
            if co > 0 and prm is not None:
                lt[i] += v * prm.liquidation_threshold
                ltv[i] += v * (prm.ltv if prm.ltv is not None else prm.liquidation_threshold)
            if v > best:
                best, main[i] = v, a
    with np.errstate(invalid="ignore", divide="ignore"):
        lt = np.where(cv > 0, lt / cv, 0.0)
        ltv = np.where(cv > 0, ltv / cv, 0.0)
    return Positions(np.array(ids, dtype=object), np.array(proto, np.int64), rows, cv, dv, lt, ltv, main)


def _write_books(pos: Positions, c, folder: Path, keep: np.ndarray, debt_scale: np.ndarray | None = None) -> dict[int, str]:
    """One long-format CSV per Aave-rule protocol with the positions in ``keep``."""
    out = {}
    for k, pr in enumerate(c.scenario.protocols):
        if pr.kind != "aave_v3":
            continue
        f = folder / f"{k}.csv"
        with open(f, "w", encoding="utf-8") as fh:
            fh.write("id,asset,collateral,debt\n")
            for i in np.flatnonzero(keep & (pos.proto == k)):
                s = 1.0 if debt_scale is None else float(debt_scale[i])
                for a, co, de in pos.rows[i]:
                    fh.write(f"{pos.ids[i]},{c.assets[a]},{float(co)!r},{float(de * s)!r}\n")
        out[k] = str(f)
    return out


def _compiled_with(base_dict: dict, files: dict[int, str], base_dir: Path, file: str | None):
    from ..engine.compile import compile_scenario
    from ..scenario.load import validate_dict

    d = {**base_dict, "protocols": [dict(p) for p in base_dict["protocols"]]}
    for k, f in files.items():
        d["protocols"][k]["positions"] = f
        d["protocols"][k]["collateral"] = None
    sc = validate_dict(d, file)
    return compile_scenario(sc, base_dir)


def _bad_per_path(c, res) -> np.ndarray:
    from ..engine.compare import path_metrics

    return np.asarray(path_metrics(res, 0, bool(c.units))["bad_debt"], dtype=np.float64)


@dataclass
class PremiumResult:
    scenario: str
    paths: int
    seed: int
    alpha: float
    cost_of_capital: float
    horizon_s: float
    var: float
    es: float
    positions: dict  # column -> array
    cohorts: list[dict]
    policy: dict
    frontier: dict | None
    notes: list[str] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)

    def summary(self) -> dict:
        from .. import __version__

        return {"schema_version": 1, "version": __version__, "scenario": self.scenario, "paths": self.paths,
                "seed": self.seed, "alpha": self.alpha, "cost_of_capital": self.cost_of_capital,
                "horizon_s": self.horizon_s, "var": self.var, "es": self.es,
                "es_allocated": float(np.sum(self.positions["es_contribution"])),
                "externality_allocated": float(np.sum(self.positions["externality"])),
                "cohorts": self.cohorts, "policy": self.policy, "frontier": self.frontier, "notes": self.notes,
                "provenance": self.provenance}


def price_risk(scenario, *, paths: int | None = None, seed: int | None = None, alpha: float = ALPHA,
               cost_of_capital: float = COST_OF_CAPITAL, lev_edges=LEV_EDGES, size_edges=SIZE_EDGES,
               frontier: bool = True, frontier_params=None, n_boot: int = 1000, progress=None) -> PremiumResult:
    """Run the premium computation (module docstring). ``frontier_params``: ``PATH=a:b:step``
    axes for ``recommend`` instead of its default axes. ``progress(stage, done, total)``."""
    from ..engine.dynamic import make_paths, run_dynamic
    from ..scenario.load import load_scenario

    if not 0.5 <= alpha < 1:
        raise InputError(None, "--alpha", "must be in [0.5, 1)")
    if not (cost_of_capital >= 0 and math.isfinite(cost_of_capital)):
        raise InputError(None, "--cost-of-capital", "must be a number >= 0")
    for name, e in (("--leverage-edges", lev_edges), ("--size-edges", size_edges)):
        if not e or any(b <= a for a, b in zip(e, e[1:])) or e[0] <= 0:
            raise InputError(None, name, "need increasing positive edges")
    file = str(scenario)
    sc, base = load_scenario(scenario)
    units = [p.name for p in sc.protocols if p.kind != "aave_v3"]
    if units:
        raise InputError(file, "protocols", f"price-risk covers Aave-rule protocols (kind = \"aave_v3\"); "
                         f"{', '.join(units)} {'is a protocol unit' if len(units) == 1 else 'are protocol units'}")
    if paths is not None:
        sc.simulation.paths = int(paths)
    if seed is not None:
        sc.simulation.seed = int(seed)
    N = sc.simulation.paths
    if N < 20:
        raise InputError(None, "--paths", f"need at least 20 paths for a {alpha:.0%} tail (got {N})")
    from ..engine.compile import compile_scenario

    c0 = compile_scenario(sc, base)
    pos = _positions(c0)
    if not len(pos.ids):
        raise InputError(file, "protocols", "no Aave-rule position with collateral and debt")
    say = progress or (lambda *a: None)
    base_dict = sc.model_dump(mode="python")
    T = make_paths(c0)  # one draw of the price paths for every run below
    with np.errstate(divide="ignore"):
        lev = np.where(pos.coll_value > pos.debt_value, pos.coll_value / (pos.coll_value - pos.debt_value), np.inf)
    lev_b = np.searchsorted(np.asarray(lev_edges), lev, side="right")
    size_b = np.searchsorted(np.asarray(size_edges), pos.debt_value, side="right")
    lev_lab = _labels(lev_edges, lambda x: f"{x:g}×")
    size_lab = _labels(size_edges, _money)
    key = [(int(lb), int(sb), int(a)) for lb, sb, a in zip(lev_b, size_b, pos.main_asset)]
    cohorts = sorted(set(key))
    coh_of = np.array([cohorts.index(k) for k in key], dtype=np.int64)
    n_runs = 1 + len(cohorts) + 2
    done = 0
    say("simulating", done, n_runs)
    notes = [
        f"the same {N} seeded price paths (seed {sc.simulation.seed}) in every run: differences are paired",
        "externality from counterfactual runs per cohort (leverage × size × collateral asset): the sales ledger and "
        "impact attribution of the contagion work are not in the engine yet",
        f"rate add-on = cost of capital ({cost_of_capital:.0%} a year) × capital / debt value; capital = ES "
        "contribution + externality over the base run's tail paths; LT haircut = capital / collateral value",
        "policy: new positions open at the same health factor under the margin (debt × (LT − m) / LT); borrower "
        "demand for the lost capacity is not modelled",
    ]
    with tempfile.TemporaryDirectory(prefix="liqcascade-price-risk-") as td:
        folder = Path(td)
        allk = np.ones(len(pos.ids), dtype=bool)
        cb = _compiled_with(base_dict, _write_books(pos, c0, folder / "base", allk) if _mk(folder / "base") else {},
                            base, file)
        res = run_dynamic(cb, paths=T, record_paths=N)
        done += 1
        say("simulating", done, n_runs)
        lost = res.totals().get("events_not_recorded", 0)
        if lost:
            raise InputError(file, "events", f"{lost} liquidation events did not fit the event buffers; use fewer "
                             "paths or a smaller book")
        L = _bad_per_path(cb, res)
        ev = res.events
        idx_of = {(c0.protocols[k], str(x)): i for i, (k, x) in enumerate(zip(pos.proto, pos.ids))}
        ev_pos = np.array([idx_of.get((str(pr), str(x)), -1) for pr, x in zip(ev["protocol"], ev["position"])],
                          dtype=np.int64)
        if (ev_pos < 0).any():
            raise InputError(file, "events", "an event names a position that is not in the book")
        ev_path = ev["path"].astype(np.int64)
        ev_bad = ev["bad_debt"].astype(np.float64)
        check = np.bincount(ev_path, weights=ev_bad, minlength=N)
        if not np.allclose(check, L, rtol=1e-9, atol=1e-6 * max(1.0, float(np.abs(L).max()))):
            raise RuntimeError("per-position bad debt does not add up to the per-path bad debt")
        k_tail = max(1, int(math.ceil((1 - alpha) * N)))
        order = np.lexsort((np.arange(N), -L))  # largest first, ties in path order
        tail = np.sort(order[:k_tail])
        in_tail = np.zeros(N, dtype=bool)
        in_tail[tail] = True
        var = float(np.quantile(L, alpha))
        es = float(L[tail].mean())
        n = len(pos.ids)
        te = in_tail[ev_path]
        es_i = np.bincount(ev_pos[te], weights=ev_bad[te], minlength=n) / k_tail
        mean_bad_i = np.bincount(ev_pos, weights=ev_bad, minlength=n) / N
        seized_tail = np.bincount(ev_pos[te], weights=(ev["collateral_seized"] * ev["oracle_price"])[te], minlength=n)
        # bad debt per (path, cohort)
        Bc = np.zeros((N, len(cohorts)))
        np.add.at(Bc, (ev_path, coh_of[ev_pos]), ev_bad)
        ext_tail = np.zeros(len(cohorts))
        ext_mean = np.zeros(len(cohorts))
        for j in range(len(cohorts)):
            keep = coh_of != j
            sub = folder / f"c{j}"
            _mk(sub)
            if keep.any():
                cc = _compiled_with(base_dict, _write_books(pos, c0, sub, keep), base, file)
                Lw = _bad_per_path(cc, run_dynamic(cc, paths=T, record_paths=0))
            else:
                Lw = np.zeros(N)
            d = (L - Bc[:, j]) - Lw
            ext_tail[j] = float(d[tail].mean())
            ext_mean[j] = float(d.mean())
            done += 1
            say("simulating", done, n_runs)
        ext_i = np.zeros(n)
        for j in range(len(cohorts)):
            m = coh_of == j
            w = seized_tail[m]
            if not w.sum() > 0:
                w = pos.debt_value[m]
            ext_i[m] = ext_tail[j] * w / w.sum() if w.sum() > 0 else 0.0
        cap_i = es_i + ext_i
        with np.errstate(divide="ignore", invalid="ignore"):
            rate_bps = np.where(pos.debt_value > 0, cost_of_capital * cap_i / pos.debt_value * 1e4, 0.0)
            haircut = np.where(pos.coll_value > 0, cap_i / pos.coll_value, 0.0)
        rows = []
        for j, (lb, sb, a) in enumerate(cohorts):
            m = coh_of == j
            D, C, K = pos.debt_value[m].sum(), pos.coll_value[m].sum(), cap_i[m].sum()
            rows.append({"cohort": f"{lev_lab[lb]} · {size_lab[sb]} · {c0.assets[a]}", "leverage": lev_lab[lb],
                         "size": size_lab[sb], "asset": c0.assets[a], "positions": int(m.sum()),
                         "debt_value": float(D), "collateral_value": float(C), "es_contribution": float(es_i[m].sum()),
                         "externality_tail": float(ext_tail[j]), "externality_mean": float(ext_mean[j]),
                         "mean_bad_debt": float(mean_bad_i[m].sum()), "capital": float(K),
                         "rate_addon_bps": float(cost_of_capital * K / D * 1e4) if D > 0 else 0.0,
                         "lt_haircut": float(K / C) if C > 0 else 0.0})
        # policy test
        m_c = np.array([max(0.0, r["lt_haircut"]) for r in rows])
        m_i = np.minimum(m_c[coh_of], np.maximum(pos.lt_eff - 1e-3, 0.0))
        cap_today = float((pos.coll_value * pos.ltv_eff).sum())
        m_flat = float((pos.coll_value * m_i).sum() / pos.coll_value.sum())
        m_flat_i = np.minimum(np.full(n, m_flat), np.maximum(pos.lt_eff - 1e-3, 0.0))
        runs = {"today": (np.ones(n), np.zeros(n))}
        with np.errstate(divide="ignore", invalid="ignore"):
            runs["premium margin"] = (np.where(pos.lt_eff > 0, (pos.lt_eff - m_i) / pos.lt_eff, 1.0), m_i)
            runs["flat margin"] = (np.where(pos.lt_eff > 0, (pos.lt_eff - m_flat_i) / pos.lt_eff, 1.0), m_flat_i)
        samples = {"today": L}
        pol = {}
        for name, (scale, mm) in runs.items():
            if name != "today":
                sub = folder / name.replace(" ", "_")
                _mk(sub)
                cc = _compiled_with(base_dict, _write_books(pos, c0, sub, allk, scale), base, file)
                samples[name] = _bad_per_path(cc, run_dynamic(cc, paths=T, record_paths=0))
                done += 1
                say("simulating", done, n_runs)
            cap = float((pos.coll_value * np.maximum(pos.ltv_eff - mm, 0.0)).sum())
            v = float(np.quantile(samples[name], alpha))
            pol[name] = {"var95": v, "capacity": cap, "capacity_ratio": cap / cap_today if cap_today > 0 else math.nan,
                         "var95_per_capacity": v / cap if cap > 0 else math.nan,
                         "mean_bad_debt": float(samples[name].mean()),
                         "margin_mean": float((pos.coll_value * mm).sum() / pos.coll_value.sum())}
        from ..montecarlo.recommend import bootstrap

        bs = bootstrap(samples, "flat margin", max(100, n_boot), sc.simulation.seed, alpha)
        pol["premium margin"]["vs_flat"] = {"var95_diff": bs["premium margin"]["diff"],
                                            "ci": [bs["premium margin"]["diff_lo"], bs["premium margin"]["diff_hi"]],
                                            "distinguishable": bs["premium margin"]["distinguishable"]}
        for k in pol:
            pol[k]["var95_ci"] = [bs[k]["var_lo"], bs[k]["var_hi"]]
    front = None
    if frontier:
        say("recommend frontier", 0, 1)
        front = _frontier(scenario, N, sc.simulation.seed, n_boot, frontier_params)
        say("recommend frontier", 1, 1)
        if front is None:
            notes.append("recommend's frontier could not be computed for this scenario")
    cols = {
        "id": pos.ids.astype(str), "protocol": np.array([c0.protocols[k] for k in pos.proto], dtype=object).astype(str),
        "asset": np.array([c0.assets[a] for a in pos.main_asset], dtype=object).astype(str),
        "cohort": np.array([rows[j]["cohort"] for j in coh_of], dtype=object).astype(str),
        "leverage": lev, "collateral_value": pos.coll_value, "debt_value": pos.debt_value,
        "health_factor": np.where(pos.debt_value > 0, pos.coll_value * pos.lt_eff / np.maximum(pos.debt_value, 1e-300), np.inf),
        "mean_bad_debt": mean_bad_i, "es_contribution": es_i, "externality": ext_i, "capital": cap_i,
        "rate_addon_bps": rate_bps, "lt_haircut": haircut, "margin": m_i,
    }
    from ..provenance import record

    prov = record("price-risk", sc, base, seed=int(sc.simulation.seed), paths=N)
    return PremiumResult(sc.name, N, int(sc.simulation.seed), alpha, cost_of_capital,
                         sc.simulation.steps * sc.simulation.dt_seconds, var, es, cols, rows, pol, front, notes, prov)


def _mk(p: Path) -> bool:
    p.mkdir(parents=True, exist_ok=True)
    return True


def _frontier(scenario, paths: int, seed: int, n_boot: int, params=None) -> dict | None:
    from ..montecarlo.recommend import recommend

    with tempfile.TemporaryDirectory(prefix="liqcascade-price-risk-rec-") as td:
        try:
            r = recommend(scenario, list(params or ()), store=td, paths=paths, seed=seed, workers=0,
                          n_boot=max(100, n_boot), defaults=not params)
        except InputError as e:
            if params:  # the user's axes: their error is theirs to see
                raise
            del e
            return None
    return {"points": [{"capacity_ratio": p["capacity_ratio"], "var95": p["metrics"]["var95"], "frontier": p["frontier"],
                        "params": p["params"], "current": p["current"]} for p in r["points"]],
            "recommended": {"capacity_ratio": r["recommended"]["capacity_ratio"],
                            "var95": r["recommended"]["metrics"]["var95"], "params": r["recommended"]["params"]}}


# --------------------------------------------------------------------------------------------
# outputs


def figures(res: PremiumResult) -> list:
    import plotly.graph_objects as go

    P = res.positions
    figs = []
    lev = np.minimum(P["leverage"], 50.0)
    fig = go.Figure()
    for name in sorted(set(P["cohort"].tolist()), key=lambda s: s):
        m = P["cohort"] == name
        fig.add_trace(go.Scatter(x=lev[m], y=P["rate_addon_bps"][m], mode="markers", name=name,
                                 marker={"size": np.clip(np.log10(np.maximum(P["debt_value"][m], 1.0)) * 2, 3, 16)},
                                 text=P["id"][m], hovertemplate="%{text}<br>leverage %{x:.2f}<br>%{y:.1f} bps<extra></extra>"))
    fig.update_layout(title="Cascade premium per position against leverage (marker size: debt)", template="plotly_white",
                      height=520, xaxis_title="leverage = collateral / (collateral − debt) (capped at 50)",
                      yaxis_title="borrow-rate add-on (bps a year)")
    figs.append(fig)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=P["debt_value"], y=P["lt_haircut"] * 100, mode="markers",
                             marker={"color": lev, "colorscale": "Viridis", "colorbar": {"title": "leverage"}, "size": 6},
                             text=P["id"]))
    fig.update_layout(title="LT haircut against size", template="plotly_white", height=460, xaxis_type="log",
                      xaxis_title="debt value (quote)", yaxis_title="LT haircut (percentage points)")
    figs.append(fig)
    fig = go.Figure()
    if res.frontier:
        pts = res.frontier["points"]
        fig.add_trace(go.Scatter(x=[p["capacity_ratio"] for p in pts], y=[p["var95"] for p in pts], mode="markers",
                                 name="recommend: points", marker={"color": "lightgray", "size": 7}))
        fr = sorted((p for p in pts if p["frontier"]), key=lambda p: p["capacity_ratio"])
        fig.add_trace(go.Scatter(x=[p["capacity_ratio"] for p in fr], y=[p["var95"] for p in fr], mode="lines+markers",
                                 name="recommend: frontier"))
    sym = {"today": "star", "premium margin": "diamond", "flat margin": "square"}
    for k, v in res.policy.items():
        ci = v.get("var95_ci") or [v["var95"], v["var95"]]
        fig.add_trace(go.Scatter(x=[v["capacity_ratio"]], y=[v["var95"]], mode="markers", name=k,
                                 marker={"symbol": sym.get(k, "circle"), "size": 14},
                                 error_y={"type": "data", "symmetric": False, "array": [ci[1] - v["var95"]],
                                          "arrayminus": [v["var95"] - ci[0]]}))
    fig.update_layout(title=f"VaR95 of bad debt against borrow capacity — {res.paths} paths, seed {res.seed}",
                      template="plotly_white", height=520, xaxis_title="borrow capacity (1 = today)",
                      yaxis_title="VaR95 of bad debt (quote)")
    figs.append(fig)
    return figs


def render_html(res: PremiumResult) -> str:
    import html as _h

    s = res.summary()
    head = ["cohort", "positions", "debt_value", "es_contribution", "externality_tail", "capital", "rate_addon_bps",
            "lt_haircut"]
    tr = "".join("<tr>" + "".join(f"<td>{_h.escape(_cell(r[k], k))}</td>" for k in head) + "</tr>" for r in res.cohorts)
    pol = "".join(f"<tr><td>{_h.escape(k)}</td><td>{v['var95']:,.0f}</td><td>{v['capacity_ratio']:.4f}</td>"
                  f"<td>{v['var95_per_capacity']:.3g}</td><td>{v['margin_mean']:.4f}</td></tr>" for k, v in res.policy.items())
    vs = res.policy["premium margin"]["vs_flat"]
    parts = [f"<h1>Cascade risk premium — {_h.escape(res.scenario)}</h1>",
             f"<p>{res.paths} paths, seed {res.seed}; VaR{res.alpha:.0%} of bad debt {res.var:,.0f}, "
             f"ES{res.alpha:.0%} {res.es:,.0f} (allocated: {s['es_allocated']:,.0f}); "
             f"externality allocated {s['externality_allocated']:,.0f}.</p>",
             "<h2>Cohorts</h2><table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>" + tr + "</table>",
             "<h2>Policy test</h2><table><tr><th>policy</th><th>VaR95</th><th>capacity (1 = today)</th>"
             "<th>VaR95 / capacity</th><th>mean margin</th></tr>" + pol + "</table>",
             f"<p>premium − flat VaR95: {vs['var95_diff']:,.0f} (95 % paired bootstrap CI {vs['ci'][0]:,.0f} … "
             f"{vs['ci'][1]:,.0f}; {'distinguishable' if vs['distinguishable'] else 'not distinguishable'} from 0).</p>",
             "<h2>Notes</h2><ul>" + "".join(f"<li>{_h.escape(n)}</li>" for n in res.notes) + "</ul>"]
    for i, fig in enumerate(figures(res)):
        parts.append(fig.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False,
                                 config={"displaylogo": False}))
    return ("<!doctype html><html><head><meta charset='utf-8'><title>liqcascade price-risk</title><style>"
            "body{font-family:sans-serif;max-width:1200px;margin:2em auto}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}</style></head><body>"
            + "".join(parts) + "</body></html>")


def _cell(v, k) -> str:
    if isinstance(v, str):
        return v
    if k == "lt_haircut":
        return f"{v * 100:.3f} pp"
    if k == "rate_addon_bps":
        return f"{v:.2f}"
    if isinstance(v, int):
        return f"{v:,}"
    return f"{v:,.0f}"


def write_outputs(out_dir, res: PremiumResult) -> dict:
    """``positions.parquet``, ``price_risk.json`` and ``report.html`` in ``out_dir`` (atomic each)."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..atomic import atomic_path, write_text_atomic

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    s = res.summary()
    meta = {b"liqcascade": json.dumps({"scenario": res.scenario, "seed": res.seed, "paths": res.paths,
                                       "version": s["version"], "schema_version": 1}).encode()}
    tab = pa.table({k: np.asarray(v) for k, v in res.positions.items()}).replace_schema_metadata(meta)
    pq_path = atomic_path(out / "positions.parquet", lambda tmp: pq.write_table(tab, tmp))
    js = write_text_atomic(out / "price_risk.json", json.dumps(scalars(s), indent=1, allow_nan=False) + "\n")
    html = write_text_atomic(out / "report.html", render_html(res))
    return {"parquet": str(pq_path), "json": str(js), "html": str(html)}
