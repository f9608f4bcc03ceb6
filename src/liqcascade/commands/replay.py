"""Historical replays: ``liqcascade replay --list`` and ``liqcascade replay EVENT``.

The events live in :mod:`liqcascade.replay` (one module each). A replay reads public files from
the data folder (``--data``, else ``$LIQCASCADE_DATA``, else ``../shared/data``), runs the
dynamic engine, prints its headline numbers, assumptions and sensitivity tables, and writes
``replay.json`` with the run folder (``events.parquet``, ``steps.parquet``, ``summary.json``,
as ``liqcascade run --out``) to ``--out`` — plus ``report.html`` with ``--report``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from .. import jsonout


def _console():
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=150)


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
    from ..cli import check_out_path, escape, guard

    @app.command()
    @guard
    def replay(
        event: Optional[str] = typer.Argument(None, help="event name, e.g. 2020-03-12 (see --list)"),
        list_: bool = typer.Option(False, "--list", help="list the events and whether their data are present"),
        data: Optional[Path] = typer.Option(None, "--data", help="data folder (default $LIQCASCADE_DATA or ../shared/data)"),
        seed: int = typer.Option(0, "--seed", min=0, help="seed of the synthetic parts (vault books …)"),
        quick: bool = typer.Option(False, "--quick", help="fewer sensitivity rows (for tests and a first look)"),
        sets: Optional[List[str]] = typer.Option(None, "--set", help="event parameter key=value (repeatable)"),
        out: Optional[Path] = typer.Option(None, "--out", help="folder for replay.json and the run files "
                                                              "(default reports/replay-EVENT)"),
        report: bool = typer.Option(False, "--report", help="also write report.html (plotly) in --out"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object (replay.json)"),
    ):
        """Replay a historical crash day on real data: headline, assumptions, sensitivity."""
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
        msg = _missing_message(ev, data_dir)
        if msg is not None:
            raise InputError(None, None, msg)
        overrides = parse_sets(sets)
        out = out if out is not None else Path("reports") / f"replay-{ev.name}"
        check_out_path(out)
        opts = ReplayOptions(data_dir=Path(data_dir), seed=seed, quick=quick, overrides=overrides)
        con = _console()
        if not as_json and sys.stderr.isatty():
            with con.status(f"replaying {ev.name} …"):
                res = ev.run(opts)
        else:
            res = ev.run(opts)
        doc = res.as_dict()
        text = jsonout.dumps(doc, indent=2)
        out.mkdir(parents=True, exist_ok=True)
        if res.run is not None:
            from ..results.store import write_run

            write_run(out, res.run)
        (out / "replay.json").write_text(text + "\n")
        html = None
        if report:
            if res.run is None:
                raise InputError(None, "--report", f"replay {ev.name} has no run to report")
            from ..report.html import write_report

            html = write_report(out / "report.html", run=res.run, compiled=res.compiled,
                                title=f"liqcascade replay {ev.name} — {ev.title}")
        if as_json:
            typer.echo(jsonout.dumps(doc))
            return
        _print(con, res, escape)
        files = "replay.json" + (", events.parquet, steps.parquet, summary.json" if res.run is not None else "")
        con.print(f"wrote {out}/{{{files}}}")
        if html is not None:
            con.print(f"report: {html}")


def _print(con, res, escape) -> None:
    from rich.table import Table

    t = Table(title=f"replay {res.event} — {res.title}")
    t.add_column("headline")
    t.add_column("value", justify="right")
    for k, v in res.headline.items():
        t.add_row(k.replace("_", " "), _fmt_col(k, v))
    con.print(t)
    con.print("[bold]assumptions[/bold]")
    for a in res.assumptions:
        con.print(f"  • {escape(a)}")
    notes = res.extra.get("notes") if isinstance(res.extra, dict) else None
    if notes:
        con.print("[bold]compared with the record[/bold]")
        for n in notes:
            con.print(f"  • {escape(n)}")
    for s in res.sensitivity:
        st = Table(title=f"sensitivity: {s.parameter}")
        st.add_column(s.parameter, justify="right")
        for c in s.columns:
            st.add_column(c.replace("_", " "), justify="right")
        for r in s.rows:
            st.add_row(_fmt(r.get("value")), *(_fmt_col(c, r.get(c)) for c in s.columns))
        con.print(st)
