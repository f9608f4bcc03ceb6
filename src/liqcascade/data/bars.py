"""OHLCV price bars: the :class:`Bars` container and the CoinAPI JSON reader.

CoinAPI OHLCV JSON (the format of ``stablesims/eth/*.json``): a JSON array of objects with
``time_period_start`` (ISO 8601), ``price_open``, ``price_high``, ``price_low``,
``price_close`` and, optionally, ``volume_traded`` and ``trades_count``; other keys
(``time_period_end``, ``time_open``, ``time_close``) are ignored. Bars must be in time order; a record that repeats the previous one exactly (same start and
prices — ``09-05-2020.json`` opens with three copies of its 00:20 bar) is dropped and counted in
:attr:`Bars.duplicates_dropped`; a repeated start with different prices is an error.

Binance kline files are read by :func:`liqcascade.data.binance.load_binance_klines` into the
same :class:`Bars`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ._util import check_increasing, parse_float, parse_time, read_json

__all__ = ["Bars", "load_ohlcv_json"]

_REQUIRED = ("time_period_start", "price_open", "price_high", "price_low", "price_close")


@dataclass(frozen=True, eq=False)
class Bars:
    """Price bars in time order. ``time_s``: bar start, seconds since the epoch (UTC)."""

    time_s: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray  # base-asset volume (0 for index/mark klines)
    source: str | None = None
    duplicates_dropped: int = 0  # exact repeats of the previous bar that the reader dropped

    def __len__(self) -> int:
        return int(self.time_s.shape[0])

    @property
    def dt_seconds(self) -> float:
        """The median spacing of bar starts (NaN with fewer than two bars)."""
        return float(np.median(np.diff(self.time_s))) if len(self) > 1 else float("nan")

    def log_returns(self) -> np.ndarray:
        """Close-to-close log returns (length ``n - 1``)."""
        return np.diff(np.log(self.close))

    def slice_time(self, start_s: float | None = None, stop_s: float | None = None) -> "Bars":
        """Bars with ``start_s <= time_s < stop_s``."""
        m = np.ones(len(self), dtype=bool)
        if start_s is not None:
            m &= self.time_s >= start_s
        if stop_s is not None:
            m &= self.time_s < stop_s
        return Bars(self.time_s[m], self.open[m], self.high[m], self.low[m], self.close[m],
                    self.volume[m], self.source)

    @staticmethod
    def concat(parts: "list[Bars]") -> "Bars":
        """Join bars from several files (in the given order); times must keep increasing."""
        if not parts:
            raise ValueError("nothing to concatenate")
        cat = lambda name: np.concatenate([getattr(p, name) for p in parts])  # noqa: E731
        out = Bars(cat("time_s"), cat("open"), cat("high"), cat("low"), cat("close"), cat("volume"),
                   ",".join(str(p.source) for p in parts))
        d = np.diff(out.time_s)
        if d.size and not (d > 0).all():
            raise InputError(out.source, None, "files overlap or are out of order: times must increase")
        return out


def check_ohlc(fname: str, o, h, l, c, where_of) -> None:
    """Prices > 0 and ``low <= open, close <= high`` (a tolerance of 1e-9 relative)."""
    for name, arr in (("open", o), ("high", h), ("low", l), ("close", c)):
        bad = np.flatnonzero(~(arr > 0))
        if bad.size:
            i = int(bad[0])
            raise InputError(fname, where_of(i, name), f"price must be > 0, got {arr[i]!r}")
    tol = 1e-9 * np.maximum(np.abs(h), 1.0)
    bad = np.flatnonzero((l > np.minimum(o, c) + tol) | (h < np.maximum(o, c) - tol) | (l > h + tol))
    if bad.size:
        i = int(bad[0])
        raise InputError(fname, where_of(i, None),
                         f"inconsistent bar: low {l[i]!r} / high {h[i]!r} do not bracket open {o[i]!r} "
                         f"and close {c[i]!r}")


def load_ohlcv_json(path) -> Bars:
    """Read CoinAPI-style OHLCV bars (see the module docstring)."""
    data, fname = read_json(path)
    if not isinstance(data, list):
        raise InputError(fname, None, f"expected a JSON array of bar objects, found {type(data).__name__}")
    if not data:
        raise InputError(fname, None, "no bars (empty array)")
    n = len(data)
    t = np.empty(n)
    cols = {k: np.empty(n) for k in ("price_open", "price_high", "price_low", "price_close", "volume_traded")}
    for i, rec in enumerate(data):
        if not isinstance(rec, dict):
            raise InputError(fname, f"record {i}", f"expected an object, found {type(rec).__name__}")
        missing = [k for k in _REQUIRED if k not in rec]
        if missing:
            raise InputError(fname, f"record {i}", f"missing field(s) {','.join(missing)}")
        t[i] = parse_time(fname, f"record {i}, field 'time_period_start'", rec["time_period_start"])
        for k in cols:
            if k == "volume_traded" and k not in rec:
                cols[k][i] = 0.0
                continue
            cols[k][i] = parse_float(fname, f"record {i}, field '{k}'", rec[k], min_value=0.0)

    def where(i, field):
        return f"record {i}" + (f", field 'price_{field}'" if field else "")

    check_ohlc(fname, cols["price_open"], cols["price_high"], cols["price_low"], cols["price_close"], where)
    arrs = [cols[k] for k in ("price_open", "price_high", "price_low", "price_close", "volume_traded")]
    same = np.zeros(n, dtype=bool)
    if n > 1:
        same[1:] = (t[1:] == t[:-1])
        for a in arrs:
            same[1:] &= a[1:] == a[:-1]
    keep = ~same
    idx = np.flatnonzero(keep)
    check_increasing(fname, t[keep], lambda j: f"record {int(idx[j])}, field 'time_period_start'")
    return Bars(t[keep], *(a[keep] for a in arrs), source=fname, duplicates_dropped=int(same.sum()))
