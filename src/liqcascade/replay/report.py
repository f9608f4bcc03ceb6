"""HTML report of a replay: the provenance table first, then the bands (ensemble) or the point run.

``write_replay_report(path, event, inputs, ensemble=summary)`` for ``replay EVENT --ensemble N``:
the inputs table (real file / published aggregate / assumption with prior), one row per headline
outcome with its median, 5–95 % band and the record placed on it, a band figure (every member as
a dot, the band as a bar, the record as a diamond) and one tornado per outcome (Spearman rank
correlation of each prior with the outcome).

``write_replay_report(path, event, inputs, point=result)`` for ``replay EVENT --report``: the
inputs table, the headline with the records, the one-at-a-time tables and, for every run of the
member, the price and liquidation figures of :mod:`liqcascade.report.figures`.

One self-contained file (plotly.js inline), written atomically.
"""

from __future__ import annotations

import html
import math
from datetime import datetime, timezone

from ..atomic import write_text_atomic

FIG_BANDS = "fig-bands"


def _e(x) -> str:
    return html.escape(str(x), quote=True)


def fmt(v, kind: str = "money") -> str:
    if v is None:
        return "—"
    try:
        v = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(v):
        return "—"
    if kind == "share":
        return f"{v:.1%}"
    if kind == "ratio":
        return f"{v:.3f}"
    if kind == "count":
        return f"{v:,.0f}" if abs(v) >= 10 or v == int(v) else f"{v:.1f}"
    if abs(v) >= 1e9:
        return f"{v / 1e9:,.2f}B"
    if abs(v) >= 1e6:
        return f"{v / 1e6:,.2f}M"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:,.3g}"


def inputs_table(rows: list[dict]) -> str:
    head = "<tr><th>input</th><th>kind</th><th>what</th><th>source / citation</th><th>prior</th></tr>"
    body = []
    for r in rows:
        p = r.get("prior")
        prior = ""
        if p:
            u = f" {p['unit']}" if p.get("unit") else ""
            prior = f"{p['dist']}[{fmt(p['lo'], 'x')}, {fmt(p['hi'], 'x')}]{u}"
            if p.get("mode") is not None:
                prior += f", mode {fmt(p['mode'], 'x')}"
        cls = {"real file": "real", "published aggregate": "pub", "assumption": "asm"}[r["kind"]]
        body.append(f'<tr class="{cls}" data-input="{_e(r["name"])}"><td><code>{_e(r["name"])}</code></td>'
                    f"<td>{_e(r['kind'])}</td><td>{_e(r['what'])}</td><td>{_e(r['source'])}</td>"
                    f"<td>{_e(prior)}</td></tr>")
    return f'<div class="scroll"><table class="inputs"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table></div>'


def bands_table(outcomes: list[dict]) -> str:
    head = ("<tr><th>outcome</th><th class='num'>median</th><th class='num'>5 %</th><th class='num'>95 %</th>"
            "<th class='num'>record</th><th>record on the band</th><th>largest rank correlations</th></tr>")
    rows = []
    for o in outcomes:
        b = o["band"]
        k = o["kind"]
        rec = o.get("record")
        rtxt = fmt(rec["value"], k) if rec else "—"
        where = (f"{rec['where']} (percentile {rec['percentile']:.0%})" if rec and "where" in rec else
                 ("no member" if rec else "no record"))
        tor = ", ".join(f"{t['prior']} {t['rho']:+.2f}" for t in o["tornado"][:3] if math.isfinite(t["rho"]))
        rows.append(f'<tr data-outcome="{_e(o["name"])}"><td title="{_e(o.get("definition", ""))}">{_e(o["label"])}</td>'
                    f'<td class="num">{_e(fmt(b.get("median"), k))}</td><td class="num">{_e(fmt(b.get("p5"), k))}</td>'
                    f'<td class="num">{_e(fmt(b.get("p95"), k))}</td><td class="num">{_e(rtxt)}</td>'
                    f"<td>{_e(where)}</td><td>{_e(tor)}</td></tr>")
    return f'<div class="scroll"><table class="bands"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table></div>'


