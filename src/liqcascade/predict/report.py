"""The evaluation run behind ``liqcascade warn evaluate``: simulation splits, real data, crash
days — written as ``evaluation.json``, ``tables.md`` (the tables of ``docs/predict.md``),
``report.html`` (reliability plots, lead times, crash-day panels) and the trained models."""

from __future__ import annotations

import math
import platform
import time
from pathlib import Path

import numpy as np

from .. import jsonout
from ..jsonout import scalars
from .evaluate import N_BOOT

__all__ = ["run_evaluation", "render_tables", "write_html", "replace_block", "BEGIN", "END"]

BEGIN = "<!-- BEGIN warn evaluate -->"
END = "<!-- END warn evaluate -->"


def replace_block(path, text: str, *, dry_run: bool = False) -> None:
    """Put ``text`` between the :data:`BEGIN` and :data:`END` markers of a Markdown file."""
    from ..atomic import write_text_atomic
    from ..errors import InputError

    p = Path(path)
    if not p.is_file():
        raise InputError(str(p), "--docs", "file not found")
    doc = p.read_text(encoding="utf-8")
    i, j = doc.find(BEGIN), doc.find(END)
    if i < 0 or j < i:
        raise InputError(str(p), "--docs", f"needs the markers {BEGIN} and {END}, in that order")
    if not dry_run:
        write_text_atomic(p, doc[: i + len(BEGIN)] + "\n" + text.rstrip("\n") + "\n" + doc[j:])


