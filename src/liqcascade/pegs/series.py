"""A peg's recorded market/fundamental ratio on the simulation grid."""

from __future__ import annotations

import csv
import math
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..errors import InputError
from .model import Peg


def _time(text: str) -> float:
    t = text.strip()
    try:
        return float(t)
    except ValueError:
        pass
    d = datetime.fromisoformat(t.replace("Z", "+00:00"))
    if d.tzinfo is None:
        d = d.replace(tzinfo=timezone.utc)
    return d.timestamp()


def read_prices(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(unix_seconds, price)`` from a ``time,price`` CSV, a CoinGecko export
    (``symbol,timestamp,USD_price`` with ms timestamps) or a bar file (``open_time,…,close,…``).
    Rows are sorted by time; duplicate times keep the last row."""
    fname = str(path)
    if not path.exists():
        raise InputError(fname, None, "file not found (the shared data folder is ../shared/data "
                                      "next to the repository; see docs/depeg.md)")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        raise InputError(fname, "line 1", "empty file")
    head = [c.strip().lower() for c in rows[0]]
    if head == ["time", "price"]:
        ti, pi, scale = 0, 1, 1.0
    elif "timestamp" in head and "usd_price" in head:
        ti, pi, scale = head.index("timestamp"), head.index("usd_price"), 1e-3
    elif "open_time" in head and "close" in head:
        ti, pi, scale = head.index("open_time"), head.index("close"), 1.0
    else:
        raise InputError(fname, "line 1", "expected a header 'time,price', 'symbol,timestamp,USD_price' or "
                                          f"'open_time,open,high,low,close,volume', got {','.join(rows[0])!r}")
    ts, ps = [], []
    for n, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        try:
            t = _time(row[ti]) * scale
            p = float(row[pi])
        except (ValueError, IndexError):
            raise InputError(fname, f"line {n}", f"cannot read time and price from {','.join(row)!r}") from None
        if not (math.isfinite(t) and math.isfinite(p) and p > 0):
            raise InputError(fname, f"line {n}", "time must be finite and price finite and > 0")
        ts.append(t)
        ps.append(p)
    if not ts:
        raise InputError(fname, "line 2", "no data rows")
    t = np.asarray(ts)
    p = np.asarray(ps)
    order = np.argsort(t, kind="stable")
    t, p = t[order], p[order]
    keep = np.append(t[1:] != t[:-1], True)
    return t[keep], p[keep]


def ratio_on_grid(peg: Peg, base_dir: Path, steps: int, dt_seconds: float, where: str) -> np.ndarray:
    """``numerator / denominator`` at ``start + k · dt`` for ``k = 0..steps`` (linear in time
    between rows; the denominator is interpolated at the numerator's times first). Refuses a
    start outside the series or a grid that runs past its end."""
    s = peg.series
    num_path = Path(base_dir) / s.numerator
    t_n, p_n = read_prices(num_path)
    ratio_t, ratio = t_n, p_n
    if s.denominator is not None:
        t_d, p_d = read_prices(Path(base_dir) / s.denominator)
        lo, hi = max(t_n[0], t_d[0]), min(t_n[-1], t_d[-1])
        m = (t_n >= lo) & (t_n <= hi)
        ratio_t = t_n[m]
        ratio = p_n[m] / np.interp(ratio_t, t_d, p_d)
    try:
        t0 = _time(s.start)
    except ValueError:
        raise InputError(None, f"{where}.series.start", f"{s.start!r} is not an ISO-8601 time") from None
    t_end = t0 + steps * dt_seconds
    if ratio_t.size == 0 or t0 < ratio_t[0] or t_end > ratio_t[-1]:
        first = datetime.fromtimestamp(ratio_t[0], timezone.utc).isoformat() if ratio_t.size else "-"
        last = datetime.fromtimestamp(ratio_t[-1], timezone.utc).isoformat() if ratio_t.size else "-"
        raise InputError(str(num_path), f"{where}.series.start",
                         f"the run ({steps} steps of {dt_seconds:g} s from {s.start}) is not inside the series "
                         f"({first} .. {last})")
    grid = t0 + dt_seconds * np.arange(steps + 1, dtype=float)
    return np.interp(grid, ratio_t, ratio)


def peg_path(peg: Peg, p0: float, base_dir: Path, steps: int, dt_seconds: float, where: str) -> np.ndarray:
    """The asset's reference path: ``p0 · f(t) r(t) / (f(0) r(0))`` with ``f`` the fundamental
    and ``r`` the recorded ratio."""
    r = ratio_on_grid(peg, base_dir, steps, dt_seconds, where)
    f = peg.fundamental_at(dt_seconds * np.arange(steps + 1, dtype=float))
    path = p0 * (f * r) / (f[0] * r[0])
    path[0] = p0
    return path
