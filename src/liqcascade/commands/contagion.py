"""``liqcascade contagion SCENARIO``: whose forced sales caused whose liquidations and bad debt.

The baseline and one counterfactual per protocol (its sales absorbed by an infinite-depth sink)
on the same seeded paths (:mod:`liqcascade.engine.contagion`). Prints the matrix per metric with
95 % intervals over paths and the price move each protocol's sales caused on each venue (the
sales ledger's Shapley split); ``--json`` prints one strict JSON object with provenance;
``--report F.html`` writes the network, the heatmaps and the timeline.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Optional

import typer

MAX_PATHS = 100_000


def _cell(mean: float, lo: float, hi: float) -> str:
    if not math.isfinite(mean):
        return "–"
    s = f"{mean:,.2f}" if abs(mean) < 1e4 else f"{mean:,.0f}"
    if math.isfinite(lo):
        s += f" [{lo:,.0f}, {hi:,.0f}]" if abs(mean) >= 100 else f" [{lo:,.2f}, {hi:,.2f}]"
    return s


def print_contagion(res) -> None:
    from rich.table import Table

    from ..engine.contagion import METRIC_LABEL, METRICS
    from ._common import console, escape

    con = console()
    ci = " (mean, 95 % CI over paths)" if res.paths > 1 else " (one path: no interval)"
    for m in METRICS:
        mt = res.matrix(m)
        t = Table(title=f"contagion — {res.scenario}: {METRIC_LABEL[m]} in B caused by A's sales{ci}")
        t.add_column("sales of A \\ hit B")
        for nb in res.protocols:
            t.add_column(nb, justify="right")
        for a, na in enumerate(res.protocols):
            t.add_row(na, *[_cell(mt["mean"][a, b], mt["ci_lo"][a, b], mt["ci_hi"][a, b])
                            for b in range(len(res.protocols))])
        base = res.baseline(m)
        t.add_row("[dim]baseline[/dim]", *[f"[dim]{x:,.2f}[/dim]" for x in base])
        con.print(t)
    tl = res.timeline()
    if tl:
        t = Table(title="price move caused on each venue (path 0, sum of the Shapley shares of every step)")
        t.add_column("venue")
        t.add_column("protocol")
        t.add_column("price move", justify="right")
        for v, per in tl.items():
            for p, mv in per.items():
                t.add_row(v, p, f"{float(mv.sum()):,.4f}")
        con.print(t)
    con.print(f"[dim]{res.paths} path(s), seed {res.seed}; C[A, B] = B's outcome in the baseline − B's outcome "
              f"with A's sales absorbed by an infinite-depth sink[/dim]")
    for n in res.notes:
        con.print(f"[dim]note: {escape(n)}[/dim]")


def register(app: typer.Typer) -> None:
    from ._common import guard

    @app.command("contagion")
    @guard
    def contagion(
        scenario: Path = typer.Argument(..., help="scenario TOML"),
        paths: Optional[int] = typer.Option(None, help="paths (default simulation.paths); the same seeded paths "
                                            "for the baseline and every counterfactual"),
        seed: Optional[int] = typer.Option(None, help="override simulation.seed"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object (strict: no NaN)"),
        report: Optional[Path] = typer.Option(None, help="write an HTML report (network, heatmaps, timeline)"),
        max_events: Optional[int] = typer.Option(None, help="override simulation.max_events (events and ledger "
                                                 "rows kept per path)"),
    ):
        """Counterfactual contagion matrix: liquidations, liquidated value and bad debt in each
        protocol B caused by protocol A's forced sales (A's sales absorbed by a sink, one A at a time)."""
        from ..engine.compile import compile_scenario
        from ..engine.contagion import run_contagion
        from ..errors import InputError
        from ..scenario.load import load_scenario
        from ._common import check_out_path, scenario_file

        if paths is not None and not 1 <= paths <= MAX_PATHS:
            raise InputError(str(scenario), "--paths", f"must be between 1 and {MAX_PATHS:,} (got {paths})")
        if seed is not None and seed < 0:
            raise InputError(str(scenario), "--seed", f"must be ≥ 0 (got {seed})")
        if max_events is not None and max_events < 0:
            raise InputError(str(scenario), "--max-events", f"must be ≥ 0 (got {max_events})")
        if report is not None:
            if report.suffix.lower() not in (".html", ".htm"):
                raise InputError(str(report), "--report", "must be an .html file")
            check_out_path(report.parent, "--report")
        sc, base = load_scenario(scenario)
        if seed is not None:
            sc.simulation.seed = seed
        if len(sc.protocols) < 1:
            raise InputError(str(scenario), "protocols", "contagion needs at least one protocol")
        n = int(paths or sc.simulation.paths)
        with scenario_file(scenario):
            c = compile_scenario(sc, base)
            total = (len(c.protocols) + 1) * n
            if not as_json and sys.stderr.isatty():
                from rich.progress import Progress

                with Progress(transient=True) as prog:
                    task = prog.add_task(f"baseline + {len(c.protocols)} counterfactual runs", total=total)
                    res = run_contagion(c, n, progress=lambda k: prog.advance(task, k), max_events=max_events)
            else:
                res = run_contagion(c, n, max_events=max_events)
        if report is not None:
            from ..report.contagion import write_contagion_report

            write_contagion_report(report, res)
        if as_json:
            from .. import jsonout

            typer.echo(jsonout.dumps(res.as_dict()))
            return
        print_contagion(res)
        if report is not None:
            from ._common import console

            console().print(f"report: {report}")
