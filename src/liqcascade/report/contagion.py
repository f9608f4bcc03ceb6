"""The contagion report (``liqcascade contagion --report F.html``): a directed network of who
transmits bad debt to whom, heatmaps of the matrix, and a timeline of which protocol's sales
moved each venue. plotly and networkx are imported inside the functions (extra ``network``)."""

from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np

_CONFIG = {"displaylogo": False, "responsive": True}


def _fmt(x: float) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    if abs(x) >= 1e6:
        return f"{x / 1e6:,.2f}M"
    if abs(x) >= 1e3:
        return f"{x / 1e3:,.1f}k"
    return f"{x:,.2f}"


def network_figure(res, metric: str = "bad_debt"):
    """Protocols as nodes (size: baseline ``metric``), an arrow A → B for each ``C[A, B] > 0``
    with width proportional to the mean effect, self-effects as the node's ring and label. Layout:
    networkx's circular layout up to eight protocols (every arrow visible), its seeded spring
    layout beyond (reproducible)."""
    import networkx as nx
    import plotly.graph_objects as go

    names = res.protocols
    mat = res.matrix(metric)["mean"]
    base = res.baseline(metric)
    g = nx.DiGraph()
    g.add_nodes_from(names)
    for a, na in enumerate(names):
        for b, nb in enumerate(names):
            if a != b and mat[a, b] > 0:
                g.add_edge(na, nb, weight=float(mat[a, b]))
    pos = nx.circular_layout(g) if len(names) <= 8 else nx.spring_layout(g, seed=1, weight=None)
    top = max([float(mat[a, b]) for a in range(len(names)) for b in range(len(names)) if a != b and mat[a, b] > 0]
              + [1e-300])
    fig = go.Figure()
    annotations = []
    for na, nb, d in g.edges(data=True):
        x0, y0 = pos[na]
        x1, y1 = pos[nb]
        w = 1.0 + 11.0 * d["weight"] / top
        annotations.append(dict(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y", showarrow=True,
                                arrowhead=3, arrowsize=0.6, arrowwidth=w, arrowcolor="rgba(200,60,40,0.75)",
                                standoff=22, startstandoff=22))
        fig.add_trace(go.Scatter(x=[(x0 + x1) / 2], y=[(y0 + y1) / 2], mode="text",
                                 text=[f"{na} → {nb}: {_fmt(d['weight'])}"], textposition="top center",
                                 hoverinfo="text", showlegend=False, name=f"{na} → {nb}"))
    diag = [float(mat[k, k]) for k in range(len(names))]
    dmax = max([d for d in diag if d > 0] + [top])
    bmax = max([float(x) for x in base] + [1e-300])
    fig.add_trace(go.Scatter(
        x=[pos[n][0] for n in names], y=[pos[n][1] for n in names], mode="markers+text", name="protocols",
        text=[f"<b>{n}</b><br>self: {_fmt(d)}" for n, d in zip(names, diag)], textposition="bottom center",
        marker=dict(size=[24 + 36 * math.sqrt(max(float(x), 0.0) / bmax) for x in base], color="#2f6db5",
                    line=dict(width=[1 + 6 * max(d, 0.0) / dmax for d in diag], color="#c83c28")),
        hovertext=[f"{n}: baseline {_fmt(float(b))}, self-inflicted {_fmt(d)}" for n, b, d in zip(names, base, diag)],
        hoverinfo="text"))
    label = metric.replace("_", " ")
    fig.update_layout(title=f"who transmits {label} to whom (edge width = mean {label} caused, A → B)",
                      annotations=annotations, xaxis=dict(visible=False, range=[-1.6, 1.6]),
                      yaxis=dict(visible=False, scaleanchor="x", range=[-1.4, 1.4]),
                      height=520, margin=dict(l=20, r=20, t=60, b=20), plot_bgcolor="white")
    return fig


