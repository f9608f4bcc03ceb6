"""Historical replays: ``liqcascade replay --list``, ``replay EVENT``, ``replay EVENT --inputs`` and
``replay EVENT --ensemble N``.

The events live in :mod:`liqcascade.replay` (one module each). A replay reads public files from
the data folder (``--data``, else ``$LIQCASCADE_DATA``, else ``../shared/data``).

* ``replay EVENT`` — one member at the priors' medians: headline, records, one-at-a-time tables;
  writes ``replay.json`` and the main run's files (``events.parquet``, ``steps.parquet``,
  ``summary.json``; the other runs under ``runs/<name>/``) to ``--out``, ``report.html`` with
  ``--report``;
* ``replay EVENT --inputs`` — the provenance table: every input as real file, published
  aggregate (with citation) or assumption (with its prior);
* ``replay EVENT --ensemble N`` — N input sets drawn from the priors, run on the Monte Carlo
  executors (``--workers``, ``--dask local``, ``--scheduler``), resumable in ``--store``; prints and
  writes (``ensemble.json``, ``members.csv``, ``report.html``) each outcome's median, 5–95 % band,
  record and tornado, with the inputs table.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from .. import jsonout


def _console():
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=160)


def parse_sets(items: list[str] | None) -> dict[str, str]:
    """``["key=value", …]`` → ``{key: value}`` (values stay strings; the event checks them)."""
    from ..errors import InputError

    out: dict[str, str] = {}
    for it in items or []:
        key, sep, val = it.partition("=")
        key, val = key.strip(), val.strip()
        if not sep or not key or not val:
            raise InputError(None, "--set", f"expected key=value, got {it!r}")
        if key in out:
            raise InputError(None, "--set", f"{key!r} given twice")
        out[key] = val
    return out


def _fmt(v) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if v != v:
            return "nan"
        if v == int(v) and abs(v) < 1e15:
            return f"{int(v):,}"
        if abs(v) >= 100:
            return f"{v:,.0f}"
        if abs(v) >= 1:
            return f"{v:,.2f}"
        return f"{v:.4g}"
    return str(v)


def _fmt_col(name: str, v) -> str:
    if ("share" in name or "fraction" in name) and isinstance(v, (int, float)):
        return f"{v:.1%}"
    return _fmt(v)


def _missing_message(ev, data_dir: Path) -> str | None:
    missing = ev.missing(data_dir)
    if not missing:
        return None
    hint = "give the data folder with --data DIR (or set LIQCASCADE_DATA)"
    if not Path(data_dir).is_dir():
        return f"{data_dir}: data folder not found; replay {ev.name} needs {', '.join(ev.needs)} in it — {hint}"
    more = f" (and {len(missing) - 1} more: {', '.join(missing[1:])})" if len(missing) > 1 else ""
    return f"{Path(data_dir) / missing[0]}: not found{more}; replay {ev.name} reads it — {hint}"


def register(app: typer.Typer) -> None:
    from ._common import check_out_path, escape, guard

    @app.command()
    @guard
    def replay(
        event: Optional[str] = typer.Argument(None, help="event name, e.g. 2020-03-12 (see --list)"),
        list_: bool = typer.Option(False, "--list", help="list the events and whether their data are present"),
        inputs: bool = typer.Option(False, "--inputs", help="list every input: real file / published aggregate / "
                                                            "assumption with its prior"),
        ensemble: Optional[int] = typer.Option(None, "--ensemble", help="draw N (>= 2) input sets from the priors "
                                                                              "and report bands and a tornado"),
        data: Optional[Path] = typer.Option(None, "--data", help="data folder (default $LIQCASCADE_DATA or ../shared/data)"),
        seed: int = typer.Option(0, "--seed", min=0, help="seed of the draws, books and bridges"),
        quick: bool = typer.Option(False, "--quick", help="smaller books and tables (for tests and a first look)"),
        sets: Optional[List[str]] = typer.Option(None, "--set", help="fix a prior or a setting: key=value (repeatable)"),
        out: Optional[Path] = typer.Option(None, "--out", help="output folder (default reports/replay-EVENT)"),
        report: bool = typer.Option(False, "--report", help="also write report.html (always with --ensemble)"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
        workers: Optional[int] = typer.Option(None, "--workers", min=0, help="ensemble: worker processes "
                                                                           "(0 = in this process; default: CPUs)"),
        dask: Optional[str] = typer.Option(None, "--dask", help="ensemble: 'local' for a Dask LocalCluster of --workers"),
        scheduler: Optional[str] = typer.Option(None, "--scheduler", help="ensemble: a Dask scheduler tcp://HOST:PORT"),
        store: Path = typer.Option(Path("liqcascade-runs"), "--store", help="ensemble: run store (resumable chunks)"),
        chunk_members: int = typer.Option(4, "--chunk-members", min=1, help="ensemble: members per chunk file"),
    ):
        """Replay a historical crash day on real data: point run, provenance, or an ensemble over the priors."""
        from ..errors import InputError
        from ..replay import ReplayOptions, default_data_dir, events, get_event

        data_dir = data if data is not None else default_data_dir()
        if list_:
            if event is not None:
                raise InputError(None, "--list", "takes no EVENT")
            evs = events()
            rows = [{"name": e.name, "title": e.title, "needs": list(e.needs),
                     "available": not e.missing(data_dir)} for e in evs.values()]
            if as_json:
                typer.echo(jsonout.dumps({"data": str(data_dir), "events": rows}))
                return
            from rich.table import Table

            t = Table(title=f"replays (data folder: {data_dir})")
            for col in ("event", "title", "data needed", "available"):
                t.add_column(col)
            for r in rows:
                t.add_row(r["name"], r["title"], "\n".join(r["needs"]), "yes" if r["available"] else "no")
            _console().print(t)
            return
        if event is None:
            raise InputError(None, "EVENT", "give an event name, or --list to see them")
        ev = get_event(event)
        if inputs:
            if ensemble is not None:
                raise InputError(None, "--inputs", "lists the inputs; give it without --ensemble")
            rows = [i.as_dict() for i in ev.inputs()]
            if as_json:
                typer.echo(jsonout.dumps({"event": ev.name, "inputs": rows}))
                return
            _print_inputs(_console(), ev, rows, escape)
            return
        msg = _missing_message(ev, data_dir)
        if msg is not None:
            raise InputError(None, None, msg)
        overrides = parse_sets(sets)
        ev.split_overrides(overrides, quick)  # bad --set values fail before anything runs or is written
        out = out if out is not None else Path("reports") / f"replay-{ev.name}"
        check_out_path(out)
        opts = ReplayOptions(data_dir=Path(data_dir), seed=seed, quick=quick, overrides=overrides)
        con = _console()
        if ensemble is not None:
            _ensemble(con, ev, opts, ensemble, out, store, workers, dask, scheduler, chunk_members, as_json, escape)
            return
        if not as_json and sys.stderr.isatty():
            with con.status(f"replaying {ev.name} …"):
                res = ev.run(opts)
        else:
            res = ev.run(opts)
        doc = res.as_dict()
        text = jsonout.dumps(doc, indent=2)
        out.mkdir(parents=True, exist_ok=True)
        from ..results.store import write_run

        written = ["replay.json"]
        if res.run is not None:
            write_run(out, res.run)
            written += ["events.parquet", "steps.parquet", "summary.json"]
        for name, (_c, r) in res.runs.items():
            if r is not res.run:
                write_run(out / "runs" / name, r)
                written.append(f"runs/{name}/")
        (out / "replay.json").write_text(text + "\n")
        html = None
        if report:
            from ..replay.report import write_replay_report

            html = write_replay_report(out / "report.html", ev, res.inputs, point=res)
        if as_json:
            typer.echo(jsonout.dumps(doc))
            return
        _print(con, res, escape)
        con.print(f"wrote {out}/{{{', '.join(written)}}}")
        if html is not None:
            con.print(f"report: {html}")


def _ensemble(con, ev, opts, n, out, store, workers, dask, scheduler, chunk_members, as_json, escape):
    from ..replay.ensemble import execute_ensemble, plan_ensemble, summarize
    from ..replay.report import write_replay_report

    plan = plan_ensemble(ev, opts, n, store, chunk_members)
    cb = None
    if not as_json and sys.stderr.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        prog = Progress(TextColumn(f"replay {ev.name}: chunks"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        transient=True)
        task = prog.add_task("chunks", total=None)

        def cb(done, total):  # noqa: E306
            prog.update(task, completed=done, total=total)

        with prog:
            run = execute_ensemble(plan, workers=workers, dask=dask, scheduler=scheduler, progress=cb)
    else:
        run = execute_ensemble(plan, workers=workers, dask=dask, scheduler=scheduler)
    summary = summarize(ev, run)
    out.mkdir(parents=True, exist_ok=True)
    from ..atomic import write_text_atomic

    write_text_atomic(out / "ensemble.json", jsonout.dumps(summary, indent=1) + "\n")
    m = summary["member_table"]
    cols = list(m)
    lines = [",".join(cols)] + [",".join(repr(float(m[c][i])) for c in cols) for i in range(len(m["member"]))]
    write_text_atomic(out / "members.csv", "\n".join(lines) + "\n")
    html = write_replay_report(out / "report.html", ev, summary["inputs"], ensemble=summary)
    if as_json:
        import typer

        typer.echo(jsonout.dumps({k: v for k, v in summary.items() if k != "member_table"}))
        return
    from rich.table import Table

    from ..replay.report import fmt

    t = Table(title=f"replay {ev.name} — ensemble of {summary['members']} (seed {summary['seed']}, run {summary['run_id']})")
    for col in ("outcome", "median", "5 %", "95 %", "record", "record on the band", "moved most by (Spearman ρ)"):
        t.add_column(col, justify="right" if col in ("median", "5 %", "95 %", "record") else "left")
    for o in summary["outcomes"]:
        b, k, rec = o["band"], o["kind"], o.get("record")
        where = f"{rec['where']} (p{rec['percentile'] * 100:.0f})" if rec and "where" in rec else ("—" if not rec else "no member")
        tor = ", ".join(f"{x['prior']} {x['rho']:+.2f}" for x in o["tornado"][:3] if x["rho"] == x["rho"])
        t.add_row(escape(o["label"]), fmt(b.get("median"), k), fmt(b.get("p5"), k), fmt(b.get("p95"), k),
                  fmt(rec["value"], k) if rec else "—", where, escape(tor))
    con.print(t)
    ex = summary["execution"]
    tm = ex["timings"]
    con.print(f"chunks: {ex['chunks']['total']} ({ex['chunks']['ran']} run, {ex['chunks']['already_stored']} already "
              f"stored) on {ex['executor']} × {ex['workers']}; {tm['wall_s']:.1f} s wall, {tm['compute_s']:.1f} s compute")
    con.print(f"rank correlations under {summary['rank_correlation_noise']:.2f} in size are within noise for "
              f"{summary['members']} members; records come from the sources in the inputs table and report")
    con.print(f"wrote {out}/{{ensemble.json, members.csv, report.html}}; store {summary['store']}")
    con.print(f"report: {html}")


def _print_inputs(con, ev, rows, escape) -> None:
    from rich.table import Table

    t = Table(title=f"replay {ev.name} — inputs and their provenance", show_lines=False)
    for col in ("input", "kind", "what", "source / citation", "prior"):
        t.add_column(col)
    for r in rows:
        p = r.get("prior")
        prior = ""
        if p:
            from ..replay.report import fmt

            prior = f"{p['dist']}[{fmt(p['lo'], 'x')}, {fmt(p['hi'], 'x')}]" + (f" {p['unit']}" if p.get("unit") else "")
        t.add_row(escape(r["name"]), r["kind"], escape(r["what"]), escape(r["source"]), escape(prior))
    con.print(t)


def _print(con, res, escape) -> None:
    from rich.table import Table

    recs = res.extra.get("records", {})
    t = Table(title=f"replay {res.event} — {res.title} (one member at the priors' medians)")
    t.add_column("headline")
    t.add_column("replay", justify="right")
    t.add_column("record", justify="right")
    for k, v in res.headline.items():
        r = recs.get(k)
        t.add_row(k.replace("_", " "), _fmt_col(k, v), _fmt_col(k, r["value"]) if r else "—")
    con.print(t)
    con.print("[bold]assumptions[/bold]")
    for a in res.assumptions:
        con.print(f"  • {escape(a)}")
    for n in res.extra.get("notes", []):
        con.print(f"  • {escape(n)}")
    for s in res.sensitivity:
        st = Table(title=f"one at a time: {s.parameter}")
        st.add_column("value", justify="right")
        for c in s.columns:
            st.add_column(c.replace("_", " "), justify="right")
        for r in s.rows:
            st.add_row(_fmt(r.get("value")), *(_fmt_col(c, r.get(c)) for c in s.columns))
        con.print(st)
    con.print("for the spread the inputs imply: --ensemble N (see --inputs for every prior)")