def _band_figure(summary: dict):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    outs = summary["outcomes"]
    m = summary["member_table"]
    fig = make_subplots(rows=len(outs), cols=1, subplot_titles=[o["label"] for o in outs],
                        vertical_spacing=min(0.08, 0.5 / max(1, len(outs))))
    for i, o in enumerate(outs, start=1):
        vals = m.get(f"out.{o['name']}", [])
        b = o["band"]
        fig.add_trace(go.Scatter(x=vals, y=[0.0] * len(vals), mode="markers", name="members",
                                 marker=dict(size=6, color="#1f77b4", opacity=0.5), showlegend=i == 1), row=i, col=1)
        if b.get("n"):
            fig.add_trace(go.Scatter(x=[b["p5"], b["p95"]], y=[0.0, 0.0], mode="lines", name="5-95 % band",
                                     line=dict(color="#1d2b45", width=8), opacity=0.35, showlegend=i == 1), row=i, col=1)
            fig.add_trace(go.Scatter(x=[b["median"]], y=[0.0], mode="markers", name="median",
                                     marker=dict(symbol="line-ns-open", size=22, color="#1d2b45"),
                                     showlegend=i == 1), row=i, col=1)
        if o.get("record"):
            fig.add_trace(go.Scatter(x=[o["record"]["value"]], y=[0.0], mode="markers", name="record",
                                     marker=dict(symbol="diamond", size=14, color="#d62728"), showlegend=i == 1),
                          row=i, col=1)
        fig.update_yaxes(visible=False, row=i, col=1)
    fig.update_layout(template="plotly_white", height=110 * len(outs) + 120, margin=dict(l=40, r=30, t=90, b=30),
                      legend=dict(orientation="h", y=1.0, yanchor="bottom"))
    return fig


def _tornado_figure(o: dict, n_members: int):
    import plotly.graph_objects as go

    tor = [t for t in o["tornado"] if math.isfinite(t["rho"])][:10][::-1]
    fig = go.Figure(go.Bar(x=[t["rho"] for t in tor], y=[t["prior"] for t in tor], orientation="h",
                           marker_color=["#d62728" if t["rho"] < 0 else "#2ca02c" for t in tor],
                           hovertext=[t["label"] for t in tor]))
    noise = 2.0 / math.sqrt(max(n_members, 1))
    for x in (-noise, noise):
        fig.add_vline(x=x, line_dash="dot", line_color="#888")
    fig.update_layout(template="plotly_white", title=f"{o['label']}: rank correlation with each prior",
                      height=60 + 28 * max(len(tor), 1), margin=dict(l=170, r=30, t=50, b=30),
                      xaxis=dict(range=[-1, 1], title="Spearman ρ"))
    return fig


def _fig_html(fig, div_id: str) -> str:
    import plotly.io as pio

    return '<div class="figure">' + pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=div_id,
                                                config={"displaylogo": False, "responsive": True},
                                                default_width="100%") + "</div>"


def _section(title: str, content: str, caption: str | None = None, sid: str | None = None) -> str:
    cap = f'<p class="caption">{_e(caption)}</p>' if caption else ""
    idattr = f' id="{_e(sid)}"' if sid else ""
    return f"<section{idattr}><h2>{_e(title)}</h2>{cap}{content}</section>"


