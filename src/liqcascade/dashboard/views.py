"""What the page shows, as JSON: the editable fields of a scenario and a result as *panels*.

A result view is ``{"kind", "title", "meta", "notes", "panels": [...], "data": {...}}``; each
panel has a ``type`` the page knows how to draw — ``figure`` (a plotly figure), ``table``
(columns and rows of text). New kinds of results add panels (a contagion network would add a
``network`` panel and its renderer in ``static/app.js``); nothing else changes.
"""

from __future__ import annotations

import json
import math

from ..api.results import CompareResult, CurveResult, MonteCarloResult, RunResult
from ..api.scenario import Scenario
from ..api.tables import Summary
from ..errors import InputError
from ..provenance import clean

# ---- panels ------------------------------------------------------------------------------------


def figure_panel(pid: str, title: str, fig) -> dict:
    return {"type": "figure", "id": pid, "title": title, "figure": json.loads(fig.to_json())}


def table_panel(pid: str, title: str, columns, rows, footer=(), right=None) -> dict:
    return {"type": "table", "id": pid, "title": title, "columns": list(columns),
            "rows": [[str(c) for c in r] for r in rows], "footer": list(footer),
            "right": list(right) if right is not None else [i > 0 for i in range(len(columns))]}


def summary_panel(pid: str, s: Summary) -> dict:
    return table_panel(pid, s.title, s.columns, s.rows, s.footer, s.right)


def _base(res, title: str) -> dict:
    return {"kind": res.kind, "title": title, "meta": clean(res.meta), "notes": list(res.notes)}


# ---- results -----------------------------------------------------------------------------------


def curve_view(res: CurveResult) -> dict:
    out = _base(res, f"Cascade curve — {res.meta['scenario']}")
    out["panels"] = [
        figure_panel("fig-curve", "Cascade curve", res.plot()),
        summary_panel("tbl-curve", res.summary(notes=False)),
        figure_panel("fig-heatmap", "Liquidation-price heatmap", res.heatmap()),
    ]
    t = res.table()
    out["data"] = {"critical_shock": res.critical_shock, "critical_jump": res.critical_jump, "asset": res.asset,
                   "shock": clean(t["shock"].tolist()), "final_price": clean(t["final_price"].tolist())}
    return out


def run_view(res: RunResult) -> dict:
    out = _base(res, f"Run — {res.meta['scenario']}")
    prot = res.per_protocol()
    out["panels"] = [
        figure_panel("fig-prices", "Prices and liquidations", res.plot("prices")),
        summary_panel("tbl-run", res.summary(notes=False)),
        figure_panel("fig-liquidations", "Liquidations and sales per step", res.plot("liquidations")),
        summary_panel("tbl-protocols", Summary(
            "Per protocol (means per recorded path)", [c.replace("_", " ") for c in prot.columns],
            prot.summary(max_rows=1000).rows, right=prot.summary().right)),
        figure_panel("fig-heatmap", "Liquidation-price heatmap", res.plot("heatmap")),
    ]
    t = res.totals()
    out["data"] = {"totals": clean(t), "events": len(res.events)}
    return out


def compare_view(res: CompareResult) -> dict:
    from ..engine.compare import METRICS
    from ..report.compare import compact_ci

    out = _base(res, f"Compare — {res.meta['scenario']}")
    units = {k: u for k, _, u in METRICS}
    cols = ["configuration"] + [lab for _, lab, _ in METRICS]
    rows = [[c.label] + [compact_ci(c.stats[k], units[k], sep=" ") for k, _, _ in METRICS] for c in res.raw.configs]
    diff_rows = [[c.label] + [compact_ci(c.diff[k], units[k], sep=" ") for k, _, _ in METRICS]
                 for c in res.raw.configs if c.label != "none"]
    r = res.raw
    ci = "mean ± half-width of the 95% CI" if r.paths > 1 else "one path: means only, no CI"
    out["panels"] = [
        table_panel("tbl-compare", f"{r.paths} path(s), seed {r.seed}, the same paths for every configuration ({ci})",
                    cols, rows, [f"max drawdown and time to recovery: {r.asset}"]),
        table_panel("tbl-compare-diff", "Paired difference to none (same path)", cols, diff_rows),
        figure_panel("fig-compare", "Metrics per configuration", res.plot()),
    ]
    out["data"] = {"configurations": res.labels,
                   "stats": {c.label: clean(c.stats) for c in r.configs}}
    return out


def mc_view(res: MonteCarloResult) -> dict:
    out = _base(res, f"Monte Carlo — {res.meta['scenario']}")
    out["panels"] = [
        summary_panel("tbl-mc", res.summary(notes=False)),
        figure_panel("fig-mc", "Distributions over paths", res.plot()),
    ]
    out["data"] = {"run_id": res.run_id, "metrics": clean(res.metrics)}
    return out


# ---- scenario form -----------------------------------------------------------------------------

