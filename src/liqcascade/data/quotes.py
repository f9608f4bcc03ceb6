"""Best bid/ask quotes with liquidation volumes (the format of ``riskdao_jan2021/*.csv``).

Header: a time column (``timestamp_x`` or ``timestamp``; epoch seconds, ms or µs — Risk DAO's
``timestamp_x`` is µs with a fractional part — or ISO 8601), ``ask_price``, ``bid_price``, and
optionally one column ending in ``liquidation_long`` and one ending in ``liquidation_short``
(e.g. ``binance-futures_ethusdt_liquidation_long``): the volume of long / short positions
force-closed in the interval, in the units of the file (base asset for Binance futures).
Other columns are ignored. Prices must be > 0 with ``bid <= ask``; volumes >= 0; times
increase.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ._util import float_column, read_csv, time_column

__all__ = ["Quotes", "load_quotes_csv"]


@dataclass(frozen=True, eq=False)
class Quotes:
    time_s: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    liq_long: np.ndarray  # zeros when the file has no such column
    liq_short: np.ndarray
    source: str | None = None

    def __len__(self) -> int:
        return int(self.time_s.shape[0])

    @property
    def mid(self) -> np.ndarray:
        return 0.5 * (self.bid + self.ask)

    @property
    def spread(self) -> np.ndarray:
        """Relative spread ``(ask - bid) / mid``."""
        return (self.ask - self.bid) / self.mid


def load_quotes_csv(path) -> Quotes:
    """Read quotes with liquidation volumes (see the module docstring)."""
    t = read_csv(path, what="bid/ask quotes", required=None)
    fname = t.fname
    tcol = next((c for c in ("timestamp_x", "timestamp", "time") if t.has(c)), None)
    missing = [c for c in ("ask_price", "bid_price") if not t.has(c)]
    if tcol is None or missing:
        raise InputError(fname, f"line {t.header_line}",
                         "not a quotes file: expected columns timestamp_x (or timestamp), ask_price, bid_price; "
                         f"found {','.join(t.header)}")
    time_s = time_column(t, tcol)
    ask = float_column(t, "ask_price", positive=True)
    bid = float_column(t, "bid_price", positive=True)
    bad = np.flatnonzero(bid > ask)
    if bad.size:
        i = int(bad[0])
        raise InputError(fname, t.where(i, "bid_price"), f"bid {bid[i]!r} is above ask {ask[i]!r}")
    d = np.diff(time_s)
    back = np.flatnonzero(d <= 0)
    if back.size:
        raise InputError(fname, t.where(int(back[0]) + 1, tcol), "times must increase")
    vols = {}
    for side in ("long", "short"):
        cols = [c for c in t.norm if c.endswith(f"liquidation_{side}")]
        if len(cols) > 1:
            raise InputError(fname, f"line {t.header_line}", f"several liquidation_{side} columns: {', '.join(cols)}")
        vols[side] = float_column(t, cols[0], min_value=0.0) if cols else np.zeros(len(t))
    return Quotes(time_s, bid, ask, vols["long"], vols["short"], fname)
