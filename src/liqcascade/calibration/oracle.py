"""Oracle lag and deviation: an on-chain oracle series against a market price series.

:func:`oracle_lag` compares the oracle's price at its own timestamps with the market price
linearly interpolated (in log) at the same time shifted by ``τ``:

* deviation statistics of ``log(oracle_t / market_t)`` (τ = 0);
* the fractional lag ``τ*`` minimising the RMS of ``log oracle_t − log market_{t−τ}`` over a
  grid (``τ > 0``: the oracle follows the market with a delay);
* the cross-correlation of hourly log returns at integer lags (both series interpolated on a
  common hourly grid; ``corr[L]`` pairs the oracle's return at hour ``t`` with the market's at
  ``t − L``, so a peak at ``L > 0`` means the oracle lags).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["OracleLagFit", "oracle_lag"]


@dataclass(frozen=True)
class OracleLagFit:
    start_s: float
    stop_s: float
    n: int  # oracle points in the overlap
    dev_quantiles: np.ndarray  # of log(oracle / market) at (0.01, 0.05, 0.5, 0.95, 0.99)
    dev_mean_abs: float
    dev_rms: float
    share_within: dict  # fraction of |dev| <= 0.25 %, 0.5 %, 1 %
    best_lag_s: float  # τ* minimising the RMS deviation
    rms_at_best: float
    xcorr_lags: np.ndarray  # hours
    xcorr: np.ndarray


def oracle_lag(oracle, market, *, lag_grid_s=None, max_lag_h: int = 3) -> OracleLagFit:
    """Compare two :class:`~liqcascade.data.prices.PriceSeries` over their overlap."""
    t0 = max(oracle.time_s[0], market.time_s[0])
    t1 = min(oracle.time_s[-1], market.time_s[-1])
    if not t1 > t0:
        raise ValueError("the two series do not overlap in time")
    if lag_grid_s is None:
        lag_grid_s = np.arange(-7200.0, 7200.0 + 1, 60.0)
    m = (oracle.time_s >= t0) & (oracle.time_s <= t1)
    to = oracle.time_s[m]
    lo = np.log(oracle.price[m])
    dev = lo - market.log_at(to)
    ok = np.isfinite(dev)
    dev = dev[ok]
    rms = []
    for tau in lag_grid_s:
        d = lo - market.log_at(to - tau)
        d = d[np.isfinite(d)]
        rms.append(np.sqrt(np.mean(d * d)) if d.size else np.inf)
    rms = np.asarray(rms)
    j = int(np.argmin(rms))
    g = np.arange(np.ceil(t0 / 3600.0) * 3600.0, t1, 3600.0)
    ro = np.diff(oracle.log_at(g))
    rm = np.diff(market.log_at(g))
    lags = np.arange(-max_lag_h, max_lag_h + 1)
    xc = []
    for L in lags:
        if L >= 0:
            a, b = ro[L:], rm[:rm.size - L]
        else:
            a, b = ro[:L], rm[-L:]
        k = np.isfinite(a) & np.isfinite(b)
        xc.append(np.corrcoef(a[k], b[k])[0, 1])
    ad = np.abs(dev)
    return OracleLagFit(
        start_s=float(t0), stop_s=float(t1), n=int(dev.size),
        dev_quantiles=np.quantile(dev, (0.01, 0.05, 0.5, 0.95, 0.99)), dev_mean_abs=float(ad.mean()),
        dev_rms=float(np.sqrt(np.mean(dev * dev))),
        share_within={x: float((ad <= x).mean()) for x in (0.0025, 0.005, 0.01)},
        best_lag_s=float(lag_grid_s[j]), rms_at_best=float(rms[j]), xcorr_lags=lags, xcorr=np.asarray(xc),
    )
