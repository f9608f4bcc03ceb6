"""Return distributions of crash days from price bars.

:func:`crash_day_stats` measures one day of bars: the fall from the open to the lowest low,
the worst 1-hour drop (from a bar's close to the lowest low of the bars that start within the
next hour — the measure behind the data README's "worst 1-hour drop of 26 %" on 2020-03-12),
the worst 1-hour close-to-close drop, and quantiles of the bar log returns.
:func:`pooled_quantiles` pools the returns of several days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CrashDayStats", "crash_day_stats", "pooled_quantiles", "QUANTILES"]

QUANTILES = (0.001, 0.01, 0.05, 0.5, 0.95, 0.99, 0.999)


@dataclass(frozen=True)
class CrashDayStats:
    n_bars: int
    dt_seconds: float
    open: float
    low: float
    close: float
    max_drawdown: float  # 1 - min(low) / first open
    day_return: float  # close / open - 1
    max_drop_1h: float  # max over t of 1 - min(low in (t, t + 1h]) / close_t
    max_drop_1h_close: float  # max over t of 1 - close_{t+1h} / close_t
    ret_std: float  # std of bar log returns
    ret_quantiles: np.ndarray  # of bar log returns at QUANTILES
    excess_kurtosis: float


def crash_day_stats(bars, horizon_s: float = 3600.0) -> CrashDayStats:
    """Statistics of one day of bars (see the module docstring)."""
    c, l = bars.close, bars.low
    dt = bars.dt_seconds
    k = max(int(round(horizon_s / dt)), 1)
    n = len(bars)
    drop = 0.0
    drop_cc = 0.0
    for i in range(n - 1):
        lo = l[i + 1:i + 1 + k].min()
        drop = max(drop, 1.0 - lo / c[i])
        if i + k < n:
            drop_cc = max(drop_cc, 1.0 - c[i + k] / c[i])
    r = np.diff(np.log(c))
    sd = float(r.std(ddof=1)) if r.size > 1 else float("nan")
    z = (r - r.mean()) / sd if sd > 0 else r * 0
    return CrashDayStats(
        n_bars=n, dt_seconds=float(dt), open=float(bars.open[0]), low=float(l.min()), close=float(c[-1]),
        max_drawdown=float(1.0 - l.min() / bars.open[0]), day_return=float(c[-1] / bars.open[0] - 1.0),
        max_drop_1h=float(drop), max_drop_1h_close=float(drop_cc), ret_std=sd,
        ret_quantiles=np.quantile(r, QUANTILES) if r.size else np.full(len(QUANTILES), np.nan),
        excess_kurtosis=float((z ** 4).mean() - 3.0) if r.size > 3 else float("nan"),
    )


def pooled_quantiles(bars_list, q=QUANTILES) -> tuple[np.ndarray, float, int]:
    """``(quantiles, std, n)`` of the bar log returns of several days pooled (within days only)."""
    r = np.concatenate([np.diff(np.log(b.close)) for b in bars_list])
    return np.quantile(r, q), float(r.std(ddof=1)), int(r.size)
