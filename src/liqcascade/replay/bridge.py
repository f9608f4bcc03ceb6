"""Sub-bar price paths: a Brownian bridge through each bar's open, high, low and close.

A bar of ``m`` sub-steps (``m = bar seconds / step seconds``, a whole number ≥ 1) becomes
``m`` prices at the ends of its sub-steps (the bar's open is the previous bar's last point, or
the path's first point) such that

* the last sub-step of the bar is its close;
* the bar's high and its low are each reached exactly, at one sub-step each (``m ≥ 3``;
  with ``m = 2`` the extreme farther from the close is placed at the first sub-step, with
  ``m = 1`` only the close remains);
* every other point lies inside ``[low, high]`` (it may touch a bound).

How (in log price): the times of the two extremes are drawn uniformly among the interior
sub-steps ``1 … m−1`` (distinct), or taken from a *fast path* when one is given (the sub-step
where the fast path has its minimum / maximum inside the bar — e.g. the 1-minute BTC index
gives the timing of the ETH hourly low). Which extreme comes first, without a fast path: the low
first with probability ``(H − O) / ((H − O) + (O − L))`` (the extreme nearer the open tends to be
hit first). Between the four anchors (open, first extreme, second extreme, close) the path is a
Brownian bridge ``x_k = a + (b − a)·k/n + σ√Δt·(B_k − (k/n)·B_n)`` with ``B`` a standard random
walk and ``σ² = (ln H/L)² / (4 ln 2 · bar seconds)`` (Parkinson's range estimator of the bar's
variance per second); interior points are then clipped to ``[L, H]`` so the extremes stay
the bar's extremes. The draws come from the ``numpy.random.Generator`` passed in: the same seed
gives the same path, and an ensemble draws a different bridge for every member.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError

__all__ = ["bridge_bars", "PARKINSON"]

PARKINSON = 1.0 / (4.0 * math.log(2.0))


def _segment(a: float, b: float, n: int, scale: float, rng) -> np.ndarray:
    """Points 1..n of a Brownian bridge from ``a`` (at 0) to ``b`` (at n)."""
    if n <= 0:
        return np.zeros(0)
    k = np.arange(1, n + 1, dtype=np.float64)
    if scale > 0 and n > 1:
        walk = np.cumsum(rng.standard_normal(n)) * scale
        noise = walk - (k / n) * walk[-1]
    else:
        noise = np.zeros(n)
    out = a + (b - a) * k / n + noise
    out[-1] = b
    return out


def bridge_bars(open_, high, low, close, bar_seconds: float, step_seconds: float, rng,
                fast=None, where: str = "bars") -> np.ndarray:
    """Prices at every sub-step of every bar, ``[len(bars) · m + 1]`` with the first open first.

    ``fast``: optional ``[len(bars) · m + 1]`` path on the same grid whose per-bar argmin/argmax
    give the times of the low and the high (see the module docstring).
    """
    o = np.asarray(open_, float)
    h = np.asarray(high, float)
    lo = np.asarray(low, float)
    c = np.asarray(close, float)
    nb = o.size
    if not (h.size == lo.size == c.size == nb) or nb == 0:
        raise InputError(None, where, "open, high, low and close need the same number of bars (>= 1)")
    ratio = bar_seconds / step_seconds
    m = int(round(ratio))
    if m < 1 or abs(ratio - m) > 1e-9:
        raise InputError(None, where, f"the bar length ({bar_seconds:g} s) must be a whole number of steps "
                                      f"({step_seconds:g} s)")
    if not (np.all(np.isfinite([o, h, lo, c])) and np.all(lo > 0)):
        raise InputError(None, where, "prices must be finite and > 0")
    # bars whose open/close fall outside [low, high] (a few feeds round them): widen the range
    h = np.maximum.reduce([h, o, c])
    lo = np.minimum.reduce([lo, o, c])
    if fast is not None:
        fast = np.asarray(fast, float)
        if fast.shape != (nb * m + 1,):
            raise InputError(None, where, f"the fast path needs {nb * m + 1} points on the step grid, got {fast.shape}")
    out = np.empty(nb * m + 1)
    out[0] = o[0]
    dt = step_seconds
    for i in range(nb):
        a = math.log(o[i])
        base = i * m
        lh, ll, lc = math.log(h[i]), math.log(lo[i]), math.log(c[i])
        if m == 1:
            out[base + 1] = c[i]
            continue
        sigma = math.sqrt(max(lh - ll, 0.0) ** 2 * PARKINSON / bar_seconds)
        scale = sigma * math.sqrt(dt)
        if m == 2:
            out[base + 1] = lo[i] if abs(lc - ll) > abs(lc - lh) else h[i]
            out[base + 2] = c[i]
            continue
        # times of the extremes (interior sub-steps 1 .. m-1)
        if fast is not None:
            seg = fast[base + 1: base + m]
            t_lo = 1 + int(np.argmin(seg))
            t_hi = 1 + int(np.argmax(seg))
            if t_lo == t_hi:
                t_hi = t_lo + 1 if t_lo < m - 1 else t_lo - 1
        else:
            t1, t2 = rng.choice(np.arange(1, m), size=2, replace=False)
            up = h[i] - o[i]
            down = o[i] - lo[i]
            p_low_first = up / (up + down) if (up + down) > 0 else 0.5
            first_low = rng.random() < p_low_first
            ta, tb = (min(t1, t2), max(t1, t2))
            t_lo, t_hi = (ta, tb) if first_low else (tb, ta)
        anchors = sorted([(0, a), (t_lo, ll), (t_hi, lh), (m, lc)])
        seg_out = []
        for (ta, xa), (tb, xb) in zip(anchors, anchors[1:]):
            seg_out.append(_segment(xa, xb, tb - ta, scale, rng))
        x = np.concatenate(seg_out)  # points 1..m
        interior = np.ones(m, bool)
        interior[[t_lo - 1, t_hi - 1, m - 1]] = False
        px = np.exp(x)
        px[interior] = np.clip(px[interior], lo[i], h[i])
        out[base + 1: base + m + 1] = px
        out[base + t_lo] = lo[i]  # exact, not exp(log(.))
        out[base + t_hi] = h[i]
        out[base + m] = c[i]
    return out
