"""Price time series in CSV: CoinGecko exports and on-chain oracle series.

Header ``symbol,timestamp,USD_price`` (the files under ``hourly_prices_2021_2024/``); the
``symbol`` column is optional and, when present, must hold one symbol. The price column may be
named ``USD_price``, ``price``, ``close`` or ``value``. ``timestamp`` is epoch seconds (the
Compound v3 oracle files) or milliseconds (the CoinGecko files) — told apart by magnitude —
or ISO 8601. Rows with an empty price (an oracle before its feed existed) are dropped and
counted; any other non-numeric, NaN, infinite, zero or negative price is an error, and
timestamps must increase.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ._util import parse_float, parse_time, read_csv

__all__ = ["PriceSeries", "load_price_csv", "PRICE_COLUMNS"]

PRICE_COLUMNS = ("USD_price", "price", "close", "value")


@dataclass(frozen=True, eq=False)
class PriceSeries:
    """One asset's price over time (``time_s``: seconds since the epoch, UTC)."""

    symbol: str
    time_s: np.ndarray
    price: np.ndarray
    missing_dropped: int = 0
    source: str | None = None

    def __len__(self) -> int:
        return int(self.time_s.shape[0])

    def at(self, t) -> np.ndarray:
        """Linear interpolation at times ``t`` (NaN outside the series' span)."""
        t = np.asarray(t, dtype=np.float64)
        out = np.interp(t, self.time_s, self.price)
        return np.where((t < self.time_s[0]) | (t > self.time_s[-1]), np.nan, out)

    def log_at(self, t) -> np.ndarray:
        """Interpolation of the log price (NaN outside the span)."""
        t = np.asarray(t, dtype=np.float64)
        out = np.interp(t, self.time_s, np.log(self.price))
        return np.where((t < self.time_s[0]) | (t > self.time_s[-1]), np.nan, out)

    def slice_time(self, start_s=None, stop_s=None) -> "PriceSeries":
        m = np.ones(len(self), dtype=bool)
        if start_s is not None:
            m &= self.time_s >= start_s
        if stop_s is not None:
            m &= self.time_s < stop_s
        return PriceSeries(self.symbol, self.time_s[m], self.price[m], self.missing_dropped, self.source)


def load_price_csv(path, symbol: str | None = None) -> PriceSeries:
    """Read a price series (see the module docstring). ``symbol`` names it when the file has
    no ``symbol`` column (default: the file name's stem up to the first ``_``)."""
    t = read_csv(path, what="price series", required=("timestamp",))
    fname = t.fname
    pcol = next((c for c in PRICE_COLUMNS if t.has(c)), None)
    if pcol is None:
        raise InputError(fname, f"line {t.header_line}",
                         f"no price column: expected one of {', '.join(PRICE_COLUMNS)}; found {','.join(t.header)}")
    jt, jp = t.index("timestamp"), t.index(pcol)
    js = t.index("symbol") if t.has("symbol") else None
    times, prices = [], []
    sym = None
    dropped = 0
    for i, r in enumerate(t.rows):
        if js is not None:
            s = r[js].strip()
            if sym is None:
                sym = s
            elif s != sym:
                raise InputError(fname, t.where(i, "symbol"), f"mixes symbols: {sym!r} and {s!r} (one asset per file)")
        if not r[jp].strip():
            dropped += 1
            continue
        times.append(parse_time(fname, t.where(i, "timestamp"), r[jt]))
        prices.append(parse_float(fname, t.where(i, pcol), r[jp], positive=True))
        if len(times) > 1 and times[-1] <= times[-2]:
            raise InputError(fname, t.where(i, "timestamp"), "timestamps must increase")
    if not times:
        raise InputError(fname, None, f"no rows with a price (all {dropped} empty)")
    if symbol is None:
        from pathlib import Path

        symbol = sym or Path(fname).stem.split("_")[0]
    return PriceSeries(str(symbol), np.array(times), np.array(prices), dropped, fname)
