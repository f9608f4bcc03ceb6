"""Mechanism commands: ``mechanisms`` (the catalogue) and ``compare`` (mechanisms side by side).

The catalogue is read from the registries (:data:`liqcascade.mechanisms.MECHANISMS`,
:data:`liqcascade.agents.AGENTS`) and each unit's ``model.py``: every field with its default and
description; ``REAL_SYSTEM``, ``BUILT_IN`` and ``VERDICT`` there add which real system uses each
mechanism, which protocol units carry their own version (sections of
``shared/reference/protocol-mechanics.md``; prose in ``docs/mechanisms.md``) and whether it
reduces a loss or only moves it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from .. import jsonout

def unit_text(group: str, name: str, const: str) -> str:
    """``REAL_SYSTEM``, ``VERDICT`` or ``BUILT_IN`` of mechanism or agent ``name`` (its folder's
    ``model.py``; "" when it has none)."""
    from .. import agents, mechanisms

    registry = mechanisms if group == "mechanisms" else agents
    return getattr(registry.module(name, "model"), const, "")


def first_sentence(doc: str | None) -> str:
    """The docstring's first sentence, without a trailing parenthesis of references and with
    ``code`` marks removed."""
    text = " ".join((doc or "").split()).replace("``", "")
    for i, ch in enumerate(text):
        if ch == "." and (i + 1 == len(text) or text[i + 1] == " ") and text.count("(", 0, i) == text.count(")", 0, i):
            text = text[: i + 1]
            break
    if text.endswith(").") and " (" in text:
        j = text.rfind(" (")
        if text.count("(", j) == text.count(")", j):
            text = text[:j] + "."
    return text


def _type_name(info) -> str:
    import typing

    ann = info.annotation
    args = typing.get_args(ann)
    if typing.get_origin(ann) is typing.Literal:
        base = " | ".join(repr(a) for a in args)
    elif args and type(None) in args:
        base = " | ".join(getattr(a, "__name__", str(a)) if not typing.get_args(a) else str(a).replace("typing.", "")
                          for a in args if a is not type(None)) + " | None"
    elif typing.get_origin(ann) is list and args and typing.get_origin(args[0]) is typing.Annotated:
        members = typing.get_args(typing.get_args(args[0])[0])  # list[Annotated[Union[...], ...]]
        base = "list[" + " | ".join(getattr(m, "__name__", str(m)) for m in members) + "]"
    else:
        base = getattr(ann, "__name__", str(ann)).replace("typing.", "")
        if typing.get_args(ann):
            base = str(ann).replace("typing.", "")
    cons = []
    for m in info.metadata:
        for attr, sym in (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤")):
            v = getattr(m, attr, None)
            if v is not None:
                cons.append(f"{sym}{v:g}" if isinstance(v, (int, float)) else f"{sym}{v}")
    return base + (f" ({', '.join(cons)})" if cons else "")


def catalogue() -> list[dict]:
    """Every mechanism and agent: name, group, summary, real system, built-in versions, parameters."""
    from pydantic_core import PydanticUndefined

    from ..engine.compare import AGENTS, DEFAULT_DEBT_SHARE, DERIVED_DEFAULTS, MECHANISMS, cli_name, model_class

    out = []
    for group, names in (("mechanisms", MECHANISMS), ("agents", AGENTS)):
        for name in names:
            cls = model_class(group, name)
            params = []
            for f, info in cls.model_fields.items():
                if f in DERIVED_DEFAULTS.get(name, ()):
                    default = f"compare: {DEFAULT_DEBT_SHARE:.0%} of total debt at p0"
                elif info.default is PydanticUndefined and info.default_factory is None:
                    default = "required"
                elif info.default_factory is not None:
                    default = info.default_factory()
                else:
                    default = info.default
                params.append({"name": f, "type": _type_name(info), "default": default,
                               "description": info.description or ""})
            out.append({
                "name": cli_name(name), "field": name, "kind": group[:-1],
                "table": f"[{group}.{name}]",
                "summary": first_sentence(cls.__doc__), "description": " ".join((cls.__doc__ or "").split()).replace("``", ""),
                "real_system": unit_text(group, name, "REAL_SYSTEM"), "built_in": unit_text(group, name, "BUILT_IN"),
                "verdict": unit_text(group, name, "VERDICT"),
                "parameters": params,
            })
    return out


def _default_text(v) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 1e5 else f"{v:g}"
    return jsonout.dumps(v)


#: terminal tables of ``compare``: (title, [(metric key, column header), ...], paired difference?)
TABLES = (
    ("mean ± 95% CI", (("bad_debt", "bad debt"), ("liquidated_value", "liquidated"), ("max_drawdown", "drawdown"),
                       ("borrower_loss", "borrower\nloss"), ("liquidator_profit", "liquidator\nprofit"),
                       ("attacker_profit", "attacker\nprofit"), ("fund_draw", "fund\ndraw"),
                       ("time_to_recovery", "time\ndislocated"), ("recovery_time", "time to\nrecovery"),
                       ("max_step_move", "largest\nstep fall"), ("positions_saved", "positions\nsaved")), False),
    ("more metrics, mean ± 95% CI", (("socialized", "socialized"), ("paused_steps", "steps\npaused"),
                                    ("held_value", "held\nunsold"), ("topups", "top-ups"),
                                    ("positions_liquidated", "positions\nliquidated"),
                                    ("not_recovered", "still\ndislocated\nat the end")), False),
    ("paired difference to none (same path), mean ± 95% CI",
     (("bad_debt", "Δ bad\ndebt"), ("liquidated_value", "Δ liqui-\ndated"), ("max_drawdown", "Δ draw-\ndown"),
      ("borrower_loss", "Δ borrower\nloss"), ("liquidator_profit", "Δ liquidator\nprofit"),
      ("attacker_profit", "Δ attacker\nprofit"), ("fund_draw", "Δ fund\ndraw"), ("socialized", "Δ socia-\nlized"),
      ("time_to_recovery", "Δ time\ndislocated"), ("recovery_time", "Δ time to\nrecovery"),
      ("max_step_move", "Δ largest\nstep fall")), True),
)
#: the clearinghouse's table (shown when a configuration has it)
CLEARING_TABLE = ("clearinghouse, mean ± 95% CI (units of collateral; quote)",
                  (("ch_netted", "netted"), ("ch_sold", "sold"), ("ch_backstop", "backstop\nbought"),
                   ("ch_held", "held at\nthe end"), ("ch_held_value", "held\nvalue"),
                   ("ch_price_risk", "price\nrisk"), ("ch_shortfall", "queue\nshortfall"),
                   ("ch_backstop_pnl", "backstop\nP&L")), False)


def register(app: typer.Typer) -> None:
    from ._common import guard

    @app.command("mechanisms")
    @guard
    def mechanisms_cmd(
        name: Optional[str] = typer.Argument(None, help="one mechanism or agent (e.g. circuit-breaker)"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    ):
        """List every prevention mechanism and agent with its parameters (docs/mechanisms.md)."""
        from ._common import console, escape
        from ..engine.compare import field_name
        from ..errors import InputError

        cat = catalogue()
        if name is not None:
            f = field_name(name)
            cat = [m for m in cat if m["field"] == f]
            if not cat:
                raise InputError(None, "NAME", f"unknown mechanism or agent {name!r} (have: "
                                               f"{', '.join(m['name'] for m in catalogue())})")
        if as_json:
            typer.echo(jsonout.dumps(cat if name is None else cat[0]))
            return
        from rich.table import Table

        con = console()
        if name is None:
            for kind, title in (("mechanism", "prevention mechanisms ([mechanisms.*], `compare --mechanisms`)"),
                                ("agent", "agents: market participants and adversaries ([agents.*])")):
                t = Table(title=escape(title), show_lines=True)
                t.add_column("name", no_wrap=True)
                t.add_column("what it does")
                if kind == "mechanism":
                    t.add_column("bad debt: reduced or moved?")
                t.add_column("real system")
                t.add_column("parameters (default)")
                for m in cat:
                    if m["kind"] != kind:
                        continue
                    prm = "\n".join(f"{p['name']} = {_default_text(p['default'])}" for p in m["parameters"])
                    cells = [m["name"], escape(m["summary"])]
                    if kind == "mechanism":
                        cells.append(escape(m["verdict"]))
                    t.add_row(*cells, escape(m["real_system"]), escape(prm))
                con.print(t)
            con.print("[dim]`liqcascade mechanisms NAME` shows one with its parameters' descriptions; "
                      "docs/mechanisms.md explains each[/dim]")
            return
        m = cat[0]
        con.print(f"[bold]{m['name']}[/bold] ({m['kind']}, scenario table {escape(m['table'])})")
        con.print(escape(m["description"]))
        if m["verdict"]:
            con.print(f"bad debt: {escape(m['verdict'])}")
        con.print(f"real system: {escape(m['real_system'])}")
        if m["built_in"]:
            con.print(f"built into protocol units: {escape(m['built_in'])}")
        t = Table(title="parameters")
        for col in ("field", "type", "default", "description"):
            t.add_column(col)
        for p in m["parameters"]:
            t.add_row(p["name"], escape(p["type"]), escape(_default_text(p["default"])), escape(p["description"]))
        con.print(t)

    @app.command("compare")
    @guard
    def compare_cmd(
        scenario: Path = typer.Argument(..., help="scenario TOML"),
        mechanisms: str = typer.Option(
            "all", "--mechanisms", "-m",
            help="comma list of configurations: none, scenario (its own mechanisms tables), a mechanism "
                 "(circuit-breaker), a+b for several; 'all' = none and every mechanism alone"),
        paths: Optional[int] = typer.Option(None, min=1, help="paths per configuration (default simulation.paths)"),
        seed: Optional[int] = typer.Option(None, min=0, help="override simulation.seed"),
        set_: List[str] = typer.Option([], "--set", help="NAME.FIELD=VALUE, e.g. throttle.max_debt_per_window=1e6 (repeatable)"),
        out: Optional[Path] = typer.Option(None, help="write compare.json, compare.html and compare.png here"),
        report: Optional[Path] = typer.Option(None, help="also write a self-contained HTML report to this file"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    ):
        """Run the same seeded price paths under each mechanism configuration; compare the outcomes."""
        from ._common import check_out_path, console, escape, scenario_file
        from ..engine.compare import MECHANISMS, cli_name, parse_names, parse_sets, run_compare
        from ..scenario.load import load_scenario

        if mechanisms.strip() == "all":
            mechanisms = ",".join(["none", *(cli_name(m) for m in MECHANISMS)])
        parsed = parse_names(mechanisms)  # bad names fail before the scenario is read
        parse_sets(set_)
        if out is not None:
            check_out_path(out)
        if report is not None:
            check_out_path(report.parent, "--report")
        sc, base = load_scenario(scenario)
        n_paths = paths or sc.simulation.paths
        n_cfg = len(parsed) + (0 if any(f == [] for _, f in parsed) else 1)
        with scenario_file(scenario):
            if not as_json and sys.stderr.isatty():
                from rich.console import Console
                from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

                with Progress(TextColumn("configurations × paths"), BarColumn(), MofNCompleteColumn(),
                              TimeElapsedColumn(), console=Console(stderr=True), transient=True) as prog:
                    task = prog.add_task("compare", total=n_cfg * n_paths)
                    res = run_compare(sc, base, mechanisms, set_, paths=paths, seed=seed, source=str(scenario),
                                      progress=lambda k: prog.advance(task, k))
            else:
                res = run_compare(sc, base, mechanisms, set_, paths=paths, seed=seed, source=str(scenario))
        written, png_note = [], None
        if out is not None:
            from ..report.heatmap import write_html, write_png
            from ..report.compare import compare_figure

            out.mkdir(parents=True, exist_ok=True)
            (out / "compare.json").write_text(jsonout.dumps(res.as_dict(), indent=2))
            fig = compare_figure(res)
            html = write_html(fig, out / "compare.html")
            written += [out / "compare.json", out / "compare.html"]
            try:
                method = write_png(fig, out / "compare.png", html_path=html)
                written.append(out / "compare.png")
                png_note = f"compare.png written with {method}"
            except RuntimeError as exc:
                png_note = f"compare.png not written: PNG export is not available here ({exc})"
        if report is not None:
            from ..report.compare import write_compare_report

            write_compare_report(report, res)
            written.append(report)
        if as_json:
            d = res.as_dict()
            d["files"] = [str(p) for p in written]
            if png_note:
                d["png"] = png_note
            typer.echo(jsonout.dumps(d))
            return
        from rich.table import Table

        from ..engine.compare import METRICS
        from ..report.compare import compact_ci

        units = {k: u for k, _, u in METRICS}
        con = console()
        con.print(f"[bold]compare — {escape(res.scenario)}[/bold]: {res.paths} path(s) × {res.steps} steps of "
                  f"{res.dt_seconds:g} s, seed {res.seed}, the same paths for every configuration"
                  + ("" if res.paths > 1 else " (one path: means only, no CI)"))
        has_ch = any("clearinghouse" in c.mechanisms for c in res.configs)
        for title, cols, diff in TABLES + ((CLEARING_TABLE,) if has_ch else ()):
            cfgs = [c for c in res.configs if not (diff and c.label == "none")]
            if not cfgs:
                continue
            t = Table(title=title, show_lines=res.paths > 1)
            t.add_column("configuration", overflow="fold")
            for _, head in cols:
                t.add_column(head, justify="right")
            for c in cfgs:
                st = c.diff if diff else c.stats
                t.add_row(escape(c.label), *[compact_ci(st[k], units[k]) for k, _ in cols])
            con.print(t)
        protos = sorted({p for c in res.configs for p in c.attribution()})
        if protos:
            t = Table(title="price move caused by each protocol's forced sales on each venue (Shapley split of the "
                            "sales ledger, recorded path(s), relative to the price before each sale; share of the "
                            "venue's forced-sale move)")
            t.add_column("configuration", overflow="fold")
            for p in protos:
                t.add_column(escape(p), justify="right")
            for c in res.configs:
                att = c.attribution()
                t.add_row(escape(c.label), *[f"{att[p]['relative_move']:+.2%} ({att[p]['share']:.0%})" if p in att
                                             else "–" for p in protos])
            con.print(t)
        pm = [k for k, _ in (("bad_debt", 0), ("liquidations", 0)) if any(k in c.protocol_stats for c in res.configs)]
        for key in pm:
            protos_k = sorted({p for c in res.configs for p in c.protocol_stats.get(key, {})})
            t = Table(title=f"{key.replace('_', ' ')} per protocol, mean ± 95% CI (Δ: paired difference to none)",
                      show_lines=res.paths > 1)
            t.add_column("configuration", overflow="fold")
            for p in protos_k:
                t.add_column(escape(p), justify="right")
            unit = "quote" if key == "bad_debt" else "count"
            for c in res.configs:
                st, df = c.protocol_stats.get(key, {}), c.protocol_diff.get(key, {})
                t.add_row(escape(c.label), *[
                    compact_ci(st[p], unit) + ("" if c.label == "none" or p not in df else
                                                "\nΔ " + compact_ci(df[p], unit, " "))
                    if p in st else "–" for p in protos_k])
            con.print(t)
        con.print(f"max drawdown: {escape(res.asset)}; time dislocated, time to recovery and largest step fall: "
                  "any risky asset")
        for c in res.configs:
            if c.mechanisms:
                prm = "; ".join(f"{cli_name(k)}(" + ", ".join(f"{a}={_default_text(v)}" for a, v in p.items()
                                                             if v is not None) + ")"
                                for k, p in c.mechanisms.items())
                con.print(f"[dim]{escape(c.label)}: {escape(prm)}[/dim]")
        for p in written:
            con.print(f"wrote {p}")
        if png_note and "not written" in png_note:
            typer.echo(f"warning: {png_note}", err=True)
        for n in res.notes:
            con.print(f"[dim]note: {escape(n)}[/dim]")