def heatmap_figure(res):
    """One heatmap per metric: rows A (whose sales), columns B (who is hit), mean effect with its
    95 % interval in the hover and the cell text."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from ..engine.contagion import METRIC_LABEL, METRICS

    names = res.protocols
    fig = make_subplots(rows=1, cols=len(METRICS), subplot_titles=[METRIC_LABEL[m] for m in METRICS],
                        horizontal_spacing=0.08)
    for k, m in enumerate(METRICS):
        mt = res.matrix(m)
        mean, lo, hi = mt["mean"], mt["ci_lo"], mt["ci_hi"]
        text = [[_fmt(mean[a, b]) + ("" if not math.isfinite(lo[a, b]) else f"<br>[{_fmt(lo[a, b])}, {_fmt(hi[a, b])}]")
                 for b in range(len(names))] for a in range(len(names))]
        fig.add_trace(go.Heatmap(z=mean, x=[f"hit: {n}" for n in names], y=[f"sales of {n}" for n in names],
                                 text=text, texttemplate="%{text}", colorscale="Reds", showscale=False,
                                 hovertemplate="%{y} → %{x}<br>%{text}<extra>" + METRIC_LABEL[m] + "</extra>",
                                 name=METRIC_LABEL[m]), row=1, col=k + 1)
        fig.update_yaxes(autorange="reversed", row=1, col=k + 1)
    fig.update_layout(title="contagion matrix C[A, B] = B's outcome with A's sales − without (mean over paths, "
                            "95 % CI)", height=380 + 30 * len(names), margin=dict(l=20, r=20, t=80, b=20))
    return fig


def timeline_figure(res, path: int = 0):
    """Per venue, stacked bars: the price move each protocol's sales caused in each step (its
    Shapley share, quote per unit), path ``path`` of the baseline."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    tl = res.timeline(path)
    venues = list(tl) or ["(no sales)"]
    fig = make_subplots(rows=len(venues), cols=1, shared_xaxes=True, subplot_titles=venues, vertical_spacing=0.08)
    palette = ["#2f6db5", "#c83c28", "#3b9c4b", "#8e5bb5", "#d98b1c", "#555555", "#1aa3a3"]
    colors = {p: palette[k % len(palette)] for k, p in enumerate(sorted({p for v in tl.values() for p in v}))}
    minutes = np.arange(res.steps + 1) * res.dt_seconds / 60.0
    for r, v in enumerate(venues):
        for p, move in tl.get(v, {}).items():
            fig.add_trace(go.Bar(x=minutes, y=move, name=p, marker_color=colors[p], legendgroup=p,
                                 showlegend=r == 0, hovertemplate=f"{v}<br>{p}: %{{y:,.4f}} at minute %{{x}}"
                                                                  "<extra></extra>"), row=r + 1, col=1)
        fig.update_yaxes(title_text="price move", row=r + 1, col=1)
    fig.update_xaxes(title_text="minutes", row=len(venues), col=1)
    fig.update_layout(barmode="relative", title=f"which protocol's sales moved each venue (path {path}, Shapley "
                                                "split of each step's move)", height=280 * len(venues) + 120,
                      margin=dict(l=20, r=20, t=80, b=40))
    return fig


def write_contagion_report(path, res) -> Path:
    """A self-contained HTML page (plotly.js inline once), written atomically."""
    import plotly.io as pio

    from ..atomic import write_text_atomic
    from ..engine.contagion import METRIC_LABEL, METRICS

    figs = [network_figure(res), heatmap_figure(res), timeline_figure(res)]
    divs = [pio.to_html(f, full_html=False, include_plotlyjs=(k == 0), config=_CONFIG, div_id=f"contagion-{k}")
            for k, f in enumerate(figs)]
    rows = []
    for m in METRICS:
        mt = res.matrix(m)
        for a, na in enumerate(res.protocols):
            for b, nb in enumerate(res.protocols):
                ci = "–" if not math.isfinite(mt["ci_lo"][a, b]) else \
                    f"[{_fmt(mt['ci_lo'][a, b])}, {_fmt(mt['ci_hi'][a, b])}]"
                rows.append(f"<tr><td>{html.escape(METRIC_LABEL[m])}</td><td>{html.escape(na)}</td>"
                            f"<td>{html.escape(nb)}</td><td>{_fmt(mt['mean'][a, b])}</td><td>{ci}</td></tr>")
    prov = res.provenance
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in res.notes)
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>liqcascade — contagion — {html.escape(res.scenario)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;color:#222}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}
td:nth-child(-n+3){{text-align:left}}.meta{{color:#666;font-size:90%}}</style></head><body>
<h1>Contagion — {html.escape(res.scenario)}</h1>
<p class="meta">{res.paths} path(s) × {res.steps} steps, seed {res.seed}; package {html.escape(str(prov.get('package_version')))},
schema {html.escape(str(prov.get('schema_version')))}, scenario hash {html.escape(str(prov.get('scenario_hash', ''))[:16])}…</p>
<p>C[A, B] is protocol B's outcome in the baseline minus B's outcome when A's forced sales are absorbed
by an infinite-depth sink (they leave A's books but never reach a venue), on the same seeded price paths.
Intervals: mean ± 1.96·s/√n over paths (normal approximation; none for one path).</p>
{divs[0]}{divs[1]}{divs[2]}
<h2>The matrix</h2>
<table><tr><th>metric</th><th>sales of A</th><th>hit B</th><th>mean C[A, B]</th><th>95 % CI</th></tr>
{''.join(rows)}</table>
<h2>Notes</h2><ul>{notes}</ul>
</body></html>"""
    return write_text_atomic(path, page)
