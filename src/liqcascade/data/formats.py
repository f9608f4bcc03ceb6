"""Recognise a data file's format from its content and read it with the matching loader.

:func:`sniff` looks at a file's header (CSV, zip) or first record (JSON) and returns one of
:data:`FORMATS`; :func:`load` reads the file with the loader for that format; :func:`describe`
returns a short summary (rows, time span, fields) for ``liqcascade data inspect``.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import datetime, timezone

import numpy as np

from ..errors import InputError
from ._util import check_file

__all__ = ["FORMATS", "sniff", "load", "describe"]

FORMATS = {
    "ohlcv_json": "OHLCV bars, CoinAPI JSON (data.bars.load_ohlcv_json)",
    "gas_json": "gas-price percentiles JSON (data.gas.load_gas_json)",
    "reserves_json": "pool reserve snapshots JSON (data.uniswap.load_uniswap_reserves)",
    "binance_klines": "Binance klines zip/CSV (data.binance.load_binance_klines)",
    "book_depth": "Binance futures bookDepth CSV (data.binance.load_book_depth)",
    "compound_accounts": "Compound v2 accounts CSV (data.compound.load_compound_v2)",
    "compound_positions": "Compound v2 per-cToken positions CSV (data.compound.load_compound_v2)",
    "aave_details": "Aave v2 user details CSV (data.aave.load_aave_details)",
    "quotes": "bid/ask quotes with liquidation volumes CSV (data.quotes.load_quotes_csv)",
    "prices": "price series CSV (data.prices.load_price_csv)",
    "positions": "liqcascade position file (positions.io.load_positions)",
}


def _csv_header(text: str) -> list[str]:
    for rec in csv.reader(io.StringIO(text)):
        if rec and any(f.strip() for f in rec):
            return [f.strip() for f in rec]
    return []


def sniff(path) -> str:
    """The format of ``path`` (a key of :data:`FORMATS`); :class:`InputError` if unknown."""
    p, fname = check_file(path)
    ext = p.suffix.lower()
    if ext in (".parquet", ".pq"):
        return "positions"
    if ext == ".zip":
        try:
            with zipfile.ZipFile(p) as z:
                names = [n for n in z.namelist() if n.lower().endswith(".csv")]
        except zipfile.BadZipFile as e:
            raise InputError(fname, None, f"not a readable zip file: {e}") from None
        if len(names) == 1:
            return "binance_klines"
        raise InputError(fname, None, "unknown zip layout: expected one .csv inside (a Binance kline archive)")
    try:
        head = p.open("rb").read(65536).decode("utf-8-sig", errors="replace")
    except OSError as e:  # pragma: no cover
        raise InputError(fname, None, f"cannot read: {e}") from None
    if head.lstrip().startswith(("[", "{")):
        try:
            data = json.loads(p.read_text(encoding="utf-8-sig"))
        except json.JSONDecodeError as e:
            raise InputError(fname, f"line {e.lineno}, column {e.colno}", f"invalid JSON: {e.msg}") from None
        if isinstance(data, dict) and isinstance(data.get("data"), list):
            return "gas_json"
        if isinstance(data, list) and data and isinstance(data[0], dict):
            keys = set(data[0])
            if "time_period_start" in keys:
                return "ohlcv_json"
            if any(k.endswith("Perc") for k in keys):
                return "gas_json"
            if len(keys - {"timestamp"}) == 2:
                return "reserves_json"
        raise InputError(fname, None, "unknown JSON layout (expected OHLCV bars, gas percentiles or pool reserves)")
    h = _csv_header(head)
    hs = set(h)
    if {"timestamp", "percentage", "depth", "notional"} <= hs:
        return "book_depth"
    if {"open_time", "open", "high", "low", "close"} <= hs:
        return "binance_klines"
    if h and _numeric(h[0]) and len(h) == 12:
        return "binance_klines"  # headerless Binance file
    if {"account", "totalBorrowValueInEth", "totalCollateralValueInEth"} <= hs:
        return "compound_accounts"
    if {"account", "symbol", "cTokenBalance", "storedBorrowBalance"} <= hs:
        return "compound_positions"
    if {"block", "user", "totalCollateral", "totalDebt", "healthFactor"} <= hs:
        return "aave_details"
    if {"ask_price", "bid_price"} <= hs:
        return "quotes"
    low = {x.lower() for x in h}
    if {"id", "collateral", "debt"} <= low:
        return "positions"
    if "timestamp" in hs and hs & {"USD_price", "price", "close", "value"}:
        return "prices"
    raise InputError(fname, "line 1", f"unknown CSV layout (header {','.join(h) or '(empty)'}); "
                                      f"see `liqcascade data formats`")


def _numeric(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def load(path, fmt: str | None = None):
    """Read ``path`` with the loader of its format (sniffed when ``fmt`` is None)."""
    fmt = fmt or sniff(path)
    if fmt == "ohlcv_json":
        from .bars import load_ohlcv_json
        return load_ohlcv_json(path)
    if fmt == "gas_json":
        from .gas import load_gas_json
        return load_gas_json(path)
    if fmt == "reserves_json":
        from .uniswap import load_uniswap_reserves
        return load_uniswap_reserves(path)
    if fmt == "binance_klines":
        from .binance import load_binance_klines
        return load_binance_klines(path)
    if fmt == "book_depth":
        from .binance import load_book_depth
        return load_book_depth(path)
    if fmt == "compound_accounts":
        from .compound import load_compound_v2
        return load_compound_v2(accounts=path)
    if fmt == "compound_positions":
        from .compound import load_compound_v2
        return load_compound_v2(positions=path)
    if fmt == "aave_details":
        from .aave import load_aave_details
        return load_aave_details(path)
    if fmt == "quotes":
        from .quotes import load_quotes_csv
        return load_quotes_csv(path)
    if fmt == "prices":
        from .prices import load_price_csv
        return load_price_csv(path)
    if fmt == "positions":
        from ..positions.io import load_positions
        return load_positions(path)
    raise ValueError(f"unknown format {fmt!r}")


def _span(t) -> str:
    t = np.asarray(t, dtype=np.float64)
    t = t[np.isfinite(t)]
    if t.size == 0:
        return "no times"
    f = lambda x: datetime.fromtimestamp(float(x), timezone.utc).strftime("%Y-%m-%d %H:%M:%S")  # noqa: E731
    step = f", median step {np.median(np.diff(t)):g} s" if t.size > 1 else ""
    return f"{f(t[0])} .. {f(t[-1])} UTC{step}"


def describe(path) -> dict:
    """``{"format", "what", "rows", "detail"}`` for a data file (read and validated in full)."""
    fmt = sniff(path)
    obj = load(path, fmt)
    d = {"format": fmt, "what": FORMATS[fmt]}
    if fmt in ("ohlcv_json", "binance_klines"):
        d["rows"] = len(obj)
        d["detail"] = (f"{_span(obj.time_s)}; close {obj.close[0]:,.6g} -> {obj.close[-1]:,.6g}, "
                       f"low {obj.low.min():,.6g}" + (f"; {obj.duplicates_dropped} repeated bar(s) dropped"
                                                      if obj.duplicates_dropped else ""))
    elif fmt == "gas_json":
        d["rows"] = len(obj)
        d["detail"] = f"{_span(obj.time_s)}; percentiles {obj.percentiles}; max {np.nanmax(obj.values_wei) / 1e9:,.1f} gwei"
    elif fmt == "reserves_json":
        d["rows"] = len(obj)
        d["detail"] = (f"{obj.asset}/{obj.quote}; spot {obj.spot[0]:,.6g} -> {obj.spot[-1]:,.6g}; "
                       f"median reserves {np.median(obj.reserve_asset):,.0f} {obj.asset} / "
                       f"{np.median(obj.reserve_quote):,.0f} {obj.quote}")
    elif fmt == "book_depth":
        d["rows"] = len(obj)
        k, q = obj.side("ask")
        d["detail"] = f"{_span(obj.time_s)}; bands {obj.levels}; median +1 % ask notional {np.nanmedian(q[:, 0]):,.0f}"
    elif fmt.startswith("compound"):
        d["rows"] = obj.n_positions if fmt == "compound_positions" else obj.n_accounts
        d["detail"] = f"{obj.n_accounts} accounts, {obj.n_positions} positions, cTokens {', '.join(obj.symbols)}"
    elif fmt == "aave_details":
        d["rows"] = len(obj)
        d["detail"] = (f"user {obj.user}; blocks {obj.block[0]}..{obj.block[-1]}; {_span(obj.time_s)}; "
                       f"assets {', '.join(obj.assets)} (decimals {', '.join(map(str, obj.decimals))}); "
                       f"min HF {obj.health_factor.min():.2f}")
    elif fmt == "quotes":
        d["rows"] = len(obj)
        d["detail"] = (f"{_span(obj.time_s)}; mid {obj.mid[0]:,.6g} -> {obj.mid[-1]:,.6g}; liquidations long "
                       f"{obj.liq_long.sum():,.6g}, short {obj.liq_short.sum():,.6g}")
    elif fmt == "prices":
        d["rows"] = len(obj)
        d["detail"] = (f"{obj.symbol}: {_span(obj.time_s)}; price {obj.price[0]:,.6g} -> {obj.price[-1]:,.6g}"
                       + (f"; {obj.missing_dropped} empty price(s) dropped" if obj.missing_dropped else ""))
    elif fmt == "positions":
        d["rows"] = obj.n
        d["detail"] = f"{'wide' if obj.wide else 'long'} layout, assets {', '.join(obj.assets)}"
    return d


def price_series(path) -> tuple[np.ndarray, np.ndarray]:
    """``(time_s, price)`` of any format that holds one price over time: price-series CSVs
    (``price``), OHLCV bars and klines (``close``), bid/ask quotes (``mid``)."""
    p, fname = check_file(path)
    fmt = sniff(p)
    obj = load(p, fmt)
    t = getattr(obj, "time_s", None)
    v = next((getattr(obj, a) for a in ("price", "close", "mid") if getattr(obj, a, None) is not None), None)
    if t is None or v is None:
        raise InputError(fname, None, f"a {fmt} file holds no price series (expected a price series CSV, OHLCV "
                                      "bars, klines or quotes; see `liqcascade data formats`)")
    t = np.asarray(t, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(v))):
        raise InputError(fname, None, "times and prices must be finite")
    if np.any(v <= 0):
        raise InputError(fname, None, f"prices must be > 0 (row {int(np.argmax(v <= 0)) + 1} is {v[v <= 0][0]!r})")
    if np.any(np.diff(t) <= 0):
        raise InputError(fname, None, "times must be strictly increasing")
    return t, v


def write_price_csv(path, t, v) -> None:
    """Write ``time,price`` (Unix seconds, full precision) atomically, so a failure leaves
    nothing half-written."""
    from ..atomic import write_text_atomic

    rows = "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(np.asarray(t, dtype=float), np.asarray(v, dtype=float)))
    write_text_atomic(path, "time,price\n" + rows, mkdir=False)
