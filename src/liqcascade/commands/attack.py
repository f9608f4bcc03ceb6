"""``liqcascade attack SCENARIO``: the economics of a cascade hunter.

Per level of attacker capital (``--capital start:stop:count`` or a comma list), the scenario is
rerun on the same seeded paths with ``[agents.hunter]`` at that capital (defaults when the
scenario has none): liquidations, liquidated value (and what the attack *triggers* above the
no-attack baseline), bad debt, max drawdown and the attacker's net PnL. ``--target V`` also
searches the least capital that liquidates ``V`` (bisection). Output: a rich table, ``--json``
(one object), ``--out DIR`` (``attack.json``, ``attack.html`` and ``attack.png`` when kaleido or
a headless Chromium can render it).

``--flash`` runs the one-block flash-loan attack of ``[agents.flash_attacker]`` instead
(:mod:`liqcascade.engine.flash`): the attacker's PnL per loan size (``--loans``, asset units;
default 41 sizes up to the sources' liquidity), the least and the most profitable size, under the
scenario's oracle, under every oracle kind on the same book and under ``oracle_guard``; which
kinds are exploitable. ``--json`` prints it as one strict JSON object with its provenance;
``--out DIR`` writes ``attack_flash.json`` (and ``attack_flash.html`` with plotly).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Optional

import typer

from .. import jsonout

MAX_LEVELS = 1000


def parse_capitals(spec: str, field: str = "--capital") -> list[float]:
    """``start:stop:count`` (``count`` evenly spaced levels, both ends included) or ``a,b,c``."""
    from ..errors import InputError

    try:
        if ":" in spec:
            parts = spec.split(":")
            if len(parts) != 3:
                raise ValueError
            start, stop = float(parts[0]), float(parts[1])
            n = int(parts[2])
            if n < 1 or stop < start:
                raise InputError(None, field, "need start:stop:count with count ≥ 1 and stop ≥ start")
            vals = [start] if n == 1 else [start + (stop - start) * i / (n - 1) for i in range(n)]
        else:
            vals = [float(x) for x in spec.split(",") if x.strip()]
    except ValueError:
        raise InputError(None, field, f"cannot parse {spec!r}; use start:stop:count or a,b,c") from None
    if not vals:
        raise InputError(None, field, "no level given")
    if len(vals) > MAX_LEVELS:
        raise InputError(None, field, f"{len(vals)} levels is too many (at most {MAX_LEVELS})")
    if any(not math.isfinite(v) or v < 0 for v in vals):
        raise InputError(None, field, "levels must be finite numbers ≥ 0")
    return vals


def attack_figure(result: dict):
    """Liquidated value and bad debt (top) and the attacker's PnL (bottom) against capital;
    the minimum capital found for ``--target`` as a dashed line. Trace names: ``"liquidated
    value"``, ``"bad debt"``, ``"attacker PnL"``."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    lv = result["levels"]
    x = [r["capital"] for r in lv]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1,
                        subplot_titles=("cascade triggered", "attacker net PnL"))
    fig.add_trace(go.Scatter(x=x, y=[r["liquidated_value"] for r in lv], name="liquidated value",
                             mode="lines+markers", line=dict(color="#d62728")), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=[r["bad_debt"] for r in lv], name="bad debt", mode="lines+markers",
                             line=dict(color="#9467bd")), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=[r["attacker_pnl"] for r in lv], name="attacker PnL", mode="lines+markers",
                             line=dict(color="#1f77b4")), row=2, col=1)
    fig.add_hline(y=0, line_width=1, line_color="#7f7f7f", row=2, col=1)
    mc = result.get("min_capital") or {}
    if mc.get("capital") is not None:
        for row in (1, 2):
            fig.add_vline(x=mc["capital"], line_dash="dash", line_width=1, row=row, col=1)
    cl = result.get("cluster") or {}
    sub = (f"cluster {cl['positions']} positions, {cl['debt_value']:,.0f} debt, {cl['drop']:.1%} below spot"
           if cl.get("positions") else "no cluster within reach")
    fig.update_layout(template="plotly_white", height=640,
                      title=f"attack — {result['scenario']} ({result['asset']}, {result['paths']} path(s)); {sub}")
    fig.update_xaxes(title_text="attacker capital (quote)", row=2, col=1)
    fig.update_yaxes(title_text="quote (oracle value)", row=1, col=1)
    fig.update_yaxes(title_text="quote", row=2, col=1)
    return fig


