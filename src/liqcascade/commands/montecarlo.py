"""Monte Carlo commands: ``mc``, ``sweep``, ``recommend`` and the ``runs`` group (list, show, sql).

Heavy imports (duckdb, pyarrow, dask, plotly) happen inside the commands. Dask only with
``--dask local`` or ``--scheduler ADDR``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from .. import jsonout

STORE_HELP = "run store folder (Parquet chunks + runs.duckdb catalog)"
DEFAULT_STORE = Path("liqcascade-runs")


def _dumps(obj) -> str:
    return jsonout.dumps(obj)


def _fmt(x, kind="money"):
    if x is None:
        return "-"
    if kind == "pct":
        return f"{x:.2%}"
    if kind == "int":
        return f"{x:,.0f}"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"


def param_labels(paths: list[str]) -> list[str]:
    """:func:`liqcascade.montecarlo.params.param_labels` (imported when used)."""
    from ..montecarlo.params import param_labels as labels

    return labels(paths)


def _pm(m, mean, lo, hi):
    if m.get(mean) is None:
        return "-"
    if m.get(lo) is None:
        return _fmt(m[mean])
    return f"{_fmt(m[mean])} ± {_fmt((m[hi] - m[lo]) / 2)}"


def _flow_metrics(m: dict) -> dict | None:
    """An external-flow point's metrics (top level, or under ``assets`` as the catalog keeps them)."""
    if not m:
        return None
    if "max_drop" in m and m["max_drop"] is not None:
        return m
    for v in (m.get("assets") or {}).values():
        if isinstance(v, dict) and "max_drop" in v:
            return v
    return None


FLOW_LEGEND = ("max_drop = largest drop of the venue's price right after a step's forced sells, against the "
               "same run without the flow; sells/buys in asset units; backstop in quote")


def flow_points_table(title: str, points: list[dict], param_paths: list[str]):
    """One row per parameter point of an external-flow sweep: max_drop and the flow's accounting."""
    from rich.table import Table

    t = Table(title=title)
    t.add_column("#", justify="right", no_wrap=True)
    for lab in param_labels(param_paths):
        t.add_column(lab, justify="right", no_wrap=True)
    cols = ("max_drop", "sells in", "absorbed", "sold", "unfilled", "backstop end")
    for col in cols:
        t.add_column(col, justify="right", no_wrap=True)
    for pt in points:
        vals = [f"{pt['params'][p]:g}" if isinstance(pt["params"].get(p), (int, float)) else str(pt["params"].get(p, ""))
                for p in param_paths]
        m = _flow_metrics(pt.get("metrics") or {})
        if pt["status"] != "ok" or m is None:
            t.add_row(str(pt["index"]), *vals, "[red]invalid[/red]" if pt["status"] != "ok" else "-",
                      *["-"] * (len(cols) - 1))
            continue
        t.add_row(str(pt["index"]), *vals, f"{m['max_drop']:.2%}", _short(m.get("sell_in")), _short(m.get("absorbed")),
                  _short(m.get("sold")), _short((m.get("sell_unfilled") or 0.0) + (m.get("buy_unfilled") or 0.0)),
                  _short(m.get("backstop_end")))
    return t


def points_table(title: str, points: list[dict], param_paths: list[str]):
    """One row per parameter point with the risk metrics; invalid points say so (reasons go
    under the table, see :func:`invalid_lines`). External-flow points: :func:`flow_points_table`."""
    from rich.table import Table

    if any(_flow_metrics(pt.get("metrics") or {}) for pt in points):
        return flow_points_table(title, points, param_paths)
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

    flow = any(_flow_metrics(pt.get("metrics") or {}) for pt in points)
    con.print(f"[dim]{FLOW_LEGEND if flow else LEGEND}[/dim]")
    labels = param_labels(param_paths)
    if any(lab != p for lab, p in zip(labels, param_paths)):
        con.print("parameters: " + "; ".join(f"{lab} = {p}" for lab, p in zip(labels, param_paths)))
    for pt in points:
        if pt["status"] != "ok":
            con.print(f"[red]invalid point {pt['index']}[/red] ({', '.join(f'{k}={v:g}' for k, v in pt['params'].items())}): "
                      f"{escape(str(pt['reason']))} — skipped")