def render_replay_report(event, inputs: list[dict], *, ensemble: dict | None = None, point=None,
                         generated: datetime | None = None) -> str:
    from plotly.offline import get_plotlyjs

    from ..report.html import _CSS

    generated = generated or datetime.now(timezone.utc)
    parts = [_section("Inputs and their provenance", inputs_table(inputs),
                      "Every input of the replay: a real data file, a published pre-crash aggregate (with its "
                      "citation), or an assumption with its stated prior. The priors were fixed before the bands "
                      "were compared with the records.", sid="inputs")]
    meta = [("event", event.name)]
    if ensemble is not None:
        n = ensemble["members"]
        meta += [("members", f"{n:,}"), ("seed", ensemble["seed"]), ("run", ensemble["run_id"])]
        parts.append(_section("Outcomes: median and 5–95 % band over the ensemble", bands_table(ensemble["outcomes"]),
                              f"{n} members drawn from the priors (Latin hypercube). A record is placed on its band by "
                              "its percentile among the members; nothing was tuned to it. Rank correlations smaller "
                              f"than {ensemble['rank_correlation_noise']:.2f} in size are within noise for {n} "
                              "members.", sid="bands"))
        parts.append(_section("Bands and records", _fig_html(_band_figure(ensemble), FIG_BANDS)))
        torn = "".join(_fig_html(_tornado_figure(o, n), f"fig-tornado-{o['name']}") for o in ensemble["outcomes"])
        parts.append(_section("Tornado: which prior moves each outcome", torn,
                              "Spearman rank correlation between each prior's drawn values and the outcome; dotted "
                              "lines: ±2/√N.", sid="tornado"))
        defs = [f"{o['label']}: {o['definition']}" for o in ensemble["outcomes"] if o.get("definition")]
        parts.append(_section("Definitions", "<ul>" + "".join(f"<li>{_e(x)}</li>" for x in defs) + "</ul>"))
        ex = ensemble["execution"]
        parts.append(_section("Execution", "<ul>" + "".join(f"<li>{_e(x)}</li>" for x in [
            f"executor {ex['executor']} × {ex['workers']}, chunks {ex['chunks']}",
            f"wall {ex['timings']['wall_s']:.1f} s, compute {ex['timings']['compute_s']:.1f} s",
            f"code {ex['code_version']}; store {ensemble['store']}"]) + "</ul>"))
    if point is not None:
        recs = point.extra.get("records", {})
        defs = point.extra.get("definitions", {})
        rows = []
        for k, v in point.headline.items():
            r = recs.get(k)
            rows.append(f'<tr data-outcome="{_e(k)}"><td title="{_e(defs.get(k, ""))}">{_e(k.replace("_", " "))}</td>'
                        f'<td class="num">{_e(fmt(v, "share" if "share" in k else "money"))}</td>'
                        f'<td class="num">{_e(fmt(r["value"], "share" if "share" in k else "money") if r else "—")}</td>'
                        f"<td>{_e(r['source'] if r else '')}</td></tr>")
        parts.append(_section("Point run at the priors' medians",
                              '<table class="bands"><thead><tr><th>outcome</th><th class="num">replay</th>'
                              '<th class="num">record</th><th>source</th></tr></thead><tbody>' + "".join(rows)
                              + "</tbody></table>", "One member: one input set, one bridge draw. Run --ensemble N "
                              "for the spread the inputs imply."))
        for s in point.sensitivity:
            head = "".join(f"<th class='num'>{_e(c.replace('_', ' '))}</th>" for c in ["value", *s.columns])
            body = "".join("<tr>" + "".join(f"<td class='num'>{_e(fmt(r.get(c), 'share' if 'share' in c else 'money'))}</td>"
                                            for c in ["value", *s.columns]) + "</tr>" for r in s.rows)
            parts.append(_section(f"One at a time: {s.parameter}",
                                  f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'))
        from ..report import figures as F

        for name, (c, run) in (point.runs or {}).items():
            figs = [F.price_figure(run, stable=c.stable), F.liquidations_figure(run, stable=c.stable)]
            parts.append(_section(f"Run '{name}'", "".join(_fig_html(f, f"fig-{name}-{i}") for i, f in enumerate(figs))))
        parts.append(_section("Assumptions of this run", "<ul>" + "".join(f"<li>{_e(a)}</li>" for a in point.assumptions)
                              + "</ul>"))
    items = "".join(f'<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>' for k, v in meta)
    title = f"liqcascade replay {event.name} — {event.title}"
    css = _CSS + "tr.real td:nth-child(2){color:#1f6f3f} tr.pub td:nth-child(2){color:#1f4f9f} tr.asm td:nth-child(2){color:#8a5a00}"
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>{_e(title)}</title>", f"<style>{css}</style>",
        f'<script type="text/javascript">{get_plotlyjs()}</script>', "</head>", "<body>",
        f'<header><h1>{_e(title)}</h1><p>{_e(event.summary)}</p><dl class="meta">{items}</dl></header>',
        "<main>", *parts,
        f"<footer>generated by liqcascade on {_e(generated.strftime('%Y-%m-%d %H:%M UTC'))}</footer>",
        "</main>", "</body>", "</html>", ""])


def write_replay_report(path, event, inputs: list[dict], **kw):
    return write_text_atomic(path, render_replay_report(event, inputs, **kw))
