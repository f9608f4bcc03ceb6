"""Distribution plot of a Monte Carlo run: bad debt and liquidated value per parameter point.

plotly is imported inside the functions; the HTML file embeds plotly.js (no network needed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

MAX_POINTS = 12


def distribution_figure(store, run_id: str, points: list[dict], title: str | None = None):
    """Histograms of per-path bad debt and liquidated value, one trace per point (the first
    ``MAX_POINTS`` valid points), with each point's VaR / LaR as a dashed line."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from .runner import load_point

    fig = make_subplots(rows=1, cols=2, subplot_titles=("bad debt per path", "liquidated value per path"))
    shown = [p for p in points if p.get("status") == "ok"][:MAX_POINTS]
    for p in shown:
        cols = load_point(store, run_id, p["point_id"], columns=["bad_debt", "liquidated_value"])
        if not cols:
            continue
        label = ", ".join(f"{k.rsplit('.', 1)[-1]}={v:g}" for k, v in p["params"].items()) or p["point_id"]
        for j, (col, key) in enumerate((("bad_debt", "var95"), ("liquidated_value", "lar95")), start=1):
            fig.add_trace(go.Histogram(x=cols[col], name=label, legendgroup=label, showlegend=j == 1,
                                       opacity=0.6, nbinsx=60), row=1, col=j)
            m = p.get("metrics") or {}
            if m.get(key) is not None and np.isfinite(m[key]):
                fig.add_vline(x=m[key], line_dash="dash", line_width=1, row=1, col=j)
    fig.update_layout(barmode="overlay", template="plotly_white", height=480,
                      title=title or f"run {run_id}: distributions over paths (dashed: 95th percentile)")
    fig.update_xaxes(title_text="quote units")
    fig.update_yaxes(title_text="paths", col=1)
    return fig


def write_distribution_html(path, store, run_id: str, points: list[dict], title: str | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = distribution_figure(store, run_id, points, title)
    tmp = path.with_name(f".{path.name}.tmp")
    fig.write_html(str(tmp), include_plotlyjs=True, full_html=True)
    tmp.replace(path)
    return path