def _console_mc():
    from ._common import console

    return console()


RECOMMEND_LEGEND = ("capacity = Σ collateral·price·LTV (LT where no LTV) at today's prices, 1 = today; "
                    "frontier = points no other point beats on both VaR95 and capacity; 95% CI = bootstrap CI of "
                    "VaR95 over paths; t0 liq. = debt past the new threshold at t = 0 (liquidated in the first step)")


def _val(v):
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, list):
        return "/".join(_val(x) for x in v)
    return "-" if v is None else str(v)


def _ci(ci):
    return "" if not ci else f" [{_fmt(ci[0])}, {_fmt(ci[1])}]"


def _short(x):
    """Money in 4 significant figures with k / M / B (table cells)."""
    if x is None:
        return "-"
    for div, suf in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.4g}{suf}"
    return f"{x:.4g}"


SHORT_FIELDS = {"liquidation_threshold": "LT", "ltv": "LTV", "liquidation_bonus": "bonus",
                "close_factor": "close factor", "max_debt_per_window": "max debt/window"}
MAX_FRONTIER_ROWS = 40


def _short_label(lab: str) -> str:
    head, _, last = lab.rpartition(".")
    last = SHORT_FIELDS.get(last, last)
    return f"{head}.{last}" if head else last


def frontier_table(res: dict):
    """The frontier (capacity high → low) with the current and the recommended point marked."""
    from rich.table import Table

    axes = [a["path"] for a in res["search"]["axes"]]
    rows = [r for r in res["points"] if r["frontier"] or r["current"]]
    rows.sort(key=lambda r: (-r["capacity_ratio"], r["metrics"]["var95"], r["index"]))
    rec = res["recommended"]["point_id"]
    t = Table(title=f"frontier — {res['scenario']}: {len(res['frontier'])} of {res['search']['valid']} points, "
                    f"{res['paths']:,} paths, seed {res['seed']}, min capacity {res['min_capacity']:g}")
    t.add_column("", no_wrap=True)
    for lab in param_labels(axes):
        t.add_column(_short_label(lab), justify="right", no_wrap=True)
    for col in ("capacity", "VaR95", "95% CI", "ES95", "P(insolv.)", "LaR95", "t0 liq."):
        t.add_column(col, justify="right", no_wrap=True)
    for r in rows[:MAX_FRONTIER_ROWS]:
        mark = []
        if r["point_id"] == rec:
            mark.append("[bold green]recommended[/bold green]")
        if r["current"]:
            mark.append("current")
        if not r["frontier"]:
            mark.append("[dim](dominated)[/dim]")
        m = r["metrics"]
        ci = r.get("var95_ci")
        t.add_row(" ".join(mark), *[_val(r["params"].get(p)) for p in axes], f"{r['capacity_ratio']:.3f}",
                  _short(m["var95"]), "-" if not ci else f"{_short(ci[0])}–{_short(ci[1])}", _short(m["es95"]),
                  _fmt(m["p_insolvency"], "pct"), _short(m["lar95"]), _short(r["t0_liquidatable_debt"]))
    if len(rows) > MAX_FRONTIER_ROWS:
        t.caption = f"{len(rows) - MAX_FRONTIER_ROWS} more frontier points in --json / --out"
    return t


