"""Self-contained HTML report: one file, plotly.js embedded inline once, no network needed.

``write_report(path, run=..., curve=..., compiled=...)`` renders whatever it is given:

- ``run`` (:class:`~liqcascade.results.run.RunResult`): run totals, price and liquidation
  figures, top liquidation events;
- ``curve`` (:class:`~liqcascade.results.curve.CurveResult`): the static cascade curve and a
  compact table of its points;
- ``compiled`` (:class:`~liqcascade.engine.compile.Compiled`): liquidation-price clusters of the
  position books, the scenario's description, and the stable flags of the assets.

The file is written to a temporary file beside the target and renamed into place.
"""

from __future__ import annotations

import html
import math
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..atomic import write_text_atomic
from . import figures as F

# div ids of the figures (stable: tests look for them)
FIG_PRICES = "fig-prices"
FIG_LIQUIDATIONS = "fig-liquidations"
FIG_CURVE = "fig-curve"
FIG_CLUSTERS = "fig-clusters"

_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}

# run totals: key -> (label, kind); kind: "count", "money", "pct", "int"
TOTAL_ROWS = (  # bad debt first: what a risk team reads the report for
    ("bad_debt", "bad debt (USD)", "money"),
    ("bad_debt_p95", "bad debt, 95th percentile over paths (USD)", "money"),
    ("probability_bad_debt", "probability of bad debt", "pct"),
    ("pre_existing_bad_debt", "pre-existing bad debt, debt without collateral (USD)", "money"),
    ("liquidations", "liquidations", "count"),
    ("liquidated_collateral", "collateral seized, oracle value (USD)", "money"),
    ("repaid_debt", "debt repaid (USD)", "money"),
    ("protocol_fees", "protocol fees (USD)", "money"),
    ("liquidator_bonus", "liquidator bonus, oracle value (USD)", "money"),
    ("sale_proceeds", "sale proceeds (USD)", "money"),
    ("gas_spent", "gas spent (USD)", "money"),
    ("liquidator_profit", "liquidator profit (USD)", "money"),
    ("max_drawdown", "max drawdown", "pct"),
    ("final_price", "final venue price (USD)", "price"),
    ("events_not_recorded", "events not recorded (buffer full)", "int"),
)

_CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       margin: 0; color: #1d2430; background: #f6f7f9; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
header { background: #1d2b45; color: #fff; padding: 22px 28px; }
header h1 { margin: 0 0 6px; font-size: 26px; }
header p { margin: 2px 0; color: #c9d3e6; }
dl.meta { display: flex; flex-wrap: wrap; gap: 6px 28px; margin: 12px 0 0; }
dl.meta div { display: flex; gap: 6px; }
dl.meta dt { color: #9fb0cf; }
dl.meta dd { margin: 0; font-weight: 600; }
section { background: #fff; border: 1px solid #e1e5eb; border-radius: 6px; padding: 16px 20px;
          margin: 20px 0; }
h2 { font-size: 19px; margin: 0 0 12px; }
p.caption { color: #555; margin: 4px 0 10px; font-size: 14px; }
table { border-collapse: collapse; font-size: 14px; }
th, td { padding: 4px 12px; border-bottom: 1px solid #eceff3; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
thead th { background: #eef2f8; }
.scroll { overflow-x: auto; }
.figure { width: 100%; }
ul { margin: 6px 0; padding-left: 22px; }
li { margin: 3px 0; }
footer { color: #777; font-size: 13px; text-align: center; }
"""


def write_report(path, run=None, curve=None, compiled=None, title: str | None = None, *,
                 top_n: int = 20) -> Path:
    """Write a self-contained HTML report to ``path`` (atomically) and return the path."""
    text = render_report(run=run, curve=curve, compiled=compiled, title=title, top_n=top_n)
    return write_text_atomic(path, text)


def render_report(run=None, curve=None, compiled=None, title: str | None = None, *, top_n: int = 20,
                  generated: datetime | None = None) -> str:
    """The report as one HTML string (see :func:`write_report`)."""
    if run is None and curve is None and compiled is None:
        raise ValueError("write_report needs at least one of run, curve, compiled")
    from plotly.offline import get_plotlyjs

    scenario = _scenario_name(run, compiled)
    title = title or (f"liqcascade report — {scenario}" if scenario else "liqcascade report")
    generated = generated or datetime.now(timezone.utc)
    stable = compiled.stable if compiled is not None else None

    sections = []
    figs = []  # (div id, figure)
    if run is not None:
        sections.append(_section("Run summary", _totals_table(run, stable), _run_caption(run)))
        sections.append(_section("Bad debt per protocol", _per_protocol_table(run),
                                 "From the liquidation events of the recorded paths (means per recorded path); "
                                 "pre-existing bad debt is debt that had no collateral before the run."))
        fig = F.price_figure(run, stable=stable)
        figs.append((FIG_PRICES, fig))
        sections.append(_section("Prices", _fig_placeholder(FIG_PRICES),
                                 "Reference path, mean venue price and the oracle price protocol 0 acts on; "
                                 "triangles mark liquidations (average execution price, size ∝ debt repaid)."))
        figs.append((FIG_LIQUIDATIONS, F.liquidations_figure(run, stable=stable)))
        sections.append(_section("Liquidations", _fig_placeholder(FIG_LIQUIDATIONS)))
        rfig = F.rates_figure(run)
        if rfig is not None:
            figs.append(("fig-rates", rfig))
            sections.append(_section("Interest rates and lending pools",
                                     _fig_placeholder("fig-rates") + _rates_table(run),
                                     "Per pool (protocol/debt asset), path 0: interest is created debt — debt "
                                     "before + interest = repaid by liquidations + repaid by borrowers + bad debt "
                                     "+ left. Locked out: withdrawals lenders asked for that the pool's available "
                                     "liquidity could not serve (they stay queued)."))
    if curve is not None:
        figs.append((FIG_CURVE, F.curve_figure(curve)))
        sections.append(_section("Static cascade curve",
                                 _fig_placeholder(FIG_CURVE) + _curve_table(curve),
                                 "Final price after the cascade reaches its fixed point, for each exogenous "
                                 "shock δ; the dashed line is the price without any cascade, p0·(1−δ)."))
    hm = F.heatmap_figure(compiled) if compiled is not None else None
    if hm is not None and len(hm.data):  # no empty panel: only when some position has a liquidation price
        figs.append((FIG_CLUSTERS, hm))
        units = "vaults, troves and accounts of the protocol units" if compiled.book.n == 0 else "position books"
        sections.append(_section("Liquidation-price clusters", _fig_placeholder(FIG_CLUSTERS),
                                 f"Debt of the {units} by the collateral price at which it becomes "
                                 "liquidatable (HF = 1, a Maker vault's liquidation ratio, Liquity's MCR); the "
                                 "line is the debt liquidatable if the price falls to that level."))
    if run is not None:
        sections.append(_section(f"Top {top_n} liquidation events by debt repaid", _events_table(run, top_n)))
    sections.append(_section("Modelling notes", _ul(_notes(run, curve))))
    sections.append(_section("Assumptions", _ul(_assumptions(run, curve, compiled))))

    body = "\n".join(sections)
    for div_id, fig in figs:
        body = body.replace(_fig_placeholder(div_id), _fig_html(fig, div_id), 1)

    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style>",
        '<script type="text/javascript">window.PlotlyConfig = {MathJaxConfig: "local"};</script>',
        f'<script type="text/javascript">{get_plotlyjs()}</script>',
        "</head>",
        "<body>",
        _header(title, run, curve, compiled, generated),
        "<main>",
        body,
        f"<footer>generated by liqcascade on {_e(generated.strftime('%Y-%m-%d %H:%M UTC'))}</footer>",
        "</main>",
        "</body>",
        "</html>",
        "",
    ])


# --- pieces -----------------------------------------------------------------------------------

def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _scenario_name(run, compiled) -> str:
    if run is not None:
        return str(run.scenario)
    if compiled is not None:
        return str(compiled.scenario.name)
    return ""


def _positions(run, compiled):
    if run is not None:
        return run.n_positions
    if compiled is not None:
        b = compiled.book
        return b.n + int(b.idle_coll.shape[0])
    return None


def _header(title, run, curve, compiled, generated) -> str:
    meta = [("scenario", _scenario_name(run, compiled) or "—"),
            ("date", generated.strftime("%Y-%m-%d %H:%M UTC"))]
    pos = _positions(run, compiled)
    if pos is not None:
        meta.append(("positions", f"{pos:,}"))
    if run is not None:
        meta += [("paths", f"{run.paths:,}"), ("steps", f"{run.steps:,}"), ("step", f"{run.dt_seconds:g} s")]
    elif compiled is not None:
        sim = compiled.scenario.simulation
        meta += [("paths", f"{sim.paths:,}"), ("steps", f"{sim.steps:,}"), ("step", f"{sim.dt_seconds:g} s")]
    if curve is not None:
        meta.append(("curve asset", curve.asset))
    prov = _provenance(run, curve)
    if prov:
        meta += [("seed", "-" if prov.get("seed") is None else str(prov["seed"])),
                 ("liqcascade", str(prov.get("package_version"))), ("schema", str(prov.get("schema_version"))),
                 ("scenario hash", str(prov.get("scenario_hash") or "")[:12])]
    desc = ""
    if compiled is not None and getattr(compiled.scenario, "description", None):
        desc = f"<p>{_e(compiled.scenario.description)}</p>"
    items = "".join(f'<div><dt>{_e(k)}</dt><dd data-key="{_e(k)}">{_e(v)}</dd></div>' for k, v in meta)
    return f'<header><h1>{_e(title)}</h1>{desc}<dl class="meta">{items}</dl></header>'


def _provenance(run, curve) -> dict:
    """The provenance block (seed, versions, scenario hash) of the run, else of the curve."""
    for res in (run, curve):
        f = getattr(res, "provenance", None)
        if callable(f):
            d = f()
            if d:
                return d
    return {}


def _section(title: str, content: str, caption: str | None = None) -> str:
    cap = f'<p class="caption">{_e(caption)}</p>' if caption else ""
    return f"<section><h2>{_e(title)}</h2>{cap}{content}</section>"


def _fig_placeholder(div_id: str) -> str:
    return f"<!--figure:{div_id}-->"


def _fig_html(fig, div_id: str) -> str:
    import plotly.io as pio

    h = fig.layout.height
    return '<div class="figure">' + pio.to_html(
        fig, full_html=False, include_plotlyjs=False, div_id=div_id, config=_PLOTLY_CONFIG,
        default_width="100%", default_height=f"{int(h)}px" if h else "480px",
    ) + "</div>"


def _ul(items) -> str:
    return "<ul>" + "".join(f"<li>{_e(x)}</li>" for x in items) + "</ul>"


def format_value(v, kind: str) -> str:
    """How the report writes a number (``kind``: count, money, pct, int, price): amounts of
    1,000 or more without cents (22,054,383 rather than 22054382.796274155), smaller ones with
    two decimals; prices with two decimals (four below 1); means of counts with one decimal."""
    if v is None:
        return "—"
    v = float(v)
    if not math.isfinite(v):
        return str(v)
    if kind == "pct":
        return f"{v:.2%}"
    if kind == "int" or (kind == "count" and v.is_integer()):
        return f"{int(round(v)):,}"
    if kind == "count":
        return f"{v:,.1f}"
    if kind == "price":
        return f"{v:,.2f}" if abs(v) >= 1 or v == 0 else f"{v:,.4g}"
    if abs(v) >= 1_000:
        return f"{v:,.0f}"
    return f"{v:,.2f}"


def _run_caption(run) -> str:
    if run.paths > 1:
        return (f"Means over {run.paths:,} simulated paths (USD, the unit asset prices are quoted in), except where stated; "
                "max drawdown is the worst path. Figures show recorded path 0.")
    return "One simulated path; amounts in USD (the unit asset prices are quoted in)."


def _auction_rows(run) -> list:
    """Auction protocols count every bark/bite, take and deal as a liquidation action: the
    auctions themselves are rows of their own (from the unit totals of path 0)."""
    rows = []
    for name, ut in (getattr(run, "unit_totals", None) or {}).items():
        if not isinstance(ut, dict) or "n_kick" not in ut:
            continue
        rows.append((f"{name}: auctions started (barks / bites)", format_value(ut["n_kick"], "int"), f"{name}.n_kick"))
        rows.append((f"{name}: takes and bids", format_value(ut.get("n_take", 0) + ut.get("n_bid", 0), "int"),
                     f"{name}.n_take"))
        rows.append((f"{name}: flip auctions dealt", format_value(ut.get("n_deal", 0), "int"), f"{name}.n_deal"))
    return rows


def _totals_table(run, stable=None) -> str:
    t = run.totals()
    risky = {run.assets[a] for a in F.risky_assets(run, stable)}
    auctions = _auction_rows(run)
    rows = []
    for key, label, kind in TOTAL_ROWS:
        if key not in t:
            continue
        if key == "pre_existing_bad_debt" and not t[key]:
            continue  # only when the book had debt without collateral
        if key == "liquidations" and auctions:
            label = "liquidation actions (each bark/bite, take and deal counts once)"
        if key == "liquidator_bonus" and auctions:
            label = "liquidator bonus / keeper gain, oracle value (USD; negative when keepers paid above it)"
        v = t[key]
        if isinstance(v, dict):
            for asset, x in v.items():
                if asset not in risky:
                    continue
                rows.append((f"{label} ({asset})", format_value(x, kind), f"{key}.{asset}"))
        else:
            rows.append((label, format_value(v, kind), key))
        if key == "liquidations":
            rows += auctions
    body = "".join(f'<tr data-key="{_e(k)}"><td>{_e(lbl)}</td><td class="num">{_e(val)}</td></tr>'
                   for lbl, val, k in rows)
    return f'<table class="summary"><tbody>{body}</tbody></table>'


def _per_protocol_table(run) -> str:
    """Bad debt, liquidations and debt repaid per protocol, from the recorded events."""
    ev = run.events
    rec = int(run.steps_scalar.shape[0]) if getattr(run, "steps_scalar", None) is not None else 0
    rec = max(rec, 1)
    pre = ((getattr(run, "start", None) or {}).get("pre_existing_bad_debt") or {}).get("by_protocol", {})
    rows = []
    for name in run.protocols:
        e = ev[np.asarray(ev["protocol"]) == name] if len(ev) else ev
        rows.append((name, float(np.sum(e["bad_debt"])) / rec if len(e) else 0.0, len(e) / rec,
                     float(np.sum(e["debt_repaid"])) / rec if len(e) else 0.0,
                     float(pre.get(name, {}).get("value", 0.0))))
    head = ("protocol", "bad debt (USD)", "liquidations", "debt repaid", "pre-existing bad debt (USD)")
    body = "".join(
        f'<tr data-protocol="{_e(n)}"><td>{_e(n)}</td><td class="num">{_e(format_value(b, "money"))}</td>'
        f'<td class="num">{_e(format_value(k, "count"))}</td><td class="num">{_e(format_value(r, "money"))}</td>'
        f'<td class="num">{_e(format_value(pb, "money"))}</td></tr>' for n, b, k, r, pb in rows)
    return ('<table class="per-protocol"><thead><tr>' + "".join(f"<th>{_e(h)}</th>" for h in head)
            + f"</tr></thead><tbody>{body}</tbody></table>")


def _rates_table(run) -> str:
    rows = [("kind", "kind"), ("debt before", "debt_before"), ("interest accrued", "interest_accrued"),
            ("repaid by liquidations", "repaid_by_liquidations"), ("repaid by borrowers", "repaid_by_borrowers"),
            ("bad debt", "bad_debt"), ("debt left", "debt_left"), ("debt factor (index)", "debt_factor"),
            ("open debt above its collateral at the end", "underwater_debt_end"),
            ("peak utilization", "utilization_max"), ("peak borrow rate", "borrow_rate_max"),
            ("steps at 100 % utilization", "steps_at_full_utilization"), ("withdrawn", "withdrawn"),
            ("locked out, largest", "locked_out_max"), ("locked out, at the end", "locked_out_end")]
    pools = list((getattr(run, "rates", None) or {}).items())
    head = "<tr><th>pool</th>" + "".join(f"<th>{_e(p)}</th>" for p, _ in pools) + "</tr>"
    body = ""
    for label, key in rows:
        cells = []
        for _, d in pools:
            v = d.get(key)
            if v is None:
                cells.append("–")
            elif isinstance(v, str):
                cells.append(_e(v))
            elif key in ("utilization_max", "borrow_rate_max"):
                cells.append(f"{v:.2%}")
            elif key == "debt_factor":
                cells.append(f"{v:.6f}")
            else:
                cells.append(f"{v:,.2f}")
        body += f"<tr><td>{_e(label)}</td>" + "".join(f"<td class=\"num\">{c}</td>" for c in cells) + "</tr>"
    return f"<table>{head}{body}</table>"


def _curve_table(curve, max_rows: int = 21) -> str:
    pts = sorted(curve.points, key=lambda p: p.shock)
    if not pts:
        return ""
    step = max(1, math.ceil(len(pts) / max_rows))
    keep = set(range(0, len(pts), step)) | {len(pts) - 1}
    if curve.critical_shock is not None:
        keep |= {i for i, p in enumerate(pts) if p.shock == curve.critical_shock}
    head = ("shock", "bad debt (USD)", "no-cascade price", "final price", "amplification", "rounds",
            "liquidations", "debt repaid (USD)")
    rows = []
    for i in sorted(keep):
        p = pts[i]
        crit = curve.critical_shock is not None and p.shock == curve.critical_shock
        cells = (f"{p.shock:.1%}", format_value(p.bad_debt, "money"), format_value(p.shocked_price, "price"),
                 format_value(p.final_price, "price"),
                 "—" if p.amplification is None else f"{float(p.amplification):.2f}×", f"{p.rounds:,}",
                 f"{p.liquidations:,}", format_value(p.repaid_debt, "money"))
        style = ' style="font-weight:600;background:#fdeeee"' if crit else ""
        rows.append(f"<tr{style}>" + "".join(f'<td class="num">{_e(c)}</td>' for c in cells) + "</tr>")
    crit = ("none on this grid (largest jump "
            f"{curve.critical_jump:.1%} of p0)" if curve.critical_shock is None
            else f"{curve.critical_shock:.1%} (price jump {curve.critical_jump:.1%} of p0)")
    summary = (f'<p class="caption">Asset {_e(curve.asset)}, initial price {_e(format_value(curve.p0, "price"))} USD, '
               f'{_e(curve.mode)} liquidators. Critical shock: <b data-key="critical_shock">{_e(crit)}</b>.</p>')
    return summary + ('<div class="scroll"><table class="curve"><thead><tr>'
                      + "".join(f'<th class="num">{_e(h)}</th>' for h in head)
                      + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>")


def _events_table(run, n: int) -> str:
    ev = F.top_events(run, n)
    if len(ev) == 0:
        return '<p class="caption">No liquidation events recorded.</p>'
    cols = F.EVENT_COLUMNS if run.paths > 1 else tuple(c for c in F.EVENT_COLUMNS if c != "path")
    head = "".join(f'<th class="{"num" if ev[c].dtype.kind in "fi" else ""}">{_e(c.replace("_", " "))}</th>'
                   for c in cols)
    rows = []
    for r in ev:
        cells = []
        for c in cols:
            x = r[c]
            if isinstance(x, (float, np.floating)):
                cells.append(f'<td class="num">{_e(format_value(x, "money"))}</td>')
            elif isinstance(x, (int, np.integer)):
                cells.append(f'<td class="num">{int(x):,}</td>')
            else:
                cells.append(f"<td>{_e(x)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    total = len(run.events)
    cap = f'<p class="caption">{min(n, total)} of {total:,} recorded events.'
    if _auction_rows(run):
        cap += (" In auction protocols (Maker) a bark/bite is an event that seizes nothing yet, and the "
                "bonus paid of a take or deal is the keeper's gain: the oracle value of the collateral won "
                "minus the DAI paid, negative when keepers paid above the oracle price.")
    cap += "</p>"
    return (cap + f'<div class="scroll"><table class="events"><thead><tr>{head}</tr></thead><tbody>'
            + "".join(rows) + "</tbody></table></div>")


def _notes(run, curve) -> list[str]:
    out = []
    for src in (run, curve):
        if src is None:
            continue
        for n in src.notes:
            if n not in out:
                out.append(n)
    return out or ["no modelling notes"]


def _assumptions(run, curve, compiled) -> list[str]:
    out = ["prices are in the quote unit (USD); amounts in asset units; time in steps",
           "assets marked stable keep their fixed price"]
    if run is not None:
        out.append("figures show recorded path 0; run totals are means over all simulated paths")
    if compiled is not None:
        sc = compiled.scenario
        out.append(f"liquidators: {sc.liquidators.mode}")
        arb = sc.arbitrage
        if not arb.enabled:
            out.append("no arbitrage between venues")
        else:
            out.append(f"arbitrage closes venue gaps above {arb.threshold:.2%}"
                       + ("; pools are arbitraged back toward the reference price" if arb.to_reference
                          else "; no outside arbitrage: venues do not recover toward the reference price"))
        out.append("liquidation-price clusters value debt at the debt asset's initial price; "
                   "positions without debt or collateral are left out")
    if curve is not None:
        out.append("static curve: one venue per asset, no oracle lag, no recovery between rounds")
    return out