def _table(result: dict):
    from rich.table import Table

    cl = result["cluster"]
    t = Table(title=f"attack — {result['scenario']}: hunter on {result['asset']}, "
                    f"{result['paths']} path(s) × {result['steps']} steps, seed {result['seed']}")
    for col in ("capital", "liquidations", "liquidated value", "triggered", "bad debt", "max drawdown",
                "attacker PnL"):
        t.add_column(col, justify="right", no_wrap=True)
    for r in result["levels"]:
        pnl = r["attacker_pnl"]
        col = "green" if pnl > 0 else ("red" if pnl < 0 else "default")
        t.add_row(f"{r['capital']:,.0f}", f"{r['liquidations']:,.1f}", f"{r['liquidated_value']:,.0f}",
                  f"{r['triggered_value']:,.0f}", f"{r['bad_debt']:,.0f}", f"{r['max_drawdown']:.2%}",
                  f"[{col}]{pnl:,.0f}[/{col}]")
    if cl.get("positions"):
        t.caption = (f"cluster: {cl['positions']} positions, {cl['debt_value']:,.0f} debt liquidatable in "
                     f"[{cl['bucket'][0]:,.2f}, {cl['bucket'][1]:,.2f}); target price {cl['target_price']:,.2f} "
                     f"({cl['drop']:.2%} below spot). Baseline (no attack): "
                     f"{result['baseline']['liquidations']:,.1f} liquidations, "
                     f"{result['baseline']['liquidated_value']:,.0f} liquidated")
    else:
        t.caption = ("no liquidation cluster within the hunter's reach among the Aave-rule single-collateral positions "
                     "(the ladder does not cover protocol units or multi-asset positions): it does not trade")
    return t


def attack(scenario: Path, capital: str, target: Optional[float], paths: Optional[int], out: Optional[Path],
           as_json: bool) -> None:
    from ._common import check_out_path, console, scenario_file
    from ..engine import attack as A
    from ..engine.compile import compile_scenario
    from ..errors import InputError
    from ..scenario.load import load_scenario

    caps = parse_capitals(capital)
    if target is not None and not (math.isfinite(target) and target > 0):
        raise InputError(None, "--target", "must be a finite liquidated value > 0")
    if out is not None:
        check_out_path(out)
        if out.exists() and not out.is_dir():
            raise InputError(str(out), "--out", "exists and is not a directory")
    sc, base = load_scenario(scenario)
    if paths is not None:
        sc.simulation.paths = paths
    with scenario_file(scenario):
        c = compile_scenario(sc, base)
        hunter = A.base_hunter(c)
        show = not as_json and sys.stderr.isatty()
        prog = None
        if show:
            from rich.progress import Progress

            prog = Progress(transient=True)
            prog.start()
        try:
            step = None
            if prog is not None:
                task = prog.add_task("attack: baseline", total=len(caps) + 1)
                step = lambda k: prog.advance(task, k)  # noqa: E731
            setup = A.prepare(c, hunter=hunter)
            if step:
                step(1)
                prog.update(task, description="attack: capital levels")
            result = A.attack_curve(c, caps, setup=setup, progress=step)
            result["min_capital"] = None
            if target is not None:
                if prog is not None:
                    task2 = prog.add_task("minimum capital (bisection)", total=None)
                    step2 = lambda k: prog.advance(task2, k)  # noqa: E731
                else:
                    step2 = None
                result["min_capital"] = A.min_capital(c, target, setup=setup, progress=step2)
        finally:
            if prog is not None:
                prog.stop()
    from ..agents.pack import agent_notes

    result["notes"] = agent_notes(A.with_hunter(c, hunter)) + [
        "each level reruns the scenario on the same seeded paths; triggered = liquidated value above the no-attack baseline",
    ]
    written = []
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        try:
            from ..report.heatmap import write_html, write_png

            fig = attack_figure(result)
            hp = write_html(fig, out / "attack.html")
            written.append(hp)
            try:
                write_png(fig, out / "attack.png", html_path=hp, timeout_s=30.0)
                written.append(out / "attack.png")
            except RuntimeError as e:
                result["notes"].append(f"attack.png not written: {e}")
        except ImportError:
            result["notes"].append("figure not written: plotly is not installed (liqcascade[plot])")
        jp = out / "attack.json"
        tmp = jp.with_name(".attack.json.tmp")
        tmp.write_text(jsonout.dumps(result, indent=1))
        tmp.replace(jp)
        written.insert(0, jp)
    if as_json:
        typer.echo(jsonout.dumps(result))
        return
    con = console()
    con.print(_table(result))
    mc = result.get("min_capital")
    if mc is not None:
        if mc["capital"] is None:
            con.print(f"minimum capital for {mc['target_liquidated_value']:,.0f} liquidated: {mc.get('note', 'not reached')}")
        else:
            lv = mc["level"]
            extra = (f" ({lv['liquidations']:,.1f} liquidations, attacker PnL {lv['attacker_pnl']:,.0f})"
                     if lv else f" ({mc.get('note', '')})")
            con.print(f"minimum capital for {mc['target_liquidated_value']:,.0f} liquidated: "
                      f"[bold]{mc['capital']:,.0f}[/bold]{extra}")
    for n in result["notes"]:
        con.print(f"[dim]note: {n}[/dim]", highlight=False)
    for p in written:
        con.print(f"wrote {p}")


