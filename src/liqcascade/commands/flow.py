"""``liqcascade run`` on a ``[flow]`` scenario: the external-flow run, its table and files.

Called from ``cli.run`` / ``cli.validate`` when the scenario has a ``[flow]`` table (it has no
commands of its own, so it is not in :data:`liqcascade.commands.MODULES`).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ..errors import InputError
from ._common import check_out_path, console, escape, scenario_file


def run_flow_command(path: Path, sc, base, *, paths, seed, out, as_json, report) -> None:
    from ..engine.flow import compile_flow, run_flow
    from ..provenance import clean
    from ..results.flow import write_flow_run

    if paths is not None and paths != 1:
        raise InputError(None, "--paths", f"a flow run is deterministic (the series is the path): one path, got {paths}")
    if report is not None:
        raise InputError(None, "--report", "HTML reports are not available for flow runs; use --out DIR "
                         "(steps.parquet, summary.json) or --json")
    if out is not None:
        check_out_path(out)
    with scenario_file(path):
        fc = compile_flow(sc, base)
        res = run_flow(fc)
    if seed is not None:
        res.notes.append("--seed has no effect: a flow run draws no random numbers")
    if out is not None:
        write_flow_run(out, res)
    if as_json:
        typer.echo(json.dumps(clean(res.as_dict())))
        return
    print_flow(res, out)


def _q(x):
    return "-" if x is None else f"{x:,.2f}"


def print_flow(res, out=None) -> None:
    from rich.table import Table

    s = res.summary
    t = Table(title=f"flow run — {res.scenario}: {s['steps']:,} steps, {s['start']} .. {s['end']} UTC, "
                    f"venue {res.venue}, multiplier {s['multiplier']:g}")
    t.add_column("metric")
    t.add_column("value", justify="right")
    rows = [
        ("max_drop (vs the no-flow run)", f"{s['max_drop']:.2%}"),
        ("  at", f"{s['max_drop_time']} (step {s['max_drop_step']}, {s['max_drop_sell_in']:,.2f} {res.asset} sold in)"),
        ("mean drop over steps", f"{s['mean_drop']:.3%}"),
        (f"forced sells in ({res.asset})", _q(s["sell_in"])),
        ("  absorbed by the backstop", _q(s["absorbed"])),
        ("  filled on the venue", _q(s["sold"])),
        ("  unfilled (beyond max_slippage)", _q(s["sell_unfilled"])),
        (f"forced buys in ({res.asset})", _q(s["buy_in"])),
        ("  filled on the venue", _q(s["bought"])),
        ("  unfilled (beyond max_slippage)", _q(s["buy_unfilled"])),
        ("venue sale proceeds (quote)", _q(s["proceeds"])),
        ("average venue sale price", _q(s["avg_sell_price"])),
    ]
    b = s.get("backstop")
    if b:
        rows += [
            ("backstop: start → end balance", f"{b['size']:,.0f} → {b['balance_end']:,.0f}"),
            ("  paid for absorbed sales", _q(b["paid"])),
            ("  retail withdrawn / institutional refill", f"{b['withdrawn']:,.0f} / {b['refilled']:,.0f}"),
            ("  lowest balance", _q(b["min_balance"])),
            ("  depositors' P&L at the last reference", _q(b["pnl_at_final_reference"])),
        ]
    for r in rows:
        t.add_row(*r)
    con = console()
    con.print(t)
    if out is not None:
        con.print(f"wrote {out}/summary.json, steps.parquet")
    for n in res.notes:
        con.print(f"[dim]note: {escape(n)}[/dim]")


def validate_flow(path: Path, sc, base) -> str:
    from ..engine.flow import compile_flow

    with scenario_file(path):
        fc = compile_flow(sc, base)
    return (f"ok: {path}: flow study, {len(fc.series):,} rows of {sc.flow.file} into venue {fc.venue!r} "
            f"({fc.kind}){', with a backstop pool' if fc.bparams is not None else ''}")
