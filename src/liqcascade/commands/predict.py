"""Early warning and cascade pricing: ``liqcascade warn`` (score, ``--watch``, ``train``,
``evaluate``) and ``liqcascade price-risk``. Everything heavy is imported inside the commands."""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Optional

import typer
from typer.core import TyperGroup


class _WarnGroup(TyperGroup):
    """``liqcascade warn POSITIONS MARKET`` runs the default subcommand ``now``; ``warn train`` and
    ``warn evaluate`` are subcommands."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["now", *args]
        return super().parse_args(ctx, args)


def _console():
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=150)


def _progress_cb(enabled: bool):
    """A ``(stage, done, total)`` callback drawing a rich progress bar on stderr, and its closer."""
    if not enabled or not sys.stderr.isatty():
        return (lambda *a: None), (lambda: None)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    prog = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=Console(stderr=True), transient=True)
    prog.start()
    tasks = {}

    def cb(stage, done, total):
        if stage not in tasks:
            tasks[stage] = prog.add_task(stage, total=total)
        prog.update(tasks[stage], completed=done, total=total)
    return cb, prog.stop


def _fmt_money(x) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    return f"{x:,.0f}"


def _render_snapshot(s: dict):
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    alarm = s["alarm"]
    head = Text.assemble(
        (f"{s['time']}  ", "bold"), (f"price {s['price']:,.4g}  ", ""),
        (f"score {s['score']:.4f}  ", ""), (f"P(cascade within {s['model']['label'].get('horizon_s', 1800) / 60:g} min) "
                                            f"= {s['probability']:.3f}  ", "bold"),
        ("ALARM" if alarm else "no alarm", "bold red" if alarm else "green"),
        (f"  (threshold {s['threshold']:.3f})" if s.get("threshold") is not None else "", "dim"))
    t = Table(title="top contributing features")
    for c in ("feature", "value", "contribution", "what"):
        t.add_column(c, justify="right" if c in ("value", "contribution") else "left")
    for r in s["top_features"]:
        v = r["value"]
        t.add_row(r["feature"], "–" if v is None else f"{v:.4g}",
                  f"{r['contribution']:+.3f}", r["text"])
    parts = [head, t]
    if s.get("book_debt"):
        parts.append(Text(f"debt liquidatable at this price already: {_fmt_money(s['liquidatable_now'])} of "
                          f"{_fmt_money(s['book_debt'])} ({s['liquidatable_now'] / s['book_debt']:.1%})"))
    if s["walls"]:
        w = Table(title=f"liquidation walls below {s['price']:,.4g} ({s['asset']})")
        for c in ("price from", "to", "fall", "debt liquidatable", "collateral value", "debt / bid depth"):
            w.add_column(c, justify="right")
        for r in s["walls"]:
            dd = r.get("debt_over_depth")
            w.add_row(f"{r['from_price']:,.4g}", f"{r['to_price']:,.4g}", f"{r['drop']:.0%}", _fmt_money(r["debt"]),
                      _fmt_money(r["collateral_value"]), "–" if dd is None else f"{dd:.2f}")
        parts.append(w)
    na = [f for f in s["not_available"]]
    if na:
        parts.append(Text(f"not available (imputed with training medians, {s['imputed_contribution']:+.3f} log-odds "
                          f"together): {', '.join(na)}", style="dim"))
    for n in s["notes"]:
        parts.append(Text(f"note: {n}", style="dim"))
    return Group(*parts)


def register(app: typer.Typer) -> None:
    from .. import jsonout
    from ._common import check_out_path, guard
    from ..errors import InputError

    warn_app = typer.Typer(cls=_WarnGroup, no_args_is_help=True,
                           help="Early warning: the cascade score of a positions snapshot and a market file "
                                "(warn POSITIONS MARKET | warn POSITIONS --watch FILE | warn train | warn evaluate).")
    app.add_typer(warn_app, name="warn")

    def _model(path: Optional[Path]):
        from ..predict.models import load_model
        from ..predict.warn import default_model_path

        p = path or default_model_path()
        m = load_model(p)
        m.meta = dict(m.meta or {})
        m.meta["source"] = str(p) if path else "built-in (default simulation families)"
        return m

    @warn_app.command("now")
    @guard
    def warn_now(
        positions: Path = typer.Argument(..., help="scenario .toml, or a position file (CSV/Parquet) with --lt"),
        market: Optional[Path] = typer.Argument(None, help="market CSV: time,close[,volume,bid,ask,oracle,funding,oi,"
                                                           "bid_depth_1 …]"),
        watch: Optional[Path] = typer.Option(None, "--watch", help="follow this growing market CSV and update in place"),
        model: Optional[Path] = typer.Option(None, help="model file: .json (logistic) or .skops (gradient boosting)"),
        lt: Optional[str] = typer.Option(None, help="liquidation threshold of a position file: 0.86 or ASSET=LT,…"),
        asset: Optional[str] = typer.Option(None, help="the collateral asset to watch (default: the largest)"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object (one per update with --watch)"),
        top: int = typer.Option(5, min=1, max=50, help="features and walls to show"),
        interval: float = typer.Option(2.0, min=0.05, help="--watch: seconds between reads"),
        max_updates: int = typer.Option(0, min=0, help="--watch: stop after this many updates (0 = until Ctrl-C)"),
    ):
        """Score a positions snapshot against market bars (the default subcommand)."""
        from ..predict.warn import load_book, read_market, snapshot

        if (market is None) == (watch is None):
            raise InputError(None, "MARKET", "give a market file, or --watch FILE (not both)")
        m = _model(model)
        src = market or watch

        def once(complete_only: bool):
            mk = read_market(src, complete_lines_only=complete_only)
            bk = load_book(positions, lt=lt, asset=asset, price=float(mk.close[-1]))
            return snapshot(m, mk, bk, top=top), len(mk)

        if watch is None:
            s, _ = once(False)
            if as_json:
                typer.echo(jsonout.dumps(s))
                return
            _console().print(_render_snapshot(s))
            return
        s, n = once(True)
        updates = 1
        if as_json:
            typer.echo(jsonout.dumps(s))
            while max_updates == 0 or updates < max_updates:
                time.sleep(interval)
                s2, n2 = once(True)
                if n2 != n:
                    n = n2
                    updates += 1
                    typer.echo(jsonout.dumps(s2))
            return
        from rich.live import Live

        with Live(_render_snapshot(s), console=_console(), refresh_per_second=4, transient=False) as live:
            while max_updates == 0 or updates < max_updates:
                time.sleep(interval)
                s2, n2 = once(True)
                if n2 != n:
                    n = n2
                    updates += 1
                    live.update(_render_snapshot(s2))

    @warn_app.command("train")
    @guard
    def warn_train(
        families: Optional[Path] = typer.Argument(None, help="family file (TOML); default: the built-in families"),
        out: Path = typer.Option(..., "--out", help="model file to write: .json (logistic) or .skops (gradient boosting)"),
        kind: str = typer.Option("logistic", "--model", help="logistic or hgb"),
        scale: float = typer.Option(1.0, min=0.01, max=100.0, help="built-in families: scenarios per family × scale"),
        seed: Optional[int] = typer.Option(None, min=0, help="root seed (default: the file's, or 0)"),
    ):
        """Train a model on a scenario family (simulated here) and save it."""
        from ..predict.evaluate import finite_or_none as _finite
        from ..predict.evaluate import threshold_of
        from ..predict.family import default_families, load_family_file
        from ..predict.models import fit_model
        from ..predict.simulate import SIM_FEATURES, simulate_family_file

        if kind not in ("logistic", "hgb"):
            raise InputError(None, "--model", f"must be logistic or hgb, got {kind!r}")
        want = ".json" if kind == "logistic" else ".skops"
        if out.suffix.lower() != want:
            raise InputError(str(out), "--out", f"a {kind} model is saved as {want}")
        check_out_path(out.parent)
        ff = load_family_file(families) if families is not None else default_families(scale)
        if seed is not None:
            ff.seed = seed
        total = sum(f.scenarios for f in ff.families)
        cb, stop = _progress_cb(True)
        done = [0]

        def tick(k):
            done[0] += k
            cb("simulating scenarios", done[0], total)
        try:
            ds = simulate_family_file(ff, progress=tick)
        finally:
            stop()
        if not (ds.y == 1).any() or not (ds.y == 0).any():
            raise InputError(str(families) if families else None, "label",
                             f"the {len(ds):,} samples are all {'positive' if (ds.y == 1).all() else 'negative'}: "
                             "widen the families' ranges or change the label")
        from .. import __version__

        meta = {"trained_on": "simulation", "families": [f.name for f in ff.families], "samples": len(ds),
                "label": ds.meta["label"], "feature_config": ds.meta["feature_config"], "seed": ff.seed,
                "version": __version__, "family_file": str(families) if families else "built-in",
                "command": "liqcascade warn train"}
        mdl = fit_model(kind, ds.columns(SIM_FEATURES), ds.y, SIM_FEATURES, ds.scenario, seed=ff.seed, meta=meta)
        mdl.meta["alarm_threshold"] = _finite(threshold_of(mdl, ds.y))
        mdl.save(out)
        con = _console()
        con.print(f"trained {kind} on {len(ds):,} samples ({int((ds.y == 1).sum()):,} positive) from "
                  f"{len(ds.onset):,} paths of {total} scenarios; alarm threshold "
                  f"{'none' if mdl.meta['alarm_threshold'] is None else format(mdl.meta['alarm_threshold'], '.4f')}")
        if kind == "logistic":
            coefs = sorted(zip(mdl.features, mdl.coef), key=lambda kv: -abs(kv[1]))[:8]
            con.print("largest standardized coefficients: " + ", ".join(f"{k} {v:+.2f}" for k, v in coefs))
        con.print(f"wrote {out}")

    @warn_app.command("evaluate")
    @guard
    def warn_evaluate(
        out: Path = typer.Option(Path("reports/predict"), "--out", help="folder for evaluation.json, tables.md, "
                                                                         "report.html and the models"),
        scale: float = typer.Option(1.0, min=0.01, max=100.0, help="scenarios per family × scale (1 = 24)"),
        data: Optional[Path] = typer.Option(None, "--data", help="data folder (default $LIQCASCADE_DATA or ../shared/data)"),
        seed: int = typer.Option(0, min=0),
        bootstrap: int = typer.Option(200, min=0, help="bootstrap resamples for the CIs (0 = none)"),
        real: bool = typer.Option(True, "--real/--no-real", help="also the real-data evidence and crash days"),
        as_json: bool = typer.Option(False, "--json", help="print evaluation.json instead of the tables"),
        docs: Optional[Path] = typer.Option(None, "--docs", help="also replace the tables between the markers "
                                                                 "<!-- BEGIN warn evaluate --> … <!-- END warn evaluate --> "
                                                                 "of this Markdown file (docs/predict.md)"),
    ):
        """Train on simulated families and evaluate: splits, real data, crash days (docs/predict.md)."""
        from ..predict.report import replace_block, run_evaluation

        check_out_path(out)
        if docs is not None:
            replace_block(docs, "", dry_run=True)  # the markers are there: fail before the long run
        cmd = "liqcascade warn evaluate" + (f" --scale {scale:g}" if scale != 1 else "") + (
            f" --seed {seed}" if seed else "") + (f" --bootstrap {bootstrap}" if bootstrap != 200 else "") + (
            "" if real else " --no-real")
        cb, stop = _progress_cb(True)
        try:
            ev = run_evaluation(out, scale=scale, data_dir=data, seed=seed, n_boot=bootstrap, real=real, command=cmd,
                                progress=cb)
        finally:
            stop()
        if docs is not None:
            replace_block(docs, (out / "tables.md").read_text())
        if as_json:
            typer.echo(jsonout.dumps(ev))
            return
        typer.echo((out / "tables.md").read_text())
        if docs is not None:
            typer.echo(f"updated the tables in {docs}")
        typer.echo(f"wrote {out}/evaluation.json, tables.md, report.html, sim_logistic.json, sim_market_logistic.json, "
                   f"sim_hgb.skops")

    @app.command("price-risk")
    @guard
    def price_risk_cmd(
        scenario: Path = typer.Argument(..., help="scenario TOML (Aave-rule protocols)"),
        paths: Optional[int] = typer.Option(None, min=20, help="Monte Carlo paths (default: the scenario's)"),
        seed: Optional[int] = typer.Option(None, min=0, help="root seed (default: the scenario's)"),
        out: Optional[Path] = typer.Option(None, "--out", help="write positions.parquet, price_risk.json, report.html"),
        alpha: float = typer.Option(0.95, help="tail level of VaR/ES"),
        cost_of_capital: float = typer.Option(0.10, "--cost-of-capital", help="a year, for the rate add-on"),
        leverage_edges: str = typer.Option("2,3,5", help="cohort edges of leverage"),
        size_edges: str = typer.Option("1e4,1e5,1e6", help="cohort edges of debt value (quote)"),
        frontier: bool = typer.Option(True, "--frontier/--no-frontier", help="run recommend's frontier for the plot"),
        frontier_param: Optional[list[str]] = typer.Option(None, "--frontier-param",
                                                           help="PATH=a:b:step axes for recommend instead of its "
                                                                "default axes (repeatable)"),
        as_json: bool = typer.Option(False, "--json", help="print the summary as one JSON object"),
    ):
        """Cascade risk premium per position: ES contribution + externality, as a rate add-on and an LT haircut."""
        from ..jsonout import scalars
        from ..predict.premium import price_risk, write_outputs

        def edges(s, name):
            try:
                v = tuple(float(x) for x in s.split(",") if x.strip())
            except ValueError:
                raise InputError(None, name, f"expected numbers separated by commas, got {s!r}") from None
            if not v or not all(math.isfinite(x) for x in v):
                raise InputError(None, name, "expected finite numbers")
            return v

        le, se = edges(leverage_edges, "--leverage-edges"), edges(size_edges, "--size-edges")
        if out is not None:
            check_out_path(out)
        cb, stop = _progress_cb(not as_json)
        try:
            res = price_risk(scenario, paths=paths, seed=seed, alpha=alpha, cost_of_capital=cost_of_capital,
                             lev_edges=le, size_edges=se, frontier=frontier, frontier_params=frontier_param,
                             progress=cb)
        finally:
            stop()
        files = write_outputs(out, res) if out is not None else None
        s = res.summary()
        if as_json:
            typer.echo(jsonout.dumps(scalars({**s, "files": files})))
            return
        from rich.table import Table

        con = _console()
        t = Table(title=f"cascade premium per cohort — {res.scenario}: {res.paths} paths, seed {res.seed}, "
                        f"VaR{res.alpha:.0%} {res.var:,.0f}, ES{res.alpha:.0%} {res.es:,.0f}")
        for c in ("cohort", "positions", "debt", "ES contribution", "externality (tail)", "externality (mean)",
                  "add-on (bps/yr)", "LT haircut"):
            t.add_column(c, justify="left" if c == "cohort" else "right")
        for r in res.cohorts:
            t.add_row(r["cohort"], f"{r['positions']:,}", _fmt_money(r["debt_value"]), _fmt_money(r["es_contribution"]),
                      _fmt_money(r["externality_tail"]), _fmt_money(r["externality_mean"]),
                      f"{r['rate_addon_bps']:.2f}", f"{r['lt_haircut'] * 100:.3f} pp")
        con.print(t)
        p = Table(title="policy test (same paths): premium as a margin for new positions vs a flat margin")
        for c in ("policy", "VaR95 of bad debt", "95 % CI", "borrow capacity (1 = today)", "VaR95 / capacity",
                  "mean margin"):
            p.add_column(c, justify="left" if c == "policy" else "right")
        for k, v in res.policy.items():
            ci = v["var95_ci"]
            p.add_row(k, _fmt_money(v["var95"]), f"{_fmt_money(ci[0])} … {_fmt_money(ci[1])}", f"{v['capacity_ratio']:.4f}",
                      f"{v['var95_per_capacity']:.4g}", f"{v['margin_mean'] * 100:.3f} pp")
        con.print(p)
        vs = res.policy["premium margin"]["vs_flat"]
        con.print(f"premium − flat VaR95: {vs['var95_diff']:,.0f} (paired bootstrap 95 % CI {vs['ci'][0]:,.0f} … "
                  f"{vs['ci'][1]:,.0f}: {'distinguishable' if vs['distinguishable'] else 'not distinguishable'} from 0)")
        if res.frontier:
            r = res.frontier["recommended"]
            con.print(f"recommend (same paths): recommended point capacity {r['capacity_ratio']:.4f}, VaR95 "
                      f"{r['var95']:,.0f} ({len(res.frontier['points'])} points searched)")
        for n in res.notes:
            con.print(f"[dim]note: {n}[/dim]")
        if files:
            con.print(f"wrote {files['parquet']}, {files['json']}, {files['html']}")