def _fmt_loan(d):
    return "-" if d is None else f"{d['loan']:,.2f}"


def _fmt_pnl(d):
    return "-" if d is None else f"{d['pnl']:,.0f}"


def _flash_tables(result: dict):
    from rich.table import Table

    t = Table(title=f"flash attack — {result['scenario']}: {result['asset']} pushed on {result['venue']}, "
                    f"{result['positions']} positions of {result['protocol']} ({result['debt_value']:,.0f} {result['debt_asset']} debt)")
    t.add_column("oracle", min_width=24)
    for col in ("exploit-\nable", "least\nprofitable\nloan", "PnL\nthere", "most\nprofitable\nloan", "best PnL",
                "liqui-\ndations", "largest\nmove on\nthe grid", "move at\nany size", "reachable\ndebt"):
        t.add_column(col, justify="right")
    for r in result["oracles"]:
        mx = r["max_profitable"]
        ex = "[red]yes[/red]" if r["exploitable"] else "[green]no[/green]"
        name = r["oracle"] if r["role"] != "oracle_guard" else f"oracle_guard: {r['oracle']}"
        t.add_row(name, ex, _fmt_loan(r["min_profitable"]), _fmt_pnl(r["min_profitable"]), _fmt_loan(mx), _fmt_pnl(mx),
                  "-" if mx is None else f"{mx['liquidations']}", f"{r['largest_oracle_move']:.2%}",
                  f"{r['move_bound']:.2%}", f"{r['reachable_debt']:,.0f}")
    t.caption = ("loans in " + result["asset"] + " units; PnL in quote after flash fees, gas and slippage; move at any "
                 "size = the oracle's in-block move if the pushed price went to zero; reachable debt = debt of the "
                 "positions that move would make liquidatable")
    g = Table(title=f"attacker PnL per loan size — {result['oracles'][0]['oracle']}")
    for col in ("loan", "push", "oracle move", "liquidations", "repaid", "bad debt", "flash fees", "gas", "PnL"):
        g.add_column(col, justify="right", no_wrap=True)
    for d in result["oracles"][0]["levels"]:
        if d["feasible"] == 0:
            g.add_row(f"{d['loan']:,.2f}", "-", "-", "-", "-", "-", "-", "-", "beyond the sources' liquidity")
            continue
        pnl = d["pnl"]
        colr = "green" if pnl > 0 else ("red" if pnl < 0 else "default")
        fees = d["fee_asset"] * d["spot_pre"] + d["fee_quote"]
        g.add_row(f"{d['loan']:,.2f}", f"{d['push']:.2%}", f"{d['oracle_move']:.2%}", f"{d['liquidations']}",
                  f"{d['repaid']:,.0f}", f"{d['bad_debt']:,.0f}", f"{fees:,.0f}", f"{d['gas']:,.0f}",
                  f"[{colr}]{pnl:,.0f}[/{colr}]" + ("" if d["feasible"] == 1 else " (unfunded)"))
    return t, g