PRICE_FIELDS = {
    "crash": ("shock", "start_seconds", "over_seconds", "recovery", "recovery_seconds"),
    "gbm": ("mu", "sigma"),
    "jump": ("mu", "sigma", "lam", "jump_mean", "jump_std"),
}
ORACLE_FIELDS = {
    "spot": ("lag_seconds",), "heartbeat": ("deviation", "heartbeat_seconds"), "twap": ("window_seconds",),
    "median": (), "osm": ("hop_seconds",), "ema": ("half_life_seconds",),
}


def form_fields(s: Scenario) -> list[dict]:
    """The scenario's key parameters as form fields: ``{path, label, group, type, value,
    choices}``; ``type`` is ``integer``, ``number``, ``bool`` or ``choice``. Only these paths can be
    edited from the page (never a file name)."""
    m = s.model
    out: list[dict] = []

    def add(path, label, group, typ, choices=None):
        try:
            v = s.get(path)
        except InputError:  # a field this version of the schema does not have
            return
        if typ in ("number", "integer") and (isinstance(v, (list, dict)) or v is None):
            return  # lists (one value per asset) and unset optional fields are left to the file
        if isinstance(v, float) and not math.isfinite(v):
            v = str(v)
        out.append({"path": path, "label": label, "group": group, "type": typ, "value": v, "choices": choices})

    add("simulation.steps", "steps", "simulation", "integer")
    add("simulation.dt_seconds", "seconds per step", "simulation", "number")
    add("simulation.paths", "paths", "simulation", "integer")
    add("simulation.seed", "seed", "simulation", "integer")
    kind = m.price.kind
    kinds = ["crash", "gbm", "jump"] + ([kind] if kind not in ("crash", "gbm", "jump") else [])
    add("price.kind", "price process", "price", "choice", kinds)
    for f in PRICE_FIELDS.get(kind, ()):
        add(f"price.{f}", f.replace("_", " "), "price", "number")
    for v in m.venues:
        g = f"venue {v.name}"
        if v.kind == "cpmm":
            add(f"venues.{v.name}.reserve_asset", "asset reserve", g, "number")
        else:
            add(f"venues.{v.name}.half_life_seconds", "impact half-life (seconds)", g, "number")
        add(f"venues.{v.name}.fee", "fee", g, "number")
    for o in m.oracles:
        for f in ORACLE_FIELDS.get(o.kind, ()):
            add(f"oracles.{o.name}.{f}", f.replace("_", " "), f"oracle {o.name}", "number")
    for p in m.protocols:
        g = f"protocol {p.name}"
        if p.kind != "aave_v3":
            continue
        if p.incentive == "fixed":
            add(f"protocols.{p.name}.close_factor_rule", "close-factor rule", g, "choice", ["v3.3", "v3.2", "fixed"])
            add(f"protocols.{p.name}.close_factor", "close factor", g, "number")
        for a in p.params:
            ga = f"{g} · {a}"
            for f, lab in (("ltv", "LTV"), ("liquidation_threshold", "liquidation threshold"),
                           ("liquidation_bonus", "liquidation bonus"), ("protocol_fee", "protocol fee")):
                add(f"protocols.{p.name}.params.{a}.{f}", lab, ga, "number")
    add("liquidators.mode", "liquidators", "liquidators", "choice", ["mechanical", "rational"])
    add("liquidators.gas_cost", "gas cost per liquidation", "liquidators", "number")
    add("liquidators.max_per_step", "max liquidations per step (0 = no limit)", "liquidators", "integer")
    add("arbitrage.enabled", "arbitrage between venues", "arbitrage", "bool")
    add("arbitrage.threshold", "arbitrage threshold", "arbitrage", "number")
    add("arbitrage.to_reference", "venues recover toward the reference price", "arbitrage", "bool")
    return out


def coerce(field: dict, value):
    """A form value as the type of its field where it parses; otherwise the raw value, so the
    pydantic models give their own message."""
    typ = field["type"]
    if typ == "bool":
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        return value
    if typ in ("number", "integer") and isinstance(value, str):
        text = value.strip().replace("_", "")
        try:
            return int(text) if typ == "integer" and text.lstrip("+-").isdigit() else float(text)
        except ValueError:
            return value
    if typ == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def scenario_view(sid: str, s: Scenario, origin: str) -> dict:
    m = s.model
    c = s.compile()
    b = c.book
    n_units = sum(u.n for u in c.units)
    return {
        "id": sid, "name": m.name, "description": m.description, "origin": origin,
        "protocols": [{"name": p.name, "kind": p.kind} for p in m.protocols],
        "assets": [a.name for a in m.assets],
        "positions": int(b.n + b.idle_coll.shape[0] + b.n_multi + n_units),
        "steps": m.simulation.steps, "paths": m.simulation.paths, "seed": m.simulation.seed,
        "has_curve": any(p.kind == "aave_v3" for p in m.protocols),
        "hash": s.hash,
        "fields": form_fields(s),
    }
