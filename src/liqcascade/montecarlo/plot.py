"""Distribution plot of a Monte Carlo run: bad debt and liquidated value per parameter point.

plotly is imported inside the functions; the HTML file embeds plotly.js (no network needed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

MAX_POINTS = 12


COLUMNS = (("bad_debt", "var95", "bad debt"), ("liquidated_value", "lar95", "liquidated value"))


def distribution_figure(store, run_id: str, points: list[dict], title: str | None = None,
                        scenario: str | None = None):
    """Histograms of per-path bad debt and liquidated value, one trace per point (the first
    ``MAX_POINTS`` valid points), with each point's VaR / LaR as a dashed line. A point is named
    by its parameters (the scenario's name when the run varies none); a quantity that is 0 on
    every path of every point is a short note instead of a histogram of one bar at 0."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from .runner import load_point

    fig = make_subplots(rows=1, cols=2, subplot_titles=("bad debt per path (USD)", "liquidated value per path (USD)"))
    shown = [p for p in points if p.get("status") == "ok"][:MAX_POINTS]
    data = []
    for p in shown:
        cols = load_point(store, run_id, p["point_id"], columns=["bad_debt", "liquidated_value"])
        if cols:
            data.append((p, cols))
    n_paths = sum(len(c["bad_debt"]) for _, c in data)
    for j, (col, key, what) in enumerate(COLUMNS, start=1):
        if data and all(not np.any(np.asarray(c[col]) != 0) for _, c in data):
            who = scenario or "this run"
            fig.add_annotation(text=f"no {what} on any of the {n_paths:,} paths of {who}", showarrow=False,
                               xref="x domain" if j == 1 else "x2 domain", yref="y domain" if j == 1 else "y2 domain",
                               x=0.5, y=0.5, font=dict(size=14, color="#555"))
            fig.update_xaxes(visible=False, row=1, col=j)
            fig.update_yaxes(visible=False, row=1, col=j)
            continue
        for p, cols in data:
            label = ", ".join(f"{k.rsplit('.', 1)[-1]}={v:g}" for k, v in p["params"].items()) or scenario or "all paths"
            fig.add_trace(go.Histogram(x=cols[col], name=label, legendgroup=label, showlegend=True,
                                       opacity=0.6, nbinsx=60), row=1, col=j)
            m = p.get("metrics") or {}
            if m.get(key) is not None and np.isfinite(m[key]):
                fig.add_vline(x=m[key], line_dash="dash", line_width=1, row=1, col=j)
        fig.update_xaxes(title_text="USD", tickprefix="$", row=1, col=j)
        fig.update_yaxes(title_text="paths", row=1, col=j)
    # one legend entry per point (the histograms of both panels share it)
    seen = set()
    for tr in fig.data:
        tr.showlegend = tr.name not in seen
        seen.add(tr.name)
    fig.update_layout(barmode="overlay", template="plotly_white", height=480,
                      title=title or f"{scenario or 'run'} ({run_id}): distributions over paths (dashed: 95th percentile)")
    return fig


def write_distribution_html(path, store, run_id: str, points: list[dict], title: str | None = None,
                            scenario: str | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = distribution_figure(store, run_id, points, title, scenario=scenario)
    tmp = path.with_name(f".{path.name}.tmp")
    fig.write_html(str(tmp), include_plotlyjs=True, full_html=True)
    tmp.replace(path)
    return path
