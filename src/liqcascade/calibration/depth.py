"""Order-book depth: the cumulative ask-depth curve and how it shrinks with realized volatility.

Inputs are :class:`~liqcascade.data.binance.BookDepth` (Binance ``bookDepth`` snapshots) and
1-minute index klines (:class:`~liqcascade.data.bars.Bars`). Only the **ask** side is used: the
bid bands of the 2025-10-10 file are frozen after ~15:00 UTC (data README).

Model: at band ``k`` (1 … 5 %), ``log D_k(t) = a_k + b_k · log σ(t)``, with ``σ(t)`` the
rolling realized volatility of 1-minute index log returns over the ``window`` minutes that
ended before the snapshot (per-minute units, ``sqrt(mean r²)``). Equivalently
``D_k(σ) = D_k,ref · (σ / σ_ref)^b_k`` with ``σ_ref`` the median of ``σ`` over the fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ask_depth_curve", "rolling_realized_vol", "DepthVolFit", "depth_vol_fit", "depth_at"]


def ask_depth_curve(depth, *, start_s: float | None = None, stop_s: float | None = None,
                    quantile: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """``(fractions, cumulative ask notional)``: the ``quantile`` over snapshots in
    ``[start_s, stop_s)`` of each band's cumulative notional (NaNs ignored)."""
    k, q = depth.side("ask")
    m = np.ones(len(depth), dtype=bool)
    if start_s is not None:
        m &= depth.time_s >= start_s
    if stop_s is not None:
        m &= depth.time_s < stop_s
    if not m.any():
        raise ValueError("no snapshot in the time range")
    return k, np.nanquantile(q[m], quantile, axis=0)


def rolling_realized_vol(bars, window: int) -> tuple[np.ndarray, np.ndarray]:
    """``(end_time_s, sigma)``: per-minute-bar realized volatility ``sqrt(mean r²)`` of the
    close-to-close log returns over the last ``window`` bars; ``end_time_s`` is when the last
    bar of the window closes (its start + the bar spacing)."""
    if window < 1:
        raise ValueError("window must be >= 1")
    r = np.diff(np.log(bars.close))
    if r.size < window:
        raise ValueError(f"need more than {window} bars")
    c = np.concatenate([[0.0], np.cumsum(r * r)])
    sig = np.sqrt((c[window:] - c[:-window]) / window)
    end = bars.time_s[1:] + bars.dt_seconds
    return end[window - 1:], sig


@dataclass(frozen=True)
class DepthVolFit:
    fractions: np.ndarray  # bands (0.01 … 0.05)
    intercept: np.ndarray  # a_k (log quote)
    slope: np.ndarray  # b_k: elasticity of depth to realized volatility
    r2: np.ndarray
    n: int  # snapshots used
    window: int  # minutes of the realized-volatility window
    sigma_ref: float  # median per-minute σ over the snapshots used
    depth_ref: np.ndarray  # D_k at σ_ref = exp(a_k + b_k log σ_ref)
    sigma_range: tuple[float, float]  # 1 % and 99 % quantiles of σ in the fit


def depth_vol_fit(depth, bars, *, window: int = 15, start_s: float | None = None,
                  stop_s: float | None = None) -> DepthVolFit:
    """Least-squares fit of ``log D_k`` on ``log σ`` per ask band (see the module docstring).

    Each snapshot is paired with the realized volatility of the last ``window`` complete bars
    that closed at or before it; snapshots without a full window or with σ = 0 are left out.
    """
    k, q = depth.side("ask")
    te, sig = rolling_realized_vol(bars, window)
    t = depth.time_s
    m = np.ones(t.size, dtype=bool)
    if start_s is not None:
        m &= t >= start_s
    if stop_s is not None:
        m &= t < stop_s
    i = np.searchsorted(te, t, side="right") - 1
    m &= i >= 0
    s = np.where(m, sig[np.clip(i, 0, None)], np.nan)
    m &= s > 0
    x = np.log(s[m])
    K = k.size
    a = np.full(K, np.nan)
    b = np.full(K, np.nan)
    r2 = np.full(K, np.nan)
    for j in range(K):
        y = np.log(q[m, j])
        ok = np.isfinite(y)
        X = np.column_stack([np.ones(ok.sum()), x[ok]])
        coef = np.linalg.lstsq(X, y[ok], rcond=None)[0]
        res = y[ok] - X @ coef
        a[j], b[j] = coef
        r2[j] = 1.0 - float(res @ res) / float(((y[ok] - y[ok].mean()) ** 2).sum())
    sref = float(np.median(s[m]))
    return DepthVolFit(k, a, b, r2, int(m.sum()), int(window), sref, np.exp(a + b * np.log(sref)),
                       (float(np.quantile(s[m], 0.01)), float(np.quantile(s[m], 0.99))))


def depth_at(fit_fractions, depth_ref, slope, sigma_ref: float, sigma: float) -> np.ndarray:
    """Cumulative depth curve at realized volatility ``sigma``: ``D_ref · (σ / σ_ref)^b``."""
    return np.asarray(depth_ref) * (float(sigma) / float(sigma_ref)) ** np.asarray(slope)
