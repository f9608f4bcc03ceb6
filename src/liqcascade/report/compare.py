"""Figures and the self-contained HTML report of ``liqcascade compare``.

- :func:`compare_figure`: one bar panel per metric, one bar per configuration at the mean over
  paths, error bars at the 95 % confidence interval (trace names: the configuration labels);
- :func:`paths_figure`: the venue spot of the primary asset on recorded path 0 under each
  configuration, with the reference path;
- :func:`write_compare_report`: one HTML file (plotly.js inline, no network) with the metric
  table, the paired differences to ``none``, both figures, the configurations' parameters and
  the notes. Pieces (CSS, sections, figure embedding) are those of :mod:`liqcascade.report.html`.

``res`` is a :class:`liqcascade.engine.compare.CompareResult`. plotly is imported inside.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..kernels import dynamic as K
from . import figures as F
from . import html as H

FIG_COMPARE = "fig-compare"
FIG_PATHS = "fig-compare-paths"

#: metric panels of the figure (key, title); the rest are in the tables only
FIGURE_METRICS = (
    ("bad_debt", "bad debt"), ("liquidated_value", "liquidated value"), ("max_drawdown", "max drawdown"),
    ("borrower_loss", "borrower losses"), ("liquidator_profit", "liquidator profit"),
    ("attacker_profit", "attacker profit"), ("fund_draw", "insurance-fund draw"),
    ("time_to_recovery", "time to recovery (min)"), ("positions_saved", "positions saved"),
)

_CONFIG_COLORS = ("#7f7f7f", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                  "#17becf", "#bcbd22", "#ff7f0e", "#393b79", "#637939", "#8c6d31", "#843c39")


def _scale(key: str) -> float:
    return 1 / 60 if key == "time_to_recovery" else 1.0


#: money metrics (USD axes)
_MONEY = {"bad_debt", "liquidated_value", "borrower_loss", "liquidator_profit", "attacker_profit", "fund_draw"}


def _all_zero(res, key: str) -> bool:
    """The metric is 0 (or undefined) in every configuration: nothing to plot."""
    for c in res.configs:
        st = c.stats[key]
        for k in ("mean", "ci_lo", "ci_hi"):
            v = st.get(k)
            if v is not None and math.isfinite(v) and v != 0:
                return False
    return True


def figure_metrics(res) -> tuple[list, list]:
    """``(shown, hidden)`` metric panels: a panel that is 0 in every configuration (attacker
    profit without an attacker agent, a fund draw without a fund) is left out and named in the
    caption; bad debt is always shown."""
    shown, hidden = [], []
    for key, title in FIGURE_METRICS:
        (hidden if key != "bad_debt" and _all_zero(res, key) else shown).append((key, title))
    return shown, hidden


def compare_figure(res):
    """Bars of the mean of each metric per configuration, error bars at the 95 % CI (metrics
    that are 0 everywhere are left out, see :func:`figure_metrics`)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    metrics, _ = figure_metrics(res)
    ncol = 3
    nrow = math.ceil(len(metrics) / ncol)
    fig = make_subplots(rows=nrow, cols=ncol, subplot_titles=[t + (" (USD)" if k in _MONEY else "") for k, t in metrics],
                        vertical_spacing=0.13, horizontal_spacing=0.07)
    labels = [c.label for c in res.configs]
    for j, c in enumerate(res.configs):
        color = _CONFIG_COLORS[j % len(_CONFIG_COLORS)]
        for i, (key, title) in enumerate(metrics):
            st = c.stats[key]
            s = _scale(key)
            mean = st["mean"] * s if math.isfinite(st["mean"]) else None
            hi = (st["ci_hi"] - st["mean"]) * s if math.isfinite(st["ci_hi"]) else None
            lo = (st["mean"] - st["ci_lo"]) * s if math.isfinite(st["ci_lo"]) else None
            fig.add_trace(go.Bar(
                x=[c.label], y=[mean], name=c.label, legendgroup=c.label, showlegend=(i == 0),
                marker_color=color,
                error_y=dict(type="data", symmetric=False, array=[hi], arrayminus=[lo],
                             visible=hi is not None, color="#333"),
                hovertemplate=f"{title}: {'$' if key in _MONEY else ''}%{{y:,.4g}}<extra>{c.label}</extra>",
            ), row=i // ncol + 1, col=i % ncol + 1)
            if key == "max_drawdown":
                fig.update_yaxes(tickformat=".0%", row=i // ncol + 1, col=i % ncol + 1)
            elif key in _MONEY:
                fig.update_yaxes(tickprefix="$", tickformat=",.3~s", row=i // ncol + 1, col=i % ncol + 1)
    fig.update_xaxes(categoryorder="array", categoryarray=labels, showticklabels=False)
    ci = "95% CI" if res.paths > 1 else "one path: no CI"
    F._layout(fig, f"Mechanisms compared — {res.scenario} ({res.paths} path(s), mean ± {ci})",
              max(520, 150 + 300 * nrow), hovermode="closest", barmode="group")
    return fig


def paths_figure(res):
    """Venue spot of the primary asset on recorded path 0 under each configuration."""
    import plotly.graph_objects as go

    a = res.configs[0].run.assets.index(res.asset)
    fig = go.Figure()
    first = res.configs[0].run
    if first.steps_asset.shape[0] == 0:
        return F._empty(go, "Prices", "no recorded path")
    t = np.arange(first.steps + 1)
    fig.add_trace(go.Scatter(x=t, y=first.steps_asset[0, :, a, K.ST_REF], name="reference", mode="lines",
                             line=dict(color=F.C_REF, dash="dash", width=2)))
    for j, c in enumerate(res.configs):
        fig.add_trace(go.Scatter(x=t, y=c.run.steps_asset[0, :, a, K.ST_SPOT], name=c.label, mode="lines",
                                 line=dict(color=_CONFIG_COLORS[j % len(_CONFIG_COLORS)], width=2)))
    fig.update_xaxes(title_text=f"step ({res.dt_seconds:g} s)")
    fig.update_yaxes(title_text=f"{res.asset} venue price")
    F._layout(fig, f"{res.asset} venue price on path 0 under each configuration", 480)
    return fig


def compact(v, unit: str) -> str:
    """Short terminal form of a metric value: 1.29M, 831k, 17.7%, 35.1 min."""
    if v is None or not math.isfinite(v):
        return "—"
    if unit == "fraction":
        return f"{v:.1%}"
    if unit == "seconds":
        return f"{v / 60:,.1f} min"
    if unit in ("count", "steps"):
        return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"
    a = abs(v)
    for lim, suf in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= lim:
            return f"{v / lim:,.3g}{suf}" if a < 1000 * lim else f"{v / lim:,.0f}{suf}"
    return "0" if v == 0 else f"{v:.3g}"


def compact_ci(st: dict, unit: str, sep: str = "\n") -> str:
    """``mean``, ``sep``, ``± half-width`` (two lines by default), or the mean alone without a CI."""
    m = compact(st["mean"], unit)
    lo, hi = st.get("ci_lo"), st.get("ci_hi")
    if m == "—" or lo is None or hi is None or not math.isfinite(hi):
        return m
    return f"{m}{sep}±{compact((hi - lo) / 2, unit)}"


def _metric_table(res, diff: bool) -> str:
    from ..engine.compare import METRICS

    cfgs = [c for c in res.configs if not (diff and c.label == "none")]
    head = "<th>metric</th>" + "".join(f'<th class="num">{H._e(c.label)}</th>' for c in cfgs)
    rows = []
    for key, label, unit in METRICS:
        if diff and key == "positions_saved":
            continue
        cells = "".join(f'<td class="num">{H._e(compact_ci((c.diff if diff else c.stats)[key], unit, " "))}</td>'
                        for c in cfgs)
        rows.append(f'<tr data-key="{H._e(key)}"><td>{H._e(label)}</td>{cells}</tr>')
    return (f'<div class="scroll"><table class="compare"><thead><tr>{head}</tr></thead><tbody>'
            + "".join(rows) + "</tbody></table></div>")


def _params_list(res) -> str:
    items = []
    for c in res.configs:
        if not c.mechanisms:
            items.append(f"<li><b>{H._e(c.label)}</b>: no mechanism</li>")
            continue
        parts = []
        for name, prm in c.mechanisms.items():
            kv = ", ".join(f"{k} = {json.dumps(v)}" for k, v in prm.items() if v is not None)
            parts.append(f"<code>{H._e(name.replace('_', '-'))}</code> ({H._e(kv)})")
        items.append(f"<li><b>{H._e(c.label)}</b>: " + "; ".join(parts) + "</li>")
    return "<ul>" + "".join(items) + "</ul>"


def render_compare_report(res, title: str | None = None, generated: datetime | None = None) -> str:
    from plotly.offline import get_plotlyjs

    title = title or f"liqcascade — mechanisms compared on {res.scenario}"
    generated = generated or datetime.now(timezone.utc)
    ci = ("Cells: mean over paths ± half-width of the 95% confidence interval (normal approximation, "
          "sample standard deviation)." if res.paths > 1 else "One path: means only, no confidence interval.")
    sections = [
        H._section("Metrics per configuration", _metric_table(res, diff=False), ci),
        H._section("Paired difference to none", _metric_table(res, diff=True),
                   "Per path: configuration minus none on the same price path, then mean ± 95% CI."),
        H._section("Metrics", H._fig_placeholder(FIG_COMPARE), _hidden_caption(res)),
        H._section("Prices", H._fig_placeholder(FIG_PATHS)),
        H._section("Configurations", _params_list(res)),
        H._section("Notes", H._ul(res.notes + [n for n in res.configs[-1].run.notes if n not in res.notes])),
    ]
    body = "\n".join(sections)
    body = body.replace(H._fig_placeholder(FIG_COMPARE), H._fig_html(compare_figure(res), FIG_COMPARE), 1)
    body = body.replace(H._fig_placeholder(FIG_PATHS), H._fig_html(paths_figure(res), FIG_PATHS), 1)
    meta = [("scenario", res.scenario), ("paths", f"{res.paths:,}"), ("steps", f"{res.steps:,}"),
            ("step", f"{res.dt_seconds:g} s"), ("seed", str(res.seed)), ("asset", res.asset),
            ("date", generated.strftime("%Y-%m-%d %H:%M UTC"))]
    items = "".join(f'<div><dt>{H._e(k)}</dt><dd data-key="{H._e(k)}">{H._e(v)}</dd></div>' for k, v in meta)
    header = f'<header><h1>{H._e(title)}</h1><dl class="meta">{items}</dl></header>'
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{H._e(title)}</title>", f"<style>{H._CSS}</style>",
        '<script type="text/javascript">window.PlotlyConfig = {MathJaxConfig: "local"};</script>',
        f'<script type="text/javascript">{get_plotlyjs()}</script>', "</head>", "<body>", header, "<main>", body,
        f"<footer>generated by liqcascade on {H._e(generated.strftime('%Y-%m-%d %H:%M UTC'))}</footer>",
        "</main>", "</body>", "</html>", "",
    ])


def _hidden_caption(res) -> str | None:
    _, hidden = figure_metrics(res)
    if not hidden:
        return None
    return ("Not plotted, 0 in every configuration: " + ", ".join(t for _, t in hidden)
            + " (the tables above list them).")


def write_compare_report(path, res, title: str | None = None) -> Path:
    """Write the report atomically; return its path."""
    from ..atomic import write_text_atomic

    return write_text_atomic(path, render_compare_report(res, title))
