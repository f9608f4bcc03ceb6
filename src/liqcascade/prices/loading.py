"""Price files: ``time,price`` CSVs, log returns on a common grid, and per-asset file tables.

Other downloaded formats are read by the data loaders (a surface layer this module does not
import); ``liqcascade data series FILE --out prices.csv`` converts them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from liqcascade.errors import InputError
from liqcascade.prices.common import input_error
from liqcascade.textfiles import check_file, headed_rows


def _parse_time(text: str):
    """Return (seconds, is_iso) or raise ValueError."""
    try:
        x = float(text)
    except ValueError:
        pass
    else:
        return x, False
    s = text.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    dt = datetime.fromisoformat(s)  # ValueError if not ISO-8601
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp(), True


def load_price_csv(path) -> tuple[np.ndarray, np.ndarray]:
    """Read a price series: ``(times, prices)``, both float64[n], ``n >= 1``.

    Format: a header line ``time,price`` (case and surrounding spaces ignored), then one
    ``time,price`` row per line; blank lines are skipped. ``time`` is either a number of seconds
    (any origin) or an ISO-8601 timestamp (naive ones are taken as UTC; returned as Unix
    seconds); one file must use one kind. ``price`` must be a finite number > 0, and times must
    be strictly increasing. Any violation raises :class:`InputError` naming the file and the
    1-based line.
    """
    times: list[float] = []
    prices: list[float] = []
    iso_kind: bool | None = None
    for fname, where, cells in headed_rows(path, ("time", "price")):
        t_txt, p_txt = cells
        try:
            t, is_iso = _parse_time(t_txt)
        except ValueError:
            raise InputError(
                fname, where, f"time {t_txt!r} is neither a number of seconds nor an ISO-8601 timestamp"
            ) from None
        if not math.isfinite(t):
            raise InputError(fname, where, f"time must be finite, got {t_txt!r}")
        if iso_kind is None:
            iso_kind = is_iso
        elif iso_kind != is_iso:
            raise InputError(fname, where, "mixes numeric seconds and ISO-8601 timestamps in one file")
        try:
            price = float(p_txt)
        except ValueError:
            raise InputError(fname, where, f"price {p_txt!r} is not a number") from None
        if not math.isfinite(price):
            raise InputError(fname, where, f"price must be finite, got {p_txt!r}")
        if price <= 0:
            raise InputError(fname, where, f"price must be > 0, got {p_txt!r}")
        if times and t <= times[-1]:
            raise InputError(fname, where, f"time {t_txt!r} is not after the previous row's time")
        times.append(t)
        prices.append(price)
    return np.asarray(times, dtype=np.float64), np.asarray(prices, dtype=np.float64)


def load_returns_series(path) -> tuple[np.ndarray, np.ndarray]:
    """``(times, prices)`` of a price file, float64[n] each, times in seconds, prices > 0.

    A ``time,price`` CSV (header as in :func:`load_price_csv`). Other downloaded formats
    (price-series CSVs, OHLCV bars, klines, bid/ask quotes) are read by the data loaders, a
    surface layer this engine module does not import: ``liqcascade data series FILE --out
    prices.csv`` converts them. Anything else raises :class:`InputError` naming the file.
    """
    p, fname = check_file(path)
    try:
        with p.open("r", encoding="utf-8-sig", errors="replace") as fh:
            first = next((line for line in fh if line.strip()), "")
    except OSError as e:
        raise InputError(fname, None, f"cannot read file: {e.strerror or e}") from None
    if [c.strip().lower() for c in first.strip().split(",")] == ["time", "price"]:
        return load_price_csv(p)
    raise InputError(fname, None, "not a 'time,price' CSV; convert a price-series, OHLCV, kline or quote file "
                                  "with `liqcascade data series FILE --out prices.csv`")


#: Sampling intervals a file's median spacing is rounded to when within 2 % (seconds).
_NICE_INTERVALS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 21600, 43200, 86400)


def _nice_interval(x: float) -> float:
    for v in _NICE_INTERVALS:
        if abs(x - v) <= 0.02 * v:
            return float(v)
    return float(x)


def returns_on_grid(series: Sequence[tuple[np.ndarray, np.ndarray]], names: Sequence[str],
                    min_returns: int = 2) -> tuple[np.ndarray, float, dict]:
    """Log returns of one or more price series on one regular time grid.

    Returns ``(R, interval_s, info)``: ``R`` float64[L, k] (column ``i`` for ``series[i]``), the
    grid spacing, and ``info`` (``{"snapped", "filled", "duplicates"}``: whether any time was
    moved, how many grid slots were interpolated, how many rows dropped, summed over files).

    * ``interval``: the largest median spacing of the files, rounded to the nearest common
      interval (1 s, 5 s, ... 1 min, ... 1 h, ... 1 day) when within 2 % of it -- recorded
      series are rarely exactly regular (the CoinGecko hourly files jitter by +-20 min).
    * Grid: ``T0 + k interval`` over the span every file covers (``T0`` the latest first time).
      Each row is *snapped* to its nearest grid slot (of several rows in one slot, the one
      nearest the slot time is kept); a slot no row fell in (a gap) is filled by linear interpolation of the log
      price, so a gap's move is kept, spread evenly over it. Snapping keeps every recorded
      move as one return, where interpolating onto an off-phase grid would average
      neighbouring returns (and bias a GARCH fit towards alpha + beta = 1).
    * Files with the same regular times give exactly their own ``diff(log price)``.

    Too few prices or returns, or no common span, raise :class:`InputError` naming the file.
    """
    if not series:
        raise input_error("price.returns_file", "no file given")
    for (t, _), name in zip(series, names):
        if t.size < min_returns + 1:
            raise InputError(name, None, f"too few prices: {t.size} (need at least {min_returns + 1} for "
                                         f"{min_returns} returns)")
    interval = _nice_interval(max(float(np.median(np.diff(t))) for t, _ in series))
    start = max(float(t[0]) for t, _ in series)
    stop = min(float(t[-1]) for t, _ in series)
    n_slots = int(math.floor((stop - start) / interval + 0.5)) + 1 if stop >= start else 0
    if n_slots - 1 < min_returns:
        raise InputError(", ".join(names), None,
                         f"too few returns on a common {interval:g} s grid: {max(n_slots - 1, 0)} (need at least "
                         f"{min_returns}; do the files overlap in time?)")
    info = {"snapped": False, "filled": 0, "duplicates": 0}
    cols = []
    for t, p in series:
        x = (t - start) / interval
        slot = np.floor(x + 0.5).astype(np.int64)  # half-way rows go up, consistently
        keep = (slot >= 0) & (slot < n_slots)
        slot, x, lp = slot[keep], x[keep], np.log(p[keep])
        # several rows in one slot (a finer file on a coarser grid): keep the row nearest the
        # slot time, so every file is sampled at the same instants
        order = np.lexsort((np.abs(x - slot), slot))
        slot, x, lp = slot[order], x[order], lp[order]
        first = np.ones(slot.size, dtype=bool)
        first[1:] = slot[1:] != slot[:-1]
        info["duplicates"] += int((~first).sum())
        slot, x, lp = slot[first], x[first], lp[first]
        if np.any(np.abs(x - slot) > 1e-6):
            info["snapped"] = True
        full = np.empty(n_slots)
        full[slot] = lp
        missing = np.ones(n_slots, dtype=bool)
        missing[slot] = False
        if missing.any():
            info["filled"] += int(missing.sum())
            idx = np.flatnonzero(missing)
            full[idx] = np.interp(idx.astype(np.float64), slot.astype(np.float64), lp)
        cols.append(np.diff(full))
    return np.stack(cols, axis=1), interval, info


def grid_note(info: dict) -> str:
    parts = []
    if info.get("snapped"):
        parts.append("times snapped to the nearest grid slot")
    if info.get("filled"):
        parts.append(f"{info['filled']} empty slot(s) filled by log-linear interpolation")
    if info.get("duplicates"):
        parts.append(f"{info['duplicates']} row(s) sharing a slot dropped")
    return f" ({'; '.join(parts)})" if parts else ""


_RETURNS_CACHE: dict = {}


def file_key(path: Path):
    try:
        st = path.stat()
    except OSError:
        return (str(path), None, None)
    return (str(path.resolve()), st.st_mtime_ns, st.st_size)


def load_returns(files: Mapping[int, Path], n_assets: int, min_returns: int):
    """``(R[L, n_assets], interval_s, info, names)``; assets without a file get zeros. Cached
    on the files' paths, modification times and sizes (chunks of a run reuse it)."""
    key = (tuple((a, file_key(f)) for a, f in sorted(files.items())), n_assets, min_returns)
    hit = _RETURNS_CACHE.get(key)
    if hit is not None:
        return hit
    order = sorted(files)
    names = [os.fspath(files[a]) for a in order]
    series = [load_returns_series(files[a]) for a in order]
    R, interval, info = returns_on_grid(series, names, min_returns)
    full = np.zeros((R.shape[0], n_assets))
    full[:, order] = R
    full.setflags(write=False)
    out = (full, interval, info, names)
    if len(_RETURNS_CACHE) > 16:
        _RETURNS_CACHE.clear()
    _RETURNS_CACHE[key] = out
    return out


