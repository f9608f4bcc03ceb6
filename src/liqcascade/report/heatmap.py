"""Liquidation-price cluster figures ("heatmaps") for real snapshots and simulated books.

:func:`clusters_figure` extends :func:`liqcascade.report.figures.heatmap_figure` (debt
liquidatable per price bucket and cumulatively, per risky collateral asset) with the
collateral that becomes liquidatable (its value at the liquidation price, per bucket and
cumulatively); buckets come from :func:`liqcascade.report.figures.liquidation_buckets` through
:func:`liqcascade.data.liqprice.compiled_view`. :func:`cluster_summary` gives the numbers for
a terminal table. :func:`write_html` writes a self-contained page (plotly.js inline);
:func:`write_png` renders a PNG with kaleido, falling back to a headless Chromium screenshot.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..data.liqprice import LiqPoints, compiled_view
from .figures import liquidation_buckets

__all__ = ["bucket_points", "clusters_figure", "top_assets", "cluster_summary", "write_html", "write_png", "DROPS"]

DROPS = (0.05, 0.10, 0.20, 0.30, 0.50)
C_COLL = "#7f7f7f"


def bucket_points(pts: LiqPoints, asset: int, bucket: float = 0.01, *, max_drop: float | None = 0.95):
    """Per price bucket of one asset: ``(lower_edges, width, debt, cum_debt, coll, cum_coll)``
    (values in quote; ``cum`` = everything liquidatable if the price falls to the edge), via
    :func:`liqcascade.report.figures.liquidation_buckets`; ``None`` when the asset has no point."""
    rd = liquidation_buckets(compiled_view(pts, "debt", max_drop=max_drop), asset, bucket)
    if rd is None:
        return None
    rc = liquidation_buckets(compiled_view(pts, "collateral", max_drop=max_drop), asset, bucket)
    edges, width, per, cum = rd
    assert rc is not None and np.array_equal(rc[0], edges)
    return edges, width, per, cum, rc[2], rc[3]


def top_assets(pts: LiqPoints, n: int = 6, *, max_drop: float = 0.95) -> list[int]:
    """Indices of the ``n`` assets with the most debt liquidatable within ``max_drop``."""
    tot = np.bincount(pts.asset[pts.ratio >= 1.0 - max_drop], weights=pts.debt_value[pts.ratio >= 1.0 - max_drop],
                      minlength=len(pts.assets))
    order = [int(a) for a in np.argsort(-tot, kind="stable") if tot[a] > 0]
    return order[:n]


def clusters_figure(pts: LiqPoints, *, bucket: float = 0.01, max_drop: float = 0.95, title: str | None = None,
                    coll_label: str = "collateral", assets=None, top: int = 6):
    """One row per risky collateral asset with liquidation points (see the module docstring):
    ``assets`` (indices), else the ``top`` assets by liquidatable debt, in asset order.

    Trace names: ``"<asset> debt per bucket"``, ``"<asset> cumulative debt"`` (from
    ``heatmap_figure``), ``"<asset> collateral per bucket"``, ``"<asset> cumulative collateral"``.
    """
    import plotly.graph_objects as go

    from .figures import heatmap_figure

    only = sorted(assets) if assets is not None else sorted(top_assets(pts, top, max_drop=max_drop))
    view = compiled_view(pts, "debt", max_drop=max_drop, only=only)
    fig = heatmap_figure(view, bucket)
    rows = [a for a in only if bucket_points(pts, a, bucket, max_drop=max_drop) is not None]
    for row, a in enumerate(rows, start=1):
        name = pts.assets[a]
        edges, width, _, _, coll, cumc = bucket_points(pts, a, bucket, max_drop=max_drop)
        fig.add_trace(go.Bar(x=edges + width / 2, y=coll, width=width * 0.45, name=f"{name} {coll_label} per bucket",
                             marker_color=C_COLL, opacity=0.75,
                             hovertemplate=f"{coll_label} at liquidation price: %{{y:,.0f}}<extra>{name}</extra>"),
                      row=row, col=1, secondary_y=False)
        fig.add_trace(go.Scatter(x=edges, y=cumc, name=f"{name} cumulative {coll_label}", mode="lines",
                                 line=dict(color=C_COLL, width=2, shape="hv", dash="dot"),
                                 hovertemplate=f"price ≤ %{{x:,.2f}}<br>liquidatable {coll_label}: %{{y:,.0f}}"
                                               f"<extra>{name}</extra>"),
                      row=row, col=1, secondary_y=True)
        fig.update_yaxes(title_text="per bucket (quote)", row=row, col=1, secondary_y=False)
        fig.update_yaxes(title_text="cumulative (quote)", row=row, col=1, secondary_y=True)
    fig.update_layout(barmode="overlay")
    if title:
        fig.update_layout(title_text=title)
    return fig


def cluster_summary(pts: LiqPoints, drops=DROPS) -> list[dict]:
    """Per risky asset with points: reference price, accounts, debt already liquidatable and
    cumulative debt / collateral liquidatable at each price drop in ``drops``."""
    out = []
    for a in range(len(pts.assets)):
        i = pts.of(a)
        if i.size == 0:
            continue
        r = pts.ratio[i]
        row = {"asset": pts.assets[a], "price": float(pts.p0[a]), "accounts": int(i.size),
               "liquidatable_now": int((r >= 1).sum()), "debt_now": float(pts.debt_value[i][r >= 1].sum()),
               "debt_at": {}, "coll_at": {}}
        for d in drops:
            m = r >= 1.0 - d
            row["debt_at"][d] = float(pts.debt_value[i][m].sum())
            row["coll_at"][d] = float(pts.coll_value[i][m].sum())
        out.append(row)
    return out


def _atomic_write(path: Path, write) -> Path:
    return atomic_path(path, write)


def write_html(fig, path) -> Path:
    """A self-contained HTML page (plotly.js inline; no network needed), written atomically."""
    def w(tmp):
        fig.write_html(tmp, include_plotlyjs=True, full_html=True, config={"displaylogo": False})
    return _atomic_write(Path(path), w)


def write_png(fig, path, *, html_path=None, width: int = 1200, timeout_s: float = 60.0) -> str:
    """Render ``fig`` to PNG; returns the method used (``"kaleido"`` or ``"chromium"``).

    Tries ``fig.write_image`` (kaleido, which drives a Chrome/Chromium it finds); if that fails,
    a headless ``chromium`` screenshot of ``html_path`` (written from ``fig`` when not given).
    Raises :class:`RuntimeError` naming both failures when neither works.
    """
    path = Path(path)
    height = int(fig.layout.height or 600)
    errors = []
    try:
        _atomic_write(path, lambda tmp: fig.write_image(tmp, format="png", width=width, height=height))
        return "kaleido"
    except Exception as e:  # kaleido missing, no Chrome, timeouts …
        errors.append(f"kaleido: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
    exe = next((shutil.which(x) for x in ("chromium", "chromium-browser", "google-chrome") if shutil.which(x)), None)
    if exe is None:
        errors.append("chromium: no chromium/google-chrome executable on PATH")
        raise RuntimeError("; ".join(errors))
    with tempfile.TemporaryDirectory() as td:
        src = Path(html_path) if html_path is not None else write_html(fig, Path(td) / "fig.html")
        shot = Path(td) / "shot.png"
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--disable-background-networking", "--disable-component-update", "--no-first-run",
               f"--user-data-dir={td}/profile", "--virtual-time-budget=10000",
               f"--window-size={width},{height + 40}", f"--screenshot={shot}", src.resolve().as_uri()]
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=timeout_s)
        except (subprocess.SubprocessError, OSError) as e:
            errors.append(f"chromium: {type(e).__name__}: {e}")
            raise RuntimeError("; ".join(errors)) from None
        if not shot.is_file() or shot.stat().st_size == 0:
            errors.append("chromium: no screenshot written")
            raise RuntimeError("; ".join(errors))
        _atomic_write(path, lambda tmp: shutil.copyfile(shot, tmp))
    return "chromium"

