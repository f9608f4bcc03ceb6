"""Read an external liquidation-volume series: file in, arrays out.

A CSV (header row) or Parquet file with a time column, a reference price (``bid`` and ``ask``
columns, whose mid is used, or one ``price`` column) and one or two volume columns (forced
sales, forced buys). Column names come from the ``[flow]`` table (:class:`liqcascade.flow.model.Flow`),
so any file of this shape works — the Risk DAO Binance-futures file of January 2021
(``timestamp_x``, ``ask_price``, ``bid_price``, ``binance-futures_ethusdt_liquidation_long``,
``…_short``) is one.

Every problem raises :class:`~liqcascade.errors.InputError` naming the file, the place
(``line N, column 'c'``, ``row N, column 'c'`` for Parquet, or the ``[flow]`` key) and the reason:
missing file or column, a value that is not a finite number, a price <= 0, a bid above its ask,
a negative volume, times that do not increase, a window with no rows.

Times: numbers are epoch seconds, or milliseconds / microseconds when larger than 1e11 / 1e14;
text is ISO 8601 (naive = UTC). Nothing is dropped silently: rows outside ``start``/``end`` are
counted in :attr:`FlowSeries.notes`.

This module is in the engine layer (like ``prices/loading.py``): the sweep's workers read the
series themselves, and ``data/`` (a surface) is not importable from here.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from liqcascade.errors import InputError

__all__ = ["FlowSeries", "load_flow_series", "parse_time"]


@dataclass(frozen=True, eq=False)
class FlowSeries:
    """One row per interval: ``time_s`` (epoch seconds, increasing), ``mid`` (the reference
    price, > 0), ``sells`` and ``buys`` (volumes in asset units, >= 0, before the multiplier)."""

    time_s: np.ndarray
    mid: np.ndarray
    sells: np.ndarray
    buys: np.ndarray
    source: str
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.time_s.shape[0])

    def dt(self) -> np.ndarray:
        """Seconds each row covers: the gap to the previous row (the first row: the median gap,
        60 s for a one-row series)."""
        n = len(self)
        out = np.empty(n)
        if n > 1:
            d = np.diff(self.time_s)
            out[1:] = d
            out[0] = float(np.median(d))
        elif n == 1:
            out[0] = 60.0
        return out


def parse_time(value, file: str | None, where: str) -> float:
    """Epoch seconds from a number (s, ms or µs by size) or an ISO 8601 text (naive = UTC)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        x = float(value)
    else:
        s = "" if value is None else str(value).strip()
        if not s:
            raise InputError(file, where, "missing time")
        try:
            x = float(s)
        except ValueError:
            try:
                d = datetime.fromisoformat(s)
            except ValueError:
                raise InputError(file, where, f"not a time: {value!r} (expected ISO 8601 or epoch s/ms/µs)") from None
            if d.tzinfo is None:
                d = d.replace(tzinfo=timezone.utc)
            return d.timestamp()
    if not math.isfinite(x) or x < 0:
        raise InputError(file, where, f"not a valid epoch time: {value!r}")
    if x > 1e14:
        return x / 1e6
    if x > 1e11:
        return x / 1e3
    return x