def resolve_file(f, base_dir, where: str | None = None) -> Path:
    """``f`` relative to the scenario's folder. With ``where`` (the scenario key naming it, e.g.
    ``price.file``), a missing file or a directory is an input error against that key."""
    fp = Path(f)
    if base_dir is not None and not fp.is_absolute():
        fp = Path(base_dir) / fp
    if where is not None:
        if not fp.exists():
            raise InputError(None, where, f"{fp}: file not found")
        if not fp.is_file():
            raise InputError(None, where, f"{fp}: is a directory, expected a file" if fp.is_dir()
                             else f"{fp}: not a regular file")
    return fp


def asset_files(spec_file, n_assets: int, where: str = "price.file") -> dict[int, str]:
    files: dict[int, str] = {}
    if isinstance(spec_file, (str, os.PathLike)):
        spec_file = [spec_file]
    if isinstance(spec_file, Mapping):
        for key, f in spec_file.items():
            try:
                i = int(key)
            except (TypeError, ValueError):
                raise input_error(where, f"asset index {key!r} is not an integer") from None
            if isinstance(key, bool) or not 0 <= i < n_assets:
                raise input_error(where, f"asset index {key!r} out of range 0..{n_assets - 1}")
            if i in files:
                raise input_error(where, f"asset index {i} given twice")
            if f is not None and f != "":
                files[i] = f
    elif isinstance(spec_file, Sequence):
        if len(spec_file) > n_assets:
            raise input_error(where, f"{len(spec_file)} files for {n_assets} assets")
        for i, f in enumerate(spec_file):
            if f is not None and f != "":
                files[i] = f
    else:
        raise input_error(where, "expected a file path, a list of paths (one per asset) or a table index->path")
    for i, f in files.items():
        if not isinstance(f, (str, os.PathLike)):
            raise input_error(f"{where}[{i}]", f"expected a file path, got {f!r}")
    return files