def recommendation_lines(res: dict) -> list[str]:
    """A risk team's forum-post summary: parameter changes, VaR with CIs, capacity, caveats."""
    from rich.markup import escape

    cur, rec = res["current"], res["recommended"]
    cm, rm = cur["metrics"], rec["metrics"]
    vs = rec["vs_current"]
    out = [f"[bold]Recommendation[/bold] — {escape(res['scenario'])} ({res['paths']:,} paths, seed {res['seed']}, "
           f"{res['search']['valid']} valid points, borrow capacity ≥ {res['min_capacity']:g}× today's)"]
    if rec["keep_current"]:
        out.append("  keep the current parameters: no point of the search has a lower VaR95 at this capacity")
    for c in rec["changes"]:
        arrow = f"{_val(c['current'])} → [bold]{_val(c['recommended'])}[/bold]" if c["changed"] else \
            f"{_val(c['current'])} (unchanged)"
        out.append(f"  {escape(c['path'])}: {arrow}")

    def pair(key, kind="money"):
        return f"{_fmt(cm[key], kind)} → {_fmt(rm[key], kind)}"

    out.append(f"  VaR95 of bad debt: {_fmt(cm['var95'])}{_ci(cur.get('var95_ci'))} → "
               f"{_fmt(rm['var95'])}{_ci(rec.get('var95_ci'))}")
    if not rec["keep_current"]:
        verdict = "distinguishable from today's" if vs["distinguishable"] else "NOT distinguishable from today's"
        out.append(f"    change {_fmt(vs['var95_diff'])}, paired bootstrap 95% CI{_ci(vs['var95_diff_ci'])}: {verdict}")
    out.append(f"  ES95: {pair('es95')};  P(insolvent): {pair('p_insolvency', 'pct')};  LaR95: {pair('lar95')}")
    out.append(f"  borrow capacity: {_fmt(cur['capacity'])} → {_fmt(rec['capacity'])} "
               f"({vs['capacity_change']:+.2%} vs today)")
    if rec["t0_liquidatable_positions"]:
        out.append(f"  [yellow]applying it at once liquidates {rec['t0_liquidatable_positions']} position(s) with "
                   f"{_fmt(rec['t0_liquidatable_debt'])} of debt at t = 0[/yellow] (a ramp would spread this out)")
    out.append("  caveats:")
    for n in res["notes"]:
        out.append(f"   - [dim]{escape(n)}[/dim]")
    return out


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
    from ._common import console
    from ..montecarlo.runner import execute, plan_run

    if plot is not None:
        from ._common import check_out_path

        check_out_path(plot.parent, "--plot")
    plan = plan_run(scenario, params, paths=paths, seed=seed, random=random, chunk_paths=chunk_paths, kind=kind)
    from ..montecarlo.runner import identical_paths_note

    same = identical_paths_note(plan)
    for w in ([same] if same else []) + plan.start_notes:
        typer.echo(f"warning: {w}", err=True)
    show_bar = progress if progress is not None else (sys.stderr.isatty() and not as_json)
    try:
        with _progress_ctx(show_bar) as cb:
            rep = execute(plan, store, workers=workers, dask=dask, scheduler=scheduler, progress=cb)
    except RuntimeError as exc:
        typer.echo(f"error: run {plan.run_id} failed: {exc}", err=True)
        raise typer.Exit(1)
    if plot is not None:
        from ..montecarlo.plot import write_distribution_html

        write_distribution_html(plot, rep.store, rep.run_id, rep.points, title=f"{plan.scenario_name} — run {rep.run_id}",
                                scenario=plan.scenario_name)
    if as_json:
        d = rep.as_dict()
        d["parameters"] = plan.parameters()
        typer.echo(_dumps(d))
        return
    con = console()
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
    from ._common import guard

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

    @app.command()
    @guard
    def recommend(
        scenario: Path = typer.Argument(..., help="scenario TOML"),
        param: list[str] = typer.Option([], "--param", help="extra axis PATH=start:stop:step (or a,b,c); repeatable; "
                                        "replaces a default axis setting the same field"),
        defaults: bool = typer.Option(True, "--defaults/--no-defaults",
                                      help="search LT, LTV, bonus and close factor around today's values"),
        paths: Optional[int] = typer.Option(None, min=1, help="paths per point (default simulation.paths)"),
        random: Optional[int] = typer.Option(None, min=1, help="K points drawn uniformly in the box instead of the grid"),
        seed: Optional[int] = typer.Option(None, min=0, help="root seed (paths, random points, bootstrap)"),
        min_capacity: float = typer.Option(1.0, "--min-capacity",
                                           help="least borrow capacity kept, as a share of today's (1.0 = no less)"),
        bootstrap: int = typer.Option(1000, "--bootstrap", min=100, help="bootstrap resamples for the VaR CIs"),
        workers: Optional[int] = typer.Option(None, min=0, help="worker processes (0 = in this process; default: CPUs)"),
        dask: Optional[str] = typer.Option(None, "--dask", help="'local': a Dask LocalCluster of --workers processes"),
        scheduler: Optional[str] = typer.Option(None, "--scheduler", help="tcp://HOST:PORT of a Dask scheduler"),
        store: Path = typer.Option(DEFAULT_STORE, "--store", help=STORE_HELP),
        chunk_paths: int = typer.Option(256, "--chunk-paths", min=1, help="paths per chunk (one Parquet file each)"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
        out: Optional[Path] = typer.Option(None, "--out", help="folder for recommend.json and frontier.html"),
        progress: Optional[bool] = typer.Option(None, "--progress/--no-progress", help="progress bar (default: on a terminal)"),
    ):
        """Recommend risk parameters: the lowest VaR95 of bad debt keeping --min-capacity of today's borrow capacity."""
        from ..montecarlo.recommend import plan_recommend, run_recommend, write_outputs

        if out is not None:
            from ._common import check_out_path

            check_out_path(out, "--out")
        rp = plan_recommend(scenario, param, paths=paths, seed=seed, random=random, chunk_paths=chunk_paths,
                            min_capacity=min_capacity, defaults=defaults)
        from ..montecarlo.runner import identical_paths_note

        same = identical_paths_note(rp.plan)
        if same:
            typer.echo(f"warning: {same}", err=True)
        show_bar = progress if progress is not None else (sys.stderr.isatty() and not as_json)
        try:
            with _progress_ctx(show_bar) as cb:
                res, rep = run_recommend(rp, store, workers=workers, dask=dask, scheduler=scheduler, progress=cb,
                                         n_boot=bootstrap)
        except RuntimeError as exc:
            typer.echo(f"error: run {rp.plan.run_id} failed: {exc}", err=True)
            raise typer.Exit(1)
        files = write_outputs(out, res) if out is not None else None
        if as_json:
            typer.echo(_dumps({"provenance": rep.as_dict()["provenance"], **res,
                               "execution": {"store": rep.store, "executor": rep.executor,
                                                    "workers": rep.workers, "chunks": rep.chunks,
                                                    "timings": rep.timings, "files": files}}))
            return
        con = _console_mc()
        con.print(frontier_table(res))
        from rich.markup import escape

        con.print(f"[dim]{escape(RECOMMEND_LEGEND)}[/dim]")
        for line in recommendation_lines(res):
            con.print(line)
        ch, tm = rep.chunks, rep.timings
        con.print(f"chunks: {ch['total']} ({ch['ran']} run, {ch['skipped']} already stored) on {rep.executor}"
                  f"{'' if not rep.workers else f' × {rep.workers}'}; {tm['wall_s']:.1f} s")
        con.print(f"store: {rep.store}  (liqcascade runs show {rep.run_id} --store {store})")
        if files:
            con.print(f"wrote {files['json']} and {files['html']}")

    @runs_app.command("list")
    @guard
    def runs_list(
        store: Path = typer.Option(DEFAULT_STORE, "--store", help=STORE_HELP),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    ):
        """Runs recorded in the store's catalog."""
        from ._common import console
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
        console().print(t)

    @runs_app.command("show")
    @guard
    def runs_show(
        run_id: str = typer.Argument(..., metavar="ID", help="run id (or a unique prefix)"),
        store: Path = typer.Option(DEFAULT_STORE, "--store", help=STORE_HELP),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
        plot: Optional[Path] = typer.Option(None, "--plot", help="write a distribution plot (HTML)"),
    ):
        """A run's settings and its metrics per parameter point."""
        from ._common import console
        from ..montecarlo.runner import run_report_from_catalog

        rep = run_report_from_catalog(store, run_id)
        run = rep["run"]
        if plot is not None:
            from ._common import check_out_path
            from ..montecarlo.plot import write_distribution_html

            check_out_path(plot.parent, "--plot")
            write_distribution_html(plot, store, run["run_id"], rep["points"],
                                    title=f"{run['scenario_name']} — run {run['run_id']}", scenario=run["scenario_name"])
        if as_json:
            typer.echo(_dumps(rep))
            return
        con = console()
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
        from ._common import console
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
        con = console()
        con.print(t)
        con.print(f"[dim]{len(rows)} row(s)[/dim]")


def _standalone() -> None:  # pragma: no cover - used by tests and before MODULES lists this module
    app = typer.Typer(add_completion=False, no_args_is_help=True)
    register(app)
    app()


if __name__ == "__main__":  # pragma: no cover
    _standalone()