def _read_csv(p: Path, fname: str, wanted: list[str]):
    """``{column: list of text cells}`` and a function naming a row's place."""
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(fname, None, f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = None
    header_line = 1
    cols: dict[str, list[str]] = {}
    idx: list[int] = []
    lines: list[int] = []
    try:
        for rec in reader:
            if header is None:
                if rec and any(f.strip() for f in rec):
                    header = [h.strip() for h in rec]
                    header_line = reader.line_num
                    missing = [c for c in wanted if c not in header]
                    if missing:
                        raise InputError(fname, f"line {header_line}",
                                         f"missing column(s) {', '.join(missing)} (named in [flow]); "
                                         f"found {', '.join(header)}")
                    idx = [header.index(c) for c in wanted]
                    cols = {c: [] for c in wanted}
                continue
            if not rec or (len(rec) == 1 and not rec[0].strip()):
                continue
            if len(rec) != len(header):
                raise InputError(fname, f"line {reader.line_num}",
                                 f"expected {len(header)} fields, found {len(rec)}")
            for c, j in zip(wanted, idx):
                cols[c].append(rec[j])
            lines.append(reader.line_num)
    except csv.Error as e:
        raise InputError(fname, f"line {reader.line_num}", f"malformed CSV: {e}") from None
    if header is None:
        raise InputError(fname, "line 1", "file is empty; expected a header row")
    if not lines:
        raise InputError(fname, f"line {header_line + 1}", "no data rows after the header")
    return cols, (lambda i, c: f"line {lines[i]}, column '{c}'")


def _read_parquet(p: Path, fname: str, wanted: list[str]):
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(p)
    except Exception as e:  # pyarrow raises several types for a file that is not Parquet
        raise InputError(fname, None, f"cannot read as Parquet: {e}") from None
    missing = [c for c in wanted if c not in table.column_names]
    if missing:
        raise InputError(fname, "schema", f"missing column(s) {', '.join(missing)} (named in [flow]); "
                                          f"found {', '.join(table.column_names)}")
    if table.num_rows == 0:
        raise InputError(fname, None, "no data rows")
    cols = {c: table.column(c).to_pylist() for c in wanted}
    return cols, (lambda i, c: f"row {i + 1}, column '{c}'")


def _floats(cells, fname, where, col, *, positive=False, nonneg=False) -> np.ndarray:
    out = np.empty(len(cells))
    for i, v in enumerate(cells):
        if v is None or (isinstance(v, str) and not v.strip()):
            raise InputError(fname, where(i, col), "missing value")
        try:
            x = float(v)
        except (TypeError, ValueError):
            raise InputError(fname, where(i, col), f"not a number: {v!r}") from None
        if not math.isfinite(x):
            raise InputError(fname, where(i, col), f"must be a finite number, got {v!r}")
        if positive and not x > 0:
            raise InputError(fname, where(i, col), f"price must be > 0, got {v!r}")
        if nonneg and x < 0:
            raise InputError(fname, where(i, col), f"volume must be >= 0, got {v!r}")
        out[i] = x
    return out


def load_flow_series(path, *, time: str = "timestamp", bid: str | None = "bid_price", ask: str | None = "ask_price",
                     price: str | None = None, sells: str | None = None, buys: str | None = None,
                     units: str = "base", start: str | None = None, end: str | None = None,
                     name: str | None = None) -> FlowSeries:
    """Read the series at ``path`` with the given column names (see the module docstring).

    ``units = "quote"``: volumes are quote notional and are divided by the row's mid.
    ``start``/``end``: keep rows with ``start <= time <= end``. ``name`` is how the file is named
    in messages (default: ``path`` as given)."""
    p = Path(path)
    fname = name or str(path)
    if not p.exists():
        raise InputError(fname, None, "file not found (the [flow] file)")
    if p.is_dir():
        raise InputError(fname, None, "is a directory, expected a CSV or Parquet file")
    if p.stat().st_size == 0:
        raise InputError(fname, None, "file is empty")
    if price is None and (bid is None or ask is None):
        raise InputError(fname, "flow", "needs a price column or both bid and ask columns")
    wanted = [time] + ([price] if price is not None else [bid, ask])
    wanted += [c for c in (sells, buys) if c is not None]
    wanted = list(dict.fromkeys(wanted))
    if p.suffix.lower() in (".parquet", ".pq"):
        cols, where = _read_parquet(p, fname, wanted)
    else:
        cols, where = _read_csv(p, fname, wanted)
    t = np.array([parse_time(v, fname, where(i, time)) for i, v in enumerate(cols[time])], dtype=np.float64)
    if price is not None:
        mid = _floats(cols[price], fname, where, price, positive=True)
    else:
        b = _floats(cols[bid], fname, where, bid, positive=True)
        a = _floats(cols[ask], fname, where, ask, positive=True)
        bad = np.flatnonzero(b > a)
        if bad.size:
            i = int(bad[0])
            raise InputError(fname, where(i, bid), f"bid {float(b[i])!r} is above ask {float(a[i])!r}")
        mid = 0.5 * (a + b)
    n = t.shape[0]
    s = _floats(cols[sells], fname, where, sells, nonneg=True) if sells is not None else np.zeros(n)
    u = _floats(cols[buys], fname, where, buys, nonneg=True) if buys is not None else np.zeros(n)
    d = np.diff(t)
    back = np.flatnonzero(d <= 0)
    if back.size:
        i = int(back[0]) + 1
        raise InputError(fname, where(i, time), "times must increase "
                         f"({'repeated' if d[i - 1] == 0 else 'goes back'} after the previous row)")
    if units == "quote":
        s = s / mid
        u = u / mid
    elif units != "base":
        raise InputError(fname, "flow.units", f"must be 'base' or 'quote', got {units!r}")
    notes = []
    lo = parse_time(start, fname, "flow.start") if start is not None else -math.inf
    hi = parse_time(end, fname, "flow.end") if end is not None else math.inf
    if lo > hi:
        raise InputError(fname, "flow.start", "start is after end")
    keep = (t >= lo) & (t <= hi)
    if not keep.all():
        k = int(keep.sum())
        if k == 0:
            raise InputError(fname, "flow.start", "no rows between start and end "
                             f"(the file covers {_iso(t[0])} .. {_iso(t[-1])})")
        notes.append(f"flow window {_iso(t[keep][0])} .. {_iso(t[keep][-1])}: {k:,} of {n:,} rows "
                     f"({n - k:,} outside start/end not used)")
        t, mid, s, u = t[keep], mid[keep], s[keep], u[keep]
    if t.shape[0] > 1:
        d = np.diff(t)
        med = float(np.median(d))
        big = d > 2.5 * med
        if big.any():
            j = int(np.argmax(d))
            notes.append(f"flow series: {int(big.sum())} gap(s) longer than 2.5× the median step ({med:.0f} s); "
                         f"the longest is {d[j]:.0f} s before {_iso(t[j + 1])} (each row's own gap is its step)")
    return FlowSeries(t, mid, s, u, fname, notes)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(float(t), tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