def flash_figure(result: dict):
    """Attacker PnL against loan size, one trace per oracle row."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for r in result["oracles"]:
        lv = [d for d in r["levels"] if d["feasible"] == 1]
        name = r["oracle"] if r["role"] != "oracle_guard" else f"oracle_guard: {r['oracle']}"
        fig.add_trace(go.Scatter(x=[d["loan"] for d in lv], y=[d["pnl"] for d in lv], name=name, mode="lines+markers"))
    fig.add_hline(y=0, line_width=1, line_color="#7f7f7f")
    fig.update_layout(template="plotly_white", height=520,
                      title=f"flash attack — {result['scenario']} ({result['asset']} on {result['venue']})",
                      xaxis_title=f"flash loan ({result['asset']})", yaxis_title="attacker PnL (quote)")
    return fig


def attack_flash(scenario: Path, loans: Optional[str], out: Optional[Path], as_json: bool) -> None:
    from ._common import check_out_path, console, scenario_file
    from ..engine.compile import compile_scenario
    from ..engine.flash import flash_report, n_variants
    from ..errors import InputError
    from ..provenance import clean, record
    from ..scenario.load import load_scenario

    grid = parse_capitals(loans, "--loans") if loans is not None else None
    if out is not None:
        check_out_path(out)
        if out.exists() and not out.is_dir():
            raise InputError(str(out), "--out", "exists and is not a directory")
    sc, base = load_scenario(scenario)
    if sc.agents.flash_attacker is None:
        raise InputError(str(scenario), "agents.flash_attacker", "--flash needs an [agents.flash_attacker] table "
                         "(its flash-loan sources: docs/agents.md)")
    with scenario_file(scenario):
        c = compile_scenario(sc, base)
        show = not as_json and sys.stderr.isatty()
        prog = None
        if show:
            from rich.progress import Progress

            prog = Progress(transient=True)
            prog.start()
        try:
            step = None
            if prog is not None:
                task = prog.add_task("flash attack: oracle variants", total=n_variants(c))
                step = lambda k: prog.advance(task, k)  # noqa: E731
            result = flash_report(c, grid, progress=step)
        finally:
            if prog is not None:
                prog.stop()
    result = {"provenance": record("attack_flash", sc, base, seed=sc.simulation.seed), **result}
    result = clean(result)
    written = []
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        try:
            from ..report.heatmap import write_html

            written.append(write_html(flash_figure(result), out / "attack_flash.html"))
        except ImportError:
            result["notes"].append("figure not written: plotly is not installed (liqcascade[plot])")
        jp = out / "attack_flash.json"
        tmp = jp.with_name(".attack_flash.json.tmp")
        tmp.write_text(jsonout.dumps(result, indent=1))
        tmp.replace(jp)
        written.insert(0, jp)
    if as_json:
        typer.echo(jsonout.dumps(result))
        return
    con = console()
    t, g = _flash_tables(result)
    con.print(t)
    con.print(g)
    ex = [r["oracle"] for r in result["oracles"] if r["exploitable"]]
    con.print("exploitable in one block: " + (", ".join(ex) if ex else "none of the oracles tried"))
    for n in result["notes"]:
        con.print(f"[dim]note: {n}[/dim]", highlight=False)
    for p in written:
        con.print(f"wrote {p}")


def register(app: typer.Typer) -> None:
    from ._common import guard

    @app.command("attack")
    @guard
    def attack_cmd(
        scenario: Path = typer.Argument(..., help="scenario TOML (its agents.hunter table, or defaults)"),
        capital: Optional[str] = typer.Option(None, help="capital levels: start:stop:count or a comma list (quote; "
                                              "default 0:5e6:11)"),
        target: Optional[float] = typer.Option(None, help="liquidated value whose minimum attack capital to search"),
        paths: Optional[int] = typer.Option(None, min=1, help="override simulation.paths"),
        out: Optional[Path] = typer.Option(None, help="write attack.json and the figure (html, png) to this folder"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
        flash: bool = typer.Option(False, "--flash", help="the one-block flash-loan attack of [agents.flash_attacker] "
                                   "instead of the hunter: PnL per loan size under each oracle kind"),
        loans: Optional[str] = typer.Option(None, help="--flash: loan sizes in asset units, start:stop:count or a,b,c "
                                            "(default 41 sizes up to the sources' liquidity)"),
    ):
        """Cascade-hunter economics (per capital level, the cascade triggered and the attacker's PnL),
        or with --flash the one-block flash-loan attack per loan size and oracle kind."""
        if flash:
            from ..errors import InputError

            for name, val in (("--capital", capital), ("--target", target), ("--paths", paths)):
                if val is not None:
                    raise InputError(None, name, "not used with --flash (the flash attack is one block on the start "
                                                 "state; its sizes are --loans)")
            attack_flash(scenario, loans, out, as_json)
            return
        if loans is not None:
            from ..errors import InputError

            raise InputError(None, "--loans", "only with --flash")
        attack(scenario, capital if capital is not None else "0:5e6:11", target, paths, out, as_json)