def _f(v, digits=3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    return f"{v:.{digits}f}"


def _ci(v, ci, digits=3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    lo, hi = ci if ci else (math.nan, math.nan)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return _f(v, digits)
    return f"{v:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def _lead(r) -> tuple[str, str]:
    L = r.get("lead")
    if not L:
        return "", ""
    det = f"{L['detected']}/{L['cascades']}"
    if L["detected"]:
        med = f"{L['lead_median_s'] / 60:.0f} [{L['lead_q25_s'] / 60:.0f}, {L['lead_q75_s'] / 60:.0f}]"
    else:
        med = "–"
    return det, med


def render_tables(ev: dict) -> str:
    """Markdown tables of an evaluation result (``evaluation.json``)."""
    out = []
    meta = ev["meta"]
    out.append(f"Produced by `{meta['command']}` — liqcascade {meta['version']}, seed {meta['seed']}, "
               f"{meta['bootstrap']} bootstrap resamples, {meta['cpu']}, {meta['seconds']:.0f} s.")
    sim = ev.get("simulation")
    if sim:
        lab = sim["label"]
        out.append("")
        out.append(f"**Simulation** — {sim['samples']:,} samples from {sim['paths']:,} paths of {sim['scenarios']} "
                   f"scenarios in {len(sim['families'])} families ({', '.join(sim['families'])}); label: liquidated "
                   f"≥ {lab['liq_share']:.0%} of the book's collateral and an endogenous drop ≥ {lab['endo_drop']:.0%} "
                   f"within {lab['horizon_s'] / 60:g} min; base rate {sim['base_rate']:.2%}; "
                   f"{sim['cascade_paths']} of {sim['paths']} paths have a cascade.")
        for sname, sp in sim["splits"].items():
            if "skipped" in sp:
                out.append("")
                out.append(f"*Split `{sname}`* — skipped: {sp['skipped']}.")
                continue
            tr, te = sp["train"], sp["test"]
            out.append("")
            out.append(f"*Split `{sname}`* — train {tr['n']:,} samples ({tr['scenarios']} scenarios, {tr['positives']} "
                       f"positive; {', '.join(tr['families'])}), test {te['n']:,} ({te['scenarios']} scenarios, "
                       f"{te['positives']} positive; {', '.join(te['families'])}).")
            out.append("")
            out.append("| model | AUC [95 % CI] | Brier [95 % CI] | Brier, base rate | false alarms | hits | "
                       "cascades alarmed | lead, min: median [IQR] | cascade-free paths with an alarm |")
            out.append("|---|---|---|---|---|---|---|---|---|")
            for m, r in sp["models"].items():
                det, med = _lead(r)
                L = r["lead"]
                out.append(f"| {m} | {_ci(r['auc'], r['auc_ci'])} | {_ci(r['brier'], r['brier_ci'], 4)} | "
                           f"{_f(r['brier_base_rate'], 4)} | {_f(r['false_alarm_rate'])} | {_f(r['hit_rate'])} | {det} | "
                           f"{med} | {L['clean_paths_with_alarm']}/{L['clean_paths']} |")
        rel = sim["splits"].get("scenario", {}).get("models", {})
        if rel:
            out.append("")
            out.append("*Reliability, split `scenario`* (equal-count bins of the calibrated probability: mean "
                       "prediction → observed frequency):")
            out.append("")
            out.append("| model | " + " | ".join(f"bin {i + 1}" for i in range(10)) + " |")
            out.append("|---|" + "---|" * 10)
            for m in ("logistic", "gradient boosting"):
                if m in rel:
                    cells = [f"{b['mean_p']:.3f} → {b['freq']:.3f}" for b in rel[m]["reliability"]]
                    out.append(f"| {m} | " + " | ".join(cells) + " |")
    for key in ("riskdao", "perp_daily"):
        r = ev.get("real", {}).get(key)
        if not r:
            continue
        out.append("")
        if "skipped" in r:
            out.append(f"**{r['name']}** — skipped: {r['skipped']}")
            continue
        out.append(f"**{r['name']}** — label: {r['label']}. Train {r['train']['from']} → {r['train']['to']} "
                   f"({r['train']['n']:,} samples, {r['train']['positives']} positive); test {r['test']['from']} → "
                   f"{r['test']['to']} ({r['test']['n']:,} samples, {r['test']['positives']} positive).")
        out.append("")
        out.append("| model | AUC [95 % CI] | Brier [95 % CI] | Brier, base rate | false alarms | hits |")
        out.append("|---|---|---|---|---|---|")
        for m, x in r["models"].items():
            out.append(f"| {m} | {_ci(x['auc'], x['auc_ci'])} | {_ci(x['brier'], x['brier_ci'], 4)} | "
                       f"{_f(x['brier_base_rate'], 4)} | {_f(x['false_alarm_rate'])} | {_f(x['hit_rate'])} |")
        out.append("")
        out.append("Not available in these data: " + ", ".join(f"`{n}`" for n in r["not_available"]) + ".")
    panels = ev.get("real", {}).get("crash_days")
    if panels:
        out.append("")
        out.append("**Crash days** — score over time in `report.html`; times are bar *close* times (UTC), when the "
                   "score is known; alarm = calibrated probability ≥ the model's training threshold.")
        out.append("")
        out.append("| day | first alarm | bar of the price low | liquidation peak | alarm lead to peak, min | "
                   "alarm lead to low, min | highest score | threshold |")
        out.append("|---|---|---|---|---|---|---|---|")
        for p in panels:
            out.append(f"| {p['name']} | {p['first_alarm'] or 'none'} | {p['price_low']} | "
                       f"{p.get('liquidation_peak') or '–'} | {_f(p.get('lead_to_peak_min'), 0)} | "
                       f"{_f(p.get('lead_to_low_min'), 0)} | {_f(p['max_score'])} | {_f(p['threshold'])} |")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------
# HTML


def _zoom(fig, rels) -> None:
    """Both axes from 0 to a little above the largest bin (rare events sit near 0)."""
    top = max([max(b["mean_p"], b["freq"]) for rel in rels for b in rel] or [1.0])
    top = min(1.0, max(top * 1.1, 0.01))
    fig.update_xaxes(range=[0, top])
    fig.update_yaxes(range=[0, top])


def _md_html(md: str) -> str:
    """The tables of :func:`render_tables` as HTML (pipe tables → <table>, the rest paragraphs)."""
    import html as _html
    import re

    def inline(t):
        parts = t.split("`")
        for i, p in enumerate(parts):
            p = _html.escape(p)
            if i % 2:
                parts[i] = f"<code>{p}</code>"
            else:
                p = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", p)
                parts[i] = re.sub(r"\*(.+?)\*", r"<i>\1</i>", p)
        return "".join(parts)

    out, rows = [], []

    def flush():
        if rows:
            head, body = rows[0], [r for r in rows[1:] if not set(r.replace("|", "").strip()) <= set("-: ")]
            cells = lambda r: [c.strip() for c in r.strip().strip("|").split("|")]  # noqa: E731
            out.append("<table><tr>" + "".join(f"<th>{inline(c)}</th>" for c in cells(head)) + "</tr>"
                       + "".join("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in cells(r)) + "</tr>" for r in body)
                       + "</table>")
            rows.clear()
    for line in md.splitlines():
        if line.startswith("|"):
            rows.append(line)
            continue
        flush()
        if line.strip():
            out.append(f"<p>{inline(line)}</p>")
    flush()
    return "".join(out)


def _figures(ev: dict) -> list:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    figs = []
    sim = ev.get("simulation")
    if sim:
        for sname, sp in sim["splits"].items():
            if "skipped" in sp:
                continue
            fig = go.Figure()
            fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect", line={"dash": "dash", "color": "gray"}))
            for m, r in sp["models"].items():
                rel = r["reliability"]
                fig.add_trace(go.Scatter(x=[b["mean_p"] for b in rel], y=[b["freq"] for b in rel], mode="lines+markers",
                                         name=m, text=[f"n={b['n']}" for b in rel]))
            fig.update_layout(title=f"Reliability — simulation split '{sname}' (test side)", template="plotly_white",
                              height=420, xaxis_title="predicted probability (bin mean)", yaxis_title="observed frequency")
            _zoom(fig, [r["reliability"] for r in sp["models"].values()])
            figs.append(fig)
            fig = go.Figure()
            for m, r in sp["models"].items():
                lt = [x / 60 for x in r["lead"]["lead_s"]]
                fig.add_trace(go.Histogram(x=lt, name=m, opacity=0.6, xbins={"size": 5}))
            fig.update_layout(barmode="overlay", title=f"Lead time of alarmed cascades — split '{sname}'",
                              template="plotly_white", height=360, xaxis_title="minutes before onset", yaxis_title="cascades")
            figs.append(fig)
    for key in ("riskdao", "perp_daily"):
        r = ev.get("real", {}).get(key)
        if not r or "skipped" in r:
            continue
        fig = go.Figure()
        fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect", line={"dash": "dash", "color": "gray"}))
        for m, x in r["models"].items():
            rel = x["reliability"]
            fig.add_trace(go.Scatter(x=[b["mean_p"] for b in rel], y=[b["freq"] for b in rel], mode="lines+markers", name=m))
        fig.update_layout(title=f"Reliability — {r['name']} (test period)", template="plotly_white", height=420,
                          xaxis_title="predicted probability (bin mean)", yaxis_title="observed frequency")
        _zoom(fig, [x["reliability"] for x in r["models"].values()])
        figs.append(fig)
    import datetime as _dt

    for p in ev.get("real", {}).get("crash_days", []):
        t = [_dt.datetime.fromtimestamp(x, _dt.timezone.utc) for x in p["time_s"]]
        fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.6, 0.4],
                            specs=[[{"secondary_y": True}], [{"secondary_y": False}]])
        fig.add_trace(go.Scatter(x=t, y=p["price"], name="price", line={"color": "#1f77b4"}), row=1, col=1)
        if p.get("liquidations"):
            fig.add_trace(go.Bar(x=t, y=p["liquidations"], name=p["liquidations_label"] or "liquidations",
                                 marker_color="#d62728", opacity=0.5), row=1, col=1, secondary_y=True)
        if p.get("ask_depth_1pct"):
            fig.add_trace(go.Scatter(x=t, y=p["ask_depth_1pct"], name="ask depth within 1 % (USD)",
                                     line={"color": "#7f7f7f", "dash": "dot"}), row=1, col=1, secondary_y=True)
        fig.add_trace(go.Scatter(x=t, y=p["score"], name="calibrated probability", line={"color": "#2ca02c"}), row=2, col=1)
        fig.add_hline(y=p["threshold"], line_dash="dash", line_color="gray", row=2, col=1)
        fig.update_layout(title=p["name"], template="plotly_white", height=460)
        figs.append(fig)
    return figs


def write_html(path, ev: dict, tables_md: str) -> Path:
    from ..atomic import write_text_atomic

    parts = []
    for i, fig in enumerate(_figures(ev)):
        parts.append(fig.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False,
                                 config={"displaylogo": False}))
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>liqcascade early warning — evaluation</title>"
            "<style>body{font-family:sans-serif;max-width:1300px;margin:2em auto;font-size:14px}"
            "table{border-collapse:collapse;margin:0.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;"
            "font-size:12px}</style></head><body>"
            "<h1>Early warning — evaluation</h1>" + _md_html(tables_md) + "".join(parts) + "</body></html>")
    return write_text_atomic(Path(path), page)


