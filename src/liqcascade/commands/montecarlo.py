"""Monte Carlo commands: ``mc``, ``sweep`` and the ``runs`` group (list, show, sql).

Heavy imports (duckdb, pyarrow, dask, plotly) happen inside the commands. Dask only with
``--dask local`` or ``--scheduler ADDR``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

STORE_HELP = "run store folder (Parquet chunks + runs.duckdb catalog)"
DEFAULT_STORE = Path("liqcascade-runs")


def _jdefault(o):
    import datetime as _dt

    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (_dt.datetime, _dt.date)):
        return o.isoformat()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(type(o))


def _dumps(obj) -> str:
    return json.dumps(obj, default=_jdefault)


def _fmt(x, kind="money"):
    if x is None:
        return "-"
    if kind == "pct":
        return f"{x:.2%}"
    if kind == "int":
        return f"{x:,.0f}"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"


def param_labels(paths: list[str]) -> list[str]:
    """The shortest dotted suffix of each path that tells it apart from the others."""
    out = []
    for p in paths:
        parts = p.split(".")
        for n in range(1, len(parts) + 1):
            lab = ".".join(parts[-n:])
            if sum(1 for q in paths if q == lab or q.endswith("." + lab)) == 1:
                break
        out.append(lab)
    return out


def _pm(m, mean, lo, hi):
    if m.get(mean) is None:
        return "-"
    if m.get(lo) is None:
        return _fmt(m[mean])
    return f"{_fmt(m[mean])} ± {_fmt((m[hi] - m[lo]) / 2)}"


def points_table(title: str, points: list[dict], param_paths: list[str]):
    """One row per parameter point with the risk metrics; invalid points say so (reasons go
    under the table, see :func:`invalid_lines`)."""
    from rich.table import Table

    t = Table(title=title)
    t.add_column("#", justify="right", no_wrap=True)
    for lab in param_labels(param_paths):
        t.add_column(lab, justify="right", no_wrap=True)
    for col in ("paths", "P(insolvent)", "VaR95", "ES95", "LaR95", "mean bad debt", "mean liquidated"):
        t.add_column(col, justify="right", no_wrap=True)
    for pt in points:
        vals = [f"{pt['params'][p]:g}" if isinstance(pt["params"].get(p), (int, float)) else str(pt["params"].get(p, ""))
                for p in param_paths]
        if pt["status"] != "ok":
            t.add_row(str(pt["index"]), *vals, "[red]invalid[/red]", *["-"] * 6)
            continue
        m = pt.get("metrics") or {}
        if not m.get("paths"):
            t.add_row(str(pt["index"]), *vals, "0", *["-"] * 6)
            continue
        t.add_row(
            str(pt["index"]), *vals, f"{m['paths']:,}" + (" (partial)" if pt.get("partial") else ""),
            _fmt(m["p_insolvency"], "pct"), _fmt(m["var95"]), _fmt(m["es95"]), _fmt(m["lar95"]),
            _pm(m, "bad_debt_mean", "bad_debt_ci_lo", "bad_debt_ci_hi"),
            _pm(m, "liquidated_mean", "liquidated_ci_lo", "liquidated_ci_hi"),
        )
    return t


LEGEND = ("VaR95 = 95th percentile of bad debt per path; ES95 = mean bad debt of the worst 5% of paths; "
          "LaR95 = 95th percentile of liquidated value; P(insolvent) = share of paths with bad debt > 0; "
          "means ± half-width of the 95% CI")


def table_footer(con, points: list[dict], param_paths: list[str]) -> None:
    from rich.markup import escape

    con.print(f"[dim]{LEGEND}[/dim]")
    labels = param_labels(param_paths)
    if any(lab != p for lab, p in zip(labels, param_paths)):
        con.print("parameters: " + "; ".join(f"{lab} = {p}" for lab, p in zip(labels, param_paths)))
    for pt in points:
        if pt["status"] != "ok":
            con.print(f"[red]invalid point {pt['index']}[/red] ({', '.join(f'{k}={v:g}' for k, v in pt['params'].items())}): "
                      f"{escape(str(pt['reason']))} — skipped")


def _progress_ctx(enabled: bool):
    """A context manager yielding ``progress(done, total)`` (a rich bar on stderr) or None."""
    import contextlib

    if not enabled:
        return contextlib.nullcontext(None)

    @contextlib.contextmanager
    def ctx():
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        with Progress(TextColumn("chunks"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TimeRemainingColumn(), console=Console(stderr=True), transient=True) as prog:
            task = prog.add_task("chunks", total=None)

            def cb(done, total):
                prog.update(task, completed=done, total=total)

            yield cb

    return ctx()


def _run(scenario, params, paths, seed, random, workers, dask, scheduler, store, chunk_paths, as_json, plot,
         progress, kind):
    from ..cli import _console
    from ..montecarlo.runner import execute, plan_run

    if plot is not None:
        from ..cli import check_out_path

        check_out_path(plot.parent, "--plot")
    plan = plan_run(scenario, params, paths=paths, seed=seed, random=random, chunk_paths=chunk_paths, kind=kind)
    show_bar = progress if progress is not None else (sys.stderr.isatty() and not as_json)
    try:
        with _progress_ctx(show_bar) as cb:
            rep = execute(plan, store, workers=workers, dask=dask, scheduler=scheduler, progress=cb)
    except RuntimeError as exc:
        typer.echo(f"error: run {plan.run_id} failed: {exc}", err=True)
        raise typer.Exit(1)
    if plot is not None:
        from ..montecarlo.plot import write_distribution_html

        write_distribution_html(plot, rep.store, rep.run_id, rep.points, title=f"{plan.scenario_name} — run {rep.run_id}")
    if as_json:
        d = rep.as_dict()
        d["parameters"] = plan.parameters()
        typer.echo(_dumps(d))
        return
    con = _console()
    title = (f"{kind} — {plan.scenario_name}: run {rep.run_id}, {rep.paths:,} paths × "
             f"{len(plan.valid_points)} point(s), seed {rep.seed}")
    con.print(points_table(title, rep.points, [s.path for s in plan.specs]))
    table_footer(con, rep.points, [s.path for s in plan.specs])
    ch, tm = rep.chunks, rep.timings
    pps = f", {tm['paths_per_s']:,.0f} paths/s" if tm.get("paths_per_s") else ""
    con.print(f"chunks: {ch['total']} ({ch['ran']} run, {ch['skipped']} already stored) on {rep.executor}"
              f"{'' if not rep.workers else f' × {rep.workers}'}; {tm['wall_s']:.1f} s{pps}")
    con.print(f"store: {rep.store}  (liqcascade runs show {rep.run_id} --store {store})")
    if plot is not None:
        con.print(f"plot: {plot}")
    for n in rep.notes:
        con.print(f"[dim]note: {n}[/dim]")


def register(app: typer.Typer) -> None:
    from ..cli import guard

    runs_app = typer.Typer(no_args_is_help=True, help="Stored Monte Carlo runs: list, show, query.")
    app.add_typer(runs_app, name="runs")

    @app.command()
    @guard
    def sweep(
        scenario: Path = typer.Argument(..., help="scenario TOML"),
        param: list[str] = typer.Option([], "--param", help="PATH=start:stop:step (or a,b,c); repeatable"),
        paths: Optional[int] = typer.Option(None, min=1, help="paths per point (default simulation.paths)"),
        random: Optional[int] = typer.Option(None, min=1, help="K points drawn uniformly in the box instead of the grid"),
        seed: Optional[int] = typer.Option(None, min=0, help="root seed (paths and random points)"),
        workers: Optional[int] = typer.Option(None, min=0, help="worker processes (0 = in this process; default: CPUs)"),
        dask: Optional[str] = typer.Option(None, "--dask", help="'local': a Dask LocalCluster of --workers processes"),
        scheduler: Optional[str] = typer.Option(None, "--scheduler", help="tcp://HOST:PORT of a Dask scheduler"),
        store: Path = typer.Option(DEFAULT_STORE, "--store", help=STORE_HELP),
        chunk_paths: int = typer.Option(256, "--chunk-paths", min=1, help="paths per chunk (one Parquet file each)"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
        plot: Optional[Path] = typer.Option(None, "--plot", help="write a distribution plot (HTML)"),
        progress: Optional[bool] = typer.Option(None, "--progress/--no-progress", help="progress bar (default: on a terminal)"),
    ):
        """Monte Carlo over a grid (or random sample) of scenario parameters; resumable."""
        from ..errors import InputError

        if not param:
            raise InputError(None, "--param", "give at least one PATH=start:stop:step (or use `liqcascade mc`)")
        _run(scenario, param, paths, seed, random, workers, dask, scheduler, store, chunk_paths, as_json, plot,
             progress, "sweep")

    @app.command()
    @guard
    def mc(
        scenario: Path = typer.Argument(..., help="scenario TOML"),
        paths: Optional[int] = typer.Option(None, min=1, help="paths (default simulation.paths)"),
        seed: Optional[int] = typer.Option(None, min=0, help="root seed"),
        workers: Optional[int] = typer.Option(None, min=0, help="worker processes (0 = in this process; default: CPUs)"),
        dask: Optional[str] = typer.Option(None, "--dask", help="'local': a Dask LocalCluster of --workers processes"),
        scheduler: Optional[str] = typer.Option(None, "--scheduler", help="tcp://HOST:PORT of a Dask scheduler"),
        store: Path = typer.Option(DEFAULT_STORE, "--store", help=STORE_HELP),
        chunk_paths: int = typer.Option(256, "--chunk-paths", min=1, help="paths per chunk (one Parquet file each)"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
        plot: Optional[Path] = typer.Option(None, "--plot", help="write a distribution plot (HTML)"),
        progress: Optional[bool] = typer.Option(None, "--progress/--no-progress", help="progress bar (default: on a terminal)"),
    ):
        """Monte Carlo run of one scenario (risk metrics over paths); resumable."""
        _run(scenario, [], paths, seed, None, workers, dask, scheduler, store, chunk_paths, as_json, plot,
             progress, "mc")

    @runs_app.command("list")
    @guard
    def runs_list(
        store: Path = typer.Option(DEFAULT_STORE, "--store", help=STORE_HELP),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    ):
        """Runs recorded in the store's catalog."""
        from ..cli import _console
        from ..results.catalog import Catalog

        with Catalog(store, read_only=True) as cat:
            rows = cat.list_runs()
            stats = {r["run_id"]: cat.chunk_stats(r["run_id"]) for r in rows}
        if as_json:
            typer.echo(_dumps({"store": str(store), "runs": [{**r, "chunks_stored": stats[r["run_id"]]["chunks"]}
                                                            for r in rows]}))
            return
        from rich.table import Table

        t = Table(title=f"runs in {store}")
        for col in ("run id", "kind", "scenario", "points", "paths", "seed", "chunks", "status", "created", "wall s"):
            t.add_column(col, justify="right" if col in ("points", "paths", "seed", "chunks", "wall s") else "left")
        for r in rows:
            t.add_row(r["run_id"], r["kind"], r["scenario_name"], str(r["n_points"]), f"{r['paths']:,}", str(r["seed"]),
                      f"{stats[r['run_id']]['chunks']}/{r['n_chunks']}", r["status"],
                      r["created"].strftime("%Y-%m-%d %H:%M:%S") if r["created"] else "-",
                      "-" if r["wall_s"] is None else f"{r['wall_s']:.1f}")
        _console().print(t)

    @runs_app.command("show")
    @guard
    def runs_show(
        run_id: str = typer.Argument(..., metavar="ID", help="run id (or a unique prefix)"),
        store: Path = typer.Option(DEFAULT_STORE, "--store", help=STORE_HELP),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
        plot: Optional[Path] = typer.Option(None, "--plot", help="write a distribution plot (HTML)"),
    ):
        """A run's settings and its metrics per parameter point."""
        from ..cli import _console
        from ..montecarlo.runner import run_report_from_catalog

        rep = run_report_from_catalog(store, run_id)
        run = rep["run"]
        if plot is not None:
            from ..cli import check_out_path
            from ..montecarlo.plot import write_distribution_html

            check_out_path(plot.parent, "--plot")
            write_distribution_html(plot, store, run["run_id"], rep["points"],
                                    title=f"{run['scenario_name']} — run {run['run_id']}")
        if as_json:
            typer.echo(_dumps(rep))
            return
        con = _console()
        specs = (run.get("parameters") or {}).get("specs") or []
        con.print(f"run {run['run_id']} ({run['kind']}) — scenario {run['scenario_name']} "
                  f"[{run['scenario_hash'][:12]}], status {run['status']}")
        con.print(f"paths {run['paths']:,} per point, seed {run['seed']}, chunks of {run['chunk_paths']}: "
                  f"{rep['chunks']['chunks']}/{run['n_chunks']} stored; code {run['code_version']}; "
                  f"created {run['created']}, attempts {run['attempts']}")
        if run.get("wall_s") is not None:
            con.print(f"wall {run['wall_s']:.1f} s (last attempt), compute {run['compute_s'] or 0:.1f} s over chunks, "
                      f"executor {run['executor']}" + (f" × {run['workers']}" if run["workers"] else ""))
        if run.get("error"):
            from rich.markup import escape

            con.print(f"[red]error: {escape(str(run['error']))}[/red]")
        con.print(points_table(f"metrics — run {run['run_id']}", rep["points"], [s["path"] for s in specs]))
        table_footer(con, rep["points"], [s["path"] for s in specs])
        if plot is not None:
            con.print(f"plot: {plot}")

    @runs_app.command("sql")
    @guard
    def runs_sql(
        query: str = typer.Argument(..., help="one read-only query; tables runs, points, chunks, metrics; view paths"),
        store: Path = typer.Option(DEFAULT_STORE, "--store", help=STORE_HELP),
        as_json: bool = typer.Option(False, "--json", help="print {columns, rows} as JSON"),
        limit: Optional[int] = typer.Option(None, min=1, help="at most this many rows"),
    ):
        """Read-only SQL over the catalog, with every stored path as the view `paths`."""
        from ..cli import _console
        from ..results.catalog import Catalog

        with Catalog(store, read_only=True) as cat:
            cols, rows = cat.sql(query, limit=limit)
        if as_json:
            typer.echo(_dumps({"columns": cols, "rows": [list(r) for r in rows]}))
            return
        from rich.table import Table

        t = Table()
        for c in cols:
            t.add_column(str(c))
        for r in rows:
            t.add_row(*["NULL" if v is None else (f"{v:.6g}" if isinstance(v, float) else str(v)) for v in r])
        con = _console()
        con.print(t)
        con.print(f"[dim]{len(rows)} row(s)[/dim]")


def _standalone() -> None:  # pragma: no cover - used by tests and before MODULES lists this module
    app = typer.Typer(add_completion=False, no_args_is_help=True)
    register(app)
    app()


if __name__ == "__main__":  # pragma: no cover
    _standalone()
