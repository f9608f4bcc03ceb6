"""Data commands: ``heatmap`` (liquidation-price clusters), ``report`` (rebuild a run folder's
HTML report) and the ``data`` group (``inspect`` a downloaded file, list the ``formats``).

Heavy imports (plotly, pyarrow, the engine) happen inside the commands.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Optional

import typer

from .. import jsonout

COMPOUND_ACCOUNTS = "compound_v2_accounts_with_borrows.csv"
COMPOUND_POSITIONS = "compound_v2_account_ctoken_positions.csv"


def console():
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=150)


def _money(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"


def book_for(positions: Path, *, scenario: Optional[Path] = None, price: Optional[float] = None,
             lt: Optional[float] = None, accounts: Optional[Path] = None, block: Optional[int] = None,
             protocol: Optional[str] = None, asset: str = "collateral"):
    """The :class:`~liqcascade.data.liqprice.AccountBook` for the heatmap's POSITIONS argument:
    an Aave v2 details file or folder, a Compound v2 positions/accounts file, or a liqcascade
    position file (CSV/Parquet) with ``--scenario`` or ``--price``/``--lt``."""
    from ..data import liqprice as LP
    from ..data.formats import sniff
    from ..errors import InputError

    if positions.is_dir():
        kind, found = _folder_layout(positions)
        if kind == "compound":
            positions, accounts = found  # the snapshot's two files, handled below
        else:
            from ..calibration.params import aave_v2_lt
            from ..data.aave import load_aave_details_dir

            _no_scenario(scenario, price, lt, "an Aave v2 details folder")
            return LP.book_from_aave(load_aave_details_dir(found), aave_v2_lt, block=block)
    fmt = sniff(positions)
    if fmt == "aave_details":
        from ..calibration.params import aave_v2_lt
        from ..data.aave import load_aave_details

        _no_scenario(scenario, price, lt, "an Aave v2 details file")
        return LP.book_from_aave([load_aave_details(positions)], aave_v2_lt, block=block)
    if fmt in ("compound_positions", "compound_accounts"):
        from ..data.compound import load_compound_v2

        _no_scenario(scenario, price, lt, "a Compound v2 snapshot")
        if fmt == "compound_positions":
            pos = positions
            acc = accounts or positions.with_name(COMPOUND_ACCOUNTS)
        else:
            acc = positions
            pos = accounts or positions.with_name(COMPOUND_POSITIONS)
        for f, opt in ((acc, "accounts"), (pos, "positions")):
            if not f.is_file():
                raise InputError(str(f), "--accounts", f"Compound v2 {opt} file not found: a Compound snapshot needs "
                                 "both the accounts and the per-cToken positions file (give the other with --accounts)")
        snap = load_compound_v2(acc, pos)
        try:
            return LP.book_from_compound(snap)
        except ValueError as e:
            raise InputError(str(acc), None, str(e)) from None
    if fmt != "positions":
        raise InputError(str(positions), None, f"is a {fmt} file, not positions (expected an Aave v2 details file "
                         "or folder, a Compound v2 snapshot, or an id,collateral,debt position file)")
    if scenario is not None:
        if price is not None or lt is not None:
            raise InputError(None, "--scenario", "give either --scenario or --price/--lt, not both")
        return _book_from_scenario(positions, scenario, protocol)
    from ..positions.io import load_positions

    if price is None or lt is None:
        raise InputError(None, "--price/--lt", "a position file needs --scenario S.toml, or --price P and --lt LT")
    if not (math.isfinite(price) and price > 0) or not (0 < lt < 1):
        raise InputError(None, "--price/--lt", "need a positive price and 0 < lt < 1")
    table = load_positions(positions, assets=[asset, "USD"])
    if not table.wide:
        raise InputError(str(positions), None, "a long (id,asset,collateral,debt) file needs --scenario for its prices")
    return LP.book_from_positions(table, {asset: price, "USD": 1.0}, lt, label=str(positions))


def _folder_layout(folder: Path):
    """What a POSITIONS folder holds, as the shared data folders lay it out: Aave v2 details
    files (``*_details_v2.csv``) in the folder or one level down (``aave_v2_borrowers_2021/``
    holds ``aave_user_details_v2/``), or a Compound v2 snapshot (its accounts and per-cToken
    positions files). Returns ``("aave", folder)`` or ``("compound", (positions, accounts))``;
    anything else is an input error saying which files were expected."""
    from ..errors import InputError

    if any(folder.glob("*_details_v2.csv")):
        return "aave", folder
    subs = sorted(d for d in folder.iterdir() if d.is_dir() and any(d.glob("*_details_v2.csv")))
    if len(subs) == 1:
        return "aave", subs[0]
    if len(subs) > 1:
        raise InputError(str(folder), None, "several folders of Aave v2 details files ("
                         + ", ".join(d.name for d in subs) + "): give one of them")
    pos, acc = folder / COMPOUND_POSITIONS, folder / COMPOUND_ACCOUNTS
    if pos.is_file() and acc.is_file():
        return "compound", (pos, acc)
    have = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir())
    shown = ", ".join(have[:8]) + (f" … ({len(have)} entries)" if len(have) > 8 else "") if have else "nothing"
    raise InputError(str(folder), None, "expected Aave v2 details files (*_details_v2.csv, in the folder or one level "
                     f"down, e.g. aave_user_details_v2/) or a Compound v2 snapshot ({COMPOUND_ACCOUNTS} and "
                     f"{COMPOUND_POSITIONS}); found {shown}")


def _no_scenario(scenario, price, lt, what):
    from ..errors import InputError

    if scenario is not None or price is not None or lt is not None:
        raise InputError(None, "--scenario/--price/--lt", f"not used with {what} (its prices and thresholds come "
                                                          "from the file and calibration.params)")


def _book_from_scenario(positions: Path, scenario: Path, protocol: Optional[str]):
    from ._common import scenario_file
    from ..data.liqprice import book_from_compiled
    from ..engine.compile import compile_scenario
    from ..errors import InputError
    from ..scenario.load import load_scenario

    sc, base = load_scenario(scenario)
    if not sc.protocols:
        raise InputError(str(scenario), "protocols", "the scenario has no protocol to take thresholds from")
    names = [p.name for p in sc.protocols]
    if protocol is None:
        pr = sc.protocols[0]
    elif protocol in names:
        pr = sc.protocols[names.index(protocol)]
    else:
        raise InputError(None, "--protocol", f"unknown protocol {protocol!r} (scenario has {', '.join(names)})")
    pr.positions = str(positions.resolve())
    sc.protocols = [pr]
    with scenario_file(scenario):
        c = compile_scenario(sc, base)
    return book_from_compiled(c, label=f"{positions.name} under {sc.name}/{pr.name}")


def register(app: typer.Typer) -> None:
    from ._common import check_out_path, guard

    data_app = typer.Typer(no_args_is_help=True, help="Real market and protocol data: inspect files, list formats.")
    app.add_typer(data_app, name="data")

    @app.command()
    @guard
    def heatmap(
        positions: Path = typer.Argument(..., help="Aave v2 details file/folder, Compound v2 positions or accounts "
                                                   "CSV, or a position file (CSV/Parquet)"),
        out: Path = typer.Option(..., "--out", help="HTML file to write"),
        scenario: Optional[Path] = typer.Option(None, "--scenario", help="scenario TOML giving prices and LTs "
                                                                         "for a position file"),
        price: Optional[float] = typer.Option(None, "--price", help="collateral price (wide position file)"),
        lt: Optional[float] = typer.Option(None, "--lt", help="liquidation threshold (wide position file)"),
        bucket: float = typer.Option(0.01, "--bucket", help="bucket width as a fraction of the price"),
        png: Optional[Path] = typer.Option(None, "--png", help="also write a PNG (kaleido, else headless chromium)"),
        accounts: Optional[Path] = typer.Option(None, "--accounts", help="Compound v2: the other file of the "
                                                                         "snapshot (default: beside POSITIONS)"),
        block: Optional[int] = typer.Option(None, "--block", min=0, help="Aave v2: state at this block"),
        protocol: Optional[str] = typer.Option(None, "--protocol", help="scenario protocol whose LTs apply"),
        asset: str = typer.Option("collateral", "--asset", help="collateral asset name (with --price/--lt)"),
        max_drop: float = typer.Option(0.95, "--max-drop", help="leave out liquidation prices more than this "
                                                                "fraction below the current price"),
        only: Optional[str] = typer.Option(None, "--only", help="comma list of assets to plot (default: the "
                                                                "--top assets by liquidatable debt)"),
        top: int = typer.Option(6, "--top", min=1, max=9, help="how many assets to plot"),
        as_json: bool = typer.Option(False, "--json", help="print the summary as one JSON object"),
    ):
        """Liquidation-price clusters per collateral asset, from a real snapshot or a simulated book.

        Debt and collateral that become liquidatable per price bucket and cumulatively as the
        asset's price falls (docs/data.md).
        """
        from ..report.heatmap import DROPS, cluster_summary, clusters_figure, write_html, write_png
        from ..data.liqprice import liquidation_points
        from ..errors import InputError

        if not (0 < bucket < 1):
            raise InputError(None, "--bucket", "must be a fraction in (0, 1)")
        if not (0 < max_drop <= 1):
            raise InputError(None, "--max-drop", "must be in (0, 1]")
        for f, opt in ((out, "--out"), (png, "--png")):
            if f is None:
                continue
            check_out_path(f.parent, opt)
            if f.is_dir():
                raise InputError(str(f), opt, "is a folder, expected a file name")
        if png is not None and png.suffix.lower() != ".png":
            raise InputError(str(png), "--png", "must end in .png")
        book = book_for(positions, scenario=scenario, price=price, lt=lt, accounts=accounts, block=block,
                        protocol=protocol, asset=asset)
        pts = liquidation_points(book)
        summary = cluster_summary(pts)
        sel = None
        if only is not None:
            names = [x.strip() for x in only.split(",") if x.strip()]
            unknown = [x for x in names if x not in pts.assets]
            if unknown or not names:
                raise InputError(None, "--only", f"unknown asset(s) {', '.join(unknown) or '(none given)'}; "
                                                 f"the book has {', '.join(pts.assets)}")
            if len(names) > 9:
                raise InputError(None, "--only", "at most 9 assets in one figure")
            sel = [pts.assets.index(x) for x in names]
        coll_label = "collateral (CF-weighted)" if book.coll_weighted else "collateral"
        fig = clusters_figure(pts, bucket=bucket, max_drop=max_drop, coll_label=coll_label, assets=sel, top=top,
                              title=f"Liquidation-price clusters — {book.label}")
        html = write_html(fig, out)
        png_method = png_error = None
        if png is not None:
            try:
                png_method = write_png(fig, png, html_path=html)
            except RuntimeError as e:
                png_error = str(e)
        if as_json:
            typer.echo(jsonout.dumps({"source": book.label, "accounts": book.n_accounts, "html": str(html),
                                   "png": str(png) if png_method else None, "png_method": png_method,
                                   "png_error": png_error, "notes": book.notes,
                                   "assets": [{**r, "debt_at": {str(k): v for k, v in r["debt_at"].items()},
                                               "coll_at": {str(k): v for k, v in r["coll_at"].items()}}
                                              for r in summary]}))
        else:
            from rich.table import Table

            t = Table(title=f"liquidation-price clusters — {book.label}: {book.n_accounts:,} accounts")
            for col in ("asset", "price", "accounts", "liquidatable now", *[f"debt at -{d:.0%}" for d in DROPS]):
                t.add_column(col, justify="left" if col == "asset" else "right")
            for r in summary:
                t.add_row(r["asset"], f"{r['price']:,.2f}", f"{r['accounts']:,}",
                          f"{r['liquidatable_now']:,} ({_money(r['debt_now'])})",
                          *[_money(r["debt_at"][d]) for d in DROPS])
            con = console()
            con.print(t)
            if not summary:
                con.print("no risky collateral asset can be liquidated by a price fall")
            con.print("debt at -x%: debt of the accounts that are liquidatable once that asset alone has "
                      "fallen x% (already liquidatable included)")
            for n in book.notes:
                con.print(f"[dim]note: {n}[/dim]")
            con.print(f"wrote {html}")
            if png_method:
                con.print(f"wrote {png} ({png_method})")
        if png_error:
            typer.echo(f"warning: {png}: PNG not written: {png_error}", err=True)

    @app.command()
    @guard
    def report(
        run_dir: Path = typer.Argument(..., help="run folder (summary.json, events.parquet, steps.parquet, "
                                                 "curve.json)"),
        out: Optional[Path] = typer.Option(None, "--out", help="HTML file (default RUN_DIR/report.html)"),
        scenario: Optional[Path] = typer.Option(None, "--scenario", help="the run's scenario: adds the "
                                                                         "liquidation-price clusters and stable flags"),
        title: Optional[str] = typer.Option(None, "--title", help="report title"),
    ):
        """Rebuild the HTML report of a run folder from its files."""
        from ..results.run_dir import read_run_dir
        from ..errors import InputError
        from ..report.html import write_report

        rd = read_run_dir(run_dir)
        out = out or (run_dir / "report.html")
        check_out_path(out.parent, "--out")
        if out.is_dir():
            raise InputError(str(out), "--out", "is a folder, expected a file name")
        compiled = None
        if scenario is not None:
            from ._common import load_compiled

            compiled = load_compiled(scenario)
            if rd.run is not None and list(compiled.assets) != list(rd.run.assets):
                raise InputError(str(scenario), "assets", f"{compiled.assets} differ from the run's {rd.run.assets}")
        path = write_report(out, run=rd.run, curve=rd.curve, compiled=compiled, title=title)
        parts = [x for x, v in (("run", rd.run), ("curve", rd.curve), ("clusters", compiled)) if v is not None]
        typer.echo(f"wrote {path} ({', '.join(parts)})")

    @data_app.command("inspect")
    @guard
    def inspect_(
        files: list[Path] = typer.Argument(..., help="data files to recognise, read and validate"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object per file"),
    ):
        """Recognise each file's format, read it in full (validating it) and summarise it."""
        from ..data.formats import describe

        for f in files:
            d = describe(f)
            if as_json:
                typer.echo(jsonout.dumps({"file": str(f), **d}))
            else:
                typer.echo(f"{f}: {d['what']}: {d['rows']:,} rows; {d['detail']}")

    @data_app.command("series")
    @guard
    def series_(
        file: Path = typer.Argument(..., help="a price series, OHLCV bars, klines or quotes file"),
        out: Path = typer.Option(..., "--out", help="the time,price CSV to write (Unix seconds)"),
    ):
        """Convert a downloaded price file to the time,price CSV that the historical,
        garch and bootstrap price kinds read."""
        from ._common import check_out_path
        from ..data.formats import price_series, write_price_csv
        from ..errors import InputError

        t, v = price_series(file)
        check_out_path(out.parent)
        if not out.parent.is_dir():
            raise InputError(str(out.parent), "--out", "folder does not exist")
        if out.is_dir():
            raise InputError(str(out), "--out", "is a folder, expected a file name")
        write_price_csv(out, t, v)
        typer.echo(f"wrote {out}: {len(t):,} prices from {t[0]:.0f} to {t[-1]:.0f} (Unix seconds)")

    @data_app.command("formats")
    def formats_():
        """List the file formats the loaders read."""
        from ..data.formats import FORMATS

        for k, v in FORMATS.items():
            typer.echo(f"{k:20s} {v}")
