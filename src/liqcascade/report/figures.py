"""Report figures: pure functions from results to plotly figures.

Each function takes engine results (:class:`~liqcascade.results.run.RunResult`,
:class:`~liqcascade.results.curve.CurveResult`, :class:`~liqcascade.engine.compile.Compiled`) and
returns a ``plotly.graph_objects.Figure``; nothing is written or shown. plotly is imported inside
the functions (it is an optional dependency, ``liqcascade[plot]``).

Trace names are stable (tests and the HTML report rely on them):

- :func:`price_figure`: ``"<asset> reference"``, ``"<asset> venue"``, ``"<asset> oracle"``,
  ``"<asset> liquidations"`` per risky asset;
- :func:`liquidations_figure`: ``"liquidations"``, ``"<asset> sold"`` per risky asset,
  ``"cumulative debt repaid"``, ``"cumulative bad debt"``;
- :func:`curve_figure`: ``"final price"``, ``"no cascade"``, ``"bad debt"``;
- :func:`heatmap_figure`: ``"<asset> debt per bucket"``, ``"<asset> cumulative debt"``;
- :func:`events_table_figure`: one ``Table`` trace.
"""

from __future__ import annotations

import math

import numpy as np

from ..kernels import dynamic as K

# one palette for every figure: reference, venue, oracle, liquidations, bad debt
C_REF = "#7f7f7f"
C_VENUE = "#1f77b4"
C_ORACLE = "#ff7f0e"
C_LIQ = "#d62728"
C_BAD = "#9467bd"
C_REPAID = "#2ca02c"
ASSET_COLORS = ("#1f77b4", "#2ca02c", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#ff7f0e", "#7f7f7f")

_TOP = 110  # px above the plot area: title, then the legend, then the subplot titles


def _layout(fig, title: str, height: int, hovermode: str = "x unified", **kw) -> None:
    """Shared look: title at the top left, horizontal legend under it, clear of subplot titles."""
    fig.update_layout(
        template="plotly_white",
        height=height,
        margin=dict(l=70, r=80, t=_TOP, b=55),
        title=dict(text=title, x=0.0, xanchor="left", xref="paper", y=1.0 - 14 / height,
                   yref="container", yanchor="top", font=dict(size=17)),
        legend=dict(orientation="h", x=0.0, xanchor="left", y=1.0 - 46 / height, yref="container",
                    yanchor="top"),
        hovermode=hovermode,
        **kw,
    )


EVENT_COLUMNS = ("path", "step", "position", "protocol", "asset", "collateral_seized", "debt_repaid",
                 "oracle_price", "execution_price", "bonus_paid", "bad_debt", "protocol_fee")


def risky_assets(run, stable=None) -> list[int]:
    """Indices of the run's risky (non-stable) assets.

    ``stable`` is a boolean array per asset (``Compiled.stable``). Without it, an asset counts as
    stable when every recorded price of it equals its initial price and it has no liquidation
    events (:class:`RunResult` does not carry the stable flags).
    """
    A = len(run.assets)
    if stable is not None:
        return [a for a in range(A) if not bool(stable[a])]
    sa = run.steps_asset
    ev_assets = set(np.asarray(run.events["asset"]).tolist()) if len(run.events) else set()
    out = []
    for a in range(A):
        name = run.assets[a]
        if name in ev_assets:
            out.append(a)
            continue
        if sa.shape[0] == 0:
            out.append(a)
            continue
        prices = sa[:, :, a, [K.ST_REF, K.ST_SPOT, K.ST_ORACLE]]
        if not np.allclose(prices, run.p0[a], rtol=1e-12, atol=0.0):
            out.append(a)
    return out or list(range(A))


def _time_axis(run) -> np.ndarray:
    return np.arange(run.steps + 1)


def _step_title(run) -> str:
    dt = float(run.dt_seconds)
    if dt % 60 == 0 and dt >= 60:
        unit = f"{dt / 60:g} min" if dt % 3600 else f"{dt / 3600:g} h"
    else:
        unit = f"{dt:g} s"
    return f"step (1 step = {unit})"


def _empty(go, title: str, message: str):
    fig = go.Figure()
    _layout(fig, title, 360, hovermode="closest")
    fig.add_annotation(text=message, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
                       font=dict(size=14, color="#666"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def price_figure(run, path: int = 0, stable=None):
    """Reference, venue and oracle price per risky asset over time, with liquidation markers.

    One subplot row per risky asset, for recorded path ``path``. Liquidations are aggregated
    per step: a marker at the step's average execution price (weighted by collateral seized),
    sized by the debt repaid in the step.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    title = f"Prices — {run.scenario}" + (f" (path {path})" if run.paths > 1 else "")
    if run.steps_asset.shape[0] <= path:
        return _empty(go, title, "no recorded path to plot (simulation.record_paths = 0)")
    risky = risky_assets(run, stable)
    t = _time_axis(run)
    fig = make_subplots(rows=len(risky), cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=[run.assets[a] for a in risky])
    ev = run.events[run.events["path"] == path] if len(run.events) else run.events
    for row, a in enumerate(risky, start=1):
        name = run.assets[a]
        sa = run.steps_asset[path, :, a, :]
        for col, label, color, dash in ((K.ST_REF, "reference", C_REF, "dash"),
                                        (K.ST_SPOT, "venue", C_VENUE, "solid"),
                                        (K.ST_ORACLE, "oracle", C_ORACLE, "dot")):
            fig.add_trace(go.Scatter(
                x=t, y=sa[:, col], mode="lines", name=f"{name} {label}", legendgroup=label,
                line=dict(color=color, dash=dash, width=2, shape="hv" if col == K.ST_ORACLE else "linear"),
                hovertemplate=f"{label}: $%{{y:,.2f}}<extra>{name}</extra>",
            ), row=row, col=1)
        steps, n, price, repaid = _liquidations_by_step(ev, name)
        size = np.zeros(0) if repaid.size == 0 else 8 + 22 * np.sqrt(repaid / max(float(repaid.max()), 1e-300))
        fig.add_trace(go.Scatter(
            x=steps, y=price, mode="markers", name=f"{name} liquidations", legendgroup="liquidations",
            marker=dict(color=C_LIQ, size=size, opacity=0.75, line=dict(color="white", width=1),
                        symbol="triangle-down"),
            customdata=np.column_stack([n, repaid]) if n.size else None,
            hovertemplate="liquidations: %{customdata[0]:.0f}<br>debt repaid: $%{customdata[1]:,.0f}"
                          "<br>avg execution price: $%{y:,.2f}<extra>" + name + "</extra>",
        ), row=row, col=1)
        fig.update_yaxes(title_text=f"{name} price (USD)", tickprefix="$", tickformat=",.2f", row=row, col=1)
    fig.update_xaxes(title_text=_step_title(run), row=len(risky), col=1)
    _layout(fig, title, max(420, 60 + 320 * len(risky)))
    return fig


def _liquidations_by_step(ev, asset: str):
    """(steps, count, weighted execution price, debt repaid) of one asset's events."""
    if len(ev) == 0:
        z = np.zeros(0)
        return z.astype(np.int64), z, z, z
    sel = ev[np.asarray(ev["asset"]) == asset]
    if len(sel) == 0:
        z = np.zeros(0)
        return z.astype(np.int64), z, z, z
    steps, inv = np.unique(sel["step"], return_inverse=True)
    n = np.bincount(inv, minlength=steps.size).astype(np.float64)
    w = sel["collateral_seized"]
    wsum = np.bincount(inv, weights=w, minlength=steps.size)
    psum = np.bincount(inv, weights=w * sel["execution_price"], minlength=steps.size)
    pmean = np.bincount(inv, weights=sel["execution_price"], minlength=steps.size) / np.maximum(n, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        price = np.where(wsum > 0, psum / np.where(wsum > 0, wsum, 1.0), pmean)
    repaid = np.bincount(inv, weights=sel["debt_repaid"], minlength=steps.size)
    return steps, n, price, repaid


def liquidations_figure(run, path: int = 0, stable=None):
    """Liquidations per step, collateral sold per step, cumulative debt repaid and bad debt.

    Three rows sharing the time axis, for recorded path ``path``: the number of liquidations per
    step (bars); the collateral sold per step per risky asset in asset units (bars); the
    cumulative debt repaid and cumulative bad debt in the quote unit (lines).
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    title = "Liquidations" + (f" (path {path})" if run.paths > 1 else "")
    if run.steps_scalar.shape[0] <= path:
        return _empty(go, title, "no recorded path to plot (simulation.record_paths = 0)")
    t = _time_axis(run)
    ss = run.steps_scalar[path]
    sa = run.steps_asset[path]
    risky = risky_assets(run, stable)
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.07,
                        subplot_titles=("liquidations per step", "collateral sold per step (asset units)",
                                        "cumulative debt repaid and bad debt (USD)"))
    fig.add_trace(go.Bar(x=t, y=ss[:, K.SS_NLIQ], name="liquidations", marker_color=C_LIQ,
                         hovertemplate="liquidations: %{y:.0f}<extra></extra>"), row=1, col=1)
    for j, a in enumerate(risky):
        name = run.assets[a]
        fig.add_trace(go.Bar(x=t, y=sa[:, a, K.ST_SEIZED], name=f"{name} sold",
                             marker_color=ASSET_COLORS[j % len(ASSET_COLORS)],
                             customdata=sa[:, a, K.ST_PROCEEDS],
                             hovertemplate=f"{name} sold: %{{y:,.4g}}<br>proceeds: $%{{customdata:,.0f}}<extra></extra>"),
                      row=2, col=1)
    fig.add_trace(go.Scatter(x=t, y=np.cumsum(ss[:, K.SS_REPAID]), name="cumulative debt repaid",
                             mode="lines", line=dict(color=C_REPAID, width=2, shape="hv"),
                             hovertemplate="debt repaid: $%{y:,.0f}<extra></extra>"), row=3, col=1)
    fig.add_trace(go.Scatter(x=t, y=np.cumsum(ss[:, K.SS_BAD]), name="cumulative bad debt",
                             mode="lines", line=dict(color=C_BAD, width=2, shape="hv"),
                             fill="tozeroy", fillcolor="rgba(148,103,189,0.15)",
                             hovertemplate="bad debt: $%{y:,.0f}<extra></extra>"), row=3, col=1)
    fig.update_yaxes(title_text="count", row=1, col=1)
    fig.update_yaxes(title_text="units", row=2, col=1)
    fig.update_yaxes(title_text="USD", tickprefix="$", tickformat=",.3~s", row=3, col=1)
    fig.update_xaxes(title_text=_step_title(run), row=3, col=1)
    _layout(fig, title, 760, barmode="group")
    return fig


def curve_figure(curve):
    """Static cascade curve: final price vs shock, the no-cascade line, bad debt, critical shock.

    The no-cascade line is the shocked price ``p0 · (1 − δ)`` (flat at ``p0`` when the curve's
    asset is not shocked). Bad debt is on the right axis.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    pts = sorted(curve.points, key=lambda p: p.shock)
    title = f"Static cascade curve — {curve.asset} ({curve.mode})"
    if not pts:
        return _empty(go, title, "no shocks")
    x = np.array([p.shock for p in pts]) * 100.0
    final = np.array([p.final_price for p in pts])
    shocked = np.array([float(p.shocked_price) for p in pts])
    bad = np.array([p.bad_debt for p in pts])
    nliq = np.array([p.liquidations for p in pts])
    rounds = np.array([p.rounds for p in pts])
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Bar(x=x, y=bad, name="bad debt", marker_color=C_BAD, opacity=0.35,
                         hovertemplate="bad debt: $%{y:,.0f}<extra></extra>"), secondary_y=True)
    fig.add_trace(go.Scatter(x=x, y=shocked, name="no cascade", mode="lines",
                             line=dict(color=C_REF, dash="dash", width=2),
                             hovertemplate="p0·(1−δ): $%{y:,.2f}<extra></extra>"), secondary_y=False)
    fig.add_trace(go.Scatter(x=x, y=final, name="final price", mode="lines+markers",
                             line=dict(color=C_VENUE, width=2.5), marker=dict(size=5),
                             customdata=np.column_stack([nliq, rounds]),
                             hovertemplate="final price: $%{y:,.2f}<br>liquidations: %{customdata[0]}"
                                           "<br>rounds: %{customdata[1]}<extra></extra>"),
                  secondary_y=False)
    if curve.critical_shock is not None:
        xc = curve.critical_shock * 100.0
        fig.add_vline(x=xc, line=dict(color=C_LIQ, dash="dot", width=2))
        fig.add_annotation(x=xc, y=1.0, yref="paper", xanchor="left", yanchor="top", showarrow=False,
                           text=f" critical shock {curve.critical_shock:.1%}<br> (jump {curve.critical_jump:.1%} of p0)",
                           font=dict(color=C_LIQ))
    fig.update_xaxes(title_text="exogenous shock δ (%)", ticksuffix="%")
    fig.update_yaxes(title_text=f"{curve.asset} price (USD)", tickprefix="$", rangemode="tozero", secondary_y=False)
    fig.update_yaxes(title_text="bad debt (USD)", tickprefix="$", tickformat=",.3~s", rangemode="tozero",
                     showgrid=False, secondary_y=True)
    _layout(fig, title, 480)
    return fig


def liquidation_buckets(compiled, asset: int, bucket: float = 0.01):
    """Debt that becomes liquidatable per liquidation-price bucket for one collateral asset.

    Liquidation prices are ``key · p_debt`` (the collateral price in the quote unit at which
    HF = 1, at the debt asset's initial price); debt is valued at the debt asset's initial price.
    Buckets are ``bucket · p0`` wide (coarsened to at most 200 buckets). Returns
    ``(lower_edges, width, debt_per_bucket, cumulative)`` where ``cumulative[i]`` is all debt
    whose liquidation price is at or above bucket ``i``'s lower edge (the debt liquidatable if
    the price falls to that level), or ``None`` when the asset backs no booked position.
    """
    b = compiled.book
    if b.n == 0:
        return None
    seg = np.repeat(np.arange(b.seg_asset.shape[0]), np.diff(b.seg_ptr))
    sel = b.seg_asset[seg] == asset
    if not sel.any():
        return None
    pdebt = compiled.p0[b.seg_debt_asset[seg[sel]]]
    return _bucket(b.key[sel] * pdebt, b.debt[sel] * pdebt, float(compiled.p0[asset]), bucket)


def unit_liquidation_points(compiled, asset: int):
    """``(liquidation prices, debt values)`` of the protocol units' positions on collateral
    ``asset`` at the initial prices: Maker vaults ``art·rate·mat / ink``, Liquity troves
    ``debt·MCR / coll``, Comet accounts with that single collateral ``debt·P_base / (coll·liqCF)``
    (other units and multi-collateral Comet accounts are left out). None when there are none."""
    prices, values = [], []
    for u in getattr(compiled, "units", ()):
        pk = u.pack
        if u.kind == "maker":
            from ..protocols.maker import kernel as MK

            ilk, vilk, ink, art = pk[1], pk[2], pk[3], pk[4]
            for i in range(ilk.shape[0]):
                if int(ilk[i, MK.IK_ASSET]) != asset:
                    continue
                m = (vilk == i) & (ink > 0) & (art > 0)
                debt = art[m] * ilk[i, MK.IK_RATE]
                prices.append(debt * ilk[i, MK.IK_MAT] / ink[m])
                values.append(debt)
        elif u.kind == "liquity":
            from ..protocols.liquity import kernel as LK

            par, coll, debt = pk[LK.PK_PAR], pk[LK.PK_COLL], pk[LK.PK_DEBT]
            if int(par[LK.P_ASSET]) != asset:
                continue
            m = (coll > 0) & (debt > 0)
            prices.append(debt[m] * par[LK.P_MCR] / coll[m])
            values.append(debt[m])
        elif u.kind == "comet":
            from ..protocols.comet import kernel as CK

            par, slots, fac, principal, coll = pk[CK.PK_PAR], pk[CK.PK_ASSET], pk[CK.PK_FAC], pk[CK.PK_PRINCIPAL], pk[CK.PK_COLL]
            pb = float(compiled.p0[int(par[CK.P_BASE])])
            for k in np.flatnonzero(slots == asset):
                only = (coll[:, k] > 0) & ((coll > 0).sum(axis=1) == 1) & (principal < 0)
                debt = -principal[only] * pb
                prices.append(debt / (coll[only, k] * fac[k, CK.F_LIQ_CF]))
                values.append(debt)
    if not prices:
        return None
    lp, dv = np.concatenate(prices), np.concatenate(values)
    return (lp, dv) if lp.size else None


def _bucket(liq_price, debt_value, p0: float, bucket: float):
    lo = float(min(liq_price.min(), p0))
    hi = float(max(liq_price.max(), p0))
    width = max(bucket * p0, (hi - lo) / 200.0, 1e-12)
    start = math.floor(lo / width) * width
    n = max(int(math.floor((hi - start) / width)) + 1, 1)
    idx = np.clip(((liq_price - start) / width).astype(np.int64), 0, n - 1)
    per = np.bincount(idx, weights=debt_value, minlength=n)
    cum = np.cumsum(per[::-1])[::-1]
    return start + width * np.arange(n), width, per, cum


def heatmap_figure(compiled, bucket: float = 0.01):
    """Liquidation-price clusters per risky collateral asset.

    For each risky asset that backs positions: the debt that becomes liquidatable per price
    bucket (bars, left axis) and cumulatively as the price falls from the current price (line,
    right axis), from the book's ``key`` and ``debt``; the current price is marked.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    title = "Liquidation-price clusters (debt liquidatable per price bucket)"
    rows = []
    for a in range(compiled.n_assets):
        if compiled.stable[a]:
            continue
        r = liquidation_buckets(compiled, a, bucket)
        if r is None:  # the protocol units' vaults, troves and accounts instead of an Aave book
            pts = unit_liquidation_points(compiled, a)
            if pts is not None:
                r = _bucket(pts[0], pts[1], float(compiled.p0[a]), bucket)
        if r is not None:
            rows.append((a, r))
    if not rows:
        return _empty(go, title, "no position has a liquidation price to plot")
    fig = make_subplots(rows=len(rows), cols=1, vertical_spacing=min(0.12, 0.9 / max(len(rows) - 1, 1)),
                        subplot_titles=[compiled.assets[a] for a, _ in rows],
                        specs=[[{"secondary_y": True}] for _ in rows])
    for row, (a, (edges, width, per, cum)) in enumerate(rows, start=1):
        name = compiled.assets[a]
        p0 = float(compiled.p0[a])
        centers = edges + width / 2
        color = ASSET_COLORS[(row - 1) % len(ASSET_COLORS)]
        drop = (1.0 - edges / p0) * 100.0
        fig.add_trace(go.Bar(x=centers, y=per, width=width * 0.95, name=f"{name} debt per bucket",
                             marker_color=color, opacity=0.8,
                             customdata=np.column_stack([edges, edges + width]),
                             hovertemplate="liquidation price $%{customdata[0]:,.2f}–$%{customdata[1]:,.2f}"
                                           "<br>debt: $%{y:,.0f}<extra>" + name + "</extra>"),
                      row=row, col=1, secondary_y=False)
        fig.add_trace(go.Scatter(x=edges, y=cum, name=f"{name} cumulative debt", mode="lines",
                                 line=dict(color=C_LIQ, width=2, shape="hv"), customdata=drop,
                                 hovertemplate="price ≤ $%{x:,.2f} (drop %{customdata:.1f}%)"
                                               "<br>liquidatable debt: $%{y:,.0f}<extra>" + name + "</extra>"),
                      row=row, col=1, secondary_y=True)
        fig.add_vline(x=p0, line=dict(color="black", dash="dash", width=1.5), row=row, col=1,
                      annotation_text=f"current price {p0:,.2f}", annotation_position="top left",
                      annotation_font_size=11)
        fig.update_yaxes(title_text="debt per bucket (USD)", tickprefix="$", tickformat=",.3~s", row=row, col=1,
                         secondary_y=False)
        fig.update_yaxes(title_text="cumulative debt (USD)", tickprefix="$", tickformat=",.3~s", rangemode="tozero",
                         showgrid=False, row=row, col=1, secondary_y=True)
        fig.update_xaxes(title_text=f"liquidation price of {name} (USD)", tickprefix="$", row=row, col=1)
    _layout(fig, title, max(440, 60 + 380 * len(rows)), hovermode="closest", bargap=0.05)
    return fig


def top_events(run, n: int = 20, by: str = "debt_repaid") -> np.ndarray:
    """The ``n`` recorded liquidation events with the largest ``by`` (descending, stable)."""
    ev = run.events
    if len(ev) == 0 or n <= 0:
        return ev[:0]
    order = np.argsort(-np.asarray(ev[by], dtype=np.float64), kind="stable")
    return ev[order[:n]]


def events_table_figure(run, n: int = 20, by: str = "debt_repaid"):
    """Top-``n`` liquidation events by ``by`` as a plotly table."""
    import plotly.graph_objects as go

    ev = top_events(run, n, by)
    cells = []
    for col in EVENT_COLUMNS:
        v = ev[col]
        if v.dtype.kind == "f":
            cells.append([f"{x:,.2f}" for x in v])
        else:
            cells.append([str(x) for x in v])
    fig = go.Figure(go.Table(
        header=dict(values=[c.replace("_", " ") for c in EVENT_COLUMNS], fill_color="#e8eef7", align="left"),
        cells=dict(values=cells, align=["right", "right", "left", "left", "left"] + ["right"] * 7),
    ))
    fig.update_layout(title=f"Top {len(ev)} liquidation events by {by.replace('_', ' ')}",
                      height=120 + 28 * max(len(ev), 1), margin=dict(l=20, r=20, t=50, b=20))
    return fig


def rates_figure(run, path: int = 0):
    """Interest rates and lending pools (``[protocols.rates.ASSET]``): per pool, utilization and
    the borrow rate (top), and the withdrawals locked out (bottom), per step of a recorded path.
    None when the run has no pool."""
    rs = getattr(run, "rates_steps", None)
    if rs is None or rs.shape[0] == 0:
        return None
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    x = _time_axis(run)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12,
                        subplot_titles=("utilization and borrow rate (per year)", "withdrawals locked out"))
    for r, name in enumerate(run.rates_rows):
        col = ASSET_COLORS[r % len(ASSET_COLORS)]
        util = rs[path, :, r, 0]
        if np.isfinite(util).any():
            fig.add_trace(go.Scatter(x=x, y=util, name=f"{name} utilization", line=dict(color=col)), row=1, col=1)
        fig.add_trace(go.Scatter(x=x, y=rs[path, :, r, 1], name=f"{name} borrow rate",
                                 line=dict(color=col, dash="dot")), row=1, col=1)
        fig.add_trace(go.Scatter(x=x, y=rs[path, :, r, 9], name=f"{name} locked out", line=dict(color=col),
                                 fill="tozeroy", showlegend=True), row=2, col=1)
    _layout(fig, "Lending pools", 560)
    fig.update_yaxes(tickformat=".0%", row=1, col=1)
    fig.update_xaxes(title_text=_step_title(run), row=2, col=1)
    return fig
