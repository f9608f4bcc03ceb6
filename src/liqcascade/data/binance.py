"""Binance public-data files: kline (candlestick) archives and futures book-depth snapshots.

Klines (``data.binance.vision``: ``<SYMBOL>-<interval>-<date>.zip`` holding one CSV)
    Columns ``open_time,open,high,low,close,volume,close_time,quote_volume,count,
    taker_buy_volume,taker_buy_quote_volume,ignore``; files from before 2022 have no header (the
    same 12 columns are assumed when the first line is numeric). ``open_time`` is in ms (µs in
    spot files from 2025 on; both are recognised). Index- and mark-price klines have
    ``volume`` 0. :func:`load_binance_klines` reads a ``.zip`` (the single ``.csv`` inside, with
    :mod:`zipfile`) or a bare ``.csv``.

Book depth (``<SYMBOL>-bookDepth-<date>.csv``, USDⓈ-M futures)
    ``timestamp,percentage,depth,notional,weighted_avg_price``: at every snapshot time, one row
    per band ``percentage`` ∈ {−5 … −1, 1 … 5} (bids negative, asks positive) with the
    *cumulative* base-asset ``depth`` and quote ``notional`` resting between the mid and that
    band. Rows of one snapshot share a ``timestamp`` (``YYYY-MM-DD HH:MM:SS`` UTC; surrounding
    spaces are ignored — the 2025-10-10 file has one snapshot split by a stray leading space).
    Cumulative notional must not fall from one band to the next on the same side.

    Known defect of the 2025-10-10 file (see ``../shared/data/README.md``): the bid side looks
    frozen after about 15:00 UTC — use :meth:`BookDepth.side` with ``"ask"``.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ._util import check_file, float_column, parse_time, read_csv_text
from .bars import Bars, check_ohlc

__all__ = ["KLINE_COLUMNS", "DEPTH_COLUMNS", "load_binance_klines", "BookDepth", "load_book_depth"]

KLINE_COLUMNS = ("open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume",
                 "count", "taker_buy_volume", "taker_buy_quote_volume", "ignore")
DEPTH_COLUMNS = ("timestamp", "percentage", "depth", "notional", "weighted_avg_price")


def _kline_text(path) -> tuple[str, str]:
    p, fname = check_file(path)
    if p.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(p) as z:
                members = [m for m in z.namelist() if m.lower().endswith(".csv") and not m.endswith("/")]
                if len(members) != 1:
                    raise InputError(fname, None, f"expected one .csv inside the zip, found {len(members)}"
                                     + (f" ({', '.join(members)})" if members else ""))
                raw = z.read(members[0])
                inner = f"{fname}:{members[0]}"
        except zipfile.BadZipFile as e:
            raise InputError(fname, None, f"not a readable zip file: {e}") from None
    else:
        raw = p.read_bytes()
        inner = fname
    try:
        return raw.decode("utf-8-sig"), inner
    except UnicodeDecodeError as e:
        raise InputError(inner, None, f"not UTF-8 text ({e.reason} at byte {e.start})") from None


def load_binance_klines(path) -> Bars:
    """Read a Binance kline ``.zip`` or ``.csv`` into :class:`~liqcascade.data.bars.Bars`."""
    text, fname = _kline_text(path)
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    if not first:
        raise InputError(fname, "line 1", "no klines (empty file)")
    headerless = False
    try:
        float(first.split(",")[0])
        headerless = True
    except ValueError:
        pass
    if headerless:
        text = ",".join(KLINE_COLUMNS) + "\n" + text
    t = read_csv_text(text, fname, what="Binance kline", required=KLINE_COLUMNS[:6])
    if headerless:  # line numbers in messages refer to the file as it is
        t.lines = [n - 1 for n in t.lines]
    time_s = np.array([parse_time(fname, t.where(i, "open_time"), v) for i, v in enumerate(t.column("open_time"))])
    o, h, l, c = (float_column(t, k) for k in ("open", "high", "low", "close"))
    vol = float_column(t, "volume", min_value=0.0)
    check_ohlc(fname, o, h, l, c, lambda i, f: t.where(i, f))
    d = np.diff(time_s)
    bad = np.flatnonzero(d <= 0)
    if bad.size:
        raise InputError(fname, t.where(int(bad[0]) + 1, "open_time"), "open_time must increase")
    return Bars(time_s, o, h, l, c, vol, fname)


@dataclass(frozen=True, eq=False)
class BookDepth:
    """Cumulative depth per snapshot and band.

    ``levels``: the bands in percent, sorted (``-5 … -1, 1 … 5``); ``depth[t, j]`` (base units) and
    ``notional[t, j]`` (quote) are cumulative from the mid to band ``levels[j]`` at snapshot
    ``time_s[t]``; NaN where the snapshot lacks that band.
    """

    time_s: np.ndarray
    levels: tuple[float, ...]
    depth: np.ndarray
    notional: np.ndarray
    source: str | None = None

    def __len__(self) -> int:
        return int(self.time_s.shape[0])

    def side(self, side: str = "ask") -> tuple[np.ndarray, np.ndarray]:
        """``(fractions, notional[T, K])`` of one side, bands ordered away from the mid
        (fractions ``0.01 … 0.05`` for both sides)."""
        lv = np.asarray(self.levels)
        if side == "ask":
            idx = np.flatnonzero(lv > 0)
        elif side == "bid":
            idx = np.flatnonzero(lv < 0)[::-1]
        else:
            raise ValueError(f"side must be 'ask' or 'bid', got {side!r}")
        return np.abs(lv[idx]) / 100.0, self.notional[:, idx]

    def mid_estimate(self) -> np.ndarray:
        """A mid-price proxy per snapshot: mean of the ±1 % bands' ``notional / depth``
        (volume-weighted prices within 1 % of the mid, so within ~0.5 % of it)."""
        lv = list(self.levels)
        if 1.0 not in lv or -1.0 not in lv:
            raise ValueError("needs the ±1 % bands")
        a, b = lv.index(1.0), lv.index(-1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return 0.5 * (self.notional[:, a] / self.depth[:, a] + self.notional[:, b] / self.depth[:, b])


def load_book_depth(path) -> BookDepth:
    """Read a Binance futures ``bookDepth`` CSV (see the module docstring)."""
    p, fname = check_file(path)
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(fname, None, f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    t = read_csv_text(text, fname, what="Binance bookDepth", required=DEPTH_COLUMNS[:4])
    n = len(t)
    ts = np.empty(n)
    stamps: dict[str, float] = {}
    for i, s in enumerate(t.column("timestamp")):
        key = s.strip()
        v = stamps.get(key)
        if v is None:
            v = stamps[key] = parse_time(fname, t.where(i, "timestamp"), key)
        ts[i] = v
    pct = float_column(t, "percentage")
    bad = np.flatnonzero((pct == 0) | (np.abs(pct) > 100))
    if bad.size:
        raise InputError(fname, t.where(int(bad[0]), "percentage"),
                         f"band must be a non-zero percentage in [-100, 100], got {pct[bad[0]]!r}")
    dep = float_column(t, "depth", min_value=0.0)
    notl = float_column(t, "notional", min_value=0.0)
    d = np.diff(ts)
    back = np.flatnonzero(d < 0)
    if back.size:
        raise InputError(fname, t.where(int(back[0]) + 1, "timestamp"), "timestamps must not go back")
    times, inv = np.unique(ts, return_inverse=True)
    levels = np.unique(pct)
    li = np.searchsorted(levels, pct)
    T, L = times.size, levels.size
    D = np.full((T, L), math.nan)
    Q = np.full((T, L), math.nan)
    seen = np.full((T, L), -1, dtype=np.int64)
    for i in range(n):
        a, b = inv[i], li[i]
        if seen[a, b] >= 0:
            raise InputError(fname, t.where(i), f"band {pct[i]:g} repeated in the snapshot of "
                             f"{t.rows[i][t.index('timestamp')].strip()} (first at {t.where(int(seen[a, b]))})")
        seen[a, b] = i
        D[a, b] = dep[i]
        Q[a, b] = notl[i]
    # cumulative: non-decreasing away from the mid on each side
    for sgn in (1.0, -1.0):
        idx = np.flatnonzero(np.sign(levels) == sgn)
        idx = idx[np.argsort(np.abs(levels[idx]))]
        if idx.size < 2:
            continue
        q = Q[:, idx]
        with np.errstate(invalid="ignore"):
            drop = np.diff(q, axis=1) < -1e-9 * np.nan_to_num(q[:, 1:], nan=0.0)
        rows, cols = np.nonzero(drop)
        if rows.size:
            a, j = int(rows[0]), int(cols[0]) + 1
            i = int(seen[a, idx[j]])
            raise InputError(fname, t.where(i, "notional"),
                             f"cumulative notional falls from band {levels[idx[j - 1]]:g} to {levels[idx[j]]:g}")
    return BookDepth(times, tuple(float(x) for x in levels), D, Q, fname)
