"""Command-line interface (Typer). Heavy imports happen inside the commands."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Optional

import typer
import typer.core

from . import jsonout
from .commands._common import (
    check_out_path,
    console,
    escape,
    guard,
    load_compiled,
    scenario_file,
    warn_start,
)
from .errors import InputError

def _flags_without_type() -> None:
    """``--help`` lists an on/off flag without a type: Typer (≥ 0.24) writes ``<bool>`` beside
    every flag (``--json <bool>``), which reads as if the flag took a value."""
    opt = typer.core.TyperOption
    if getattr(opt.display_type_rich, "_liqcascade", False):
        return
    orig = opt.display_type_rich

    def display_type_rich(self, ctx):
        if getattr(self, "is_flag", False):
            return None
        return orig(self, ctx)

    display_type_rich._liqcascade = True
    opt.display_type_rich = display_type_rich


_flags_without_type()


def _click():
    """The click Typer runs on (Typer ≥ 0.24 vendors it as ``typer._click``)."""
    import typer.core

    return getattr(typer.core, "_click", None) or __import__("click")


class OneLineErrors(typer.core.TyperGroup):
    """The command group: usage errors (a bad option value, an unknown option, a missing
    argument) print one line ``error: OPTION: REASON`` and exit with status 2, like bad input in
    a file, instead of click's usage box."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        E = _click().exceptions
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except E.NoArgsIsHelpError as exc:  # no arguments: the help, as before
            exc.show()
            sys.exit(exc.exit_code)
        except E.UsageError as exc:
            typer.echo(f"error: {usage_message(exc)}", err=True)
            sys.exit(2)
        except E.ClickException as exc:
            typer.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except (typer.Abort, getattr(E, "Abort", typer.Abort)):
            typer.echo("aborted", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


def usage_message(exc) -> str:
    """``OPTION: REASON`` for a bad parameter, click's own sentence otherwise, and the command
    whose ``--help`` lists the options."""
    E = _click().exceptions
    msg = exc.format_message()
    if isinstance(exc, E.BadParameter) and not isinstance(exc, E.MissingParameter):
        hint = exc.param_hint
        if hint is None and exc.param is not None:
            opts = getattr(exc.param, "opts", None) or [getattr(exc.param, "name", "")]
            hint = " / ".join(opts)
        if hint:
            msg = f"{str(hint).strip(chr(39)).replace(chr(39) + ' / ' + chr(39), ' / ')}: {exc.message}"
    sub = exc.ctx.command_path.split(" ", 1)[1:] if exc.ctx is not None else []
    cmd = " ".join(["liqcascade", *sub])  # the program's name, however it was started
    return f"{msg.rstrip('.')} (see '{cmd} --help')"


app = typer.Typer(add_completion=False, no_args_is_help=True, cls=OneLineErrors,
                  help="Simulate, measure and prevent liquidation cascades.")
positions_app = typer.Typer(no_args_is_help=True, help="Position books: synthetic generation.")
app.add_typer(positions_app, name="positions")


def parse_shocks(spec: str):
    """``start:stop:step`` (stop included when on the grid) or a comma list."""
    from .results.curve import parse_shock_grid

    return parse_shock_grid(spec, "--shocks")


@app.command()
@guard
def validate(scenario: Path = typer.Argument(..., help="scenario TOML")):
    """Validate a scenario and its position files; print what it contains."""
    from .scenario.load import load_scenario

    sc, base = load_scenario(scenario)
    if sc.flow is not None:
        from .commands.flow import validate_flow

        typer.echo(validate_flow(scenario, sc, base))
        return
    c = load_compiled(scenario, ids=False)  # every id is checked; none is printed
    b = c.book
    n_units = sum(u.n for u in c.units)
    warn_start(c)
    typer.echo(
        f"ok: {scenario}: {len(c.assets)} assets, {len(c.venue_names)} venues, {len(c.oracle_names)} oracles, "
        f"{len(c.protocols)} protocols, {b.n + b.idle_coll.shape[0] + b.n_multi + n_units} positions "
        f"({b.n} in sorted books, {b.n_multi} multi-asset, {n_units} in protocol units)"
    )


@app.command()
@guard
def curve(
    scenario: Path = typer.Argument(..., help="scenario TOML"),
    shocks: str = typer.Option("0:0.5:0.01", help="start:stop:step or a comma list of fractions"),
    mode: str = typer.Option("mechanical", help="mechanical (every HF<1 liquidated) or rational"),
    asset: Optional[str] = typer.Option(None, help="asset whose price the curve reports"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    report: Optional[Path] = typer.Option(None, help="also write an HTML report to this file"),
):
    """Static cascade curve over a grid of exogenous shocks."""
    from .engine.static import solve_static

    if mode not in ("mechanical", "rational"):
        raise InputError(None, "--mode", "must be mechanical or rational")
    grid = parse_shocks(shocks)
    c = load_compiled(scenario, ids=False)  # the curve names no position: ids are checked, not kept
    warn_start(c)
    if asset is not None and asset not in c.assets:
        raise InputError(None, "--asset", f"unknown asset {asset!r}")
    if all(p.kind != "aave_v3" for p in c.scenario.protocols):
        raise InputError(str(scenario), "protocols",
                         "the static cascade curve covers Aave-rule protocols (kind = \"aave_v3\"); "
                         "this scenario has only protocol units — use `liqcascade run`")
    with scenario_file(scenario):
        if not as_json and sys.stderr.isatty() and grid.size * max(c.book.n, 1) > 5e7:
            from rich.progress import Progress

            with Progress(transient=True) as prog:
                task = prog.add_task("solving shocks", total=int(grid.size))
                res = solve_static(c, grid, mode=mode, asset=asset, progress=lambda k: prog.advance(task, k))
        else:
            res = solve_static(c, grid, mode=mode, asset=asset)
    if report is not None:
        from .report.html import write_report

        check_out_path(report.parent, "--report")
        write_report(report, curve=res, compiled=c, title=f"liqcascade — {c.scenario.name} cascade curve")
    if as_json:
        typer.echo(jsonout.dumps(res.as_dict()))
        return
    from rich.table import Table

    t = Table(title=f"cascade curve — {c.scenario.name} ({res.asset}, p0 = {res.p0:,.2f}, {mode})")
    for col in ("shock", "final price", "rounds", "liquidations", "liquidated coll.", "repaid debt", "bad debt", "amplif."):
        t.add_column(col, justify="right")
    for p in res.points:
        t.add_row(f"{p.shock:.3f}", _price(p.final_price), str(p.rounds), str(p.liquidations),
                  f"{p.liquidated_collateral:,.0f}", f"{p.repaid_debt:,.0f}", f"{p.bad_debt:,.0f}",
                  "-" if p.amplification is None else f"{p.amplification:.3f}")
    con = console()
    con.print(t)
    pb = res.as_dict()["pre_existing_bad_debt"]
    if pb["positions"]:
        con.print(f"pre-existing bad debt: {pb['value']:,.2f} ({pb['positions']:,} position(s) with debt and no "
                  "collateral; not in the bad debt column)")
    if res.critical_shock is None:
        con.print("critical shock: none on this grid (no jump of 1% of the price or more)")
    else:
        con.print(f"critical shock: {res.critical_shock:.3f} (endogenous drop jumps by {res.critical_jump:.1%} of p0)")
    for n in res.notes:
        con.print(f"[dim]note: {escape(n)}[/dim]")
    if report is not None:
        con.print(f"report: {report}")


@app.command()
@guard
def run(
    scenario: Path = typer.Argument(..., help="scenario TOML"),
    paths: Optional[int] = typer.Option(None, min=1, help="override simulation.paths"),
    seed: Optional[int] = typer.Option(None, min=0, help="override simulation.seed"),
    out: Optional[Path] = typer.Option(None, help="write events.parquet, steps.parquet and summary.json here"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    report: Optional[Path] = typer.Option(None, help="also write an HTML report to this file"),
    max_events: Optional[int] = typer.Option(None, min=0, help="override simulation.max_events: the most "
                                             "liquidation events kept per recorded path"),
):
    """Dynamic time-stepped simulation (or, for a scenario with a [flow] table, the external-flow run)."""
    from .engine.compile import compile_scenario
    from .engine.dynamic import run_dynamic
    from .scenario.load import load_scenario

    sc, base = load_scenario(scenario)
    if sc.flow is not None:
        from .commands.flow import run_flow_command

        run_flow_command(scenario, sc, base, paths=paths, seed=seed, out=out, as_json=as_json, report=report)
        return
    if paths is not None:
        sc.simulation.paths = paths
    if seed is not None:
        sc.simulation.seed = seed
    if max_events is not None:
        sc.simulation.max_events = max_events
    if out is not None:
        check_out_path(out)
    if report is not None:
        check_out_path(report.parent, "--report")
    n = sc.simulation.paths
    with scenario_file(scenario):
        c = compile_scenario(sc, base)
        warn_start(c)
        if n > 1 and not as_json and sys.stderr.isatty():
            from rich.progress import Progress

            with Progress(transient=True) as prog:
                task = prog.add_task("simulating paths", total=n)
                res = run_dynamic(c, progress=lambda k: prog.advance(task, k))
        else:
            res = run_dynamic(c)
    if out is not None:
        from .results.store import write_run

        write_run(out, res)
    if report is not None:
        from .report.html import write_report

        write_report(report, run=res, compiled=c, title=f"liqcascade — {sc.name}")
    if as_json:
        typer.echo(jsonout.dumps(res.as_dict()))
        return
    _print_run(res, out)
    if report is not None:
        console().print(f"report: {report}")


def _price(p: float) -> str:
    """A price for a table: two decimals, or three significant digits under one cent (a venue
    at its floor)."""
    return f"{p:,.2f}" if not 0.0 < abs(p) < 0.01 else f"{p:.3g}"


def _print_run(res, out):
    import numpy as np

    from rich.table import Table

    tot = res.totals()
    t = Table(title=f"run — {res.scenario}: {res.positions_label() if hasattr(res, 'positions_label') else res.n_positions} positions, "
                    f"{res.paths} path(s) × {res.steps} steps")
    t.add_column("metric")
    t.add_column("value", justify="right")
    per = " (mean over paths)" if res.paths > 1 else ""
    rows = [
        ("liquidations" + per, f"{tot['liquidations']:,.0f}"),
        ("collateral liquidated (oracle value)", f"{tot['liquidated_collateral']:,.2f}"),
        ("debt repaid", f"{tot['repaid_debt']:,.2f}"),
        ("bad debt", f"{tot['bad_debt']:,.2f}"),
    ]
    if tot.get("pre_existing_bad_debt"):
        rows.append(("pre-existing bad debt (debt without collateral)", f"{tot['pre_existing_bad_debt']:,.2f}"))
    rows += [
        ("liquidator bonus (oracle value)", f"{tot['liquidator_bonus']:,.2f}"),
        ("protocol fees", f"{tot['protocol_fees']:,.2f}"),
        ("sale proceeds", f"{tot['sale_proceeds']:,.2f}"),
        ("liquidator profit after slippage and gas",
         "n/a (protocol units)" if tot['liquidator_profit'] is None else f"{tot['liquidator_profit']:,.2f}"),
    ]
    for a, v in tot["max_drawdown"].items():
        if v > 0:
            rows.append((f"max drawdown {a}", f"{v:.2%}"))
    for a, v in tot["final_price"].items():
        rows.append((f"final price {a}", _price(v)))
    if "bad_debt_p95" in tot:
        rows.append(("bad debt, 95th percentile", f"{tot['bad_debt_p95']:,.2f}"))
        rows.append(("probability of bad debt", f"{tot['probability_bad_debt']:.2%}"))
    for name, ut in (getattr(res, "unit_totals", None) or {}).items():
        paid = ut.get("funding_paid_by_longs") if isinstance(ut, dict) else None
        if paid is not None and np.any(np.asarray(paid) != 0.0):
            rows.append((f"{name}: funding paid by longs (path 0)", f"{float(np.sum(paid)):,.2f}"))
    ch = getattr(res, "clearing", None) or {}
    if ch:
        ct = ch["totals"]
        rows += [
            ("clearinghouse: units in / netted / sold / backstop / held",
             " / ".join(f"{ct[k]:,.4g}" for k in ("units_in", "netted", "sold", "backstop", "held"))),
            ("clearinghouse: held value / price risk / queue shortfall",
             " / ".join(f"{ct[k]:,.2f}" for k in ("held_value", "price_risk", "shortfall"))),
            ("clearinghouse: backstop P&L", f"{ct['backstop_pnl']:,.2f}"),
        ]
    for pool, d in (getattr(res, "rates", None) or {}).items():
        rows.append((f"{pool}: interest accrued (path 0)", f"{d['interest_accrued']:,.2f}"))
        if d.get("utilization_max") is not None:
            rows.append((f"{pool}: peak utilization / borrow rate",
                         f"{d['utilization_max']:.2%} / {d['borrow_rate_max']:.2%}"))
            rows.append((f"{pool}: steps at 100 % utilization", f"{d['steps_at_full_utilization']:,.0f}"))
            rows.append((f"{pool}: withdrawals locked out (max / end)",
                         f"{d['locked_out_max']:,.2f} / {d['locked_out_end']:,.2f}"))
        if d.get("underwater_debt_end"):
            rows.append((f"{pool}: open debt above its collateral at the end", f"{d['underwater_debt_end']:,.2f}"))
        if d.get("repaid_by_borrowers"):
            rows.append((f"{pool}: repaid by reacting borrowers", f"{d['repaid_by_borrowers']:,.2f}"))
    for r in rows:
        t.add_row(*r)
    con = console()
    con.print(t)
    att = res.attribution()
    if att and len({a["protocol"] for a in att}) > 1:
        ta = Table(title="price move caused by each protocol's forced sales (sales ledger, Shapley split)")
        for col in ("protocol", "venue", "units sold", "proceeds", "price move", "relative", "share of the venue's move"):
            ta.add_column(col, justify="left" if col in ("protocol", "venue") else "right")
        for a in att:
            ta.add_row(a["protocol"], a["venue"], f"{a['amount']:,.4f}", f"{a['proceeds']:,.2f}",
                       f"{a['price_move']:,.4f}", f"{a['relative_move']:+.2%}", f"{a['move_share']:.1%}")
        con.print(ta)
    if out is not None:
        extra = ", rates.parquet" if getattr(res, "rates", None) else ""
        con.print(f"wrote {out}/summary.json, events.parquet, sales.parquet, steps.parquet{extra}")
    for n in res.notes:
        con.print(f"[dim]note: {escape(n)}[/dim]")


@positions_app.command("synth")
@guard
def positions_synth(
    n: int = typer.Option(..., "--n", min=1, max=50_000_000, help="number of positions"),
    seed: int = typer.Option(0, "--seed", min=0),
    out: Path = typer.Option(..., "--out", help="CSV or Parquet file (id,collateral,debt)"),
    price: float = typer.Option(2000.0, help="collateral price"),
    lt: float = typer.Option(0.86, help="liquidation threshold the health factors refer to"),
):
    """Synthetic book calibrated on real Compound v2 borrowers."""
    from .positions.ids import PositionIds
    from .positions.io import PositionTable, write_positions
    from .positions.synth import synth_book

    if out.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise InputError(str(out), "--out", "extension must be .csv or .parquet")
    check_out_path(out.parent)
    if out.is_dir():
        raise InputError(str(out), "--out", "is a directory, expected a file name")
    if not (0 < lt < 1) or not (price > 0 and math.isfinite(price)):
        raise InputError(None, "--lt/--price", "need 0 < lt < 1 and a positive price")
    coll, debt = synth_book(n, seed, price, lt)
    out.parent.mkdir(parents=True, exist_ok=True)
    table = PositionTable(ids=PositionIds.synthetic("", n), assets=("collateral", "debt"), wide=True,
                          collateral=coll, debt=debt)
    write_positions(out, table)
    typer.echo(f"wrote {n} positions to {out}")


def flagship_path() -> Path:
    """The flagship scenario embedded in the package."""
    from importlib.resources import files

    return Path(str(files("liqcascade") / "presets" / "flagship.toml"))


@app.command()
@guard
def demo(
    out: Path = typer.Option(Path("reports/flagship"), help="folder for the report and run files"),
    scenario: Optional[Path] = typer.Option(None, help="scenario to use instead of the embedded flagship"),
    shocks: str = typer.Option("0:0.5:0.01", help="grid for the cascade curve"),
):
    """Run the flagship scenario (dynamic run + cascade curve) and write an HTML report."""
    import time

    from .engine.compile import compile_scenario
    from .engine.dynamic import loop_groups, run_dynamic
    from .engine.static import choose_engine, solve_static, static_extras, static_group
    from .engine.warmup import ensure
    from .report.html import write_report
    from .results.store import write_run
    from .scenario.load import load_scenario

    grid = parse_shocks(shocks)
    check_out_path(out)
    path = scenario or flagship_path()
    t0 = time.perf_counter()
    sc, base = load_scenario(path)
    with scenario_file(path):
        c = compile_scenario(sc, base)
    # on an empty cache: the kernels of the run and of the curve at once, in parallel (only the
    # groups this scenario uses)
    ensure(loop_groups(c) + [static_group(choose_engine(c, sc.liquidators.mode)[0], static_extras(c))])
    con = console()
    with con.status(f"running {path.name} …"):
        with scenario_file(path):
            res = run_dynamic(c)
            cur = solve_static(c, grid, mode=sc.liquidators.mode)
        write_run(out, res)
        (out / "curve.json").write_text(jsonout.dumps(cur.as_dict(), indent=2))
        report = write_report(out / "report.html", run=res, curve=cur, compiled=c,
                              title=f"liqcascade — {sc.name}")
    _print_run(res, out)
    con.print(f"critical shock on the cascade curve: "
              f"{'none' if cur.critical_shock is None else f'{cur.critical_shock:.2f}'}")
    con.print(f"report: {report}  ({time.perf_counter() - t0:.1f} s)")


@app.command()
@guard
def warmup():
    """Compile and cache every numba kernel any command uses (in parallel on an empty cache)."""
    import time

    from .engine.warmup import warm

    t = time.perf_counter()
    warm()
    typer.echo(f"kernels compiled and cached in {time.perf_counter() - t:.1f} s")


def _register_extensions() -> None:
    import importlib

    from .commands import MODULES

    for name in MODULES:
        importlib.import_module(f"liqcascade.commands.{name}").register(app)


_register_extensions()


def main():
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
