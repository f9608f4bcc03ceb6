"""Many small runs of one scenario: the batch entry point.

A *batch* runs the same compiled scenario over many short price windows — e.g. every one-day
window of a long minute series for a crvUSD (LLAMMA) market, 500,000 of them — and keeps one
summary row per window. Going through :func:`~liqcascade.engine.dynamic.run_dynamic` once per
window would rebuild the kernel inputs and cross the Python–kernel boundary every time; the
batch builds the layouts once (:func:`~liqcascade.engine.compile.kernel_inputs`) and hands the
windows to the compiled loop in blocks (:func:`~liqcascade.engine.dynamic.run_many`, threads),
each window a path with fresh protocol-unit state.

Each window is *rebased*: multiplied so that it starts at the scenario's price of the asset it
drives, as ``kind = "historical"`` does, so positions, venues and oracles start where the
scenario puts them and the window supplies the returns. Windows are read block by block from
any array-like that slices (a :func:`numpy.lib.stride_tricks.sliding_window_view` of one long
series costs no memory until a block is taken).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .compile import Compiled


@dataclass
class BatchResult:
    summary: np.ndarray  # [runs, NSUM] (kernels.layouts SUM_* columns)
    min_spot: np.ndarray  # [runs, A] lowest mean venue spot
    final_spot: np.ndarray  # [runs, A]
    asset: str  # the asset the windows drive
    steps: int

    @property
    def runs(self) -> int:
        return int(self.summary.shape[0])

    def column(self, name: str) -> np.ndarray:
        """One summary column by its name in :mod:`liqcascade.kernels.layouts` (``"NLIQ"``,
        ``"BAD"``, …)."""
        from ..kernels import layouts as KL

        return self.summary[:, getattr(KL, "SUM_" + name.upper())]


def windows(series: np.ndarray, steps: int, stride: int = 1) -> np.ndarray:
    """Every ``steps``-step window of the 1-D price ``series`` (``steps + 1`` prices each), one every
    ``stride`` prices: a ``[n, steps + 1]`` view, no copy."""
    series = np.ascontiguousarray(series, dtype=np.float64)
    if series.ndim != 1 or series.shape[0] < steps + 1:
        raise InputError(None, "series", f"need a 1-D series of at least {steps + 1} prices")
    if stride < 1:
        raise InputError(None, "stride", "must be >= 1")
    return np.lib.stride_tricks.sliding_window_view(series, steps + 1)[::stride]


def run_batch(c: Compiled, wins, asset: str | None = None, *, block: int = 4096, threads: int | None = None,
              progress=None) -> BatchResult:
    """Run the scenario once per window of ``wins`` (``[runs, steps + 1]``, the price of
    ``asset``, default the first risky asset; every other risky asset follows the same returns;
    stable assets keep their price). Nothing is recorded per step; returns one summary row per
    window. ``progress(k)`` is called as windows finish."""
    from ..kernels import dynamic as K
    from .compile import kernel_inputs
    from .dynamic import loop_groups, run_many
    from .warmup import ensure

    n = len(wins)
    if n == 0:
        raise InputError(None, "windows", "no windows")
    T1 = int(np.asarray(wins[:1]).shape[1])
    if asset is None:
        risky = [i for i in range(c.n_assets) if not c.stable[i]]
        if not risky:
            raise InputError(None, "asset", "the scenario has no risky asset for the windows to drive")
        a0 = risky[0]
    else:
        if asset not in c.assets:
            raise InputError(None, "asset", f"unknown asset {asset!r}")
        a0 = c.assets.index(asset)
    A = c.n_assets
    ki = kernel_inputs(c)
    ensure(loop_groups(ki, recorded=False, many=True))
    summary = np.zeros((n, K.NSUM))
    min_spot = np.zeros((n, A))
    final_spot = np.zeros((n, A))
    p0 = c.p0
    for start in range(0, n, block):
        stop = min(start + block, n)
        w = np.asarray(wins[start:stop], dtype=np.float64)
        if w.ndim != 2 or w.shape[1] != T1:
            raise InputError(None, "windows", "every window needs the same number of prices")
        if not (np.all(np.isfinite(w)) and np.all(w > 0.0)):
            raise InputError(None, "windows", f"prices must be finite and > 0 (windows {start}..{stop - 1})")
        rel = w / w[:, :1]  # returns relative to the window's start
        paths = np.empty((stop - start, T1, A))
        for a in range(A):
            paths[:, :, a] = p0[a] if c.stable[a] else rel * p0[a]
        s = np.zeros((stop - start, K.NSUM))
        m = np.zeros((stop - start, A))
        f = np.zeros((stop - start, A))
        run_many(paths, start, np.arange(stop - start, dtype=np.int64), ki, s, m, f, progress=progress,
                 threads=threads)
        summary[start:stop] = s
        min_spot[start:stop] = m
        final_spot[start:stop] = f
    return BatchResult(summary, min_spot, final_spot, c.assets[a0], T1 - 1)