# --------------------------------------------------------------------------------------------
# the run


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                import os

                return f"{line.split(':', 1)[1].strip()} ({os.cpu_count()} cores)"
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _thr(m) -> float:
    t = m.meta.get("alarm_threshold")
    return math.inf if t is None else float(t)


def run_evaluation(out_dir, *, families=None, scale: float = 1.0, data_dir=None, seed: int = 0, n_boot: int = N_BOOT,
                   real: bool = True, command: str = "liqcascade warn evaluate", progress=None) -> dict:
    """Simulate, evaluate, train the final models and score the real data (module docstring).
    ``progress(stage, k, total)`` reports steps."""
    from .. import __version__
    from .evaluate import evaluate_simulation, sim_models, threshold_of
    from .evaluate import finite_or_none as _finite
    from .family import default_families
    from .features import MARKET
    from .models import fit_model
    from .simulate import SIM_FEATURES, simulate_family_file

    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ff = families or default_families(scale)
    ff.seed = seed if families is None else ff.seed
    n_sc = sum(f.scenarios for f in ff.families)
    say = progress or (lambda *a: None)
    say("simulating scenarios", 0, n_sc)
    k = [0]

    def tick(n):
        k[0] += n
        say("simulating scenarios", k[0], n_sc)
    ds = simulate_family_file(ff, progress=tick)
    n_models = len(sim_models())
    say("evaluating splits", 0, 3 * n_models)
    k2 = [0]

    def tick2(n):
        k2[0] += n
        say("evaluating splits", k2[0], 3 * n_models)
    sim_ev = evaluate_simulation(ds, seed=seed, n_boot=n_boot, progress=tick2)
    say("training final models", 0, 3)
    meta_m = {"trained_on": "simulation", "families": [f.name for f in ff.families], "samples": len(ds),
              "label": ds.meta["label"], "feature_config": ds.meta["feature_config"], "seed": ff.seed,
              "version": __version__, "command": command}
    models = {}
    for name, kind, feats in (("sim_logistic", "logistic", SIM_FEATURES), ("sim_market_logistic", "logistic", list(MARKET)),
                              ("sim_hgb", "hgb", SIM_FEATURES)):
        m = fit_model(kind, ds.columns(feats), ds.y, feats, ds.scenario, seed=seed, meta=dict(meta_m))
        m.meta["alarm_threshold"] = _finite(threshold_of(m, ds.y))
        m.save(out / f"{name}.{'json' if kind == 'logistic' else 'skops'}")
        models[name] = m
        say("training final models", len(models), 3)
    sim = {"samples": len(ds), "paths": len(ds.onset), "scenarios": int(np.unique(ds.scenario).size),
           "families": [f.name for f in ff.families], "label": ds.meta["label"], "base_rate": float(ds.y.mean()),
           "cascade_paths": int(sum(v >= 0 for v in ds.onset.values())), "splits": sim_ev["splits"],
           "models": sim_ev["models"], "garch": ds.meta["feature_config"]["garch"]}
    ev = {"meta": {}, "simulation": sim, "real": {}}
    if real:
        from . import realdata as R

        dd = Path(data_dir) if data_dir is not None else R.data_dir_default()
        sm = models["sim_market_logistic"]
        rctx = pctx = None
        say("real data", 0, 3)
        miss = R.missing(dd, "riskdao")
        if miss:
            ev["real"]["riskdao"] = {"name": "Binance ETH/USDT, January 2021", "skipped": f"{dd}/{miss[0]} not found"}
        else:
            ev["real"]["riskdao"], rctx = R.riskdao_evidence(dd, sim_market=(sm, _thr(sm)), seed=seed,
                                                             n_boot=n_boot)
        say("real data", 1, 3)
        miss = R.missing(dd, "perp")
        if miss:
            ev["real"]["perp_daily"] = {"name": "Perp venues, daily liquidations", "skipped": f"{dd}/{miss[0]} not found"}
        else:
            ev["real"]["perp_daily"], pctx = R.perp_daily_evidence(dd, seed=seed, n_boot=n_boot)
        say("real data", 2, 3)
        ev["real"]["crash_days"] = R.crash_panels(dd, sim_market=(sm, _thr(sm)), riskdao_ctx=rctx,
                                                  perp_ctx=pctx)
        say("real data", 3, 3)
    ev["meta"] = {"command": command, "version": __version__, "seed": seed, "bootstrap": n_boot, "scale": scale,
                  "cpu": _cpu(), "seconds": time.perf_counter() - t0, "schema_version": 1}
    ev = scalars(ev)
    from ..atomic import write_text_atomic

    write_text_atomic(out / "evaluation.json", jsonout.dumps(ev, indent=1) + "\n")  # strict JSON: no NaN
    md = render_tables(ev)
    write_text_atomic(out / "tables.md", md)
    write_html(out / "report.html", ev, md)
    return ev
